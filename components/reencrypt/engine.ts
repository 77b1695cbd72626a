/**
 * Rewrite every Secret so kube-apiserver seals it again with the current KMS
 * key version. A write only happens when the stored object changes, so each
 * Secret gets an annotation with a value it has not carried before.
 *
 * Shape (after kube-storage-version-migrator): list a page of metadata, write
 * the page with bounded concurrency, checkpoint, next page; then verify. Every
 * failure is classified once, by classifyError.
 *
 * Verification and "written after the run began": a Secret counts as done if
 * it carries the value, or if its resourceVersion is greater than the list
 * snapshot's resourceVersion when the run began. kube-apiserver's
 * resourceVersions are etcd revisions (decimal integers, increasing with every
 * write), so a larger one means the object was written after the run began,
 * after the key rotation, with the current key. The API conventions call
 * resourceVersion opaque, so the comparison is only made when both are plain
 * decimal integers; otherwise the Secret is simply written again. Creation
 * timestamps are not used: they come from the server's clock and are
 * second-granular, so they cannot be compared safely with our start time.
 *
 * Size: about 500 lines, on purpose: the whole migration loop (list, write, retry, checkpoint, verify) and its bookkeeping in one file a reader follows top to bottom; classification lives in errors.ts, checkpoints in state.ts.
 */
import { classifyError, describeError, httpStatusOf, PermissionDeniedError, remainderContinueTokenOf, retryAfterSecondsOf } from "./errors";
import { WriteRateLimiter } from "./rateLimiter";
import { DEFAULT_ANNOTATION_KEY, MIN_PAGE_SIZE, REENCRYPT_TUNING } from "../settings";
import { addCounts, Checkpoint, CheckpointError, ClusterIdentity, emptyCounts, ReencryptCounts, ReencryptState } from "./state";
import {
    ReencryptOptions,
    ReencryptOutcome,
    ReencryptProgress,
    ReencryptSummary,
    RemainingSecret,
    SecretFailure,
    SecretPage,
    SecretRef,
    SecretsClient,
} from "./types";
import { annotationKeyProblem, annotationValueProblem } from "./validation";

type ResolvedOptions = Required<Omit<ReencryptOptions, "statePath" | "onProgress" | "signal" | "checkpointFileSystem">> &
    Pick<ReencryptOptions, "statePath" | "onProgress" | "signal" | "checkpointFileSystem">;

type WriteOutcome = "rewritten" | "gone" | "conflict" | "interrupted" | { failed: string };

/** The longest a timer can wait (2^31-1 ms); longer waits would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export async function reencryptSecrets(client: SecretsClient, options: ReencryptOptions): Promise<ReencryptSummary> {
    return new ReencryptRun(client, resolveOptions(options)).execute();
}

/** Sleeps `ms` (capped to what a timer holds); an abort resolves it at once and clears the timer, so nothing keeps the process alive. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
        const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        };
        const timer = setTimeout(done, Math.min(Math.max(0, ms), MAX_TIMER_MS));
        signal?.addEventListener("abort", done, { once: true });
    });
}

export function resolveOptions(options: ReencryptOptions): ResolvedOptions {
    const resolved: ResolvedOptions = {
        annotationKey: DEFAULT_ANNOTATION_KEY,
        concurrency: REENCRYPT_TUNING.concurrency.default,
        qps: REENCRYPT_TUNING.qps.default,
        pageSize: REENCRYPT_TUNING.pageSize.default,
        dryRun: false,
        maxAttempts: 10,
        verifyRounds: 3,
        retryBaseDelayMs: 200,
        retryMaxDelayMs: 30_000,
        maxRetryAfterSeconds: 120,
        maxListRestarts: 20,
        errorBudget: REENCRYPT_TUNING.errorBudget.default,
        stallTimeoutMs: REENCRYPT_TUNING.stallTimeoutSeconds.default * 1000,
        minPageSize: MIN_PAGE_SIZE,
        maxNamesReported: 1000,
        progressIntervalMs: 2000,
        log: () => undefined,
        now: () => Date.now(),
        sleep: abortableSleep,
        random: Math.random,
        ...withoutUndefined(options),
    } as ResolvedOptions;
    const problems = [
        annotationKeyProblem(resolved.annotationKey),
        typeof resolved.annotationValue === "string" ? annotationValueProblem(resolved.annotationValue) : "annotationValue is required",
        positiveInteger("concurrency", resolved.concurrency),
        positiveInteger("pageSize", resolved.pageSize),
        positiveInteger("maxAttempts", resolved.maxAttempts),
        positiveInteger("verifyRounds", resolved.verifyRounds),
        positiveInteger("errorBudget", resolved.errorBudget),
        positiveInteger("minPageSize", resolved.minPageSize),
        Number.isFinite(resolved.stallTimeoutMs) && resolved.stallTimeoutMs > 0 ? undefined : `stallTimeoutMs must be > 0, got ${resolved.stallTimeoutMs}`,
        Number.isFinite(resolved.qps) && resolved.qps >= 0 ? undefined : `qps must be a number >= 0 (0 = no cap), got ${resolved.qps}`,
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new Error(`invalid re-encryption options: ${problems.join("; ")}`);
    return resolved;
}

/** Ends the run early; what has been saved stands. Thrown inside, turned into outcome "stopped". */
class RunStopped extends Error {}

