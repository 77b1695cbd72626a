// Dynamic resource that switches KMS Secret encryption on for an existing ASK/ACK
// Pro cluster, through Container Service's UpdateKMSEncryption.
//
// Lifecycle:
// - check (run by `pulumi preview` and `up`, never by refresh): preflight the
//   cluster (exists, Pro, running, in the stack's region) and the key
//   (Aliyun_AES_256, ENCRYPT/DECRYPT, Enabled, a User key) when something must
//   change: a new target, or a live cluster that drifted from it.
// - diff (preview, up, and refresh after read): reads the live setting so drift
//   shows up; the cloud's state never fails it (what cannot be read is a change).
// - create/update: UpdateKMSEncryption (409 "changed within 5 minutes" is retried
//   with capped backoff), then poll DescribeClusterDetail until the cluster is
//   running with the key in place, bounded by timeoutMinutes.
// - read (refresh): reports the cluster's actual setting.
// - delete: what the stored `onDelete` says (ENCRYPTION_ON_DELETE in ../config/settings.ts).
//   "keep" (the default, and what state from before the setting reads as) leaves
//   the cluster encrypting with the key and only says so: a destroy, a removed
//   component, or a rename or re-parent without an alias never turns encryption
//   off by accident. "switch-off" sends disable_encryption and waits until the
//   cluster is running with encryption disabled. The KMS key is untouched either way.
//
// Pulumi stores only a shim of this provider (./shim.ts); the host runs the
// compiled copy of this file (dist/components/providers/clusterEncryption.js).
// The Alibaba identity is the stack's own (configure hook, ../alibaba/identity.ts).

import * as pulumi from "@pulumi/pulumi";
import {
    AlibabaApiError,
    AlibabaContext,
    ClusterInfo,
    configureStackIdentity,
    describeCluster,
    describeKey,
    isUserKey,
    KeyInfo,
    updateKmsEncryption,
} from "../alibaba";
import { anyUnknown, CheckFailure, Deadline, deadlineAfter, defaultRuntime, isUnknown, pollUntil, PollVerdict, ProviderRuntime, UNKNOWN_INPUT } from "./kit";
import { hostShim, isShimText } from "./shim";
import {
    ENCRYPTION_ON_DELETE,
    ENCRYPTION_TIMING,
    EncryptionTiming,
    KEY_SPEC,
    KEY_USAGE,
    numberOrDefault,
    numberProblem,
    OnDeleteChoice,
    textProblem,
} from "../config";

export { UNKNOWN_INPUT };
/** Every Pro tier reports a cluster_spec of this form: ack.pro.small, ack.pro.xlarge, ack.pro.2xlarge, ack.pro.4xlarge (docs/platform-facts.md, "Container Service"). */
export const PRO_CLUSTER_SPEC = /^ack\.pro\./;

export interface ClusterEncryptionInputs extends Partial<EncryptionTiming> {
    clusterId: string;
    kmsKeyId: string;
    /** The stack's region (alicloud:region). */
    regionId: string;
    /** ENCRYPTION_ON_DELETE; absent in state written before the setting existed, which reads as "keep". */
    onDelete?: OnDeleteChoice;
}

export interface ClusterEncryptionOutputs extends ClusterEncryptionInputs {
    encryptionEnabled: boolean;
    clusterName: string;
    /** When this resource last made the cluster encrypt with kmsKeyId (ISO 8601). */
    enabledAt: string;
}

// ---- Input validation -----------------------------------------------------------------------

export type Problem = CheckFailure & { property: keyof ClusterEncryptionInputs };

export function validateInputs(news: Partial<ClusterEncryptionInputs>): Problem[] {
    const problems: Problem[] = [];
    for (const property of ["clusterId", "kmsKeyId", "regionId"] as const) {
        const value = news[property];
        if (isUnknown(value)) continue;
        if (typeof value !== "string" || value.trim() === "") {
            problems.push({ property, reason: `${property} is required and must be a non-empty string (got ${JSON.stringify(value)}).` });
        }
    }
    for (const property of Object.keys(ENCRYPTION_TIMING) as (keyof EncryptionTiming)[]) {
        const value = news[property];
        if (value === undefined || isUnknown(value)) continue;
        const problem = numberProblem(ENCRYPTION_TIMING[property], value);
        if (problem) problems.push({ property, reason: `${property}: ${problem}` });
    }
    if (news.onDelete !== undefined && !isUnknown(news.onDelete)) {
        const problem = textProblem(ENCRYPTION_ON_DELETE, news.onDelete);
        if (problem) problems.push({ property: "onDelete", reason: `onDelete: ${problem}` });
    }
    return problems;
}

