// Mandatory by default: an in-use key stays Enabled, protected against
// deletion at both layers (KMS deletion protection, Pulumi `protect`), and
// present in the stack. Policies never see deletions (pulumi-policy#299), so
// "present" is the only way a stack policy notices a key dropped from the program.

import type { StackValidationPolicy } from "@pulumi/policy";
import { KMS_KEY_TYPE, readProp } from "./props";
import { RETIRE_KEY_SAFELY, findKeyUsage, normalizeKeyReference } from "./inUse";
import { validateInUseKeys } from "./inUseKeyPolicy";

export const inUseKeyEnabled: StackValidationPolicy = {
    name: "kms-key-in-use-enabled",
    description: "A KMS key that seals a cluster's Secrets must stay Enabled.",
    enforcementLevel: "mandatory",
    validateStack: validateInUseKeys(
        (key) => {
            const status = readProp(key.props, "status");
            // Absent means the provider default, Enabled.
            if (!status.known || status.value === undefined || status.value === "Enabled") return undefined;
            return {
                problem: `its status is ${JSON.stringify(status.value)}`,
                fix:
                    'Keep status "Enabled": with the key Disabled or PendingDeletion the API server ' +
                    "can no longer read Secrets or ServiceAccount tokens and the cluster's workloads break.",
            };
        },
        { retireAdvice: true },
    ),
};

export const inUseKeyDeletionProtection: StackValidationPolicy = {
    name: "kms-key-in-use-deletion-protection",
    description: "A KMS key that seals a cluster's Secrets must have KMS deletion protection Enabled.",
    enforcementLevel: "mandatory",
    validateStack: validateInUseKeys(
        (key) => {
            const protection = readProp(key.props, "deletionProtection");
            if (!protection.known || protection.value === "Enabled") return undefined;
            const current = protection.value === undefined ? "not set (KMS default: Disabled)" : JSON.stringify(protection.value);
            return {
                problem: `its deletionProtection is ${current}`,
                fix:
                    'Set deletionProtection: "Enabled" so KMS itself refuses to schedule the key for deletion, ' +
                    "whoever asks (console, API, or another tool).",
            };
        },
        { retireAdvice: true },
    ),
};

export const inUseKeyProtected: StackValidationPolicy = {
    name: "kms-key-in-use-protected",
    description: "A KMS key that seals a cluster's Secrets must have the Pulumi resource option protect: true.",
    enforcementLevel: "mandatory",
    validateStack: validateInUseKeys(
        (key) => {
            if (key.opts.protect === true) return undefined;
            return {
                problem: "the resource option protect is not set",
                fix:
                    "Add { protect: true } to the key's resource options so the Pulumi engine refuses to delete " +
                    "or replace it, even when it disappears from the program.",
            };
        },
        { retireAdvice: true },
    ),
};

export interface KeyPresenceConfig {
    /** IDs (or ARNs) of keys managed outside this stack that clusters may use. */
    externalKeyIds?: string[];
}

export const inUseKeyPresent: StackValidationPolicy = {
    name: "kms-key-in-use-present",
    description: "Every KMS key a cluster encrypts its Secrets with must be in the stack (managed or read).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            externalKeyIds: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "IDs or ARNs of KMS keys managed outside this stack that clusters may use.",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const external = new Set((args.getConfig<KeyPresenceConfig>().externalKeyIds ?? []).map(normalizeKeyReference));
        for (const { consumer, keyId } of findKeyUsage(args.resources).missing) {
            if (external.has(keyId)) continue;
            reportViolation(
                `${consumer.cluster} encrypts its Secrets with KMS key ${keyId}, but no ${KMS_KEY_TYPE} ` +
                    `with that ID is in this stack. If the key was removed from the program, restore its resource: ` +
                    `the next update would delete the key (unless it is protected) and the cluster could no longer ` +
                    `read its Secrets. If the key is managed elsewhere, read it into this stack with ` +
                    `alicloud.kms.Key.get(...) or list its ID in this policy's externalKeyIds config. ` +
                    RETIRE_KEY_SAFELY,
                consumer.resource.urn,
            );
        }
    },
};