class ReencryptRun {
    private readonly limiter: WriteRateLimiter;
    private counts: ReencryptCounts = emptyCounts();
    private earlier?: ReencryptCounts;
    private readonly failed: BoundedList<SecretFailure>;
    private remaining: BoundedList<RemainingSecret>;
    private readonly verification = { rounds: 0, confirmedByAnnotation: 0, confirmedByLaterWrite: 0, leftoversRewritten: 0 };
    private wouldRewrite = 0;
    private throttled = 0;
    private retries = 0;
    private verified = false;
    private resumed = false;
    private startedAt: string;
    private startResourceVersion?: string;
    private continueToken?: string;
    private rewritePassComplete = false;
    private progress: ProgressTracker;
    private pageSize: number;
    private readonly checkpointFile?: Checkpoint;
    private readonly cluster: ClusterIdentity;
    /** Set on resume until this run's first list: a refused token is then the file's fault, and its startResourceVersion is checked against this cluster. */
    private fromCheckpoint?: { token?: string; startResourceVersion?: string };
    // Stop: the caller's signal, or a problem the run cannot go past. Both cancel requests and timers.
    private readonly stopController = new AbortController();
    private stopReason?: string;
    // The error budget and the stall clock.
    private transientInARow = 0;
    private lastSuccessMs: number;
    // 401 handling: one renewal per episode; requests remember the credential generation they were sent with.
    private credentialGeneration = 0;
    private renewedWithoutSuccess = false;
    private renewing?: Promise<void>;

    constructor(
        private readonly client: SecretsClient,
        private readonly options: ResolvedOptions,
    ) {
        this.limiter = new WriteRateLimiter(options.qps, { now: options.now, sleep: (ms) => this.sleep(ms) });
        this.failed = new BoundedList(options.maxNamesReported);
        this.remaining = new BoundedList(options.maxNamesReported);
        this.startedAt = new Date(options.now()).toISOString();
        this.progress = new ProgressTracker("rewrite", options);
        this.pageSize = options.pageSize;
        this.lastSuccessMs = options.now();
        this.cluster = { server: client.target?.server ?? "(unknown server)", caFingerprint: client.target?.caFingerprint };
        if (options.statePath) this.checkpointFile = new Checkpoint(options.statePath, options.checkpointFileSystem, options.now);
        const signal = options.signal;
        if (signal?.aborted) this.stopController.abort();
        signal?.addEventListener("abort", () => this.stopController.abort(), { once: true });
    }

