// Dynamic resource that switches KMS Secret encryption on for an existing ASK/ACK
// Pro cluster, through Container Service's UpdateKMSEncryption.
//
// Lifecycle:
// - check/diff (run by `pulumi preview` too): preflight the cluster (exists, Pro,
//   running, in the stack's region) and the key (Aliyun_AES_256, ENCRYPT/DECRYPT,
//   Enabled, a User key); diff also reads the live setting so drift shows up.
// - create/update: UpdateKMSEncryption (409 "changed within 5 minutes" is retried
//   with capped backoff), then poll DescribeClusterDetail until the cluster is
//   running with the key in place, bounded by timeoutMinutes.
// - read (refresh): reports the cluster's actual setting.
// - delete: switches encryption OFF (disable_encryption) and waits until the
//   cluster is running with encryption disabled. Removing this resource from the
//   program therefore turns Secret encryption off for the cluster; the KMS key
//   itself is untouched.
//
// Credentials come from the Alibaba Cloud default credential chain at run time
// (components/alibaba), never from inputs or state. Providers are serialized by
// closure: nothing here holds an SDK object at module level, and the provider
// methods only capture plain functions.

import * as pulumi from "@pulumi/pulumi";
import {
    AlibabaApiError,
    AlibabaContext,
    ClusterInfo,
    describeCluster,
    describeKey,
    isUserKey,
    KeyInfo,
    updateKmsEncryption,
} from "./alibaba";

export const UNKNOWN_INPUT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const PRO_CLUSTER_SPEC = "ack.pro.small";
export const REQUIRED_KEY_SPEC = "Aliyun_AES_256";
export const REQUIRED_KEY_USAGE = "ENCRYPT/DECRYPT";

export const DEFAULT_POLL_INTERVAL_SECONDS = 10;
export const DEFAULT_TIMEOUT_MINUTES = 30;
const MAX_TIMEOUT_MINUTES = 24 * 60;
const MAX_POLL_INTERVAL_SECONDS = 600;

export interface ClusterEncryptionInputs {
    clusterId: string;
    kmsKeyId: string;
    /** The stack's region (alicloud:region). */
    regionId: string;
    pollIntervalSeconds?: number;
    timeoutMinutes?: number;
}

export interface ClusterEncryptionOutputs extends ClusterEncryptionInputs {
    encryptionEnabled: boolean;
    clusterName: string;
    /** When this resource last made the cluster encrypt with kmsKeyId (ISO 8601). */
    enabledAt: string;
}

/** Everything time- and environment-dependent, injectable so tests run fast and deterministic. */
export interface ProviderDeps {
    /** Builds the Alibaba context for a region (endpoint overrides come from its env). */
    alibaba(regionId: string): AlibabaContext;
    sleep(ms: number): Promise<void>;
    now(): number;
    progress(line: string): void;
    /** Overrides inputs' pollIntervalSeconds (tests). */
    pollIntervalMs?: number;
    /** Overrides inputs' timeoutMinutes (tests). */
    timeoutMs?: number;
    /** First wait after a 409/throttle; doubles up to conflictMaxBackoffMs. */
    conflictInitialBackoffMs: number;
    conflictMaxBackoffMs: number;
}

export function defaultDeps(): ProviderDeps {
    return {
        alibaba: (regionId) => ({ regionId }),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: () => Date.now(),
        // The dynamic provider host owns stdout (gRPC handshake); stderr reaches the engine's log.
        progress: (line) => void process.stderr.write(`[ClusterEncryption] ${line}\n`),
        conflictInitialBackoffMs: 15_000,
        conflictMaxBackoffMs: 60_000,
    };
}

function isUnknown(value: unknown): boolean {
    return value === UNKNOWN_INPUT;
}

function anyUnknown(inputs: Partial<ClusterEncryptionInputs>): boolean {
    return Object.values(inputs).some(isUnknown);
}

// ---- Input validation -----------------------------------------------------------------------

export interface Problem {
    property: keyof ClusterEncryptionInputs;
    reason: string;
}

