/** Bookkeeping that must not grow with the number of Secrets: bounded concurrency, capped name lists, throttled progress. */
import { ResolvedOptions } from "./options";
import { ReencryptProgress, SecretPage } from "./types";

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
export class ProgressTracker {
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
