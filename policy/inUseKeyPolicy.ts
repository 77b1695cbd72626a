// The shape shared by every policy that judges a key only because a cluster
// depends on it: find the in-use keys once, ask one question of each key,
// report on the key with the cluster named and the safe way out.

import type { ReportViolation, StackValidation } from "@pulumi/policy";
import { InUseKey, RETIRE_KEY_SAFELY, StackResource, describeUse, findKeyUsage } from "./inUse";
import type { KeyFinding } from "./keyChecks";

/** A question asked of one in-use key (see ./keyChecks.ts); `use` names the clusters, for checks that need them. */
export type InUseKeyCheck = (key: StackResource, use: InUseKey) => KeyFinding | undefined;

/**
 * `retireAdvice`: append how to retire the key safely; for the checks that
 * stand between a cluster and losing its key (not for hygiene like rotation).
 */
export function inUseKeyMessage(use: InUseKey, finding: KeyFinding, retireAdvice: boolean): string {
    const message = `${describeUse(use)}, but ${finding.problem}. ${finding.fix}`;
    return retireAdvice ? `${message} ${RETIRE_KEY_SAFELY}` : message;
}

export function validateInUseKeys(check: InUseKeyCheck, options: { retireAdvice: boolean }): StackValidation {
    return (args, reportViolation: ReportViolation) => {
        for (const use of findKeyUsage(args.resources).inUse) {
            const finding = check(use.key, use);
            if (finding) reportViolation(inUseKeyMessage(use, finding, options.retireAdvice), use.key.urn);
        }
    };
}
