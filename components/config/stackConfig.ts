// Stack configuration: one stack per cluster. Everything a stack file may say
// is parsed and validated here, before any resource is registered, so a typo
// or a bad value fails the whole program with one message and creates nothing.

import { CLUSTER_TAG, OPERATOR_POLICY, PROJECT, PURPOSE_TAG } from "./constants";
import { parseKeyReference } from "./keyIds";
import { closest, Validator } from "./validator";
import {
    CLUSTER_ENDPOINT,
    ClusterEndpointMode,
    defaultKeyDescription,
    DEFAULT_ROTATION_INTERVAL,
    ENCRYPTION_ON_DELETE,
    ENCRYPTION_TIMING,
    EncryptionSettings,
    KEY_SETTINGS,
    OnDeleteChoice,
    REENCRYPT_IDENTITY,
    eachTuning,
    ReencryptTuning,
} from "./settings";

/** Settings for a dedicated KMS instance the stack creates. */
export interface KmsInstanceSettings {
    vpcId: string;
    vswitchIds: string[];
    zoneIds: string[];
    /** "PayAsYouGo" or "Subscription". */
    paymentType: "PayAsYouGo" | "Subscription";
    /** Computation performance (Subscription only): 200, 1000, 2000 or 4000. */
    spec?: number;
    keyNum?: number;
    secretNum?: number;
    vpcNum?: number;
    /** Months, Subscription only. */
    period?: number;
    renewStatus?: "AutoRenewal" | "ManualRenewal";
    /** "3": software KMS 3.0; "5": hardware (HSM). */
    productVersion: "3" | "5";
    deletionProtection: boolean;
    instanceName?: string;
}

/** Settings for the KMS key the stack creates. */
export interface KmsKeySettings {
    /** SOFTWARE on a software instance (productVersion "3"), HSM on a hardware one ("5"). */
    protectionLevel: "SOFTWARE" | "HSM";
    /** Normalized to seconds ("31536000s"), the form the API reads back. */
    rotationInterval: string;
    pendingWindowInDays: number;
    description: string;
}

/** Re-encryption after rotation: tuning and identity as in ./settings.ts (REENCRYPT_TUNING, REENCRYPT_IDENTITY). */
export interface RotationSettings extends ReencryptTuning {
    enabled: boolean;
    annotationKey: string;
    /** A kubeconfig path for cluster access instead of a short-lived one from the CS API. */
    kubeconfigPath?: string;
    serviceAccountNamespace: string;
    serviceAccountName: string;
}

export interface StackSettings {
    clusterId: string;
    region: string;
    /** CLUSTER_ENDPOINT in ./settings.ts; lookups.ts resolves auto against the cluster's endpoints. */
    clusterEndpoint: ClusterEndpointMode;
    /** Exactly one of these when the stack creates the key; neither when it adopts one. */
    kmsInstanceId?: string;
    kmsInstance?: KmsInstanceSettings;
    /** Adopt an existing key instead of creating one. */
    kmsKeyId?: string;
    key: KmsKeySettings;
    /** auto: adopt AliyunCSManagedSecurityRole when it exists, create it otherwise. */
    securityRole: "auto" | "create" | "adopt";
    operator?: { ramUserName: string } | { ramRoleName: string };
    /** How ClusterEncryption waits for Container Service and what deleting it does: ENCRYPTION_TIMING and ENCRYPTION_ON_DELETE in ./settings.ts. */
    encryption: EncryptionSettings;
    rotation: RotationSettings;
    tags: Record<string, string>;
}

/** Raised for invalid stack config; lists every problem, one line per key. */
export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was registered:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

const KNOWN_KEYS = [
    "clusterId",
    "clusterEndpoint",
    "kmsInstanceId",
    "kmsInstance",
    "kmsKeyId",
    "key",
    "securityRole",
    "operator",
    "encryption",
    "rotation",
    "tags",
] as const;

