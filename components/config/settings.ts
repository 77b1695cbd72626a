// The settings model: every setting defined once (name, default, limits, one
// line of documentation). Stack config (./stackConfig.ts), the component's args
// (../component/), the provider inputs (../providers/), the engine's defaults
// (../reencrypt/options.ts) and the reencrypt-secrets CLI's flags and --help all
// derive from these objects, and validate through `numberProblem` / `textProblem`.
//
// Pure data and pure functions: this file imports nothing, so every layer,
// the engine included, may take its defaults from here.

/** A numeric setting. `cli` records where the break-glass CLI deliberately allows other limits, and why. */
export interface NumberSetting {
    /** Where it lives in the stack config, e.g. "rotation.concurrency". */
    configPath: string;
    /** The reencrypt-secrets flag, when the CLI has one. */
    flag?: string;
    default: number;
    min: number;
    max: number;
    /** Whole numbers only. */
    integer: boolean;
    doc: string;
    cli?: CliLimits;
    /** Seconds, ms, MiB...: what the CLI flag and the stack value mean; shown in --help. */
    unit?: string;
}

/** The CLI's own limits. `smallestPositive`: 0 is allowed (it means "none"), else at least this much. */
export interface CliLimits {
    min: number;
    max: number;
    integer: boolean;
    smallestPositive?: number;
    why: string;
}

/** A setting only the CLI has (no stack config key). */
export type CliOnlySetting = Omit<NumberSetting, "configPath"> & { flag: string };

/** A text setting with a default and a rule. */
export interface TextSetting {
    configPath: string;
    flag?: string;
    default: string;
    /** Why a value is not valid, or undefined. */
    problem(value: string): string | undefined;
    doc: string;
}

export type Surface = "stack" | "cli";

/** The rule of a text setting that takes one of a few words. */
function oneOfProblem(choices: readonly string[]): (value: string) => string | undefined {
    return (value) => (choices.includes(value) ? undefined : `"${value}" must be one of ${choices.join(", ")}`);
}

// ---- ClusterEncryption: how it waits for Container Service ------------------------------------

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

// ---- ClusterEncryption: what deleting it does -------------------------------------------------

export const ON_DELETE_CHOICES = ["keep", "switch-off"] as const;
export type OnDeleteChoice = (typeof ON_DELETE_CHOICES)[number];

/**
 * What deleting the ClusterEncryption resource does to the cluster. A delete comes from `pulumi destroy`, from
 * removing the component, and from a rename or re-parent without an alias; only an explicit "switch-off" turns
 * the cluster's Secret encryption off. `destroy` runs on the inputs an earlier `up` stored, so a new value counts
 * only after an `up` recorded it; state from before this setting existed reads as "keep".
 */
export const ENCRYPTION_ON_DELETE = {
    configPath: "encryption.onDelete",
    default: "keep",
    problem: oneOfProblem(ON_DELETE_CHOICES),
    doc:
        "What deleting ClusterEncryption (destroy, a removed or renamed component) does: keep (Secret encryption stays on with the key) " +
        "or switch-off (encryption is switched off and waited for). Takes effect once an up has recorded it.",
} as const satisfies TextSetting;

/** The stack's settings for ClusterEncryption: how it waits, and what deleting it does. */
export type EncryptionSettings = EncryptionTiming & { onDelete: OnDeleteChoice };

// ---- The re-encryption: the engine, the rotation provider and the CLI ------------------------

/** The guide's annotation (`kubectl annotate ... encryption-key-rotation-time=TIME`). */
export const DEFAULT_ANNOTATION_KEY = "encryption-key-rotation-time";

