/** The engine's small contract with the outside world: list a page of Secret metadata, patch one annotation. */
import type { ClusterIdentity, CheckpointFileSystem, ReencryptCounts } from "./checkpoint";

export interface SecretRef {
    namespace: string;
    name: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
}

export interface SecretPage {
    items: SecretRef[];
    /** Token for the next page; absent on the last page. */
    continueToken?: string;
    /** The list snapshot's resourceVersion. */
    resourceVersion?: string;
    /** Items after this page, when the server says (metadata.remainingItemCount): the total estimate for progress. */
    remainingItemCount?: number;
}

/** Where a client writes: printed before the first write and recorded in the checkpoint. */
export interface ClusterTarget extends ClusterIdentity {
    /** The kubeconfig context, when the client came from one. */
    context?: string;
    /** The kubeconfig user (the identity that writes), when known. */
    user?: string;
}

export interface ListRequest {
    limit: number;
    continueToken?: string;
    /** The one annotation the run reads: a client may drop every other annotation value from what it returns. */
    annotationKey?: string;
    /** Cancels the request (interrupt, stop). */
    signal?: AbortSignal;
}

export interface SecretsClient {
    /** The cluster this client talks to; a checkpoint is only resumed against the same one. */
    readonly target?: ClusterTarget;
    /** List Secrets in all namespaces, metadata only. Errors carry the HTTP status (see classifyError). */
    listPage(req: ListRequest): Promise<SecretPage>;
    /**
     * Merge-patch one annotation with the listed resourceVersion as a
     * precondition: 404 when deleted, 409 when changed since listed.
     */
    patchAnnotation(ref: SecretRef, key: string, value: string, signal?: AbortSignal): Promise<void>;
    /**
     * Get a fresh credential (re-run the exec plugin, issue a new TokenRequest) after a 401.
     * Without it a 401 stops the run.
     */
    renewCredentials?(): Promise<void>;
}

export interface ReencryptProgress {
    phase: "rewrite" | "verify";
    /** Secrets handled in this phase so far. */
    done: number;
    /** Estimated Secrets in this phase (listed so far + the server's remainingItemCount), when known. */
    totalEstimate?: number;
    rewritten: number;
    /** Secrets handled per second in this phase. */
    ratePerSecond: number;
    etaSeconds?: number;
    elapsedMs: number;
}

export interface ReencryptOptions {
    /** Annotation whose new value forces the write. Default: DEFAULT_ANNOTATION_KEY in ../config/settings.ts (the guide's). */
    annotationKey?: string;
    /** Required: the rotation marker, e.g. "20220101-010101". A value not seen before is what makes the write real. */
    annotationValue: string;
    /** Writes in flight at once. Default: REENCRYPT_TUNING.concurrency in ../config/settings.ts. */
    concurrency?: number;
    /** Global cap on writes per second (each is one KMS Encrypt call); 0 = no cap. Default: REENCRYPT_TUNING.qps. */
    qps?: number;
    /** Secrets per list page. Default: REENCRYPT_TUNING.pageSize. */
    pageSize?: number;
    /** Checkpoint file for resuming a killed run. */
    statePath?: string;
    /** List and count only; write nothing (not even the state file). */
    dryRun?: boolean;
    /** Attempts per request for retryable failures. Default: REENCRYPT_LIMITS in ../config/settings.ts, as for each limit below. */
    maxAttempts?: number;
    /** Verification rounds (each re-lists and retries leftovers). */
    verifyRounds?: number;
    /** Backoff base and cap for retries. */
    retryBaseDelayMs?: number;
    retryMaxDelayMs?: number;
    /** Longest Retry-After honoured, in seconds. */
    maxRetryAfterSeconds?: number;
    /** Expired continue tokens (410) survived per run, each after a back-off, before giving up. */
    maxListRestarts?: number;
    /** Transient failures (5xx, timeouts, resets, throttling) in a row, over all requests, before the run stops. Default: REENCRYPT_TUNING.errorBudget. */
    errorBudget?: number;
    /** Longest time without one successful request before the run stops, in ms. Default: REENCRYPT_TUNING.stallTimeoutSeconds. */
    stallTimeoutMs?: number;
    /** The smallest page an oversized page is halved down to. */
    minPageSize?: number;
    /** File access for the checkpoint (tests inject failures). Default: node's fs. */
    checkpointFileSystem?: CheckpointFileSystem;
    /** The key that signs checkpoints (created on first use). Default: defaultCheckpointKeyFile() in ./checkpoint.ts. */
    checkpointKeyFile?: string;
    /** Names kept in the failed/remaining lists (the rest are only counted). */
    maxNamesReported?: number;
    /** Minimum time between progress reports. */
    progressIntervalMs?: number;
    onProgress?(progress: ReencryptProgress): void;
    log?(line: string): void;
    signal?: AbortSignal;
    /** Injectables for tests. */
    now?(): number;
    /** Resolves after `ms`, or at once when `signal` aborts (and then clears its timer). */
    sleep?(ms: number, signal?: AbortSignal): Promise<void>;
    random?(): number;
}

export interface SecretFailure {
    namespace: string;
    name: string;
    reason: string;
}

export interface RemainingSecret {
    namespace: string;
    name: string;
    reason?: string;
}

/**
 * How a run ended, for every caller alike: every Secret confirmed; some remain (named in `remaining`);
 * stopped by the abort signal (continue with the same checkpoint); stopped by a problem the run
 * cannot go past (`stopReason`: rejected credentials, the error budget, a checkpoint that cannot be
 * saved; the last checkpoint stands); or a dry run (nothing written).
 */
export type ReencryptOutcome = "verified" | "secretsRemain" | "interrupted" | "stopped" | "dryRun";

/** The counts (ReencryptCounts, in ./checkpoint.ts) are this run's own. */
export interface ReencryptSummary extends ReencryptCounts {
    outcome: ReencryptOutcome;
    /** Things the caller should tell a person, in caller-neutral words (no flags, no config keys). */
    warnings: string[];
    annotationKey: string;
    annotationValue: string;
    dryRun: boolean;
    /** True when this run continued a checkpoint. Counts are this run's own; `earlierRuns` has what the checkpoint recorded before. */
    resumed: boolean;
    earlierRuns?: ReencryptCounts;
    /** Why the run stopped early (outcome "stopped"). */
    stopReason?: string;
    /** The smallest page size the run used (halved from pageSize when pages were too large). */
    pageSize: number;
    /** True when the run ended before finishing (interrupted or stopped); resume with the same state file. */
    aborted: boolean;
    /** Per-Secret failures during the run (the first maxNamesReported; failedCount has them all). */
    failed: SecretFailure[];
    remainingCount: number;
    /** Secrets verification could not confirm (the first maxNamesReported; remainingCount has them all). */
    remaining: RemainingSecret[];
    verified: boolean;
    verification: {
        rounds: number;
        confirmedByAnnotation: number;
        confirmedByLaterWrite: number;
        leftoversRewritten: number;
    };
    /** Successful rewrites: each cost one KMS Encrypt call. */
    kmsEncryptCalls: number;
    throttled: number;
    retries: number;
    /** Secrets found needing a write (in a dry run: what a real run would rewrite). */
    wouldRewrite: number;
    estimatedKmsEncryptCalls: number;
    /** wouldRewrite / qps; null when there is no rate cap. */
    estimatedSecondsAtRateCap: number | null;
    concurrency: number;
    qps: number;
    startedAt: string;
    finishedAt: string;
    durationMs: number;
}
