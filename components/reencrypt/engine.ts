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
import { DEFAULT_ANNOTATION_KEY, REENCRYPT_TUNING } from "../settings";
import { emptyCounts, loadState, ReencryptCounts, ReencryptState, removeState, saveStateAtomically, STATE_FORMAT_VERSION } from "./state";
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

type ResolvedOptions = Required<Omit<ReencryptOptions, "statePath" | "onProgress" | "signal">> & Pick<ReencryptOptions, "statePath" | "onProgress" | "signal">;

type WriteOutcome = "rewritten" | "gone" | "conflict" | "interrupted" | { failed: string };

export async function reencryptSecrets(client: SecretsClient, options: ReencryptOptions): Promise<ReencryptSummary> {
    return new ReencryptRun(client, resolveOptions(options)).execute();
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
        maxNamesReported: 1000,
        progressIntervalMs: 2000,
        log: () => undefined,
        now: () => Date.now(),
        sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
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
        Number.isFinite(resolved.qps) && resolved.qps >= 0 ? undefined : `qps must be a number >= 0 (0 = no cap), got ${resolved.qps}`,
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new Error(`invalid re-encryption options: ${problems.join("; ")}`);
    return resolved;
}

class ReencryptRun {
    private readonly limiter: WriteRateLimiter;
    private counts: ReencryptCounts = emptyCounts();
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

    constructor(
        private readonly client: SecretsClient,
        private readonly options: ResolvedOptions,
    ) {
        this.limiter = new WriteRateLimiter(options.qps, { now: options.now, sleep: (ms) => this.sleep(ms) });
        this.failed = new BoundedList(options.maxNamesReported);
        this.remaining = new BoundedList(options.maxNamesReported);
        this.startedAt = new Date(options.now()).toISOString();
        this.progress = new ProgressTracker("rewrite", options);
    }