export const REENCRYPT_TUNING = {
    concurrency: {
        configPath: "rotation.concurrency",
        flag: "--concurrency",
        default: 8,
        min: 1,
        max: 64,
        integer: true,
        doc: "Secret writes in flight at once.",
        cli: { min: 1, max: 1000, integer: true, why: "a person at the break-glass CLI may push one big cluster harder than a scheduled stack run should" },
    },
    qps: {
        configPath: "rotation.qps",
        flag: "--qps",
        default: 100,
        min: 0,
        max: 1000,
        integer: true,
        doc: "Cap on Secret writes per second, each one billed KMS Encrypt call; 0 = no cap.",
        cli: {
            min: 0,
            max: Number.MAX_SAFE_INTEGER,
            integer: false,
            // Below one write per 100 s the wait between writes outgrows what a timer can hold (2^31 ms) and the cap would vanish.
            smallestPositive: 0.01,
            why: "the CLI has always taken any rate, fractions too (0.5/s for a fragile API server)",
        },
    },
    pageSize: {
        configPath: "rotation.pageSize",
        flag: "--page-size",
        default: 500,
        min: 10,
        max: 5000,
        integer: true,
        doc: "Secrets per list page (metadata only).",
        cli: { min: 1, max: 10000, integer: true, why: "the CLI's limits since its first release: no user's flags may break" },
    },
    requestTimeoutSeconds: {
        configPath: "rotation.requestTimeoutSeconds",
        flag: "--request-timeout",
        default: 60,
        min: 1,
        max: 600,
        integer: true,
        unit: "seconds",
        doc: "Total deadline for one API request (a list page or a write), from connecting to the last byte; a slow or dripping server counts as a timeout.",
    },
    errorBudget: {
        configPath: "rotation.errorBudget",
        flag: "--error-budget",
        default: 30,
        min: 1,
        max: 10000,
        integer: true,
        doc: "Transient failures in a row (5xx, timeouts, resets, throttling), over all requests, before the run stops with a checkpoint; denied writes do not count.",
    },
    stallTimeoutSeconds: {
        configPath: "rotation.stallTimeoutSeconds",
        flag: "--stall-timeout",
        default: 600,
        min: 10,
        max: 86400,
        integer: true,
        unit: "seconds",
        doc: "Longest time without one successful request before the run stops with a checkpoint.",
    },
    maxPageMiB: {
        configPath: "rotation.maxPageMiB",
        flag: "--max-page-mib",
        default: 64,
        min: 1,
        max: 1024,
        integer: true,
        unit: "MiB",
        doc: "Largest list page accepted; a larger one is asked again at half the page size (down to 10 Secrets) before the run stops.",
    },
} as const satisfies Record<string, NumberSetting>;

/** The engine's own limits, with a doc each; no stack key or CLI flag sets them (an engine caller may). */
export const REENCRYPT_LIMITS = {
    /** Attempts per request for retryable failures. */
    maxAttempts: 10,
    /** Verification rounds: each re-lists and retries the Secrets not confirmed yet. */
    verifyRounds: 3,
    /** Back-off base and cap for retries (capped exponential, equal jitter). */
    retryBaseDelayMs: 200,
    retryMaxDelayMs: 30_000,
    /** The longest Retry-After honoured. */
    maxRetryAfterSeconds: 120,
    /** Expired continue tokens (410) survived per run, each after a back-off. */
    maxListRestarts: 20,
    /** The smallest page an oversized page is halved down to. */
    minPageSize: 10,
    /** Names kept in the failed and remaining lists; the rest are only counted. */
    maxNamesReported: 1000,
    /** Least time between two progress reports. */
    progressIntervalMs: 2000,
} as const;

/** The exec credential plugin (kubeconfig `user.exec`): only the CLI runs one. */
export const EXEC_TIMEOUT: CliOnlySetting = {
    flag: "--exec-timeout",
    default: 60,
    min: 1,
    max: 3600,
    integer: true,
    unit: "seconds",
    doc: "Deadline for the kubeconfig's exec credential plugin (e.g. a cloud CLI login helper); it is stopped when it takes longer.",
};

export type ReencryptTuning = { -readonly [K in keyof typeof REENCRYPT_TUNING]: number };

