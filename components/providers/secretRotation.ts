// Dynamic provider: notices that KMS rotated the key (a new primary key
// version) and rewrites every Secret so kube-apiserver re-seals it with the new
// version. The rewrite itself is the engine in ../reencrypt (no Pulumi there);
// this file only decides WHEN to run it and records the result in state.
//
// Pulumi stores only a shim of this provider (./shim.ts); the host runs the
// compiled copy of this file (dist/components/providers/secretRotation.js), acting
// as the stack's Alibaba identity (configure hook, ../alibaba/identity.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as alibaba from "../alibaba";
import * as kube from "../kube";
import * as engine from "../reencrypt";
import type { KeyInfo } from "../alibaba";
import type { ReencryptSummary } from "../reencrypt";
import { anyUnknown, CheckFailure, defaultRuntime, isUnknown, ProviderRuntime } from "./kit";
import { hostShim, isShimText } from "./shim";
import {
    eachTuning,
    numberOrDefault,
    numberProblem,
    REENCRYPT_IDENTITY,
    REENCRYPT_TUNING,
    REENCRYPT_TUNING_NAMES,
    ReencryptTuning,
    textProblem,
} from "../config";

/** Tuning (concurrency, qps, pageSize) and identity as defined in ../config/settings.ts. */
export interface SecretRotationInputs extends ReencryptTuning {
    clusterId: string;
    regionId: string;
    kmsKeyId: string;
    /** When the cluster's encryption was switched on (ISO time): a run must follow it. */
    encryptionEnabledAt?: string;
    annotationKey: string;
    serviceAccountNamespace: string;
    serviceAccountName: string;
    kubeconfigPath?: string;
    /** Which API endpoint the operator kubeconfig from the CS API points at (clusterEndpoint, resolved). */
    clusterEndpoint?: "private" | "public";
}

export interface SecretRotationOutputs extends SecretRotationInputs {
    /** The key's primary version the last completed run re-sealed every Secret with. */
    keyVersion: string;
    /** The annotation value the last run wrote (the guide's YYYYMMDD-HHMMSS form). */
    annotationValue: string;
    listed: number;
    rewritten: number;
    remainingCount: number;
    verified: boolean;
    /** When the last run verified every Secret (absent when it did not). */
    verifiedAt?: string;
}

/** Where a run keeps its checkpoint, and how it reaches Alibaba Cloud and logs. */
export interface RotationRuntime extends ProviderRuntime {
    /**
     * Where a run keeps its checkpoint so an interrupted `pulumi up` resumes. Default: $ASK_REENCRYPT_STATE_DIR,
     * else ~/.ask-kms-secret-encryption/reencrypt (private to the user: a checkpoint planted in a shared
     * temp dir could make a run skip its writes).
     */
    stateDir?: string;
}

/** The guide's TIME form, in UTC: 20220101-010101. */
export function rotationTimeValue(at: Date): string {
    const twoDigits = (n: number) => String(n).padStart(2, "0");
    return (
        `${at.getUTCFullYear()}${twoDigits(at.getUTCMonth() + 1)}${twoDigits(at.getUTCDate())}-` +
        `${twoDigits(at.getUTCHours())}${twoDigits(at.getUTCMinutes())}${twoDigits(at.getUTCSeconds())}`
    );
}

/**
 * The annotation value for a run: the later of the key's last rotation and the
 * moment encryption was switched on. A new rotation (or switching encryption on)
 * always yields a value no Secret carries yet, so every Secret gets really written.
 */
export function annotationValueFor(key: Pick<KeyInfo, "lastRotationDate" | "creationDate">, encryptionEnabledAt?: string): string {
    const candidates = [key.lastRotationDate, key.creationDate, encryptionEnabledAt]
        .filter((t): t is string => !!t)
        .map((t) => new Date(t))
        .filter((d) => !isNaN(d.getTime()));
    if (candidates.length === 0) {
        throw new Error(`KMS key has neither a rotation nor a creation date, so no rotation time can be derived; check the key with DescribeKey.`);
    }
    return rotationTimeValue(new Date(Math.max(...candidates.map((d) => d.getTime()))));
}

