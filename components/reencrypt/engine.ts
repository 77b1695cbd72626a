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
 * The loop is this file; around it, each concern once: errors.ts classifies
 * failures, pager.ts lists (expired tokens, oversized pages, repeated tokens,
 * the checkpoint checked against the cluster), guards.ts keeps the run bounded
 * (the error budget, the stall clock, one credential renewal after a 401),
 * checkpoint.ts owns the checkpoint file and its lock, bookkeeping.ts the bounded
 * counters and progress, options.ts the defaults.
 */
import { setMaxListeners } from "node:events";
import { BoundedList, forEachBounded, ProgressTracker } from "./bookkeeping";
import { classifyError, describeError, httpStatusOf, retryAfterSecondsOf } from "./errors";
import { RequestGuards, RunControl, RunStopped } from "./guards";
import { ResolvedOptions, resolveOptions } from "./options";
import { SecretPager } from "./pager";
import { WriteRateLimiter } from "./rateLimiter";
import { addCounts, Checkpoint, ClusterIdentity, emptyCounts, ReencryptCounts, ReencryptState } from "./checkpoint";
import { ReencryptOptions, ReencryptOutcome, ReencryptSummary, RemainingSecret, SecretFailure, SecretPage, SecretRef, SecretsClient } from "./types";

export { abortableSleep, resolveOptions } from "./options";

type WriteOutcome = "rewritten" | "gone" | "conflict" | "interrupted" | { failed: string };

export async function reencryptSecrets(client: SecretsClient, options: ReencryptOptions): Promise<ReencryptSummary> {
    return new ReencryptRun(client, resolveOptions(options)).execute();
}

class ReencryptRun implements RunControl {
    private readonly limiter: WriteRateLimiter;
    private readonly guards: RequestGuards;
    private readonly pager: SecretPager;
    private readonly counts: ReencryptCounts = emptyCounts();
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
    private readonly checkpointFile?: Checkpoint;
    private readonly cluster: ClusterIdentity;
    // Stop: the caller's signal, or a problem the run cannot go past. Both cancel requests and timers.
    private readonly stopController = new AbortController();
    private stopReason?: string;
    private lastStopWasCheckpoint = false;