export const REENCRYPT_TUNING_NAMES = Object.keys(REENCRYPT_TUNING) as (keyof ReencryptTuning)[];

/** Each tuning value from `read(setting, name)`: every surface fills all of them the same way. */
export function eachTuning(read: (setting: NumberSetting, name: keyof ReencryptTuning) => number): ReencryptTuning {
    return Object.fromEntries(REENCRYPT_TUNING_NAMES.map((name) => [name, read(REENCRYPT_TUNING[name], name)])) as ReencryptTuning;
}

// ---- The annotation that forces each rewrite ------------------------------------------------

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Annotation values may be any string in Kubernetes; this one is a marker an
// operator types and reads back, so a bounded single line is all we accept.
const MAX_VALUE_LENGTH = 1024;
// Kubernetes reserves these prefixes (and their subdomains) for its own components
// (https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/#syntax-and-character-set):
// writing one on every Secret would overwrite e.g. kubectl's last-applied-configuration or a token Secret's
// kubernetes.io/service-account.name.
const RESERVED_PREFIXES: readonly string[] = ["kubernetes.io", "k8s.io"];

/** Returns a problem description, or undefined when `key` is a valid annotation key (a Kubernetes qualified name). */
export function annotationKeyProblem(key: string): string | undefined {
    if (key.length === 0) return "annotation key is empty";
    const parts = key.split("/");
    if (parts.length > 2) return `annotation key "${key}" has more than one "/"`;
    const name = parts[parts.length - 1];
    if (parts.length === 2) {
        const prefix = parts[0];
        if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
            return `annotation key prefix "${prefix}" must be a lowercase DNS subdomain of at most 253 characters (e.g. example.com)`;
        }
        const reserved = RESERVED_PREFIXES.find((r) => prefix === r || prefix.endsWith(`.${r}`));
        if (reserved) {
            return `annotation key prefix "${prefix}" is reserved for Kubernetes components (*${reserved}/); use your own, e.g. example.com/${parts[1] || "rotation-time"}`;
        }
    }
    if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
        return `annotation key name "${name}" must be 1-63 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit`;
    }
    return undefined;
}