export function validateInputs(news: Partial<ClusterEncryptionInputs>): Problem[] {
    const problems: Problem[] = [];
    for (const property of ["clusterId", "kmsKeyId", "regionId"] as const) {
        const value = news[property];
        if (isUnknown(value)) continue;
        if (typeof value !== "string" || value.trim() === "") {
            problems.push({ property, reason: `${property} is required and must be a non-empty string (got ${JSON.stringify(value)}).` });
        }
    }
    const poll = news.pollIntervalSeconds;
    if (poll !== undefined && !isUnknown(poll) && !(typeof poll === "number" && poll > 0 && poll <= MAX_POLL_INTERVAL_SECONDS)) {
        problems.push({ property: "pollIntervalSeconds", reason: `pollIntervalSeconds must be a number above 0 and at most ${MAX_POLL_INTERVAL_SECONDS} (got ${JSON.stringify(poll)}).` });
    }
    const timeout = news.timeoutMinutes;
    if (timeout !== undefined && !isUnknown(timeout) && !(typeof timeout === "number" && timeout > 0 && timeout <= MAX_TIMEOUT_MINUTES)) {
        problems.push({ property: "timeoutMinutes", reason: `timeoutMinutes must be a number above 0 and at most ${MAX_TIMEOUT_MINUTES} (got ${JSON.stringify(timeout)}).` });
    }
    return problems;
}

// ---- Preflight ------------------------------------------------------------------------------

export interface Inspection {
    cluster?: ClusterInfo;
    key?: KeyInfo;
    problems: Problem[];
}

function notFound(e: unknown): e is AlibabaApiError {
    return e instanceof AlibabaApiError && e.kind === "notFound";
}

function requestNote(e: AlibabaApiError): string {
    return `${e.code}${e.httpStatus ? `, HTTP ${e.httpStatus}` : ""}${e.requestId ? `, request ID ${e.requestId}` : ""}`;
}

/**
 * Checks that the cluster and key can take part in Secret encryption.
 * Returns one problem per failed requirement; API failures that are not about
 * the inputs (credentials, permissions, network) are thrown as they are.
 */
export async function inspect(inputs: ClusterEncryptionInputs, deps: ProviderDeps): Promise<Inspection> {
    const ctx = deps.alibaba(inputs.regionId);
    const problems: Problem[] = [];
    const { clusterId, kmsKeyId, regionId } = inputs;

    let cluster: ClusterInfo | undefined;
    try {
        cluster = await describeCluster(ctx, clusterId);
    } catch (e) {
        if (!notFound(e)) throw e;
        problems.push({
            property: "clusterId",
            reason: `Cluster "${clusterId}" was not found in region ${regionId} (${requestNote(e)}). Check the clusterId in the stack config and that alicloud:region is the cluster's region.`,
        });
    }
    if (cluster) {
        if (cluster.clusterSpec !== PRO_CLUSTER_SPEC) {
            problems.push({
                property: "clusterId",
                reason: `Cluster "${clusterId}" has cluster spec "${cluster.clusterSpec || "(none)"}", not "${PRO_CLUSTER_SPEC}": Secret encryption with a KMS key needs an ACK/ASK Pro cluster. Migrate the cluster to Pro (Container Service console > the cluster > Basic Information) or point clusterId at a Pro cluster.`,
            });
        }
        if (cluster.state !== "running") {
            problems.push({
                property: "clusterId",
                reason: `Cluster "${clusterId}" is "${cluster.state}", not "running": wait until the cluster is running (check its event log in the Container Service console) and run again.`,
            });
        }
        if (cluster.regionId !== regionId) {
            problems.push({
                property: "regionId",
                reason: `Cluster "${clusterId}" is in region ${cluster.regionId || "(unknown)"}, but the stack's region (alicloud:region) is ${regionId}: the key and the cluster must share a region. Set alicloud:region to ${cluster.regionId} or use a cluster in ${regionId}.`,
            });
        }
    }

    let key: KeyInfo | undefined;
    try {
        key = await describeKey(ctx, kmsKeyId);
    } catch (e) {
        if (!notFound(e)) throw e;
        problems.push({
            property: "kmsKeyId",
            reason: `KMS key "${kmsKeyId}" was not found in region ${regionId} (${requestNote(e)}). Check the key ID and that the key lives in the stack's region.`,
        });
    }
    if (key) {
        if (key.keyId !== kmsKeyId) {
            problems.push({
                property: "kmsKeyId",
                reason: `"${kmsKeyId}" names key ${key.keyId} indirectly (alias or ARN): use the key ID "${key.keyId}" itself, because the cluster reports its encryption key by ID.`,
            });
        }
        if (key.keySpec !== REQUIRED_KEY_SPEC) {
            problems.push({
                property: "kmsKeyId",
                reason: `KMS key "${kmsKeyId}" has key spec "${key.keySpec}"; Secret encryption needs a symmetric "${REQUIRED_KEY_SPEC}" key. Create one (keySpec ${REQUIRED_KEY_SPEC}, keyUsage ${REQUIRED_KEY_USAGE}) and use its ID.`,
            });
        }
        if (key.keyUsage !== REQUIRED_KEY_USAGE) {
            problems.push({
                property: "kmsKeyId",
                reason: `KMS key "${kmsKeyId}" has key usage "${key.keyUsage}"; Secret encryption needs "${REQUIRED_KEY_USAGE}". Use a key created for encryption.`,
            });
        }
        if (key.keyState !== "Enabled") {
            problems.push({
                property: "kmsKeyId",
                reason: `KMS key "${kmsKeyId}" is "${key.keyState}", not "Enabled": enable it (KMS console or EnableKey${key.keyState === "PendingDeletion" ? ", after cancelling its scheduled deletion" : ""}) and run again.`,
            });
        }
        if (!(await isUserKey(ctx, key.keyId))) {
            problems.push({
                property: "kmsKeyId",
                reason: `KMS key "${kmsKeyId}" is a service key (managed by a cloud service), not a User key: ACK can only encrypt Secrets with a customer-created key. Create a key yourself (or let this stack create one) and use its ID.`,
            });
        }
    }
    return { cluster, key, problems };
}