/** Why a run is due, or undefined when the last completed run still covers the key's primary version. */
export function rotationDue(olds: Partial<SecretRotationOutputs>, news: SecretRotationInputs, primaryKeyVersion: string): string | undefined {
    if (olds.kmsKeyId !== news.kmsKeyId) return `the key changed from ${olds.kmsKeyId} to ${news.kmsKeyId}`;
    if (olds.clusterId !== news.clusterId) return `the cluster changed`;
    if (olds.annotationKey !== news.annotationKey) return `the annotation key changed`;
    if ((olds.encryptionEnabledAt ?? "") !== (news.encryptionEnabledAt ?? "")) return `the cluster's encryption was switched on again`;
    if (olds.keyVersion !== primaryKeyVersion) {
        return `KMS rotated key ${news.kmsKeyId}: primary version ${primaryKeyVersion}, Secrets last re-sealed with ${olds.keyVersion ?? "none"}`;
    }
    if (!olds.verified) return `the last re-encryption did not verify (${olds.remainingCount ?? "?"} Secrets remained)`;
    return undefined;
}

export function validateRotationInputs(news: Partial<SecretRotationInputs>): string[] {
    const failures: string[] = [];
    for (const name of Object.keys(REENCRYPT_TUNING) as (keyof typeof REENCRYPT_TUNING)[]) {
        const value = news[name];
        if (value === undefined || isUnknown(value)) continue;
        const problem = numberProblem(REENCRYPT_TUNING[name], value);
        if (problem) failures.push(`${name}: ${problem}`);
    }
    for (const name of Object.keys(REENCRYPT_IDENTITY) as (keyof typeof REENCRYPT_IDENTITY)[]) {
        const value = news[name];
        if (value === undefined || value === "" || isUnknown(value)) continue;
        const problem = textProblem(REENCRYPT_IDENTITY[name], value);
        if (problem) failures.push(`${name}: ${problem}`);
    }
    for (const name of ["clusterId", "regionId", "kmsKeyId", "annotationKey", "serviceAccountNamespace", "serviceAccountName"] as const) {
        if (!news[name]) failures.push(`${name}: required`);
    }
    return failures;
}

/** Reads the key's primary version, the signal that KMS rotated it. */
async function readKey(inputs: SecretRotationInputs, runtime: ProviderRuntime): Promise<KeyInfo> {
    return alibaba.describeKey(runtime.alibaba(inputs.regionId), inputs.kmsKeyId);
}

/**
 * Cluster access for the run, least privilege: an operator kubeconfig (a
 * short-lived one from the CS API, or the configured file) is used for ONE
 * call, a TokenRequest for the dedicated ServiceAccount; the run itself uses
 * that token, which may only get, list and patch Secrets and expires in an hour.
 */
export async function reencryptionKubeConfig(inputs: SecretRotationInputs, runtime: ProviderRuntime) {
    const operator: kube.OperatorKubeconfig = inputs.kubeconfigPath
        ? { path: inputs.kubeconfigPath }
        : { yaml: await alibaba.describeClusterUserKubeconfig(runtime.alibaba(inputs.regionId), inputs.clusterId, 15, inputs.clusterEndpoint === "private") };
    return kube.serviceAccountAccess(
        operator,
        { namespace: inputs.serviceAccountNamespace, name: inputs.serviceAccountName },
        {
            expirationSeconds: 3600,
            clusterLabel: `cluster ${inputs.clusterId}`,
            unreachableHint:
                inputs.kubeconfigPath !== undefined
                    ? `check the server in ${inputs.kubeconfigPath}`
                    : inputs.clusterEndpoint === "private"
                      ? "that is the cluster's VPC-internal endpoint: run `pulumi up` where the VPC is reachable, or set clusterEndpoint: public"
                      : "that is the cluster's public endpoint: if the cluster has none, or it is not reachable from here, set clusterEndpoint: private and run `pulumi up` inside the VPC",
        },
    );
}

