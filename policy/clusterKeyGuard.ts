// Mandatory by default, and judged before the key's step. The stack policies
// (./keyAvailability.ts) need the whole stack, so the engine runs them only
// after every step has finished: in `up` they judge a change already sent to
// KMS, with `--skip-preview` nothing stops it, and `destroy` runs no policy at
// all (docs/platform-facts.md, "Policy packs"). A resource policy runs when the
// engine registers the resource, before its step, in preview and in every `up`.
//
// It sees one resource, so it recognizes the key from the key's own inputs:
// the tags SecretEncryption puts on the key it creates (`ask-cluster-id` with
// the cluster's ID, and `purpose: k8s-secret-encryption`), or the URN of a key
// SecretEncryption manages (an adopted key keeps its own tags). Such a key must
// stay Enabled, deletion-protected and `protect: true`; the checks are the
// stack policies' own (./keyChecks.ts).

import type { ResourceValidationPolicy } from "@pulumi/policy";
import { KMS_KEY_TYPE, isUnknownValue, plainProps } from "./props";
import { KeyCheck, keepsDeletionProtection, staysEnabled, staysProtected } from "./keyChecks";
import { RETIRE_KEY_SAFELY } from "./inUse";

/** Copies of the program's names (components/config/constants.ts; a test asserts they agree): the pack is published alone. */
export const CLUSTER_TAG = "ask-cluster-id";
export const PURPOSE_TAG = "purpose";
export const PURPOSE_TAG_VALUE = "k8s-secret-encryption";
export const SECRET_ENCRYPTION_TYPE = "ask:index:SecretEncryption";

const CHECKS: KeyCheck[] = [staysEnabled, keepsDeletionProtection, staysProtected];

export const CLUSTER_KEY_GUARD_NAME = "kms-key-for-cluster-guarded";

/** The cluster a key's own inputs say it seals, in words, or undefined when they say none. */
export function clusterNamedByKey(urn: string, props: Record<string, unknown>): string | undefined {
    const tags = plainProps(props)["tags"];
    if (tags !== null && typeof tags === "object") {
        const tagged = tags as Record<string, unknown>;
        const clusterId = tagged[CLUSTER_TAG];
        if (tagged[PURPOSE_TAG] === PURPOSE_TAG_VALUE && typeof clusterId === "string" && clusterId !== "") {
            const named = isUnknownValue(clusterId) ? "the cluster (its ID is known after apply)" : `cluster ${clusterId}`;
            return `${named} (the key's tags ${CLUSTER_TAG} and ${PURPOSE_TAG} say so)`;
        }
    }
    // urn:pulumi:<stack>::<project>::<parent types, "$"-joined>$<type>::<name>
    const types = urn.split("::")[2]?.split("$") ?? [];
    if (types.includes(SECRET_ENCRYPTION_TYPE)) return `the cluster of the ${SECRET_ENCRYPTION_TYPE} component that manages it`;
    return undefined;
}

export const clusterKeyGuarded: ResourceValidationPolicy = {
    name: CLUSTER_KEY_GUARD_NAME,
    description:
        "A KMS key whose own inputs name the cluster whose Secrets it seals (SecretEncryption's tags, or a key that component manages) " +
        "stays Enabled, deletion-protected and protect: true; judged before the key's step, so `up --skip-preview` is guarded too.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== KMS_KEY_TYPE) return;
        const cluster = clusterNamedByKey(args.urn, args.props);
        if (!cluster) return;
        for (const check of CHECKS) {
            const finding = check({ props: args.props, opts: args.opts });
            if (!finding) continue;
            reportViolation(
                `KMS key "${args.name}" seals the Secrets of ${cluster}, but ${finding.problem}. ${finding.fix} ` +
                    "Judged before the key's step: nothing was sent to KMS. " +
                    RETIRE_KEY_SAFELY +
                    ` For that last update, and only then, set this policy (${CLUSTER_KEY_GUARD_NAME}) to advisory with --policy-pack-config.`,
            );
        }
    },
};