const SECONDS_PER_DAY = 86400;

/**
 * Parses the stack's raw config, as Pulumi hands it to a program: a map from
 * "namespace:key" to a string (objects and lists arrive as JSON text).
 * Throws one ConfigError listing every problem.
 */
export function parseStackConfig(raw: Record<string, string>, project: string = PROJECT): StackSettings {
    const problems: string[] = [];
    const PROJECT = project;
    const ours: Record<string, unknown> = {};
    for (const [fullKey, text] of Object.entries(raw)) {
        const [namespace, key] = splitKey(fullKey);
        if (namespace !== PROJECT) continue;
        if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
            const hint = closest(key, KNOWN_KEYS);
            problems.push(`${fullKey}: unknown config key${hint ? `; did you mean ${PROJECT}:${hint}?` : ""} ` + `(known keys: ${KNOWN_KEYS.join(", ")})`);
            continue;
        }
        ours[key] = decode(text);
    }
    const v = new Validator(problems, project);

    const region = raw["alicloud:region"];
    if (region === undefined || region === "") {
        problems.push("alicloud:region: required; set it with `pulumi config set alicloud:region cn-hangzhou` (the cluster's region)");
    } else if (!/^[a-z]{2}-[a-z0-9-]+$/.test(region)) {
        problems.push(`alicloud:region: "${region}" is not an Alibaba Cloud region ID (like cn-hangzhou or ap-southeast-1)`);
    }

    const clusterId = v.string(ours, "clusterId", {
        required: true,
        pattern: /^c[0-9a-z]{8,63}$/,
        patternHelp: "an ACK/ASK cluster ID: 'c' followed by letters and digits, as shown on the cluster's Basic Information page",
    });
    // Every form KMS issues: KMS 3.0 key-..., KMS 1.0 UUIDs, and ARNs of either (normalized to the ID); see ./keyIds.ts.
    const clusterEndpoint = v.text(ours, CLUSTER_ENDPOINT) as ClusterEndpointMode;
    const kmsKeyId = v.custom(ours, "kmsKeyId", (text) => {
        const parsed = parseKeyReference(text);
        return "keyId" in parsed ? { value: parsed.keyId } : { problem: parsed.problem };
    });
    const kmsInstanceId = v.string(ours, "kmsInstanceId", { pattern: /^kst-[0-9a-z]+$/, patternHelp: "a KMS instance ID like kst-hzz634e67d126hgv9mhrm" });
    const kmsInstance = parseKmsInstance(v, ours["kmsInstance"]);
    if (kmsKeyId !== undefined) {
        if (kmsInstanceId !== undefined || ours["kmsInstance"] !== undefined) {
            problems.push(
                `${PROJECT}:kmsKeyId: an adopted key already lives on its KMS instance; remove ${PROJECT}:kmsInstanceId / ${PROJECT}:kmsInstance, or remove kmsKeyId to create a new key`,
            );
        }
        if (ours["key"] !== undefined) {
            problems.push(`${PROJECT}:key: settings for a new key cannot be combined with ${PROJECT}:kmsKeyId (an adopted key); remove one of them`);
        }
    } else if (kmsInstanceId !== undefined && ours["kmsInstance"] !== undefined) {
        problems.push(`${PROJECT}:kmsInstance: set either kmsInstanceId (adopt an instance) or kmsInstance (create one), not both`);
    } else if (kmsInstanceId === undefined && ours["kmsInstance"] === undefined) {
        problems.push(
            `${PROJECT}:kmsInstance: the key needs a dedicated KMS instance: set kmsInstance {vpcId, vswitchIds, zoneIds} to create one, kmsInstanceId to adopt one, or kmsKeyId to adopt an existing key`,
        );
    }

    const key = parseKey(v, ours["key"], clusterId ?? "<clusterId>", kmsInstance?.productVersion);
    const securityRole = v.oneOf(ours, "securityRole", ["auto", "create", "adopt"] as const, "auto") ?? "auto";
    const operator = parseOperator(v, ours["operator"]);
    const encryption = v.object(ours, "encryption", (o) => ({
        pollIntervalSeconds: v.setting(o, ENCRYPTION_TIMING.pollIntervalSeconds),
        timeoutMinutes: v.setting(o, ENCRYPTION_TIMING.timeoutMinutes),
        conflictBackoffSeconds: v.setting(o, ENCRYPTION_TIMING.conflictBackoffSeconds),
        onDelete: v.text(o, ENCRYPTION_ON_DELETE) as OnDeleteChoice,
    }));
    const rotation = v.object(ours, "rotation", (o) => ({
        enabled: v.bool(o, "rotation.enabled", true),
        ...eachTuning((setting) => v.setting(o, setting)),
        annotationKey: v.text(o, REENCRYPT_IDENTITY.annotationKey),
        kubeconfigPath: v.string(o, "rotation.kubeconfigPath", {}),
        serviceAccountNamespace: v.text(o, REENCRYPT_IDENTITY.serviceAccountNamespace),
        serviceAccountName: v.text(o, REENCRYPT_IDENTITY.serviceAccountName),
    }));
    const tags = v.object(ours, "tags", (o, path) => {
        const out: Record<string, string> = {};
        const entries = Object.entries(o);
        if (entries.length > MAX_USER_TAGS) problems.push(`${PROJECT}:${path}: ${entries.length} tags; a resource takes at most 20, and the stack adds 2`);
        for (const [key, val] of entries) {
            const problem = tagProblem(key, val);
            if (problem) problems.push(`${PROJECT}:${path}.${key}: ${problem}`);
            else out[key] = val as string;
        }
        return out;
    });

    if (problems.length > 0) throw new ConfigError(problems);
    return {
        clusterId: clusterId!,
        region: region!,
        clusterEndpoint,
        kmsInstanceId: kmsKeyId ? undefined : kmsInstanceId,
        kmsInstance: kmsKeyId || kmsInstanceId ? undefined : kmsInstance,
        kmsKeyId,
        key: key!,
        securityRole,
        operator,
        encryption: encryption!,
        rotation: rotation!,
        tags: tags ?? {},
    };
}