function problemsError(problems: Problem[]): Error {
    const lines = problems.map((p) => `- ${p.property}: ${p.reason}`);
    return new Error(`Cannot enable Secret encryption; preflight found ${problems.length} problem(s):\n${lines.join("\n")}`);
}

// ---- check / diff ---------------------------------------------------------------------------

export async function checkInputs(
    olds: Partial<ClusterEncryptionInputs>,
    news: Partial<ClusterEncryptionInputs>,
    deps: ProviderDeps,
): Promise<pulumi.dynamic.CheckResult<ClusterEncryptionInputs>> {
    const inputProblems = validateInputs(news);
    if (inputProblems.length > 0) return { inputs: news as ClusterEncryptionInputs, failures: inputProblems };
    // During preview some inputs may not be known yet (e.g. a key created in the same run); the real check happens in `up`.
    if (anyUnknown(news)) return { inputs: news as ClusterEncryptionInputs };
    // Unchanged target: diff compares with the live cluster and runs the preflight only when something must change,
    // so an unrelated `pulumi up` does not fail while the cluster is, say, upgrading.
    if (olds.clusterId === news.clusterId && olds.kmsKeyId === news.kmsKeyId && olds.regionId === news.regionId) {
        return { inputs: news as ClusterEncryptionInputs };
    }
    const { problems } = await inspect(news as ClusterEncryptionInputs, deps);
    return { inputs: news as ClusterEncryptionInputs, failures: problems };
}

export interface EncryptionDiff extends pulumi.dynamic.DiffResult {
    /** Why changes are reported, for logs and tests. */
    reasons: string[];
}

function encryptedWith(cluster: ClusterInfo, kmsKeyId: string): boolean {
    return !cluster.encryptionDisabled && cluster.encryptionKeyId === kmsKeyId;
}

function describeSetting(cluster: ClusterInfo): string {
    return cluster.encryptionDisabled ? "encryption off" : `encryption with key ${cluster.encryptionKeyId}`;
}

