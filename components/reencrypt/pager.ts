/**
 * Listing, with every way a list can go wrong handled here once:
 *
 * - an expired continue token (410): the server's remainder token, else a
 *   restart; a back-off before each, at most maxListRestarts per run;
 * - a page larger than the client's cap: asked again at half the page size,
 *   down to minPageSize, then the run stops;
 * - a continue token handed out twice in one list: the run stops (otherwise the
 *   same Secrets would be listed and written again and again). "One list" is
 *   everything since the last request without a continue token: a restart
 *   begins a new list, and continue tokens are opaque, so a new list may hand
 *   out the very tokens of the one before (a server whose tokens carry no
 *   resourceVersion, or the same snapshot listed again);
 * - after a resume, the first list checks the checkpoint against this cluster:
 *   a token the server refuses, or a start revision it has not reached, is the
 *   file's fault, named as such.
 */
import { CheckpointError } from "./checkpoint";
import { classifyError, describeError, permissionDenied, remainderContinueTokenOf } from "./errors";
import { RequestGuards, RunControl, RunStopped } from "./guards";
import { ReencryptCounts } from "./checkpoint";
import { SecretPage } from "./types";

/** How the run waits before a retry (shared with writes: Retry-After, throttling, back-off). */
export interface RetryPolicy {
    wait(err: unknown, attempt: number): Promise<void>;
    backoffMs(attempt: number): number;
}

export class SecretPager {
    /** The page size in use: halved when pages are too large. */
    pageSize: number;
    /** Continue tokens handed out since the current list began. */
    private readonly tokensOfThisList = new Set<string>();
    /** Pages asked for without a continue token: each begins a new list (a first list, a verify round, a restart after a 410). */
    private readonly listStarts = new WeakSet<SecretPage>();
    private fromCheckpoint?: { token?: string; startResourceVersion?: string };

    constructor(
        private readonly run: RunControl,
        private readonly guards: RequestGuards,
        private readonly counts: ReencryptCounts,
        private readonly retry: RetryPolicy,
    ) {
        this.pageSize = run.options.pageSize;
    }

    /** The next list is this run's first after a resume: check the checkpoint's token and start against the cluster. */
    expectCheckpoint(saved: { token?: string; startResourceVersion?: string }): void {
        this.fromCheckpoint = saved;
    }

    /** Starts listing a page now; awaited later (an early failure is not an unhandled rejection meanwhile). */
    prefetch(token: string | undefined): Promise<SecretPage> {
        const page = this.listPage(token);
        page.catch(() => undefined);
        return page;
    }

    /** Yields every page of one full list; an expired continue token resumes from the remainder or restarts, never ends it early. */
    async *listAll(): AsyncGenerator<SecretPage> {
        let token: string | undefined;
        do {
            const page = await this.listPage(token);
            this.checkRepeatedToken(page);
            yield page;
            token = page.continueToken;
        } while (token !== undefined && !this.run.signal.aborted);
    }

    /** Called as each page is taken up, in list order, so the pages before a repeat are handled in full. */
    checkRepeatedToken(page: SecretPage): void {
        if (this.listStarts.has(page)) this.tokensOfThisList.clear();
        const handedOut = page.continueToken;
        if (handedOut === undefined) return;
        if (this.tokensOfThisList.has(handedOut)) {
            this.run.halt(
                "the API server handed out a continue token it had already given in this list (a server or proxy fault); stopping so the same Secrets are not listed and written again and again",
            );
        }
        this.tokensOfThisList.add(handedOut);
    }

    /** One page, through every recovery above. */
    async listPage(token: string | undefined): Promise<SecretPage> {
        const { client, options, signal } = this.run;
        const interrupted = () => new RunStopped("interrupted while listing secrets");
        for (let attempt = 1; ; attempt++) {
            const generation = await this.guards.beforeRequest();
            if (signal.aborted) throw interrupted();
            try {
                const page = await client.listPage({ limit: this.pageSize, continueToken: token, annotationKey: options.annotationKey, signal });
                this.guards.succeeded();
                this.checkAgainstCheckpoint(page);
                if (token === undefined) this.listStarts.add(page);
                return page;
            } catch (err) {
                if (signal.aborted) throw interrupted();
                if (err instanceof RunStopped || err instanceof CheckpointError) throw err;
                const kind = classifyError(err);
                if (kind === "unauthorized") {
                    await this.guards.afterUnauthorized(err, generation, "list secrets in all namespaces");
                    attempt--;
                    continue;
                }
                if (kind === "forbidden") throw permissionDenied(err, "list secrets in all namespaces");
                if (kind === "expired") {
                    token = this.afterExpiredContinueToken(err);
                    // A server that expires every token must not be asked in a tight loop.
                    await this.run.sleep(this.retry.backoffMs(this.counts.listRestarts));
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
                        `the API server refused the continue token saved in the state file ${options.statePath} (${describeError(err)}); ` +
                            "the token is no longer valid for this cluster: delete the state file to start over (Secrets already annotated are skipped)",
                    );
                }
                if (kind !== "retryable") {
                    throw new Error(`listing secrets failed${attempt > 1 ? ` after ${attempt} attempts` : ""}: ${describeError(err)}`);
                }
                this.guards.transientFailure(err);
                if (attempt >= options.maxAttempts) throw new Error(`listing secrets failed after ${attempt} attempts: ${describeError(err)}`);
                await this.retry.wait(err, attempt);
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
                `the state file ${this.run.options.statePath} says the run began at resourceVersion ${start}, but this cluster is only at ${current}: ` +
                    "it was not made against this cluster; delete it to start over (Secrets already annotated are skipped)",
            );
        }
    }

    private afterOversizedPage(err: unknown): void {
        const { minPageSize, log } = this.run.options;
        if (this.pageSize <= minPageSize) {
            this.run.halt(`${describeError(err)}, even at ${this.pageSize} Secrets per page: raise the page size cap`);
        }
        const smaller = Math.max(minPageSize, Math.floor(this.pageSize / 2));
        log(`a list page of ${this.pageSize} Secrets was too large (${describeError(err)}); asking again with ${smaller} per page`);
        this.pageSize = smaller;
    }

    private afterExpiredContinueToken(err: unknown): string | undefined {
        const { maxListRestarts, log } = this.run.options;
        this.counts.listRestarts++;
        if (this.counts.listRestarts > maxListRestarts) {
            this.run.halt(
                `the list's continue token expired ${this.counts.listRestarts} times; giving up (the list is slower than the server keeps its snapshots: ` +
                    "run again with the same checkpoint, with a smaller page size)",
            );
        }
        const remainder = remainderContinueTokenOf(err);
        if (remainder) {
            log("list continue token expired (410); continuing with the server's remainder token");
            return remainder;
        }
        log("list continue token expired (410) without a remainder token; restarting the list (already annotated Secrets are skipped)");
        return undefined;
    }
}