/** Accepts "365d", "31536000s" or a bare number of seconds; returns seconds form, or undefined. */
export function rotationIntervalSeconds(text: string): number | undefined {
    const m = /^(\d+)\s*([ds]?)$/.exec(text.trim());
    if (!m) return undefined;
    const n = Number(m[1]);
    return m[2] === "d" ? n * SECONDS_PER_DAY : n;
}

// alicloud.kms.Instance validators, as terraform-provider-alicloud's
// resource_alicloud_kms_instance.go declares them (docs/platform-facts.md lists them): the
// provider rejects anything else at `up`, so the plan must refuse it first.
const INSTANCE_RULES = {
    paymentType: ["PayAsYouGo", "Subscription"] as const,
    productVersion: ["3", "5"] as const, // 3: software KMS 3.0; 5: hardware (HSM) KMS 3.0
    spec: [0, 200, 1000, 2000, 4000],
    keyNum: { min: 100, max: 100000 },
    secretNum: { min: 0, max: 100000 },
    vpcNum: { min: 0, max: 10000 },
    period: [0, 1, 2, 3, 6, 12, 24, 36],
    renewStatus: ["AutoRenewal", "ManualRenewal"] as const,
};

function parseKmsInstance(v: Validator, value: unknown): KmsInstanceSettings | undefined {
    if (value === undefined) return undefined;
    return v.object({ kmsInstance: value }, "kmsInstance", (o) => {
        const paymentType = v.oneOf(o, "kmsInstance.paymentType", INSTANCE_RULES.paymentType, "PayAsYouGo") ?? "PayAsYouGo";
        const subscriptionOnly = <T>(name: string, parsed: T | undefined) => {
            if (parsed !== undefined && paymentType !== "Subscription") {
                v.problems.push(
                    `${v.project}:kmsInstance.${name}: only applies to paymentType Subscription; remove it or set kmsInstance.paymentType: Subscription`,
                );
            }
            return parsed;
        };
        const spec = subscriptionOnly("spec", v.intIn(o, "kmsInstance.spec", INSTANCE_RULES.spec));
        if (paymentType === "Subscription" && o["spec"] === undefined) {
            v.problems.push(
                `${v.project}:kmsInstance.spec: required for a Subscription instance; one of ${INSTANCE_RULES.spec.join(", ")} (computation performance)`,
            );
        }
        const vswitchIds = v.stringList(o, "kmsInstance.vswitchIds", /^vsw-[0-9a-z]+$/, "vSwitch IDs like vsw-bp1...");
        const zoneIds = v.stringList(o, "kmsInstance.zoneIds", /^[a-z]{2}-[a-z0-9-]+$/, "zone IDs like cn-hangzhou-k");
        // Two zones, always: with one the instance is still created across two and every later plan replaces
        // it (zoneIds forces replacement), which protect turns into a failing `up`.
        if (zoneIds && (zoneIds.length !== 2 || zoneIds[0] === zoneIds[1])) {
            v.problems.push(
                `${v.project}:kmsInstance.zoneIds: ${JSON.stringify(zoneIds)} must be exactly two different zones of the region (a KMS instance always spans two)`,
            );
        }
        if (vswitchIds && (vswitchIds.length < 1 || vswitchIds.length > 2)) {
            v.problems.push(
                `${v.project}:kmsInstance.vswitchIds: give one vSwitch (in the first zone) or two (one per zone, in zoneIds' order); got ${vswitchIds.length}`,
            );
        }
        const productVersion = v.oneOf(o, "kmsInstance.productVersion", INSTANCE_RULES.productVersion, "3") ?? "3";
        return {
            vpcId: v.string(o, "kmsInstance.vpcId", { required: true, pattern: /^vpc-[0-9a-z]+$/, patternHelp: "a VPC ID like vpc-bp1..." })!,
            vswitchIds: vswitchIds!,
            zoneIds: zoneIds!,
            paymentType,
            spec,
            keyNum: subscriptionOnly("keyNum", v.int(o, "kmsInstance.keyNum", INSTANCE_RULES.keyNum.min, INSTANCE_RULES.keyNum.max)),
            secretNum: subscriptionOnly("secretNum", v.int(o, "kmsInstance.secretNum", INSTANCE_RULES.secretNum.min, INSTANCE_RULES.secretNum.max)),
            vpcNum: subscriptionOnly("vpcNum", v.int(o, "kmsInstance.vpcNum", INSTANCE_RULES.vpcNum.min, INSTANCE_RULES.vpcNum.max)),
            period: subscriptionOnly("period", v.intIn(o, "kmsInstance.period", INSTANCE_RULES.period)),
            renewStatus: v.oneOf(o, "kmsInstance.renewStatus", INSTANCE_RULES.renewStatus),
            productVersion,
            deletionProtection: v.bool(o, "kmsInstance.deletionProtection", true),
            instanceName: v.string(o, "kmsInstance.instanceName", {}),
        };
    });
}