export async function diffEncryption(
    _id: string,
    olds: ClusterEncryptionOutputs,
    news: ClusterEncryptionInputs,
    deps: ProviderDeps,
): Promise<EncryptionDiff> {
    const replaces: string[] = [];
    const reasons: string[] = [];
    for (const property of ["clusterId", "regionId"] as const) {
        if (isUnknown(news[property]) || news[property] !== olds[property]) {
            replaces.push(property);
            reasons.push(`${property} changes from ${olds[property]} to ${isUnknown(news[property]) ? "(known after apply)" : news[property]}`);
        }
    }
    if (isUnknown(news.kmsKeyId) || news.kmsKeyId !== olds.kmsKeyId) {
        reasons.push(`kmsKeyId changes from ${olds.kmsKeyId || "(none)"} to ${isUnknown(news.kmsKeyId) ? "(known after apply)" : news.kmsKeyId}`);
    }
    for (const property of ["pollIntervalSeconds", "timeoutMinutes"] as const) {
        if (news[property] !== olds[property]) reasons.push(`${property} changes`);
    }
    if (anyUnknown(news)) return { changes: true, replaces, reasons };

    // Drift: compare the live cluster with what the program asks for.
    if (replaces.length === 0) {
        let live: ClusterInfo;
        try {
            live = await describeCluster(deps.alibaba(news.regionId), news.clusterId);
        } catch (e) {
            if (!notFound(e)) throw e;
            throw new Error(
                `Cluster "${news.clusterId}" no longer exists (${requestNote(e)}). Run \`pulumi refresh\` to drop this ClusterEncryption from the stack's state, or fix clusterId.`,
            );
        }
        if (!encryptedWith(live, news.kmsKeyId)) {
            reasons.push(`cluster "${news.clusterId}" drifted: it has ${describeSetting(live)}, the program wants encryption with key ${news.kmsKeyId}`);
        }
    }
    if (reasons.length === 0) return { changes: false, replaces: [], reasons };

    const { problems } = await inspect(news, deps);
    if (problems.length > 0) throw problemsError(problems);
    return { changes: true, replaces, reasons };
}

// ---- Apply and wait -------------------------------------------------------------------------

interface Timing {
    pollIntervalMs: number;
    deadline: number;
    timeoutMinutes: number;
}

function timingFor(inputs: Partial<ClusterEncryptionInputs>, deps: ProviderDeps): Timing {
    const pollIntervalMs = deps.pollIntervalMs ?? (inputs.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS) * 1000;
    const timeoutMs = deps.timeoutMs ?? (inputs.timeoutMinutes ?? DEFAULT_TIMEOUT_MINUTES) * 60_000;
    return { pollIntervalMs, deadline: deps.now() + timeoutMs, timeoutMinutes: timeoutMs / 60_000 };
}

function retryable(e: unknown): e is AlibabaApiError {
    return e instanceof AlibabaApiError && (e.kind === "conflict" || e.kind === "throttled" || e.kind === "transient");
}

/** Calls UpdateKMSEncryption, retrying 409/throttling/transient answers with capped exponential backoff until the deadline. */
export async function updateWithRetry(
    ctx: AlibabaContext,
    clusterId: string,
    change: { kmsKeyId?: string; disableEncryption: boolean },
    timing: Timing,
    deps: ProviderDeps,
): Promise<void> {
    for (let attempt = 1; ; attempt++) {
        try {
            await updateKmsEncryption(ctx, clusterId, change);
            return;
        } catch (e) {
            if (!retryable(e)) throw e;
            const backoff = Math.min(deps.conflictInitialBackoffMs * 2 ** (attempt - 1), deps.conflictMaxBackoffMs);
            if (deps.now() + backoff > timing.deadline) {
                throw new Error(
                    `UpdateKMSEncryption for cluster "${clusterId}" kept failing for ${timing.timeoutMinutes} minute(s) (${attempt} attempts); last answer: ${e.message}`,
                );
            }
            deps.progress(`UpdateKMSEncryption for cluster ${clusterId} answered ${e.code}${e.httpStatus ? ` (HTTP ${e.httpStatus})` : ""}; retrying in ${Math.round(backoff / 1000)}s (attempt ${attempt})`);
            await deps.sleep(backoff);
        }
    }
}

const FAILED_STATES = new Set(["failed", "updating_failed", "deleting", "deleted", "delete_failed"]);