    async execute(): Promise<ReencryptSummary> {
        const runBeganMs = this.options.now();
        const writing = this.checkpointFile !== undefined && !this.options.dryRun;
        if (writing) await this.checkpointFile!.lock();
        try {
            await this.resumeFromCheckpoint();
            // The first write of the run is the checkpoint: an unwritable or full state directory stops it before any Secret is touched.
            if (writing) await this.checkpoint();
            try {
                await this.rewritePass();
                if (!this.options.dryRun && !this.aborted) await this.verify();
            } catch (err) {
                // Before the first write attempt nothing happened: the caller gets the error itself.
                if (this.counts.writes === 0 && !(err instanceof RunStopped)) throw err;
                // A RunStopped without a reason is the caller's interrupt; anything else stops the run with its message.
                if (!(err instanceof RunStopped)) this.stopReason ??= (err as Error).message;
                this.stopController.abort();
            }
            if (writing) {
                if (this.verified) await this.checkpointFile!.remove();
                else if (!(this.stopReason && this.lastStopWasCheckpoint)) await this.checkpoint().catch((e: Error) => (this.stopReason ??= e.message));
            }
            return this.summary(runBeganMs);
        } finally {
            if (writing) await this.checkpointFile!.unlock();
        }
    }

    private lastStopWasCheckpoint = false;

    private async rewritePass(): Promise<void> {
        // A dry run counts everything that still lacks the value, from the start, whatever a checkpoint says.
        if (this.rewritePassComplete && !this.options.dryRun) return;
        const seenTokens = new Set<string>();
        let nextPage: Promise<SecretPage> | undefined = this.prefetch(this.options.dryRun ? undefined : this.continueToken);
        while (nextPage && !this.aborted) {
            const page: SecretPage = await nextPage;
            this.startResourceVersion ??= page.resourceVersion;
            this.checkRepeatedToken(seenTokens, page.continueToken);
            nextPage = page.continueToken ? this.prefetch(page.continueToken) : undefined;
            this.progress.pageListed(page);
            await forEachBounded(
                page.items,
                this.options.concurrency,
                () => this.aborted,
                (ref) => this.rewriteIfStale(ref),
            );
            if (this.aborted) break;
            this.continueToken = page.continueToken;
            this.rewritePassComplete = page.continueToken === undefined;
            await this.checkpoint();
        }
        this.progress.report(this.counts.rewritten, true);
    }

    private rewriteIfStale = async (ref: SecretRef): Promise<void> => {
        this.counts.listed++;
        if (ref.annotations?.[this.options.annotationKey] === this.options.annotationValue) {
            this.counts.alreadyCurrent++;
        } else {
            this.wouldRewrite++;
            const outcome = this.options.dryRun ? undefined : await this.writeWithRetry(ref);
            const failure = outcome === undefined || outcome === "interrupted" ? undefined : this.recordOutcome(outcome);
            if (failure !== undefined) {
                this.counts.failedCount++;
                this.failed.push({ namespace: ref.namespace, name: ref.name, reason: failure });
                if (this.counts.failedCount <= this.options.maxNamesReported)
                    this.options.log(`could not rewrite secret ${ref.namespace}/${ref.name}: ${failure}`);
            }
        }
        this.progress.itemDone(this.counts.rewritten);
    };

    /** Re-list until every Secret is confirmed, retrying leftovers; what is still left is reported by name. */
    private async verify(): Promise<void> {
        for (let round = 1; round <= this.options.verifyRounds && !this.aborted; round++) {
            this.verification.rounds = round;
            this.remaining = new BoundedList(this.options.maxNamesReported);
            this.progress = new ProgressTracker("verify", this.options);
            for await (const page of this.listAll()) {
                this.progress.pageListed(page);
                await forEachBounded(
                    page.items,
                    this.options.concurrency,
                    () => this.aborted,
                    (ref) => this.confirmOrRewrite(ref),
                );
            }
            this.progress.report(this.counts.rewritten, true);
            if (this.aborted) return;
            if (this.remaining.total === 0) {
                this.verified = true;
                return;
            }
            this.options.log(`verification round ${round}: ${this.remaining.total} Secret(s) not confirmed yet`);
            if (round < this.options.verifyRounds) await this.sleep(this.backoffMs(round));
        }
    }