// Tag rules of the Alibaba Cloud tag APIs (KMS TagResources, alibabacloud.com/help/en/kms/key-management-service/
// developer-reference/api-kms-2016-01-20-tagresources, and the common Tag structure of the API reference):
// keys use letters, digits and / \\ _ - . + = : @;
// a key is 1-128 characters, does not start with "aliyun" or "acs:" and contains no
// "http://" or "https://"; a value is at most 128 characters, does not start with "acs:"
// and contains no URL scheme. A resource carries at most 20 tags; the stack adds 2 of its own.
const MAX_USER_TAGS = 18;

function tagProblem(key: string, value: unknown): string | undefined {
    if (typeof value !== "string") return "tag values must be strings";
    if (key.length < 1 || key.length > 128) return `the key is ${key.length} characters; 1 to 128 are allowed`;
    if (/^(aliyun|acs:)/i.test(key)) return 'keys starting with "aliyun" or "acs:" are reserved by Alibaba Cloud';
    if (!/^[A-Za-z0-9/\\_\-.+=:@]+$/.test(key)) return "keys may use letters, digits and / \\ _ - . + = : @ only";
    if (/https?:\/\//i.test(key) || /https?:\/\//i.test(value)) return 'keys and values may not contain "http://" or "https://"';
    if (value.length > 128) return `the value is ${value.length} characters; at most 128 are allowed`;
    if (/^acs:/i.test(value)) return 'values starting with "acs:" are reserved by Alibaba Cloud';
    if ([CLUSTER_TAG, PURPOSE_TAG].includes(key)) return "the stack sets this tag itself (it names the cluster and the key's purpose)";
    return undefined;
}

function parseKey(v: Validator, value: unknown, clusterId: string, instanceVersion: "3" | "5" | undefined): KmsKeySettings | undefined {
    const parsed = v.object({ key: value ?? {} }, "key", (o) => {
        // A key's protection level must match its instance: HSM keys live on hardware instances (productVersion "5").
        const derived = instanceVersion === "5" ? "HSM" : "SOFTWARE";
        const protectionLevel = v.oneOf(o, "key.protectionLevel", ["SOFTWARE", "HSM"] as const, derived) ?? derived;
        if (instanceVersion !== undefined && protectionLevel !== derived) {
            v.problems.push(
                `${v.project}:key.protectionLevel: ${protectionLevel} does not fit kmsInstance.productVersion "${instanceVersion}" ` +
                    `(${instanceVersion === "5" ? "a hardware instance holds HSM keys" : "a software instance holds SOFTWARE keys"}); remove key.protectionLevel or set it to ${derived}`,
            );
        }
        const intervalText = v.string(o, "key.rotationInterval", {}) ?? DEFAULT_ROTATION_INTERVAL;
        const seconds = rotationIntervalSeconds(intervalText);
        if (seconds === undefined || seconds < 7 * SECONDS_PER_DAY || seconds > 365 * SECONDS_PER_DAY) {
            v.problems.push(`${v.project}:key.rotationInterval: "${intervalText}" must be between 7d and 365d (write it like "90d" or "7776000s")`);
        }
        return {
            protectionLevel,
            rotationInterval: `${seconds ?? 0}s`,
            pendingWindowInDays: v.setting(o, KEY_SETTINGS.pendingWindowInDays),
            description: v.string(o, "key.description", {}) ?? defaultKeyDescription(clusterId),
        };
    });
    return parsed;
}

function parseOperator(v: Validator, value: unknown): StackSettings["operator"] {
    if (value === undefined) return undefined;
    return v.object({ operator: value }, "operator", (o) => {
        const user = v.string(o, "operator.ramUserName", {});
        const role = v.string(o, "operator.ramRoleName", {});
        if ((user === undefined) === (role === undefined)) {
            v.problems.push(
                `${v.project}:operator: set exactly one of ramUserName or ramRoleName (the RAM identity that runs pulumi up and needs ${OPERATOR_POLICY})`,
            );
            return undefined;
        }
        return user !== undefined ? { ramUserName: user } : { ramRoleName: role! };
    }) as StackSettings["operator"];
}

function splitKey(fullKey: string): [string, string] {
    const i = fullKey.indexOf(":");
    return i < 0 ? ["", fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}

function decode(text: string): unknown {
    const t = text.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
        try {
            return JSON.parse(t);
        } catch {
            return text;
        }
    }
    return text;
}
