// Settings defined once: name, default, limits and one line of documentation.
// The stack config parser (config.ts) and the providers' check both validate
// through `numberProblem`, so a limit is written here and nowhere else.

export interface NumberSetting {
    /** Where it lives in the stack config, e.g. "encryption.pollIntervalSeconds". */
    configPath: string;
    default: number;
    min: number;
    max: number;
    /** Whole numbers only. */
    integer: boolean;
    doc: string;
}

/** How ClusterEncryption waits for Container Service (stack config `encryption.*`, provider inputs of the same names). */
export const ENCRYPTION_TIMING = {
    pollIntervalSeconds: {
        configPath: "encryption.pollIntervalSeconds",
        default: 10,
        min: 1,
        max: 300,
        integer: true,
        doc: "Seconds between cluster status polls while the encryption setting changes.",
    },
    timeoutMinutes: {
        configPath: "encryption.timeoutMinutes",
        default: 30,
        // Fractions are allowed (0.5 = 30 s); below 6 s no cluster update can finish.
        min: 0.1,
        max: 240,
        integer: false,
        doc: "Minutes to wait for the cluster to be running with the new setting (fractions allowed), 409 retries included.",
    },
    conflictBackoffSeconds: {
        configPath: "encryption.conflictBackoffSeconds",
        default: 15,
        min: 1,
        max: 300,
        integer: true,
        doc: "First wait after UpdateKMSEncryption answers 409 (changed within 5 minutes) or throttling; doubles per retry, up to 4x.",
    },
} as const satisfies Record<string, NumberSetting>;

export type EncryptionTiming = { -readonly [K in keyof typeof ENCRYPTION_TIMING]: number };

/** The limits in words, for messages: "a whole number from 1 to 300". */
export function describeLimits(setting: NumberSetting): string {
    return `${setting.integer ? "a whole number" : "a number"} from ${setting.min} to ${setting.max} (default ${setting.default})`;
}

/** Why `value` is not valid for `setting`, or undefined when it is. Accepts numeric strings (stack config arrives as text). */
export function numberProblem(setting: NumberSetting, value: unknown): string | undefined {
    const n = typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n) || (setting.integer && !Number.isInteger(n)) || n < setting.min || n > setting.max) {
        return `${JSON.stringify(value)} must be ${describeLimits(setting)}: ${setting.doc}`;
    }
    return undefined;
}

/** The value as a number (after numberProblem said it is valid), or the default when absent. */
export function numberOrDefault(setting: NumberSetting, value: unknown): number {
    if (value === undefined || value === "") return setting.default;
    return typeof value === "string" ? Number(value) : (value as number);
}
