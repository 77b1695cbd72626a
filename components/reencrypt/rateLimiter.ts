/**
 * One global cap on writes. Every Secret write is one billed KMS Encrypt call
 * and the KMS instance has a QPS ceiling, so all workers share this limiter.
 *
 * Slots are spaced 1/rate apart (a token bucket holding at most two tokens, so
 * an idle moment cannot turn into a burst). On a 429 the rate halves (at most
 * once a second, so one throttled burst counts once) and then climbs back
 * linearly to the cap over about ten seconds: additive increase,
 * multiplicative decrease. Retry-After is honoured by the worker that was
 * told (see the engine); pausing everyone on each 429 would stall the run for
 * a second per throttled request, while halving the shared rate already
 * relieves the server.
 *
 * With no cap (qps 0) there is no shared slowdown either: the user asked for
 * none, and each throttled write still waits out its own Retry-After. Tried
 * and measured: learning a ceiling from the observed rate and halving it on
 * every 429 made a 1,200-Secret run under 2% random 429s take 89 s instead of
 * 9 s, since random throttling keeps halving a rate that was never the cause.
 */

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

const MIN_RATE_PER_SECOND = 1;
const RECOVERY_FRACTION_OF_CAP_PER_SECOND = 0.1;
const MIN_MS_BETWEEN_DECREASES = 1000;
const BURST_SLOTS = 1; // slots a late worker may catch up on, beyond the current one

export class WriteRateLimiter {
    private nextSlotMs = -Infinity;
    private reducedRate?: number;
    private reducedAtMs = -Infinity;

    /** @param capPerSecond writes per second; 0 means no cap. */
    constructor(
        private readonly capPerSecond: number,
        private readonly clock: Clock,
    ) {
        if (!(capPerSecond >= 0) || !Number.isFinite(capPerSecond)) {
            throw new Error(`rate cap must be a finite number >= 0 (0 = no cap), got ${capPerSecond}`);
        }
    }

    /** The write rate currently allowed, per second (Infinity when uncapped). */
    currentRate(nowMs = this.clock.now()): number {
        if (this.capPerSecond === 0) return Infinity;
        if (this.reducedRate === undefined) return this.capPerSecond;
        const recovered = this.reducedRate + ((nowMs - this.reducedAtMs) / 1000) * this.capPerSecond * RECOVERY_FRACTION_OF_CAP_PER_SECOND;
        return Math.min(this.capPerSecond, recovered);
    }

    /** Wait for the caller's turn to send one write. */
    async acquire(): Promise<void> {
        if (this.capPerSecond === 0) return;
        const now = this.clock.now();
        const intervalMs = 1000 / this.currentRate(now);
        const slotMs = Math.max(this.nextSlotMs, now - BURST_SLOTS * intervalMs);
        this.nextSlotMs = slotMs + intervalMs;
        if (slotMs > now) await this.clock.sleep(slotMs - now);
    }

    /** The server answered 429: halve the shared rate (at most once a second). */
    onThrottled(): void {
        const now = this.clock.now();
        if (this.capPerSecond === 0 || now - this.reducedAtMs < MIN_MS_BETWEEN_DECREASES) return;
        this.reducedRate = Math.max(MIN_RATE_PER_SECOND, this.currentRate(now) / 2);
        this.reducedAtMs = now;
    }
}