/** One run: re-seal every Secret with the key's current primary version, verify, record. */
export async function runRotation(inputs: SecretRotationInputs, runtime: RotationRuntime): Promise<SecretRotationOutputs> {
    const log = (line: string) => runtime.log(line);

    const key = await readKey(inputs, runtime);
    const annotationValue = annotationValueFor(key, inputs.encryptionEnabledAt);
    log(
        `re-encrypting Secrets of cluster ${inputs.clusterId}: key ${inputs.kmsKeyId} primary version ${key.primaryKeyVersion}, ${inputs.annotationKey}=${annotationValue}`,
    );
    const kubeConfig = await reencryptionKubeConfig(inputs, runtime);
    const tuning = eachTuning((setting, name) => numberOrDefault(setting, inputs[name]));
    const client = kube.createKubernetesSecretsClient(kubeConfig, {
        concurrency: tuning.concurrency,
        requestTimeoutMs: tuning.requestTimeoutSeconds * 1000,
        maxPageBytes: tuning.maxPageMiB * 1024 * 1024,
        // A 401 mid-run (the hour-long token expired): one new TokenRequest, then the run goes on.
        renewAccess: () => reencryptionKubeConfig(inputs, runtime),
    });
    const statePath = checkpointPath(runtime, inputs.clusterId, annotationValue);
    let summary: ReencryptSummary;
    try {
        summary = await engine.reencryptSecrets(client, {
            annotationKey: inputs.annotationKey,
            annotationValue,
            concurrency: tuning.concurrency,
            qps: tuning.qps,
            pageSize: tuning.pageSize,
            errorBudget: tuning.errorBudget,
            stallTimeoutMs: tuning.stallTimeoutSeconds * 1000,
            statePath,
            log,
            onProgress: (p) =>
                log(
                    `  ${p.phase}: ${p.done}${p.totalEstimate ? `/${p.totalEstimate}` : ""} Secrets, ${p.ratePerSecond.toFixed(0)}/s${p.etaSeconds !== undefined ? `, ETA ${Math.ceil(p.etaSeconds)}s` : ""}`,
                ),
        });
    } finally {
        client.close();
    }
    // The engine removes its checkpoint once a run verifies; its warnings are for the person reading the log.
    for (const warning of summary.warnings) log(`warning: ${warning}`);
    if (summary.outcome === "stopped") {
        throw new Error(
            `re-encrypting the Secrets of cluster ${inputs.clusterId} stopped: ${summary.stopReason} ` +
                `(${summary.rewritten} rewritten in this run; the next \`pulumi up\` continues from the checkpoint ${statePath})`,
        );
    }
    if (summary.outcome !== "verified") {
        const names = summary.remaining
            .slice(0, 20)
            .map((r) => `${r.namespace}/${r.name}${r.reason ? ` (${r.reason})` : ""}`)
            .join(", ");
        log(
            `WARNING: ${summary.remainingCount} Secrets of cluster ${inputs.clusterId} are not yet re-sealed with key version ${key.primaryKeyVersion}` +
                ` (${names}${summary.remainingCount > 20 ? ", ..." : ""}); the next \`pulumi up\` retries them.`,
        );
    }
    return {
        ...inputs,
        keyVersion: key.primaryKeyVersion,
        annotationValue,
        listed: summary.listed,
        rewritten: summary.rewritten,
        remainingCount: summary.remainingCount,
        verified: summary.outcome === "verified",
        // No undefined values: the provider host's protobuf Struct refuses them ("Unexpected struct type").
        ...(summary.outcome === "verified" ? { verifiedAt: new Date(summary.finishedAt).toISOString() } : {}),
    };
}

/**
 * One checkpoint per cluster and annotation value: a newer rotation supersedes an unfinished older
 * one (rewriting with the newest key covers it), so older checkpoints of the cluster are removed.
 */
export function checkpointPath(runtime: Pick<RotationRuntime, "stateDir">, clusterId: string, annotationValue: string): string {
    const dir = checkpointDir(runtime);
    const file = `${clusterId}.${annotationValue.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`;
    for (const entry of fs.readdirSync(dir)) {
        const superseded = entry === `${clusterId}.json` || (entry.startsWith(`${clusterId}.`) && entry.endsWith(".json") && entry !== file);
        if (superseded && !fs.existsSync(path.join(dir, `${entry}.lock`))) fs.rmSync(path.join(dir, entry), { force: true });
    }
    return path.join(dir, file);
}

/** The checkpoint directory, created private (0700) to the user. */
export function checkpointDir(runtime: Pick<RotationRuntime, "stateDir">): string {
    const dir = runtime.stateDir ?? process.env.ASK_REENCRYPT_STATE_DIR ?? path.join(os.homedir(), ".ask-kms-secret-encryption", "reencrypt");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
}

/** Inputs that change how a run goes, not whether one is due: a change is recorded without rewriting anything. */
const TUNING_INPUTS = ["regionId", ...REENCRYPT_TUNING_NAMES, "kubeconfigPath", "serviceAccountNamespace", "serviceAccountName", "clusterEndpoint"] as const;

function rotationRuntime(): RotationRuntime {
    return defaultRuntime("SecretRotation");
}

