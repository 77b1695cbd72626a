// Stack configuration: one stack per cluster. Everything a stack file may say
// is parsed and validated here, before any resource is registered, so a typo
// or a bad value fails the whole program with one message and creates nothing.

import { parseKeyReference } from "./keyIds";
import { closest, Validator } from "./configValidator";
import { defaultKeyDescription, ENCRYPTION_TIMING, EncryptionTiming, KEY_SETTINGS, REENCRYPT_IDENTITY, REENCRYPT_TUNING, ReencryptTuning } from "./settings";

/** The Pulumi project name in Pulumi.yaml; the config namespace of our keys unless the program is run under another name. */
export const PROJECT = "ask-kms-secret-encryption";

export const SECURITY_ROLE_NAME = "AliyunCSManagedSecurityRole";
export const SECURITY_ROLE_POLICY = "AliyunCSManagedSecurityRolePolicy";
export const OPERATOR_POLICY = "AliyunKMSCryptoAdminAccess";

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
    renewStatus?: "AutoRenewal" | "ManualRenewal" | "NotRenewal";
    productVersion: string;
    deletionProtection: boolean;
    instanceName?: string;
}

/** Settings for the KMS key the stack creates. */
export interface KmsKeySettings {
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
    /** Exactly one of these when the stack creates the key; neither when it adopts one. */
    kmsInstanceId?: string;
    kmsInstance?: KmsInstanceSettings;
    /** Adopt an existing key instead of creating one. */
    kmsKeyId?: string;
    key: KmsKeySettings;
    /** auto: adopt AliyunCSManagedSecurityRole when it exists, create it otherwise. */
    securityRole: "auto" | "create" | "adopt";
    operator?: { ramUserName: string } | { ramRoleName: string };
    /** How ClusterEncryption waits for Container Service: see ENCRYPTION_TIMING in ./settings.ts. */
    encryption: EncryptionTiming;
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

const KNOWN_KEYS = ["clusterId", "kmsInstanceId", "kmsInstance", "kmsKeyId", "key", "securityRole", "operator", "encryption", "rotation", "tags"] as const;

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

    const key = parseKey(v, ours["key"], clusterId ?? "<clusterId>");
    const securityRole = v.oneOf(ours, "securityRole", ["auto", "create", "adopt"] as const, "auto") ?? "auto";
    const operator = parseOperator(v, ours["operator"]);
    const encryption = v.object(ours, "encryption", (o) => ({
        pollIntervalSeconds: v.setting(o, ENCRYPTION_TIMING.pollIntervalSeconds),
        timeoutMinutes: v.setting(o, ENCRYPTION_TIMING.timeoutMinutes),
        conflictBackoffSeconds: v.setting(o, ENCRYPTION_TIMING.conflictBackoffSeconds),
    }));
    const rotation = v.object(ours, "rotation", (o) => ({
        enabled: v.bool(o, "rotation.enabled", true),
        concurrency: v.setting(o, REENCRYPT_TUNING.concurrency),
        qps: v.setting(o, REENCRYPT_TUNING.qps),
        pageSize: v.setting(o, REENCRYPT_TUNING.pageSize),
        annotationKey: v.text(o, REENCRYPT_IDENTITY.annotationKey),
        kubeconfigPath: v.string(o, "rotation.kubeconfigPath", {}),
        serviceAccountNamespace: v.text(o, REENCRYPT_IDENTITY.serviceAccountNamespace),
        serviceAccountName: v.text(o, REENCRYPT_IDENTITY.serviceAccountName),
    }));
    const tags = v.object(ours, "tags", (o, path) => {
        const out: Record<string, string> = {};
        for (const [k, val] of Object.entries(o)) {
            if (typeof val !== "string") problems.push(`${PROJECT}:${path}.${k}: tag values must be strings`);
            else out[k] = val;
        }
        return out;
    });

    if (problems.length > 0) throw new ConfigError(problems);
    return {
        clusterId: clusterId!,
        region: region!,
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

function parseKmsInstance(v: Validator, value: unknown): KmsInstanceSettings | undefined {
    if (value === undefined) return undefined;
    return v.object({ kmsInstance: value }, "kmsInstance", (o) => {
        const paymentType = v.oneOf(o, "kmsInstance.paymentType", ["PayAsYouGo", "Subscription"] as const, "PayAsYouGo") ?? "PayAsYouGo";
        const subscriptionOnly = (name: string, parsed: number | undefined) => {
            if (parsed !== undefined && paymentType !== "Subscription") {
                v.problems.push(
                    `${v.project}:kmsInstance.${name}: only applies to paymentType Subscription; remove it or set kmsInstance.paymentType: Subscription`,
                );
            }
            return parsed;
        };
        const spec = subscriptionOnly("spec", v.intIn(o, "kmsInstance.spec", [200, 1000, 2000, 4000]));
        if (paymentType === "Subscription" && o["spec"] === undefined) {
            v.problems.push(`${v.project}:kmsInstance.spec: required for a Subscription instance; one of 200, 1000, 2000, 4000 (computation performance)`);
        }
        return {
            vpcId: v.string(o, "kmsInstance.vpcId", { required: true, pattern: /^vpc-[0-9a-z]+$/, patternHelp: "a VPC ID like vpc-bp1..." })!,
            vswitchIds: v.stringList(o, "kmsInstance.vswitchIds", /^vsw-[0-9a-z]+$/, "vSwitch IDs like vsw-bp1...")!,
            zoneIds: v.stringList(o, "kmsInstance.zoneIds", /^[a-z]{2}-[a-z0-9-]+$/, "zone IDs like cn-hangzhou-k")!,
            paymentType,
            spec,
            keyNum: subscriptionOnly("keyNum", v.int(o, "kmsInstance.keyNum", 1, 100000)),
            secretNum: subscriptionOnly("secretNum", v.int(o, "kmsInstance.secretNum", 0, 100000)),
            vpcNum: subscriptionOnly("vpcNum", v.int(o, "kmsInstance.vpcNum", 1, 1000)),
            period: subscriptionOnly("period", v.int(o, "kmsInstance.period", 1, 36)),
            renewStatus: v.oneOf(o, "kmsInstance.renewStatus", ["AutoRenewal", "ManualRenewal", "NotRenewal"] as const),
            productVersion: v.string(o, "kmsInstance.productVersion", { pattern: /^[0-9]+$/, patternHelp: '"3" (software KMS 3.0)' }) ?? "3",
            deletionProtection: v.bool(o, "kmsInstance.deletionProtection", true),
            instanceName: v.string(o, "kmsInstance.instanceName", {}),
        };
    });
}

function parseKey(v: Validator, value: unknown, clusterId: string): KmsKeySettings | undefined {
    const parsed = v.object({ key: value ?? {} }, "key", (o) => {
        const intervalText = v.string(o, "key.rotationInterval", {}) ?? "365d";
        const seconds = rotationIntervalSeconds(intervalText);
        if (seconds === undefined || seconds < 7 * SECONDS_PER_DAY || seconds > 365 * SECONDS_PER_DAY) {
            v.problems.push(`${v.project}:key.rotationInterval: "${intervalText}" must be between 7d and 365d (write it like "90d" or "7776000s")`);
        }
        return {
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
