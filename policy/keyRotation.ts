// Advisory by default: rotate an in-use key at least yearly, and give a
// mistaken deletion a month to be noticed and cancelled.

import type { StackValidationPolicy } from "@pulumi/policy";
import { readProp } from "./props";
import { validateInUseKeys } from "./inUseKeyPolicy";

export const MAX_ROTATION_DAYS = 365;
export const MIN_PENDING_WINDOW_DAYS = 30;

const SECONDS_PER_UNIT: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1, "": 1 };

/**
 * Seconds in a KMS rotation interval such as "365d" or "31536000s" (KMS reads
 * intervals back in seconds); undefined when the text is not such a duration.
 */
export function parseRotationInterval(text: string): number | undefined {
    const match = /^\s*(\d+)\s*([dhms]?)\s*$/.exec(text);
    if (!match) return undefined;
    return Number(match[1]) * SECONDS_PER_UNIT[match[2]];
}

export const inUseKeyRotation: StackValidationPolicy = {
    name: "kms-key-in-use-rotation",
    description: `A KMS key that seals a cluster's Secrets should rotate automatically at least every ${MAX_ROTATION_DAYS} days.`,
    enforcementLevel: "advisory",
    validateStack: validateInUseKeys(
        (key) => {
            const fix =
                `Set automaticRotation: "Enabled" and rotationInterval: "${MAX_ROTATION_DAYS}d" or shorter, ` +
                "then re-encrypt the cluster's Secrets after each rotation (reencrypt-secrets) so they use the new version.";
            const rotation = readProp(key.props, "automaticRotation");
            if (!rotation.known) return undefined;
            if (rotation.value !== "Enabled") {
                const current = rotation.value === undefined ? "not set (KMS default: Disabled)" : JSON.stringify(rotation.value);
                return { problem: `its automaticRotation is ${current}`, fix };
            }
            const interval = readProp(key.props, "rotationInterval");
            if (!interval.known) return undefined;
            if (typeof interval.value !== "string" || interval.value === "") {
                return { problem: "automatic rotation is on but rotationInterval is not set", fix };
            }
            const seconds = parseRotationInterval(interval.value);
            if (seconds === undefined) {
                return {
                    problem: `its rotationInterval ${JSON.stringify(interval.value)} is not a duration like "365d" or "31536000s"`,
                    fix,
                };
            }
            if (seconds > MAX_ROTATION_DAYS * SECONDS_PER_UNIT.d) {
                const days = Math.round((seconds / SECONDS_PER_UNIT.d) * 10) / 10;
                return { problem: `it rotates only every ${days} days (rotationInterval ${JSON.stringify(interval.value)})`, fix };
            }
            return undefined;
        },
        { retireAdvice: false },
    ),
};

export const inUseKeyPendingWindow: StackValidationPolicy = {
    name: "kms-key-in-use-pending-window",
    description: `A KMS key that seals a cluster's Secrets should have a pending-deletion window of at least ${MIN_PENDING_WINDOW_DAYS} days.`,
    enforcementLevel: "advisory",
    validateStack: validateInUseKeys(
        (key) => {
            const fix =
                `Set pendingWindowInDays to ${MIN_PENDING_WINDOW_DAYS} or more, so a deletion scheduled by mistake ` +
                "can still be cancelled (CancelKeyDeletion) before the key is gone for good.";
            const window = readProp(key.props, "pendingWindowInDays");
            if (!window.known) return undefined;
            if (window.value === undefined || window.value === null) {
                return { problem: "its pendingWindowInDays is not set", fix };
            }
            const days = typeof window.value === "number" ? window.value : Number(window.value);
            if (Number.isFinite(days) && days >= MIN_PENDING_WINDOW_DAYS) return undefined;
            return { problem: `its pending-deletion window is ${JSON.stringify(window.value)} days`, fix };
        },
        { retireAdvice: false },
    ),
};