    constructor(
        readonly client: SecretsClient,
        readonly options: ResolvedOptions,
    ) {
        this.limiter = new WriteRateLimiter(options.qps, { now: options.now, sleep: (ms) => this.sleep(ms) });
        this.guards = new RequestGuards(this);
        this.pager = new SecretPager(this, this.guards, this.counts, {
            wait: (err, attempt) => this.waitBeforeRetry(err, attempt),
            backoffMs: (a) => this.backoffMs(a),
        });
        this.failed = new BoundedList(options.maxNamesReported);
        this.remaining = new BoundedList(options.maxNamesReported);
        this.startedAt = new Date(options.now()).toISOString();
        this.progress = new ProgressTracker("rewrite", options);
        this.cluster = { server: client.target?.server ?? "(unknown server)", caFingerprint: client.target?.caFingerprint };
        if (options.statePath) this.checkpointFile = new Checkpoint(options.statePath, options.checkpointFileSystem, options.now, options.checkpointKeyFile);
        // Every write in flight, the prefetched list page and each back-off listen to the stop signal at once.
        setMaxListeners(options.concurrency + 8, this.stopController.signal);
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

    get signal(): AbortSignal {
        return this.stopController.signal;
    }

    private async rewritePass(): Promise<void> {
        // A dry run counts everything that still lacks the value, from the start, whatever a checkpoint says.
        if (this.rewritePassComplete && !this.options.dryRun) return;
        let nextPage: Promise<SecretPage> | undefined = this.pager.prefetch(this.options.dryRun ? undefined : this.continueToken);
        while (nextPage && !this.aborted) {
            const page: SecretPage = await nextPage;
            this.startResourceVersion ??= page.resourceVersion;
            this.pager.checkRepeatedToken(page);
            nextPage = page.continueToken ? this.pager.prefetch(page.continueToken) : undefined;
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
            for await (const page of this.pager.listAll()) {
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
            const generation = await this.guards.beforeRequest();
            if (this.aborted) return "interrupted";
            this.counts.writes++;
            try {
                await this.client.patchAnnotation(ref, this.options.annotationKey, this.options.annotationValue, this.signal);
                this.guards.succeeded();
                return "rewritten";
            } catch (err) {
                if (this.aborted) return "interrupted";
                const kind = classifyError(err);
                if (kind === "gone" || kind === "conflict") {
                    this.guards.succeeded(); // the server answered, and the answer settles this Secret
                    return kind;
                }
                if (kind === "unauthorized") {
                    await this.guards.afterUnauthorized(err, generation, `patch secret ${ref.namespace}/${ref.name}`);
                    attempt--;
                    continue;
                }
                // A denial (403: RBAC, an admission webhook) or an invalid write (422) concerns this Secret only.
                if (kind === "forbidden") return { failed: `denied (HTTP 403): ${describeError(err)}` };
                if (kind !== "retryable") return { failed: describeError(err) };
                this.guards.transientFailure(err);
                if (attempt >= this.options.maxAttempts) return { failed: `gave up after ${attempt} attempts: ${describeError(err)}` };
                await this.waitBeforeRetry(err, attempt);
                if (this.aborted) return "interrupted";
            }
        }
    }

    /** Stops the run: cancels requests and timers; the last checkpoint stands. Before any write, the cause itself is thrown. */
    halt(reason: string, cause?: Error): never {
        this.stopReason ??= reason;
        this.stopController.abort();
        throw cause && this.counts.writes === 0 ? cause : new RunStopped(reason);
    }

    private async waitBeforeRetry(err: unknown, attempt: number): Promise<void> {
        this.retries++;
        const retryAfter = retryAfterSecondsOf(err);
        if (httpStatusOf(err) === 429) {
            this.throttled++;
            this.limiter.onThrottled();
        }
        const delayMs = retryAfter !== undefined ? Math.min(retryAfter, this.options.maxRetryAfterSeconds) * 1000 : this.backoffMs(attempt);
        await this.sleep(Math.min(delayMs, this.guards.msUntilStall()));
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
        if (saved.cluster.server !== this.cluster.server) {
            // Same CA, another URL: a public and a private endpoint of one cluster, or clusters that share a CA.
            this.options.log(
                `the checkpoint was made through ${saved.cluster.server}, this run goes through ${this.cluster.server} (same cluster CA); ` +
                    "resuming: if these are two clusters that share a CA, stop and use another state file",
            );
        }
        this.resumed = true;
        this.earlier = { ...saved.totals };
        this.startedAt = saved.startedAt;
        this.startResourceVersion = saved.startResourceVersion;
        this.continueToken = saved.continueToken;
        this.rewritePassComplete = saved.rewritePassComplete;
        this.pager.expectCheckpoint({ token: saved.continueToken, startResourceVersion: saved.startResourceVersion });
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
    sleep(ms: number): Promise<void> {
        return this.options.sleep(ms, this.stopController.signal);
    }

    private outcome(): ReencryptOutcome {
        // A dry run cut short is no finished count: stopped and interrupted come first.
        if (this.stopReason !== undefined) return "stopped";
        if (this.aborted) return "interrupted";
        if (this.options.dryRun) return "dryRun";
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
            pageSize: this.pager.pageSize,
            ...this.counts,
            failed: this.failed.items as SecretFailure[],
            remainingCount: this.remaining.total,
            remaining: this.remaining.items,
            verified: this.verified,
            verification: { ...this.verification },
            kmsEncryptCalls: this.counts.rewritten,
            throttled: this.throttled,
            retries: this.retries,
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