    private async confirmOrRewrite(ref: SecretRef): Promise<void> {
        if (ref.annotations?.[this.options.annotationKey] === this.options.annotationValue) {
            this.verification.confirmedByAnnotation++;
        } else if (this.writtenAfterRunBegan(ref)) {
            this.verification.confirmedByLaterWrite++;
        } else {
            const outcome = await this.writeWithRetry(ref);
            if (outcome === "rewritten") this.verification.leftoversRewritten++;
            const failure = outcome === "interrupted" ? "interrupted" : this.recordOutcome(outcome);
            if (failure !== undefined) this.remaining.push({ namespace: ref.namespace, name: ref.name, reason: failure });
        }
        this.progress.itemDone(this.counts.rewritten);
    }

    /** Counts a write's outcome; returns the failure reason when it failed. */
    private recordOutcome(outcome: WriteOutcome): string | undefined {
        if (outcome === "rewritten") this.counts.rewritten++;
        else if (outcome === "gone") this.counts.gone++;
        else if (outcome === "conflict") this.counts.conflicts++;
        else if (outcome !== "interrupted") return outcome.failed;
        return undefined;
    }

    /**
     * Only from evidence this run gathered in this cluster: the start resourceVersion is this run's
     * first list (or a checkpoint of this cluster, checked against it when resumed; see resumeFromCheckpoint).
     */
    private writtenAfterRunBegan(ref: SecretRef): boolean {
        const start = this.startResourceVersion;
        if (start === undefined || !/^\d+$/.test(start) || !/^\d+$/.test(ref.resourceVersion)) return false;
        return BigInt(ref.resourceVersion) > BigInt(start);
    }

    private async writeWithRetry(ref: SecretRef): Promise<WriteOutcome> {
        for (let attempt = 1; ; attempt++) {
            await this.limiter.acquire();
            if (this.renewing) await this.renewing.catch(() => undefined);
            if (this.aborted) return "interrupted";
            const generation = this.credentialGeneration;
            this.counts.writes++;
            try {
                await this.client.patchAnnotation(ref, this.options.annotationKey, this.options.annotationValue, this.stopController.signal);
                this.succeeded();
                return "rewritten";
            } catch (err) {
                if (this.aborted) return "interrupted";
                const kind = classifyError(err);
                if (kind === "gone" || kind === "conflict") {
                    this.succeeded(); // the server answered, and the answer settles this Secret
                    return kind;
                }
                if (kind === "unauthorized" && httpStatusOf(err) === 401) {
                    await this.afterUnauthorized(err, generation, `patch secret ${ref.namespace}/${ref.name}`);
                    attempt--;
                    continue;
                }
                // A denial (403: RBAC, an admission webhook) or an invalid write (422) concerns this Secret only.
                if (kind === "unauthorized") return { failed: `denied (HTTP ${httpStatusOf(err)}): ${describeError(err)}` };
                if (kind !== "retryable") return { failed: describeError(err) };
                this.countTransient(err);
                if (attempt >= this.options.maxAttempts) return { failed: `gave up after ${attempt} attempts: ${describeError(err)}` };
                await this.waitBeforeRetry(err, attempt);
                if (this.aborted) return "interrupted";
            }
        }
    }

    /** A successful answer: the error budget and the stall clock start again. */
    private succeeded(): void {
        this.transientInARow = 0;
        this.renewedWithoutSuccess = false;
        this.lastSuccessMs = this.options.now();
    }

    /** The error budget: too many transient failures in a row, or too long without any success, stop the run. */
    private countTransient(err: unknown): void {
        this.transientInARow++;
        const stalledMs = this.options.now() - this.lastSuccessMs;
        if (this.transientInARow >= this.options.errorBudget) {
            this.halt(`${this.transientInARow} requests in a row failed with transient errors (the error budget); the last: ${describeError(err)}`);
        }
        if (stalledMs >= this.options.stallTimeoutMs) {
            this.halt(`no request succeeded for ${Math.round(stalledMs / 1000)} s (the stall timeout); the last failure: ${describeError(err)}`);
        }
    }

