// Mandatory by default: an in-use key stays Enabled, protected against
// deletion at both layers (KMS deletion protection, Pulumi `protect`), and
// present in the stack. Policies never see deletions (pulumi-policy#299), so
// "present" is the only way a stack policy notices a key dropped from the program.

import type { StackValidationPolicy } from "@pulumi/policy";
import { KMS_KEY_TYPE } from "./props";
import { keepsDeletionProtection, staysEnabled, staysProtected } from "./keyChecks";
import { RETIRE_KEY_SAFELY, findKeyUsage, normalizeKeyReference } from "./inUse";
import { validateInUseKeys } from "./inUseKeyPolicy";

export const inUseKeyEnabled: StackValidationPolicy = {
    name: "kms-key-in-use-enabled",
    description: "A KMS key that seals a cluster's Secrets must stay Enabled.",
    enforcementLevel: "mandatory",
    validateStack: validateInUseKeys(staysEnabled, { retireAdvice: true }),
};

export const inUseKeyDeletionProtection: StackValidationPolicy = {
    name: "kms-key-in-use-deletion-protection",
    description: "A KMS key that seals a cluster's Secrets must have KMS deletion protection Enabled.",
    enforcementLevel: "mandatory",
    validateStack: validateInUseKeys(keepsDeletionProtection, { retireAdvice: true }),
};

export const inUseKeyProtected: StackValidationPolicy = {
    name: "kms-key-in-use-protected",
    description: "A KMS key that seals a cluster's Secrets must have the Pulumi resource option protect: true.",
    enforcementLevel: "mandatory",
    validateStack: validateInUseKeys(staysProtected, { retireAdvice: true }),
};

export interface KeyPresenceConfig {
    /** IDs (or ARNs) of keys managed outside this stack that clusters may use. */
    externalKeyIds?: string[];
}

export const inUseKeyPresent: StackValidationPolicy = {
    name: "kms-key-in-use-present",
    description: "Every KMS key a cluster encrypts its Secrets with must be managed by the stack, or listed in externalKeyIds.",
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
                    `read its Secrets. If the key is managed elsewhere, list its ID in this policy's externalKeyIds config, ` +
                    `or adopt it into this stack (imported, with protect: true; the program's kmsKeyId does that). Reading it ` +
                    `with alicloud.kms.Key.get(...) is not enough: the engine gives policies only the resources a stack manages. ` +
                    RETIRE_KEY_SAFELY,
                consumer.resource.urn,
            );
        }
    },
};