/** The implementation the host runs (loaded from dist/ by the shim below). */
export const rotationProvider: pulumi.dynamic.ResourceProvider = {
    configure: async (req) => alibaba.configureStackIdentity(req.config),

    async check(_olds: SecretRotationInputs, news: SecretRotationInputs) {
        const failures: CheckFailure[] = validateRotationInputs(news).map((reason) => ({ property: reason.split(":")[0], reason }));
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: SecretRotationOutputs & { __provider?: string }, news: SecretRotationInputs) {
        if (anyUnknown(news)) return { changes: true };
        // The cloud's state never fails a diff (refresh runs it too): a key that cannot be read is reported as a
        // change, and the update says why it cannot run.
        const key = await readKey(news, rotationRuntime()).catch(() => undefined);
        if (key === undefined) return { changes: true };
        if (rotationDue(olds, news, key.primaryKeyVersion)) {
            const replaces = olds.clusterId !== news.clusterId ? ["clusterId"] : [];
            return { changes: true, replaces, detailedDiff: { keyVersion: { kind: "update" as const } } };
        }
        // State written before the shim carries fully serialized code: one update stores the shim.
        const oldCode = olds.__provider !== undefined && !isShimText(olds.__provider);
        return { changes: oldCode || TUNING_INPUTS.some((name) => olds[name] !== news[name]) };
    },

    async create(inputs: SecretRotationInputs) {
        const outs = await runRotation(inputs, rotationRuntime());
        return { id: `${inputs.clusterId}/secret-rotation`, outs };
    },

    async update(_id: string, olds: SecretRotationOutputs, news: SecretRotationInputs) {
        const runtime = rotationRuntime();
        const key = await readKey(news, runtime);
        // Only tuning changed: record it; the Secrets are already sealed with the primary version.
        if (!rotationDue(olds, news, key.primaryKeyVersion)) {
            const { keyVersion, annotationValue, listed, rewritten, remainingCount, verified, verifiedAt } = olds;
            return { outs: { ...news, keyVersion, annotationValue, listed, rewritten, remainingCount, verified, verifiedAt } };
        }
        return { outs: await runRotation(news, runtime) };
    },

    async read(id: string, props: SecretRotationOutputs) {
        return { id, props };
    },

    // Deleting this resource leaves Secrets as they are: they stay sealed with the versions they have.
    async delete() {},
};

/** What Pulumi stores in state and the host rebuilds: one module-level object (serialization is cached per object). */
const rotationShim = hostShim("dist/components/providers/secretRotation.js", "rotationProvider", "SecretRotation");

export interface SecretRotationArgs {
    /** The cluster whose Secrets are re-encrypted. */
    clusterId: pulumi.Input<string>;
    /** The cluster's region. */
    regionId: pulumi.Input<string>;
    /** The KMS key whose rotations trigger a run. */
    kmsKeyId: pulumi.Input<string>;
    /** When encryption was switched on (from ClusterEncryption.enabledAt): a change triggers a run. */
    encryptionEnabledAt?: pulumi.Input<string>;
    /** Annotation written to force the rewrite: REENCRYPT_IDENTITY.annotationKey in ../config/settings.ts. */
    annotationKey: pulumi.Input<string>;
    /** concurrency, qps and pageSize: REENCRYPT_TUNING in ../config/settings.ts (the component fills in the defaults). */
    concurrency: pulumi.Input<number>;
    qps: pulumi.Input<number>;
    pageSize: pulumi.Input<number>;
    /** The dedicated least-privilege ServiceAccount the run uses. */
    serviceAccountNamespace: pulumi.Input<string>;
    serviceAccountName: pulumi.Input<string>;
    /** A kubeconfig file for the operator side, instead of a short-lived one from the CS API. */
    kubeconfigPath?: pulumi.Input<string>;
    /** The resolved clusterEndpoint: the CS API's kubeconfig then points at that endpoint. */
    clusterEndpoint?: pulumi.Input<"private" | "public">;
}

/** Re-encrypts every Secret after each KMS key rotation (and once when encryption is switched on). */
export class SecretRotation extends pulumi.dynamic.Resource {
    declare readonly keyVersion: pulumi.Output<string>;
    declare readonly annotationValue: pulumi.Output<string>;
    declare readonly verified: pulumi.Output<boolean>;
    declare readonly verifiedAt: pulumi.Output<string | undefined>;
    declare readonly remainingCount: pulumi.Output<number>;

    constructor(name: string, args: SecretRotationArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            rotationShim,
            name,
            {
                ...args,
                keyVersion: undefined,
                annotationValue: undefined,
                listed: undefined,
                rewritten: undefined,
                remainingCount: undefined,
                verified: undefined,
                verifiedAt: undefined,
            },
            opts,
            "ask",
            "SecretRotation",
        );
    }
}
