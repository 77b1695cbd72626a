// Mandatory by default: ACK Secret encryption only works with a symmetric
// Aliyun_AES_256 key used for ENCRYPT/DECRYPT.

import type { StackValidationPolicy } from "@pulumi/policy";
import { readProp } from "./props";
import { validateInUseKeys } from "./inUseKeyPolicy";

export const REQUIRED_KEY_SPEC = "Aliyun_AES_256";
export const REQUIRED_KEY_USAGE = "ENCRYPT/DECRYPT";

export const inUseKeySpec: StackValidationPolicy = {
    name: "kms-key-in-use-spec",
    description: `A KMS key that seals a cluster's Secrets must be ${REQUIRED_KEY_SPEC} with usage ${REQUIRED_KEY_USAGE}.`,
    enforcementLevel: "mandatory",
    validateStack: validateInUseKeys(
        (key) => {
            const problems: string[] = [];
            // Absent means the provider defaults, which are exactly the required values.
            const spec = readProp(key.props, "keySpec");
            if (spec.known && spec.value !== undefined && spec.value !== REQUIRED_KEY_SPEC) {
                problems.push(`its keySpec is ${JSON.stringify(spec.value)}`);
            }
            const usage = readProp(key.props, "keyUsage");
            if (usage.known && usage.value !== undefined && usage.value !== REQUIRED_KEY_USAGE) {
                problems.push(`its keyUsage is ${JSON.stringify(usage.value)}`);
            }
            if (problems.length === 0) return undefined;
            return {
                problem: problems.join(" and "),
                fix:
                    `ACK Secret encryption needs keySpec "${REQUIRED_KEY_SPEC}" and keyUsage "${REQUIRED_KEY_USAGE}". ` +
                    "Changing either replaces the key: create the new key beside this one, switch the cluster to it, " +
                    "and retire this one only afterwards.",
            };
        },
        { retireAdvice: true },
    ),
};
