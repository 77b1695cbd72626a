/** The engine's small contract with the outside world: list a page of Secret metadata, patch one annotation. */

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

export interface SecretsClient {
    /** List Secrets in all namespaces, metadata only. Errors carry the HTTP status (see classifyError). */
    listPage(req: { limit: number; continueToken?: string }): Promise<SecretPage>;
    /**
     * Merge-patch one annotation with the listed resourceVersion as a
     * precondition: 404 when deleted, 409 when changed since listed.
     */
    patchAnnotation(ref: SecretRef, key: string, value: string): Promise<void>;
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
    /** Annotation whose new value forces the write. Default: DEFAULT_ANNOTATION_KEY in ../settings.ts (the guide's). */
    annotationKey?: string;
    /** Required: the rotation marker, e.g. "20220101-010101". A value not seen before is what makes the write real. */
    annotationValue: string;
    /** Writes in flight at once. Default 8. */
    concurrency?: number;
    /** Global cap on writes per second (each is one KMS Encrypt call). Default 100; 0 = no cap. */
    qps?: number;
    /** Secrets per list page. Default 500. */
    pageSize?: number;
    /** Checkpoint file for resuming a killed run. */
    statePath?: string;
    /** List and count only; write nothing (not even the state file). */
    dryRun?: boolean;
    /** Attempts per request for retryable failures. Default 10. */
    maxAttempts?: number;
    /** Verification rounds (each re-lists and retries leftovers). Default 3. */
    verifyRounds?: number;
    /** Backoff base and cap for retries. Defaults 200 ms and 30 s. */
    retryBaseDelayMs?: number;
    retryMaxDelayMs?: number;
    /** Longest Retry-After honoured, in seconds. Default 120. */
    maxRetryAfterSeconds?: number;
    /** Restarts of the list after an expired continue token without remainder before giving up. Default 20. */
    maxListRestarts?: number;
    /** Names kept in the failed/remaining lists (the rest are only counted). Default 1000. */
    maxNamesReported?: number;
    /** Minimum time between progress reports. Default 2000 ms. */
    progressIntervalMs?: number;
    onProgress?(progress: ReencryptProgress): void;
    log?(line: string): void;
    signal?: AbortSignal;
    /** Injectables for tests. */
    now?(): number;
    sleep?(ms: number): Promise<void>;
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
 * stopped by the abort signal (continue with the same checkpoint); or a dry run (nothing written).
 */
export type ReencryptOutcome = "verified" | "secretsRemain" | "interrupted" | "dryRun";

export interface ReencryptSummary {
    outcome: ReencryptOutcome;
    /** Things the caller should tell a person, in caller-neutral words (no flags, no config keys). */
    warnings: string[];
    annotationKey: string;
    annotationValue: string;
    dryRun: boolean;
    /** True when this run continued a checkpoint; counts then include the earlier run(s). */
    resumed: boolean;
    /** True when stopped by the abort signal before finishing; resume with the same state file. */
    aborted: boolean;
    listed: number;
    rewritten: number;
    alreadyCurrent: number;
    gone: number;
    conflicts: number;
    failedCount: number;
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
    /** PATCH requests sent, retries included. */
    writes: number;
    /** Successful rewrites: each cost one KMS Encrypt call. */
    kmsEncryptCalls: number;
    throttled: number;
    retries: number;
    listRestarts: number;
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