/** Returns a problem description, or undefined when `value` is an acceptable annotation value. */
export function annotationValueProblem(value: string): string | undefined {
    if (value.length === 0) return "annotation value is empty: give the rotation time, e.g. 20220101-010101";
    if (value.length > MAX_VALUE_LENGTH) return `annotation value is ${value.length} characters; at most ${MAX_VALUE_LENGTH} are accepted`;
    // eslint-disable-next-line no-control-regex -- finding control characters is the point of this check
    if (/[\u0000-\u001f\u007f]/.test(value)) return "annotation value contains control characters (newline, tab, ...)";
    return undefined;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export const REENCRYPT_IDENTITY = {
    annotationKey: {
        configPath: "rotation.annotationKey",
        flag: "--annotation-key",
        default: DEFAULT_ANNOTATION_KEY,
        problem: annotationKeyProblem,
        doc: "Annotation written with a new value to force each Secret's rewrite (the guide's).",
    },
    serviceAccountNamespace: {
        configPath: "rotation.serviceAccountNamespace",
        default: "kube-system",
        problem: (v: string) => (DNS_LABEL.test(v) ? undefined : `"${v}" is not a namespace name (lowercase letters, digits and '-', at most 63)`),
        doc: "Namespace of the re-encryption identity.",
    },
    serviceAccountName: {
        configPath: "rotation.serviceAccountName",
        default: "ask-secret-reencryptor",
        problem: (v: string) => (DNS_SUBDOMAIN_NAME.test(v) ? undefined : `"${v}" is not a ServiceAccount name (lowercase letters, digits, '-' and '.')`),
        doc: "The re-encryption identity: may only get, list and patch Secrets.",
    },
} as const satisfies Record<string, TextSetting>;

// ---- Cluster access ---------------------------------------------------------------------------

export const CLUSTER_ENDPOINTS = ["auto", "private", "public"] as const;
export type ClusterEndpointMode = (typeof CLUSTER_ENDPOINTS)[number];

/** Which API server endpoint the RBAC identity and the rotation use. */
export const CLUSTER_ENDPOINT = {
    configPath: "clusterEndpoint",
    default: "auto",
    problem: oneOfProblem(CLUSTER_ENDPOINTS),
    doc: "The cluster API endpoint to use: auto (the public one when the cluster has one, else the VPC-internal one), private or public.",
} as const satisfies TextSetting;

// ---- The KMS key ------------------------------------------------------------------------------

export const KEY_SETTINGS = {
    pendingWindowInDays: {
        configPath: "key.pendingWindowInDays",
        default: 30,
        // alicloud.kms.Key pendingWindowInDays: 7-366 (provider validation).
        min: 7,
        max: 366,
        integer: true,
        doc: "Days between a deletion request and the key's destruction.",
    },
} as const satisfies Record<string, NumberSetting>;

/**
 * The key's automatic rotation interval unless the stack sets one: 365 days (the longest KMS allows), in the seconds
 * form KMS reads back, so the program and the key never differ only in how the interval is written.
 */
export const DEFAULT_ROTATION_INTERVAL = `${365 * 86400}s`;

/** The key's description unless the stack sets one. */
export function defaultKeyDescription(clusterId: string): string {
    return `Encrypts Kubernetes Secrets at rest for ASK Pro cluster ${clusterId}. Do not disable or delete while the cluster uses it.`;
}

// ---- Validation, shared by every surface ----------------------------------------------------

type AnyNumberSetting = Omit<NumberSetting, "configPath">;

function limitsFor(setting: AnyNumberSetting, surface: Surface): { min: number; max: number; integer: boolean; smallestPositive?: number } {
    return surface === "cli" && setting.cli ? setting.cli : setting;
}

/** The limits in words, for messages and --help: "a whole number from 1 to 300 (default 10)". */
export function describeLimits(setting: AnyNumberSetting, surface: Surface = "stack"): string {
    const { min, max, integer, smallestPositive } = limitsFor(setting, surface);
    const unit = setting.unit ? ` ${setting.unit}` : "";
    if (smallestPositive !== undefined && min === 0) {
        const upper = max >= Number.MAX_SAFE_INTEGER ? `at least ${smallestPositive}` : `from ${smallestPositive} to ${max}`;
        return `0 (none) or ${integer ? "a whole number" : "a number"} ${upper}${unit} (default ${setting.default})`;
    }
    const range = max >= Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    return `${integer ? "a whole number" : "a number"} ${range}${unit} (default ${setting.default})`;
}

/** Why `value` is not valid for `setting` on `surface`, or undefined when it is. Numeric strings count (config arrives as text). */
export function numberProblem(setting: AnyNumberSetting, value: unknown, surface: Surface = "stack"): string | undefined {
    const { min, max, integer, smallestPositive } = limitsFor(setting, surface);
    const n = typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    const belowFloor = typeof n === "number" && smallestPositive !== undefined && n > 0 && n < smallestPositive;
    if (typeof n !== "number" || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max || belowFloor) {
        return `${JSON.stringify(value)} must be ${describeLimits(setting, surface)}: ${setting.doc}`;
    }
    return undefined;
}

/** The value as a number (after numberProblem said it is valid), or the default when absent. */
export function numberOrDefault(setting: NumberSetting, value: unknown): number {
    if (value === undefined || value === "") return setting.default;
    return typeof value === "string" ? Number(value) : (value as number);
}

/** Why `value` is not valid for a text setting, or undefined. */
export function textProblem(setting: TextSetting, value: unknown): string | undefined {
    if (typeof value !== "string") return `must be a string, got ${JSON.stringify(value)}`;
    return setting.problem(value);
}