    /** 401: get a fresh credential once and retry; a 401 again before any success stops the run. */
    private async afterUnauthorized(err: unknown, sentWithGeneration: number, action: string): Promise<void> {
        if (sentWithGeneration < this.credentialGeneration) {
            if (this.renewing) await this.renewing.catch(() => undefined); // sent with the old credential: retry with the new one
            return;
        }
        if (!this.client.renewCredentials || this.renewedWithoutSuccess) {
            const denied = permissionDenied(err, action);
            this.halt(this.renewedWithoutSuccess ? `${denied.message} (rejected again right after the credentials were renewed)` : denied.message, denied);
        }
        this.renewedWithoutSuccess = true;
        this.credentialGeneration++;
        this.options.log("the API server rejected the credentials (HTTP 401); getting fresh ones once and going on");
        this.renewing = this.client.renewCredentials().finally(() => (this.renewing = undefined));
        try {
            await this.renewing;
        } catch (renewErr) {
            this.halt(`the credentials were rejected (HTTP 401) and could not be renewed: ${describeError(renewErr)}`);
        }
    }

    /** Stops the run: cancels requests and timers; the last checkpoint stands. */
    private halt(reason: string, cause?: Error): never {
        this.stopReason ??= reason;
        this.stopController.abort();
        throw cause && this.counts.writes === 0 ? cause : new RunStopped(reason);
    }

    private checkRepeatedToken(seen: Set<string>, token: string | undefined): void {
        if (token === undefined) return;
        if (seen.has(token)) {
            this.halt(
                "the API server handed out a continue token it had already given in this list (a server or proxy fault); stopping so the same Secrets are not listed and written again and again",
            );
        }
        seen.add(token);
    }

    /** Yields every page of one full list; an expired continue token resumes from the remainder or restarts, never ends it early. */
    private async *listAll(): AsyncGenerator<SecretPage> {
        const seenTokens = new Set<string>();
        let token: string | undefined;
        do {
            const page = await this.listPageWithRecovery(token);
            this.checkRepeatedToken(seenTokens, page.continueToken);
            yield page;
            token = page.continueToken;
        } while (token !== undefined && !this.aborted);
    }

    private prefetch(token: string | undefined): Promise<SecretPage> {
        const page = this.listPageWithRecovery(token);
        page.catch(() => undefined); // awaited later; keeps an early failure from counting as unhandled meanwhile
        return page;
    }

    private async listPageWithRecovery(token: string | undefined): Promise<SecretPage> {
        for (let attempt = 1; ; attempt++) {
            if (this.renewing) await this.renewing.catch(() => undefined);
            if (this.aborted) throw new RunStopped(this.stopReason ?? "interrupted while listing secrets");
            const generation = this.credentialGeneration;
            try {
                const page = await this.client.listPage({
                    limit: this.pageSize,
                    continueToken: token,
                    annotationKey: this.options.annotationKey,
                    signal: this.stopController.signal,
                });
                this.succeeded();
                this.checkAgainstCheckpoint(page);
                return page;
            } catch (err) {
                if (this.aborted) throw new RunStopped(this.stopReason ?? "interrupted while listing secrets");
                if (err instanceof RunStopped || err instanceof CheckpointError) throw err;
                const kind = classifyError(err);
                if (kind === "unauthorized" && httpStatusOf(err) === 401) {
                    await this.afterUnauthorized(err, generation, "list secrets in all namespaces");
                    attempt--;
                    continue;
                }
                if (kind === "unauthorized") throw permissionDenied(err, "list secrets in all namespaces");
                if (kind === "expired") {
                    token = this.afterExpiredContinueToken(err);
                    // A server that expires every token must not be asked in a tight loop.
                    await this.sleep(this.backoffMs(this.counts.listRestarts));
                    attempt = 0;
                    continue;
                }
                if ((err as { code?: unknown }).code === "EPAGETOOLARGE") {
                    this.afterOversizedPage(err);
                    attempt = 0;
                    continue;
                }
                if (token !== undefined && token === this.fromCheckpoint?.token && kind === "fatal") {
                    throw new CheckpointError(
                        `the API server refused the continue token saved in the state file ${this.options.statePath} (${describeError(err)}); ` +
                            "the token is no longer valid for this cluster: delete the state file to start over (Secrets already annotated are skipped)",
                    );
                }
                if (kind !== "retryable") {
                    throw new Error(`listing secrets failed${attempt > 1 ? ` after ${attempt} attempts` : ""}: ${describeError(err)}`);
                }
                this.countTransient(err);
                if (attempt >= this.options.maxAttempts) throw new Error(`listing secrets failed after ${attempt} attempts: ${describeError(err)}`);
                await this.waitBeforeRetry(err, attempt);
            }
        }
    }