function timingOf(inputs: Partial<ClusterEncryptionInputs>): EncryptionTiming {
    return {
        pollIntervalSeconds: numberOrDefault(ENCRYPTION_TIMING.pollIntervalSeconds, inputs.pollIntervalSeconds),
        timeoutMinutes: numberOrDefault(ENCRYPTION_TIMING.timeoutMinutes, inputs.timeoutMinutes),
        conflictBackoffSeconds: numberOrDefault(ENCRYPTION_TIMING.conflictBackoffSeconds, inputs.conflictBackoffSeconds),
    };
}

// ---- Preflight ------------------------------------------------------------------------------

export interface Preflight {
    cluster?: ClusterInfo;
    key?: KeyInfo;
    problems: Problem[];
}

function isNotFound(e: unknown): e is AlibabaApiError {
    return e instanceof AlibabaApiError && e.kind === "notFound";
}

function requestNote(e: AlibabaApiError): string {
    return `${e.code}${e.httpStatus ? `, HTTP ${e.httpStatus}` : ""}${e.requestId ? `, request ID ${e.requestId}` : ""}`;
}

// States a cluster does not leave by waiting (docs/platform-facts.md, "Container Service"): fail fast
// instead of waiting out the timeout, and say what to do about each.
const STUCK_STATES: Record<string, string> = {
    failed: "it failed to create or update: read its event log in the Container Service console, repair or recreate it",
    updating_failed: "its last update failed: read its event log in the Container Service console and retry or repair the update there",
    unavailable: "its control plane is unavailable: check the cluster's status and event log in the Container Service console, or open a ticket",
    inactive: "it is inactive (often an overdue payment): settle the account or reactivate the cluster in the Container Service console",
    stopped: "it is stopped: start it in the Container Service console",
    deleting: "it is being deleted: point clusterId at another cluster, or remove this stack",
    deleted: "it was deleted: point clusterId at another cluster, or remove this stack",
    delete_failed: "its deletion failed: finish or cancel the deletion in the Container Service console",
};

function notRunningReason(clusterId: string, state: string): string {
    const stuck = STUCK_STATES[state];
    if (stuck) return `Cluster "${clusterId}" is "${state}" and will not become running by waiting: ${stuck}. Then run again.`;
    return `Cluster "${clusterId}" is "${state}", not "running": wait until the cluster is running (check its event log in the Container Service console) and run again.`;
}

/**
 * Checks that the cluster and key can take part in Secret encryption.
 * Returns one problem per failed requirement; API failures that are not about
 * the inputs (credentials, permissions, network) are thrown as they are.
 */