    async execute(): Promise<ReencryptSummary> {
        const runBeganMs = this.options.now();
        await this.resumeFromCheckpoint();
        if (!this.rewritePassComplete) {
            let nextPage: Promise<SecretPage> | undefined = this.prefetch(this.continueToken);
            while (nextPage && !this.aborted) {
                const page: SecretPage = await nextPage;
                this.startResourceVersion ??= page.resourceVersion;
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
        if (!this.options.dryRun && !this.aborted) await this.verify();
        // The engine owns its checkpoint: once every Secret is confirmed there is nothing to resume.
        if (this.verified && this.options.statePath) await removeState(this.options.statePath);
        return this.summary(runBeganMs);
    }

    private async rewriteIfStale(ref: SecretRef): Promise<void> {
        this.counts.listed++;
        if (ref.annotations?.[this.options.annotationKey] === this.options.annotationValue) {
            this.counts.alreadyCurrent++;
        } else {
            this.wouldRewrite++;
            const failure = this.options.dryRun ? undefined : this.recordOutcome(await this.writeWithRetry(ref));
            if (failure !== undefined) {
                this.counts.failedCount++;
                this.failed.push({ namespace: ref.namespace, name: ref.name, reason: failure });
                if (this.counts.failedCount <= this.options.maxNamesReported)
                    this.options.log(`could not rewrite secret ${ref.namespace}/${ref.name}: ${failure}`);
            }
        }
        this.progress.itemDone(this.counts.rewritten);
    }

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

    private writtenAfterRunBegan(ref: SecretRef): boolean {
        const start = this.startResourceVersion;
        if (start === undefined || !/^\d+$/.test(start) || !/^\d+$/.test(ref.resourceVersion)) return false;
        return BigInt(ref.resourceVersion) > BigInt(start);
    }

    private async writeWithRetry(ref: SecretRef): Promise<WriteOutcome> {
        for (let attempt = 1; ; attempt++) {
            await this.limiter.acquire();
            if (this.aborted) return "interrupted";
            this.counts.writes++;
            try {
                await this.client.patchAnnotation(ref, this.options.annotationKey, this.options.annotationValue);
                return "rewritten";
            } catch (err) {
                const kind = classifyError(err);
                if (kind === "gone" || kind === "conflict") return kind;
                if (kind === "unauthorized") throw permissionDenied(err, `patch secret ${ref.namespace}/${ref.name}`);
                if (kind !== "retryable") return { failed: describeError(err) };
                if (attempt >= this.options.maxAttempts) return { failed: `gave up after ${attempt} attempts: ${describeError(err)}` };
                await this.waitBeforeRetry(err, attempt);
                if (this.aborted) return "interrupted";
            }
        }
    }

    /** Yields every page of one full list; an expired continue token resumes from the remainder or restarts, never ends it early. */
    private async *listAll(): AsyncGenerator<SecretPage> {
        let token: string | undefined;
        do {
            const page = await this.listPageWithRecovery(token);
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
            try {
                return await this.client.listPage({ limit: this.options.pageSize, continueToken: token });
            } catch (err) {
                const kind = classifyError(err);
                if (kind === "unauthorized") throw permissionDenied(err, "list secrets in all namespaces");
                if (kind === "expired") {
                    token = this.afterExpiredContinueToken(err);
                    attempt = 0;
                    continue;
                }
                if (kind !== "retryable" || attempt >= this.options.maxAttempts) {
                    throw new Error(`listing secrets failed${attempt > 1 ? ` after ${attempt} attempts` : ""}: ${describeError(err)}`);
                }
                await this.waitBeforeRetry(err, attempt);
                if (this.aborted) throw new Error("interrupted while listing secrets");
            }
        }
    }

    private afterExpiredContinueToken(err: unknown): string | undefined {
        const remainder = remainderContinueTokenOf(err);
        if (remainder) {
            this.options.log("list continue token expired (410); continuing with the server's remainder token");
            return remainder;
        }
        this.counts.listRestarts++;
        if (this.counts.listRestarts > this.options.maxListRestarts) {
            throw new Error(
                `the list's continue token expired ${this.counts.listRestarts} times; giving up (raise the page size, or run again with the same checkpoint to continue)`,
            );
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
        await this.sleep(delayMs);
    }

    /** Capped exponential backoff with equal jitter: half fixed, half random, so retries do not arrive in lockstep. */
    private backoffMs(attempt: number): number {
        const ceiling = Math.min(this.options.retryMaxDelayMs, this.options.retryBaseDelayMs * 2 ** (attempt - 1));
        return ceiling / 2 + this.options.random() * (ceiling / 2);
    }

    private async resumeFromCheckpoint(): Promise<void> {
        if (!this.options.statePath) return;
        const loaded = await loadState(this.options.statePath, this.options.annotationKey, this.options.annotationValue);
        if (loaded.kind === "startOver") this.options.log(loaded.why);
        if (loaded.kind !== "resume") return;
        const saved = loaded.state;
        this.resumed = true;
        this.counts = { ...saved.counts };
        this.startedAt = saved.startedAt;
        this.startResourceVersion = saved.startResourceVersion;
        this.continueToken = saved.continueToken;
        this.rewritePassComplete = saved.rewritePassComplete;
        this.options.log(
            `resuming from ${this.options.statePath} (started ${saved.startedAt}; ${saved.counts.listed} listed, ${saved.counts.rewritten} rewritten so far` +
                `${saved.rewritePassComplete ? "; rewrite pass complete, verifying" : ""})`,
        );
    }

    private async checkpoint(): Promise<void> {
        if (!this.options.statePath || this.options.dryRun) return;
        const state: ReencryptState = {
            formatVersion: STATE_FORMAT_VERSION,
            annotationKey: this.options.annotationKey,
            annotationValue: this.options.annotationValue,
            continueToken: this.continueToken,
            rewritePassComplete: this.rewritePassComplete,
            startResourceVersion: this.startResourceVersion,
            startedAt: this.startedAt,
            savedAt: new Date(this.options.now()).toISOString(),
            counts: this.counts,
        };
        await saveStateAtomically(this.options.statePath, state);
    }

    private get aborted(): boolean {
        return this.options.signal?.aborted === true;
    }

    /** Sleeps end early on abort, so an interrupted run stops promptly. */
    private sleep(ms: number): Promise<void> {
        const signal = this.options.signal;
        if (!signal) return this.options.sleep(ms);
        if (signal.aborted) return Promise.resolve();
        return new Promise<void>((resolve) => {
            const done = () => {
                signal.removeEventListener("abort", done);
                resolve();
            };
            signal.addEventListener("abort", done);
            this.options.sleep(ms).then(done, done);
        });
    }

    private outcome(): ReencryptOutcome {
        if (this.options.dryRun) return "dryRun";
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
        return {
            outcome: this.outcome(),
            warnings: this.warnings(),
            annotationKey: this.options.annotationKey,
            annotationValue: this.options.annotationValue,
            dryRun: this.options.dryRun,
            resumed: this.resumed,
            aborted: this.aborted,
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