    /** On this run's first list after a resume: the saved start must be a revision this cluster has reached. */
    private checkAgainstCheckpoint(page: SecretPage): void {
        const saved = this.fromCheckpoint;
        if (!saved) return;
        this.fromCheckpoint = undefined;
        const start = saved.startResourceVersion;
        const current = page.resourceVersion;
        if (start !== undefined && current !== undefined && /^\d+$/.test(start) && /^\d+$/.test(current) && BigInt(start) > BigInt(current)) {
            throw new CheckpointError(
                `the state file ${this.options.statePath} says the run began at resourceVersion ${start}, but this cluster is only at ${current}: ` +
                    "it was not made against this cluster; delete it to start over (Secrets already annotated are skipped)",
            );
        }
    }

    private afterOversizedPage(err: unknown): void {
        if (this.pageSize <= this.options.minPageSize) {
            this.halt(`${describeError(err)}, even at ${this.pageSize} Secrets per page: raise the page size cap`);
        }
        const smaller = Math.max(this.options.minPageSize, Math.floor(this.pageSize / 2));
        this.options.log(`a list page of ${this.pageSize} Secrets was too large (${describeError(err)}); asking again with ${smaller} per page`);
        this.pageSize = smaller;
    }

    private afterExpiredContinueToken(err: unknown): string | undefined {
        this.counts.listRestarts++;
        if (this.counts.listRestarts > this.options.maxListRestarts) {
            this.halt(
                `the list's continue token expired ${this.counts.listRestarts} times; giving up (the list is slower than the server keeps its snapshots: ` +
                    "run again with the same checkpoint, with a smaller page size)",
            );
        }
        const remainder = remainderContinueTokenOf(err);
        if (remainder) {
            this.options.log("list continue token expired (410); continuing with the server's remainder token");
            return remainder;
        }
        this.options.log("list continue token expired (410) without a remainder token; restarting the list (already annotated Secrets are skipped)");
        return undefined;
    }

    private async waitBeforeRetry(err: unknown, attempt: number): Promise<void> {
        this.retries++;
        const retryAfter = retryAfterSecondsOf(err);
        if (httpStatusOf(err) === 429) {
            this.throttled++;
            this.limiter.onThrottled();
        }
        const delayMs = retryAfter !== undefined ? Math.min(retryAfter, this.options.maxRetryAfterSeconds) * 1000 : this.backoffMs(attempt);
        // Never sleep past the stall deadline: waking then, the next failure stops the run on time.
        const untilStall = Math.max(0, this.options.stallTimeoutMs - (this.options.now() - this.lastSuccessMs));
        await this.sleep(Math.min(delayMs, untilStall));
    }

    /** Capped exponential backoff with equal jitter: half fixed, half random, so retries do not arrive in lockstep. */
    private backoffMs(attempt: number): number {
        const ceiling = Math.min(this.options.retryMaxDelayMs, this.options.retryBaseDelayMs * 2 ** Math.max(0, attempt - 1));
        return ceiling / 2 + this.options.random() * (ceiling / 2);
    }