export async function preflight(inputs: ClusterEncryptionInputs, runtime: ProviderRuntime): Promise<Preflight> {
    const ctx = runtime.alibaba(inputs.regionId);
    const problems: Problem[] = [];
    const { clusterId, kmsKeyId, regionId } = inputs;

    let cluster: ClusterInfo | undefined;
    try {
        cluster = await describeCluster(ctx, clusterId);
    } catch (e) {
        if (!isNotFound(e)) throw e;
        problems.push({
            property: "clusterId",
            reason: `Cluster "${clusterId}" was not found in region ${regionId} (${requestNote(e)}). Check the clusterId in the stack config and that alicloud:region is the cluster's region.`,
        });
    }
    if (cluster) {
        if (!PRO_CLUSTER_SPEC.test(cluster.clusterSpec)) {
            problems.push({
                property: "clusterId",
                reason: `Cluster "${clusterId}" has cluster spec "${cluster.clusterSpec || "(none)"}", not a Pro spec (ack.pro.*): Secret encryption with a KMS key needs an ACK/ASK Pro cluster. Migrate the cluster to Pro (Container Service console > the cluster > Basic Information) or point clusterId at a Pro cluster.`,
            });
        }
        if (cluster.state !== "running") problems.push({ property: "clusterId", reason: notRunningReason(clusterId, cluster.state) });
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
        if (!isNotFound(e)) throw e;
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
        if (key.keySpec !== KEY_SPEC) {
            problems.push({
                property: "kmsKeyId",
                reason: `KMS key "${kmsKeyId}" has key spec "${key.keySpec}"; Secret encryption needs a symmetric "${KEY_SPEC}" key. Create one (keySpec ${KEY_SPEC}, keyUsage ${KEY_USAGE}) and use its ID.`,
            });
        }
        if (key.keyUsage !== KEY_USAGE) {
            problems.push({
                property: "kmsKeyId",
                reason: `KMS key "${kmsKeyId}" has key usage "${key.keyUsage}"; Secret encryption needs "${KEY_USAGE}". Use a key created for encryption.`,
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

// ---- check / diff ---------------------------------------------------------------------------

export async function checkInputs(
    olds: Partial<ClusterEncryptionInputs>,
    news: Partial<ClusterEncryptionInputs>,
    runtime: ProviderRuntime,
): Promise<pulumi.dynamic.CheckResult<ClusterEncryptionInputs>> {
    const inputProblems = validateInputs(news);
    if (inputProblems.length > 0) return { inputs: news as ClusterEncryptionInputs, failures: inputProblems };
    // During preview some inputs may not be known yet (e.g. a key created in the same run); the real check happens in `up`.
    if (anyUnknown(news)) return { inputs: news as ClusterEncryptionInputs };
    // Unchanged target: the preflight runs only when the live cluster drifted (something must change), so an
    // unrelated `pulumi up` does not fail while the cluster is, say, upgrading. Check, not diff, is where this
    // may fail: refresh calls diff (never check), and must work whatever state the cluster is in.
    if (olds.clusterId === news.clusterId && olds.kmsKeyId === news.kmsKeyId && olds.regionId === news.regionId) {
        const target = news as ClusterEncryptionInputs;
        const live = await describeCluster(runtime.alibaba(target.regionId), target.clusterId).catch(() => undefined);
        if (live === undefined || encryptedWith(live, target.kmsKeyId)) return { inputs: target };
    }
    const { problems } = await preflight(news as ClusterEncryptionInputs, runtime);
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
    olds: ClusterEncryptionOutputs & { __provider?: string },
    news: ClusterEncryptionInputs,
    runtime: ProviderRuntime,
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
    for (const property of Object.keys(ENCRYPTION_TIMING) as (keyof EncryptionTiming)[]) {
        if (news[property] !== olds[property]) reasons.push(`${property} changes`);
    }
    if (isUnknown(news.onDelete) || onDeleteOf(news) !== onDeleteOf(olds)) {
        reasons.push(`onDelete changes from ${onDeleteOf(olds)} to ${isUnknown(news.onDelete) ? "(known after apply)" : onDeleteOf(news)}`);
    }
    // State written before the shim carries fully serialized code that refresh and delete would run:
    // one update stores the shim, and from then on fixes reach this resource with `npm ci`.
    if (olds.__provider !== undefined && !isShimText(olds.__provider)) reasons.push("the stored provider code predates the shim; storing the shim");
    if (anyUnknown(news)) return { changes: true, replaces, reasons };

    // Drift: compare the live cluster with what the program asks for. The cloud's state never fails a diff (refresh
    // runs diff after read, and must work while the cluster is updating or gone): what cannot be learned is reported
    // as a change, and the update, after check's preflight, is where a cluster that cannot take it is refused.
    if (replaces.length === 0) {
        const live = await describeCluster(runtime.alibaba(news.regionId), news.clusterId).catch((e: unknown) => e as Error);
        if (live instanceof Error) {
            reasons.push(
                isNotFound(live)
                    ? `cluster "${news.clusterId}" no longer exists (${requestNote(live)})`
                    : `the cluster's setting could not be read (${live.message}); the next up checks again`,
            );
        } else if (!encryptedWith(live, news.kmsKeyId)) {
            reasons.push(`cluster "${news.clusterId}" drifted: it has ${describeSetting(live)}, the program wants encryption with key ${news.kmsKeyId}`);
        }
    }
    return reasons.length === 0 ? { changes: false, replaces: [], reasons } : { changes: true, replaces, reasons };
}

// ---- Apply and wait -------------------------------------------------------------------------

function isRetryable(e: unknown): e is AlibabaApiError {
    return e instanceof AlibabaApiError && (e.kind === "conflict" || e.kind === "throttled" || e.kind === "transient");
}

/** Calls UpdateKMSEncryption, retrying 409/throttling/transient answers with capped exponential backoff until the deadline. */
export async function updateWithRetry(
    ctx: AlibabaContext,
    clusterId: string,
    change: { kmsKeyId?: string; disableEncryption: boolean },
    timing: EncryptionTiming,
    deadline: Deadline,
    runtime: ProviderRuntime,
): Promise<void> {
    const firstBackoffMs = timing.conflictBackoffSeconds * 1000;
    // The deadline ends the loop; the attempt cap only guards against a clock that stands still.
    for (let attempt = 1; attempt <= 1000; attempt++) {
        try {
            await updateKmsEncryption(ctx, clusterId, change);
            return;
        } catch (e) {
            if (!isRetryable(e)) throw e;
            const backoff = Math.min(firstBackoffMs * 2 ** (attempt - 1), firstBackoffMs * 4);
            if (runtime.now() + backoff > deadline.at) {
                throw new Error(
                    `UpdateKMSEncryption for cluster "${clusterId}" kept failing for ${deadline.describe} (${attempt} attempts); last answer: ${e.message} ` +
                        "If the cluster is busy with another change, wait for it and run `pulumi up` again, or raise encryption.timeoutMinutes.",
                );
            }
            runtime.log(
                `UpdateKMSEncryption for cluster ${clusterId} answered ${e.code}${e.httpStatus ? ` (HTTP ${e.httpStatus})` : ""}; retrying in ${Math.round(backoff / 1000)}s (attempt ${attempt})`,
            );
            await runtime.sleep(backoff);
        }
    }
    throw new Error(`UpdateKMSEncryption for cluster "${clusterId}": too many attempts; run \`pulumi up\` again.`);
}

/** Polls DescribeClusterDetail until `done` holds for a running cluster, or fails on a stuck state or the deadline. */
export async function waitForCluster(
    ctx: AlibabaContext,
    clusterId: string,
    goal: string,
    done: (c: ClusterInfo) => boolean,
    deadline: Deadline,
    runtime: ProviderRuntime,
): Promise<ClusterInfo> {
    const started = runtime.now();
    let lastReported = "";
    let lastReportAt = 0;
    const elapsed = () => `${Math.round((runtime.now() - started) / 1000)}s`;
    return pollUntil<ClusterInfo>(
        runtime,
        deadline,
        async (): Promise<PollVerdict<ClusterInfo>> => {
            let seen: ClusterInfo;
            try {
                seen = await describeCluster(ctx, clusterId);
            } catch (e) {
                if (!isRetryable(e)) throw e;
                runtime.log(`DescribeClusterDetail for cluster ${clusterId} answered ${e.code}; polling again`);
                return { waiting: "no successful read" };
            }
            const observed = `state=${seen.state}, ${describeSetting(seen)}`;
            if (seen.state === "running" && done(seen)) {
                runtime.log(`cluster ${clusterId} is running with ${describeSetting(seen)} after ${elapsed()}`);
                return { done: seen };
            }
            if (STUCK_STATES[seen.state] !== undefined) {
                return {
                    failed: `Cluster "${clusterId}" went to state "${seen.state}" while waiting for ${goal}: ${STUCK_STATES[seen.state]}. Then run \`pulumi up\` again.`,
                };
            }
            if (observed !== lastReported || runtime.now() - lastReportAt >= 60_000) {
                runtime.log(`cluster ${clusterId}: ${observed}; waiting for ${goal} (${elapsed()} elapsed)`);
                lastReported = observed;
                lastReportAt = runtime.now();
            }
            return { waiting: observed };
        },
        (seen) =>
            new Error(
                `Timed out after ${deadline.describe} waiting for cluster "${clusterId}" to reach ${goal} (last seen: ${seen ?? "nothing"}). ` +
                    "The change may still complete: check the cluster's event log in the Container Service console, then run `pulumi refresh` and `pulumi up`. " +
                    "If your clusters need longer, raise encryption.timeoutMinutes.",
            ),
    );
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
    for (const property of Object.keys(ENCRYPTION_TIMING) as (keyof EncryptionTiming)[]) {
        if (inputs[property] !== undefined) outs[property] = inputs[property];
    }
    if (inputs.onDelete !== undefined) outs.onDelete = inputs.onDelete;
    return outs;
}

/** create and update: make the cluster encrypt Secrets with inputs.kmsKeyId and wait for it. */
export async function applyEncryption(
    inputs: ClusterEncryptionInputs,
    runtime: ProviderRuntime,
    previous?: ClusterEncryptionOutputs,
): Promise<ClusterEncryptionOutputs> {
    const ctx = runtime.alibaba(inputs.regionId);
    const timing = timingOf(inputs);
    const deadline = deadlineAfter(runtime, timing.pollIntervalSeconds, timing.timeoutMinutes);
    const current = await describeCluster(ctx, inputs.clusterId);
    // Sending a change to a cluster that cannot apply it would only start a wait that cannot end.
    if (STUCK_STATES[current.state] !== undefined) throw new Error(notRunningReason(inputs.clusterId, current.state));
    if (current.state === "running" && encryptedWith(current, inputs.kmsKeyId)) {
        runtime.log(`cluster ${inputs.clusterId} already encrypts Secrets with key ${inputs.kmsKeyId}; nothing to change`);
        const keptAt =
            previous && previous.kmsKeyId === inputs.kmsKeyId && previous.encryptionEnabled ? previous.enabledAt : new Date(runtime.now()).toISOString();
        return outputsFrom(inputs, current, keptAt);
    }
    if (encryptedWith(current, inputs.kmsKeyId)) {
        // Already set (e.g. a previous run timed out while the cluster was still updating): only wait.
        runtime.log(`cluster ${inputs.clusterId} is ${current.state} with key ${inputs.kmsKeyId} already set; waiting for it to run`);
    } else {
        runtime.log(`cluster ${inputs.clusterId}: switching from ${describeSetting(current)} to encryption with key ${inputs.kmsKeyId}`);
        await updateWithRetry(ctx, inputs.clusterId, { kmsKeyId: inputs.kmsKeyId, disableEncryption: false }, timing, deadline, runtime);
    }
    const done = await waitForCluster(
        ctx,
        inputs.clusterId,
        `encryption with key ${inputs.kmsKeyId}`,
        (c) => encryptedWith(c, inputs.kmsKeyId),
        deadline,
        runtime,
    );
    return outputsFrom(inputs, done, new Date(runtime.now()).toISOString());
}

/** read (refresh): the cluster's actual setting; an empty result means the cluster is gone. */
export async function readEncryption(
    id: string,
    props: ClusterEncryptionOutputs,
    runtime: ProviderRuntime,
): Promise<pulumi.dynamic.ReadResult<ClusterEncryptionOutputs>> {
    let live: ClusterInfo;
    try {
        live = await describeCluster(runtime.alibaba(props.regionId), id);
    } catch (e) {
        if (isNotFound(e)) return {};
        throw e;
    }
    return {
        id,
        props: {
            ...props,
            clusterId: id,
            kmsKeyId: live.encryptionDisabled ? "" : (live.encryptionKeyId ?? ""),
            encryptionEnabled: !live.encryptionDisabled,
            clusterName: live.name,
        },
    };
}

/** The recorded choice; state from before the setting existed (or an unknown preview value) reads as the default. */
function onDeleteOf(props: Partial<ClusterEncryptionInputs>): OnDeleteChoice {
    return props.onDelete === "switch-off" ? "switch-off" : "keep";
}

/**
 * delete: with onDelete "switch-off", switch encryption off and wait until the cluster is running with encryption
 * disabled; otherwise (the default) leave the cluster as it is and say so.
 */
export async function removeEncryption(id: string, props: ClusterEncryptionOutputs, runtime: ProviderRuntime): Promise<void> {
    if (onDeleteOf(props) === "keep") {
        runtime.log(
            `cluster ${id}: Secret encryption stays on with key ${props.kmsKeyId} (onDelete: keep); this stack no longer manages it. ` +
                `Keep the key enabled while the cluster uses it. To switch encryption off when this resource is deleted, set ` +
                `encryption.onDelete: switch-off and run \`pulumi up\` before the delete.`,
        );
        return;
    }
    const ctx = runtime.alibaba(props.regionId);
    const timing = timingOf(props);
    const deadline = deadlineAfter(runtime, timing.pollIntervalSeconds, timing.timeoutMinutes);
    let current: ClusterInfo;
    try {
        current = await describeCluster(ctx, id);
    } catch (e) {
        if (isNotFound(e)) {
            runtime.log(`cluster ${id} no longer exists; nothing to switch off`);
            return;
        }
        throw e;
    }
    if (current.state === "running" && current.encryptionDisabled) {
        runtime.log(`cluster ${id} already has encryption off; nothing to change`);
        return;
    }
    if (current.state === "deleting" || current.state === "deleted") {
        runtime.log(`cluster ${id} is ${current.state}; nothing to switch off`);
        return;
    }
    runtime.log(`cluster ${id}: switching Secret encryption off (was ${describeSetting(current)})`);
    await updateWithRetry(ctx, id, { disableEncryption: true }, timing, deadline, runtime);
    await waitForCluster(ctx, id, "encryption off", (c) => c.encryptionDisabled, deadline, runtime);
    // Switching off does not unseal what is stored: keep the key until every Secret has been written again.
    runtime.log(
        `cluster ${id}: encryption is off, but Secrets written while it was on are still sealed by key ${props.kmsKeyId}. ` +
            `Keep that key enabled until they are rewritten (reencrypt-secrets --annotation-value <new value>); only then retire it.`,
    );
}

// ---- The provider and the resource ------------------------------------------------------------

/** The implementation the host runs (loaded from dist/ by the shim below). */
export const clusterEncryptionProvider: pulumi.dynamic.ResourceProvider<ClusterEncryptionInputs, ClusterEncryptionOutputs> = {
    configure: async (req) => configureStackIdentity(req.config),
    check: (olds, news) => checkInputs(olds, news, defaultRuntime("ClusterEncryption")),
    diff: (id, olds, news) => diffEncryption(id, olds, news, defaultRuntime("ClusterEncryption")),
    create: async (inputs) => {
        const outs = await applyEncryption(inputs, defaultRuntime("ClusterEncryption"));
        return { id: inputs.clusterId, outs };
    },
    read: (id, props) => readEncryption(id, props as ClusterEncryptionOutputs, defaultRuntime("ClusterEncryption")),
    update: async (_id, olds, news) => ({ outs: await applyEncryption(news, defaultRuntime("ClusterEncryption"), olds) }),
    delete: (id, props) => removeEncryption(id, props, defaultRuntime("ClusterEncryption")),
};

/** What Pulumi stores in state and the host rebuilds: one module-level object (serialization is cached per object). */
const clusterEncryptionShim = hostShim("dist/components/providers/clusterEncryption.js", "clusterEncryptionProvider", "ClusterEncryption");

export interface ClusterEncryptionArgs {
    clusterId: pulumi.Input<string>;
    kmsKeyId: pulumi.Input<string>;
    /** The stack's region (alicloud:region). */
    regionId: pulumi.Input<string>;
    /** See ENCRYPTION_TIMING.pollIntervalSeconds in ../config/settings.ts. */
    pollIntervalSeconds?: pulumi.Input<number>;
    /** See ENCRYPTION_TIMING.timeoutMinutes in ../config/settings.ts. */
    timeoutMinutes?: pulumi.Input<number>;
    /** See ENCRYPTION_TIMING.conflictBackoffSeconds in ../config/settings.ts. */
    conflictBackoffSeconds?: pulumi.Input<number>;
    /** See ENCRYPTION_ON_DELETE in ../config/settings.ts. */
    onDelete?: pulumi.Input<OnDeleteChoice>;
}

/** Type token: pulumi-nodejs:dynamic/ask:ClusterEncryption. Deleting it switches the cluster's Secret encryption off only with onDelete "switch-off". */
export class ClusterEncryption extends pulumi.dynamic.Resource {
    public readonly clusterId!: pulumi.Output<string>;
    public readonly kmsKeyId!: pulumi.Output<string>;
    public readonly regionId!: pulumi.Output<string>;
    public readonly encryptionEnabled!: pulumi.Output<boolean>;
    public readonly clusterName!: pulumi.Output<string>;
    public readonly enabledAt!: pulumi.Output<string>;
    /** What deleting this resource does, as the last `up` recorded it (shown on a delete in `pulumi preview --diff`). */
    public readonly onDelete!: pulumi.Output<OnDeleteChoice>;

    constructor(name: string, args: ClusterEncryptionArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            clusterEncryptionShim,
            name,
            { ...args, encryptionEnabled: undefined, clusterName: undefined, enabledAt: undefined },
            opts,
            "ask",
            "ClusterEncryption",
        );
    }
}
