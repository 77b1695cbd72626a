/**
 * What keeps a run bounded and honest about its credentials, shared by every
 * request (lists and writes alike):
 *
 * - the error budget: transient failures in a row (5xx, timeouts, resets,
 *   throttling beyond the retries), and the stall clock (time without one
 *   success); either stops the run with a checkpoint. Per-Secret denials and
 *   conflicts are answers, not failures: they reset both;
 * - a 401: the credential is renewed once (the client re-runs its exec plugin
 *   or issues a new TokenRequest) and the request retried; a 401 again before
 *   any success stops the run. Requests remember the credential generation they
 *   were sent with, so a burst of 401s from one expired token renews once.
 */
import { describeError, permissionDenied } from "./errors";
import { ResolvedOptions } from "./options";
import { SecretsClient } from "./types";

/** Ends the run early; what has been saved stands. Thrown inside, turned into outcome "stopped" (or "interrupted" without a reason). */
export class RunStopped extends Error {}

/** What the parts of one run share: its options and client, a way to stop it, and its sleep. */
export interface RunControl {
    readonly options: ResolvedOptions;
    readonly client: SecretsClient;
    /** Aborted when the run stops, by the caller's signal or by halt(). */
    readonly signal: AbortSignal;
    /** Stops the run with a reason (cancelling requests and timers) and throws. */
    halt(reason: string, cause?: Error): never;
    sleep(ms: number): Promise<void>;
}

export class RequestGuards {
    private transientInARow = 0;
    private lastSuccessMs: number;
    private generation = 0;
    private renewedWithoutSuccess = false;
    private renewing?: Promise<void>;

    constructor(private readonly run: RunControl) {
        this.lastSuccessMs = run.options.now();
    }

    /** Waits out a renewal in progress; returns the credential generation the request is sent with. */
    async beforeRequest(): Promise<number> {
        if (this.renewing) await this.renewing.catch(() => undefined);
        return this.generation;
    }

    /** The server answered: the error budget and the stall clock start again. */
    succeeded(): void {
        this.transientInARow = 0;
        this.renewedWithoutSuccess = false;
        this.lastSuccessMs = this.run.options.now();
    }

    /** A transient failure: counts against the budget and the stall clock; stops the run when either is spent. */
    transientFailure(err: unknown): void {
        const { errorBudget, stallTimeoutMs, now } = this.run.options;
        this.transientInARow++;
        const stalledMs = now() - this.lastSuccessMs;
        if (this.transientInARow >= errorBudget) {
            this.run.halt(`${this.transientInARow} requests in a row failed with transient errors (the error budget); the last: ${describeError(err)}`);
        }
        if (stalledMs >= stallTimeoutMs) {
            this.run.halt(`no request succeeded for ${Math.round(stalledMs / 1000)} s (the stall timeout); the last failure: ${describeError(err)}`);
        }
    }

    /** How long a retry may still wait: never past the stall deadline, so the next failure stops the run on time. */
    msUntilStall(): number {
        return Math.max(0, this.run.options.stallTimeoutMs - (this.run.options.now() - this.lastSuccessMs));
    }

    /** 401: get a fresh credential once, then the caller retries; a 401 again before any success stops the run. */
    async afterUnauthorized(err: unknown, sentWithGeneration: number, action: string): Promise<void> {
        if (sentWithGeneration < this.generation) {
            await this.beforeRequest(); // sent with the old credential: retry with the new one
            return;
        }
        const client = this.run.client;
        if (!client.renewCredentials || this.renewedWithoutSuccess) {
            const denied = permissionDenied(err, action);
            this.run.halt(this.renewedWithoutSuccess ? `${denied.message} (rejected again right after the credentials were renewed)` : denied.message, denied);
        }
        this.renewedWithoutSuccess = true;
        this.generation++;
        this.run.options.log("the API server rejected the credentials (HTTP 401); getting fresh ones once and going on");
        this.renewing = client.renewCredentials().finally(() => (this.renewing = undefined));
        try {
            await this.renewing;
        } catch (renewErr) {
            this.run.halt(`the credentials were rejected (HTTP 401) and could not be renewed: ${describeError(renewErr)}`);
        }
    }
}