    private async resumeFromCheckpoint(): Promise<void> {
        if (!this.checkpointFile) return;
        const saved = await this.checkpointFile.load({
            cluster: this.cluster,
            annotationKey: this.options.annotationKey,
            annotationValue: this.options.annotationValue,
        });
        if (!saved) return;
        if (this.options.dryRun) {
            this.options.log(
                `a checkpoint of this cluster and value exists at ${this.options.statePath} (started ${saved.startedAt}, ${saved.totals.rewritten} rewritten so far); ` +
                    "the dry run counts from the start",
            );
            return;
        }
        this.resumed = true;
        this.earlier = { ...saved.totals };
        this.startedAt = saved.startedAt;
        this.startResourceVersion = saved.startResourceVersion;
        this.continueToken = saved.continueToken;
        this.rewritePassComplete = saved.rewritePassComplete;
        this.fromCheckpoint = { token: saved.continueToken, startResourceVersion: saved.startResourceVersion };
        this.options.log(
            `resuming from ${this.options.statePath} (started ${saved.startedAt}; earlier runs listed ${saved.totals.listed} and rewrote ${saved.totals.rewritten}` +
                `${saved.rewritePassComplete ? "; rewrite pass complete, verifying" : ""})`,
        );
    }

    private async checkpoint(): Promise<void> {
        if (!this.checkpointFile || this.options.dryRun) return;
        const state: Omit<ReencryptState, "format" | "formatVersion" | "checksum" | "savedAt"> = {
            cluster: this.cluster,
            annotationKey: this.options.annotationKey,
            annotationValue: this.options.annotationValue,
            continueToken: this.continueToken,
            rewritePassComplete: this.rewritePassComplete,
            startResourceVersion: this.startResourceVersion,
            startedAt: this.startedAt,
            totals: addCounts(this.earlier ?? emptyCounts(), this.counts),
        };
        try {
            await this.checkpointFile.save(state);
        } catch (err) {
            this.lastStopWasCheckpoint = true;
            if (this.counts.writes === 0) throw err;
            this.halt((err as Error).message);
        }
    }

    private get aborted(): boolean {
        return this.stopController.signal.aborted;
    }

    /** Sleeps end early on abort or stop, and clear their timers, so a stopped run ends promptly. */
    private sleep(ms: number): Promise<void> {
        return this.options.sleep(ms, this.stopController.signal);
    }

    private outcome(): ReencryptOutcome {
        if (this.options.dryRun) return "dryRun";
        if (this.stopReason !== undefined) return "stopped";
        if (this.aborted) return "interrupted";
        return this.verified && this.remaining.total === 0 ? "verified" : "secretsRemain";
    }

    private warnings(): string[] {
        const warnings: string[] = [];
        if (!this.options.dryRun && !this.resumed && this.counts.listed > 0 && this.counts.alreadyCurrent === this.counts.listed) {
            // The guide's pitfall: an old TIME value makes every write a no-op, and nothing is re-sealed.
            warnings.push(
                `every Secret already carried ${this.options.annotationKey}=${this.options.annotationValue}, so nothing was rewritten and nothing re-sealed; ` +
                    "if the key rotated since that value was written, run again with a new value (e.g. the rotation time)",
            );
        }
        return warnings;
    }

    private summary(runBeganMs: number): ReencryptSummary {
        const finishedMs = this.options.now();
        const outcome = this.outcome();
        return {
            outcome,
            warnings: this.warnings(),
            annotationKey: this.options.annotationKey,
            annotationValue: this.options.annotationValue,
            dryRun: this.options.dryRun,
            resumed: this.resumed,
            earlierRuns: this.earlier,
            stopReason: this.stopReason,
            aborted: outcome === "interrupted" || outcome === "stopped",
            pageSize: this.pageSize,
            listed: this.counts.listed,
            rewritten: this.counts.rewritten,
            alreadyCurrent: this.counts.alreadyCurrent,
            gone: this.counts.gone,
            conflicts: this.counts.conflicts,
            failedCount: this.counts.failedCount,
            failed: this.failed.items as SecretFailure[],
            remainingCount: this.remaining.total,
            remaining: this.remaining.items,
            verified: this.verified,
            verification: { ...this.verification },
            writes: this.counts.writes,
            kmsEncryptCalls: this.counts.rewritten,
            throttled: this.throttled,
            retries: this.retries,
            listRestarts: this.counts.listRestarts,
            wouldRewrite: this.wouldRewrite,
            estimatedKmsEncryptCalls: this.wouldRewrite,
            estimatedSecondsAtRateCap: this.options.qps > 0 ? this.wouldRewrite / this.options.qps : null,
            concurrency: this.options.concurrency,
            qps: this.options.qps,
            startedAt: this.startedAt,
            finishedAt: new Date(finishedMs).toISOString(),
            durationMs: finishedMs - runBeganMs,
        };
    }
}