/** Polls DescribeClusterDetail until `done` holds for a running cluster, or fails on a failed state or the deadline. */
export async function waitForCluster(
    ctx: AlibabaContext,
    clusterId: string,
    goal: string,
    done: (c: ClusterInfo) => boolean,
    timing: Timing,
    deps: ProviderDeps,
): Promise<ClusterInfo> {
    const started = deps.now();
    let lastReported = "";
    let lastReportAt = 0;
    let last: ClusterInfo | undefined;
    for (;;) {
        try {
            last = await describeCluster(ctx, clusterId);
        } catch (e) {
            if (!retryable(e)) throw e;
            deps.progress(`DescribeClusterDetail for cluster ${clusterId} answered ${e.code}; polling again`);
        }
        if (last) {
            if (last.state === "running" && done(last)) {
                deps.progress(`cluster ${clusterId} is running with ${describeSetting(last)} after ${Math.round((deps.now() - started) / 1000)}s`);
                return last;
            }
            if (FAILED_STATES.has(last.state)) {
                throw new Error(
                    `Cluster "${clusterId}" went to state "${last.state}" while waiting for ${goal}. Check the cluster's event log in the Container Service console, fix the cause, then run \`pulumi up\` again.`,
                );
            }
            const observed = `state=${last.state}, ${describeSetting(last)}`;
            if (observed !== lastReported || deps.now() - lastReportAt >= 60_000) {
                deps.progress(`cluster ${clusterId}: ${observed}; waiting for ${goal} (${Math.round((deps.now() - started) / 1000)}s elapsed)`);
                lastReported = observed;
                lastReportAt = deps.now();
            }
        }
        if (deps.now() + timing.pollIntervalMs > timing.deadline) {
            const seen = last ? `state=${last.state}, ${describeSetting(last)}` : "no successful read";
            throw new Error(
                `Timed out after ${timing.timeoutMinutes} minute(s) waiting for cluster "${clusterId}" to reach ${goal} (last seen: ${seen}). ` +
                    "The change may still complete: check the cluster's event log in the Container Service console, then run `pulumi refresh` and `pulumi up`. " +
                    "If your clusters need longer, raise timeoutMinutes.",
            );
        }
        await deps.sleep(timing.pollIntervalMs);
    }
}

function outputsFrom(inputs: ClusterEncryptionInputs, cluster: ClusterInfo, enabledAt: string): ClusterEncryptionOutputs {
    const outs: ClusterEncryptionOutputs = {
        clusterId: inputs.clusterId,
        kmsKeyId: inputs.kmsKeyId,
        regionId: inputs.regionId,
        encryptionEnabled: !cluster.encryptionDisabled,
        clusterName: cluster.name,
        enabledAt,
    };
    if (inputs.pollIntervalSeconds !== undefined) outs.pollIntervalSeconds = inputs.pollIntervalSeconds;
    if (inputs.timeoutMinutes !== undefined) outs.timeoutMinutes = inputs.timeoutMinutes;
    return outs;
}

/** create and update: make the cluster encrypt Secrets with inputs.kmsKeyId and wait for it. */
export async function applyEncryption(
    inputs: ClusterEncryptionInputs,
    deps: ProviderDeps,
    previous?: ClusterEncryptionOutputs,
): Promise<ClusterEncryptionOutputs> {
    const ctx = deps.alibaba(inputs.regionId);
    const timing = timingFor(inputs, deps);
    const current = await describeCluster(ctx, inputs.clusterId);
    if (current.state === "running" && encryptedWith(current, inputs.kmsKeyId)) {
        deps.progress(`cluster ${inputs.clusterId} already encrypts Secrets with key ${inputs.kmsKeyId}; nothing to change`);
        const keptAt = previous && previous.kmsKeyId === inputs.kmsKeyId && previous.encryptionEnabled ? previous.enabledAt : new Date(deps.now()).toISOString();
        return outputsFrom(inputs, current, keptAt);
    }
    if (encryptedWith(current, inputs.kmsKeyId)) {
        // Already set (e.g. a previous run timed out while the cluster was still updating): only wait.
        deps.progress(`cluster ${inputs.clusterId} is ${current.state} with key ${inputs.kmsKeyId} already set; waiting for it to run`);
    } else {
        deps.progress(`cluster ${inputs.clusterId}: switching from ${describeSetting(current)} to encryption with key ${inputs.kmsKeyId}`);
        await updateWithRetry(ctx, inputs.clusterId, { kmsKeyId: inputs.kmsKeyId, disableEncryption: false }, timing, deps);
    }
    const done = await waitForCluster(ctx, inputs.clusterId, `encryption with key ${inputs.kmsKeyId}`, (c) => encryptedWith(c, inputs.kmsKeyId), timing, deps);
    return outputsFrom(inputs, done, new Date(deps.now()).toISOString());
}

