// Advisory by default: the dedicated KMS instance that hosts an in-use key
// should have deletion protection, because a released instance can no longer
// serve the keys inside it.

import type { StackValidationPolicy } from "@pulumi/policy";
import { KMS_INSTANCE_TYPE, knownString, readProp } from "./props";
import { InUseKey, RETIRE_KEY_SAFELY, StackResource, describeUse, findKeyUsage } from "./inUse";

/** The instances in the stack that host the key: by `dkmsInstanceId`, else by dependency. */
export function hostingInstances(key: StackResource, resources: readonly StackResource[]): StackResource[] {
    const isInstance = (r: StackResource) => r.type === KMS_INSTANCE_TYPE;
    const instanceIdOf = (i: StackResource) => knownString(i.props, "id") ?? knownString(i.props, "instanceId");
    const viaProperty = (key.propertyDependencies["dkmsInstanceId"] ?? []).filter(isInstance);
    const dependedOn = viaProperty.length > 0 ? viaProperty : key.dependencies.filter(isInstance);
    const instanceId = knownString(key.props, "dkmsInstanceId");
    if (instanceId === undefined) return dependedOn;
    const byId = resources.filter((r) => isInstance(r) && instanceIdOf(r) === instanceId);
    // With the key's instance ID known, only an instance whose own ID is still
    // unknown (being replaced) can match by dependency; otherwise the key lives
    // in an instance outside this stack.
    return byId.length > 0 ? byId : dependedOn.filter((i) => instanceIdOf(i) === undefined);
}

export const kmsInstanceDeletionProtection: StackValidationPolicy = {
    name: "kms-instance-deletion-protection",
    description: "A KMS instance that hosts a key sealing a cluster's Secrets should have deletion protection on.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        const hostedUses = new Map<string, { instance: StackResource; uses: InUseKey[] }>();
        for (const use of findKeyUsage(args.resources).inUse) {
            for (const instance of hostingInstances(use.key, args.resources)) {
                const entry = hostedUses.get(instance.urn) ?? { instance, uses: [] };
                entry.uses.push(use);
                hostedUses.set(instance.urn, entry);
            }
        }
        for (const { instance, uses } of hostedUses.values()) {
            const protection = readProp(instance.props, "deletionProtection");
            if (!protection.known || protection.value === true) continue;
            reportViolation(
                `KMS instance "${instance.name}" hosts ${uses.map(describeUse).join("; ")}, but its deletionProtection ` +
                    `is ${protection.value === undefined ? "not set" : JSON.stringify(protection.value)}. ` +
                    `Set deletionProtection: true on the instance (and protect: true on the resource). ` +
                    RETIRE_KEY_SAFELY,
                instance.urn,
            );
        }
    },
};