function permissionDenied(err: unknown, action: string): PermissionDeniedError {
    const status = httpStatusOf(err) ?? 403;
    const detail = describeError(err);
    if (status === 401) {
        return new PermissionDeniedError(
            `the Kubernetes API server rejected the credentials (HTTP 401) trying to ${action}: the token or client certificate ` +
                `is missing, invalid or expired; refresh the kubeconfig (or its exec plugin login) and run again. Server said: ${detail}`,
            401,
        );
    }
    return new PermissionDeniedError(
        `permission denied (HTTP 403) trying to ${action}: this job needs the RBAC verbs "list" and "patch" on "secrets" in all ` +
            `namespaces (a ClusterRole with apiGroups [""], resources ["secrets"], verbs ["list","patch"] and a ClusterRoleBinding to ` +
            `the identity in the kubeconfig). Server said: ${detail}`,
        403,
    );
}

/** Run `work` over `items` with at most `limit` in flight; stops taking new items when `shouldStop` says so. */
export async function forEachBounded<T>(items: readonly T[], limit: number, shouldStop: () => boolean, work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
        while (next < items.length && failure === undefined && !shouldStop()) {
            const item = items[next++];
            try {
                await work(item);
            } catch (error) {
                failure ??= { error };
            }
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    if (failure !== undefined) throw failure.error;
}

/** Keeps the first `capacity` entries and counts all: bookkeeping must not grow with the number of Secrets. */
export class BoundedList<T> {
    readonly items: T[] = [];
    total = 0;
    constructor(private readonly capacity: number) {}
    push(item: T): void {
        this.total++;
        if (this.items.length < this.capacity) this.items.push(item);
    }
}

/** Progress for one phase, reported at most every progressIntervalMs. */
class ProgressTracker {
    private readonly phaseStartMs: number;
    private lastReportMs: number;
    private listed = 0;
    private done = 0;
    private totalEstimate?: number;

    constructor(
        private readonly phase: ReencryptProgress["phase"],
        private readonly options: ResolvedOptions,
    ) {
        this.phaseStartMs = options.now();
        this.lastReportMs = this.phaseStartMs;
    }

    pageListed(page: SecretPage): void {
        this.listed += page.items.length;
        this.totalEstimate = page.remainingItemCount !== undefined ? this.listed + page.remainingItemCount : page.continueToken ? undefined : this.listed;
    }

    itemDone(rewritten: number): void {
        this.done++;
        this.report(rewritten, false);
    }

    report(rewritten: number, final: boolean): void {
        if (!this.options.onProgress) return;
        const now = this.options.now();
        if (!final && now - this.lastReportMs < this.options.progressIntervalMs) return;
        this.lastReportMs = now;
        const elapsedMs = now - this.phaseStartMs;
        const ratePerSecond = elapsedMs > 0 ? (this.done * 1000) / elapsedMs : 0;
        const total = this.totalEstimate !== undefined ? Math.max(this.totalEstimate, this.done) : undefined;
        const etaSeconds = total !== undefined && ratePerSecond > 0 ? (total - this.done) / ratePerSecond : undefined;
        this.options.onProgress({ phase: this.phase, done: this.done, totalEstimate: total, rewritten, ratePerSecond, etaSeconds, elapsedMs });
    }
}

function positiveInteger(name: string, value: number): string | undefined {
    return Number.isInteger(value) && value > 0 ? undefined : `${name} must be a positive integer, got ${value}`;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