/** read (refresh): the cluster's actual setting; an empty result means the cluster is gone. */
export async function readEncryption(
    id: string,
    props: ClusterEncryptionOutputs,
    deps: ProviderDeps,
): Promise<pulumi.dynamic.ReadResult<ClusterEncryptionOutputs>> {
    let live: ClusterInfo;
    try {
        live = await describeCluster(deps.alibaba(props.regionId), id);
    } catch (e) {
        if (notFound(e)) return {};
        throw e;
    }
    return {
        id,
        props: {
            ...props,
            clusterId: id,
            kmsKeyId: live.encryptionDisabled ? "" : live.encryptionKeyId ?? "",
            encryptionEnabled: !live.encryptionDisabled,
            clusterName: live.name,
        },
    };
}

/** delete: switch encryption off and wait until the cluster is running with encryption disabled. */
export async function removeEncryption(id: string, props: ClusterEncryptionOutputs, deps: ProviderDeps): Promise<void> {
    const ctx = deps.alibaba(props.regionId);
    const timing = timingFor(props, deps);
    let current: ClusterInfo;
    try {
        current = await describeCluster(ctx, id);
    } catch (e) {
        if (notFound(e)) {
            deps.progress(`cluster ${id} no longer exists; nothing to switch off`);
            return;
        }
        throw e;
    }
    if (current.state === "running" && current.encryptionDisabled) {
        deps.progress(`cluster ${id} already has encryption off; nothing to change`);
        return;
    }
    deps.progress(`cluster ${id}: switching Secret encryption off (was ${describeSetting(current)})`);
    await updateWithRetry(ctx, id, { disableEncryption: true }, timing, deps);
    await waitForCluster(ctx, id, "encryption off", (c) => c.encryptionDisabled, timing, deps);
    // Switching off does not unseal what is stored: keep the key until every Secret has been written again.
    deps.progress(
        `cluster ${id}: encryption is off, but Secrets written while it was on are still sealed by key ${props.kmsKeyId}. ` +
            `Keep that key enabled until they are rewritten (reencrypt-secrets --annotation-value <new value>); only then retire it.`,
    );
}

// ---- The provider and the resource ------------------------------------------------------------

/** The one provider object (closure serialization is cached per object). */
export const clusterEncryptionProvider: pulumi.dynamic.ResourceProvider<ClusterEncryptionInputs, ClusterEncryptionOutputs> = {
    check: (olds, news) => checkInputs(olds, news, defaultDeps()),
    diff: (id, olds, news) => diffEncryption(id, olds, news, defaultDeps()),
    create: async (inputs) => {
        const outs = await applyEncryption(inputs, defaultDeps());
        return { id: inputs.clusterId, outs };
    },
    read: (id, props) => readEncryption(id, props as ClusterEncryptionOutputs, defaultDeps()),
    update: async (_id, olds, news) => ({ outs: await applyEncryption(news, defaultDeps(), olds) }),
    delete: (id, props) => removeEncryption(id, props, defaultDeps()),
};

export interface ClusterEncryptionArgs {
    clusterId: pulumi.Input<string>;
    kmsKeyId: pulumi.Input<string>;
    /** The stack's region (alicloud:region). */
    regionId: pulumi.Input<string>;
    /** How often to poll the cluster while it updates; default 10. */
    pollIntervalSeconds?: pulumi.Input<number>;
    /** How long to wait for the cluster to finish; default 30. */
    timeoutMinutes?: pulumi.Input<number>;
}

/** Type token: pulumi-nodejs:dynamic/ask:ClusterEncryption. Deleting it switches the cluster's Secret encryption off. */
export class ClusterEncryption extends pulumi.dynamic.Resource {
    public readonly clusterId!: pulumi.Output<string>;
    public readonly kmsKeyId!: pulumi.Output<string>;
    public readonly regionId!: pulumi.Output<string>;
    public readonly encryptionEnabled!: pulumi.Output<boolean>;
    public readonly clusterName!: pulumi.Output<string>;
    public readonly enabledAt!: pulumi.Output<string>;

    constructor(name: string, args: ClusterEncryptionArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            clusterEncryptionProvider,
            name,
            { ...args, encryptionEnabled: undefined, clusterName: undefined, enabledAt: undefined },
            opts,
            "ask",
            "ClusterEncryption",
        );
    }
}
