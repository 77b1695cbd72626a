// Trouble the Kubernetes API test server makes on purpose: injected faults
// (resets, hangs, 429, 5xx, lost responses, expired continue tokens) and churn
// by "another client", all drawn from one seeded random so a run can be repeated.

import type { JsonObject } from "./patch";
import { status } from "./negotiation";
import type { SecretStore } from "./store";
import type { ChurnOptions, FaultOptions, SecretVerb, ServerStats } from "./types";

const THROTTLE_BODY = "Too many requests, please try again later.\n";

/** What an injected fault does to a request; the server carries it out. */
export type FaultDecision =
    | { kind: "reset" }
    | { kind: "hang"; ms: number }
    | { kind: "answer"; code: number; body: JsonObject | string; contentType?: string; headers?: Record<string, string> };

export type FaultCounts = ServerStats["faultsInjected"];

/** mulberry32: small, fast, deterministic for a given seed. */
function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function noFaultsYet(): FaultCounts {
    return { throttled: 0, serverErrors: 0, resets: 0, lostResponses: 0, hangs: 0, expiredContinues: 0 };
}

/**
 * Faults and churn share one random sequence: the order of draws is part of what
 * a seed reproduces, so every draw stays in the order requests arrive.
 */
export class FaultInjector {
    injected: FaultCounts = noFaultsYet();
    private readonly random: () => number;
    private faults: FaultOptions = {};
    private continueExpiredOnce = false;
    private chunkedPagesServed = 0;
    private churn: ChurnOptions | undefined;
    private churnTimer: NodeJS.Timeout | undefined;
    private churnSteps = 0;
    private churnCounter = 0;
    private secretRequestsSinceChurn = 0;

    constructor(
        private readonly store: SecretStore,
        randomSeed: number,
    ) {
        this.random = seededRandom(randomSeed);
    }

    resetCounters(): void {
        this.injected = noFaultsYet();
    }

    setFaults(faults: FaultOptions): void {
        this.faults = { ...faults };
        this.continueExpiredOnce = false;
        this.chunkedPagesServed = 0;
    }

    setChurn(churn: ChurnOptions | undefined): void {
        if (this.churnTimer) {
            clearInterval(this.churnTimer);
            this.churnTimer = undefined;
        }
        this.churn = churn;
        this.churnSteps = 0;
        this.secretRequestsSinceChurn = 0;
        if (churn?.intervalMs) {
            this.churnTimer = setInterval(() => this.churnStep(), churn.intervalMs);
            this.churnTimer.unref();
        }
    }

    /** The fault that answers (or drops) a Secret request, if one strikes. */
    decide(verb: SecretVerb): FaultDecision | undefined {
        const faults = this.faults;
        if (faults.faultVerbs && !faults.faultVerbs.includes(verb)) {
            return undefined;
        }
        if (faults.resetProbability && this.random() < faults.resetProbability) {
            this.injected.resets++;
            return { kind: "reset" };
        }
        if (faults.hangProbability && this.random() < faults.hangProbability) {
            this.injected.hangs++;
            return { kind: "hang", ms: faults.hangMs ?? 30_000 };
        }
        if (faults.throttleProbability && this.random() < faults.throttleProbability) {
            this.injected.throttled++;
            return {
                kind: "answer",
                code: 429,
                body: THROTTLE_BODY,
                contentType: "text/plain; charset=utf-8",
                headers: { "Retry-After": String(faults.retryAfterSeconds ?? 1) },
            };
        }
        if (faults.serverErrorProbability && this.random() < faults.serverErrorProbability) {
            this.injected.serverErrors++;
            if (this.random() < 0.5) {
                return { kind: "answer", code: 500, body: status(500, "InternalError", "Internal error occurred: injected test fault") };
            }
            return {
                kind: "answer",
                code: 503,
                body: status(503, "ServiceUnavailable", "the server is currently unable to handle the request (injected test fault)"),
            };
        }
        return undefined;
    }

    /** Whether a stored write's response is lost to a reset (the client cannot tell whether it landed). */
    loseWriteResponse(): boolean {
        const lost = this.faults.lostResponseProbability;
        if (
            lost &&
            (!this.faults.faultVerbs || this.faults.faultVerbs.some((v) => v === "patch" || v === "update" || v === "create")) &&
            this.random() < lost
        ) {
            this.injected.lostResponses++;
            return true;
        }
        return false;
    }

    /** Whether a continue token issued at `issuedAt` answers 410 Expired now (counted when it does); a token without an issue time never ages. */
    continueExpired(issuedAt: number | undefined): boolean {
        const ttl = this.faults.continueTokenTtlMs;
        const expireOnce =
            this.faults.expireContinueAfterPages !== undefined && !this.continueExpiredOnce && this.chunkedPagesServed >= this.faults.expireContinueAfterPages;
        if (expireOnce || (ttl !== undefined && issuedAt !== undefined && Date.now() - issuedAt > ttl)) {
            if (expireOnce) this.continueExpiredOnce = true;
            this.injected.expiredContinues++;
            return true;
        }
        return false;
    }

    get expiredContinueCarriesRemainder(): boolean | undefined {
        return this.faults.expiredContinueCarriesRemainder;
    }

    get positionOnlyContinueTokens(): boolean {
        return this.faults.positionOnlyContinueTokens === true;
    }

    /** Counts a page that ended with a continue token (the one-shot expiry waits for enough of them). */
    chunkedPageServed(): void {
        this.chunkedPagesServed++;
    }

    /** Called on every Secret request: a churn step after every `everyRequests` of them. */
    maybeChurn(): void {
        const churn = this.churn;
        if (!churn?.everyRequests) return;
        this.secretRequestsSinceChurn++;
        if (this.secretRequestsSinceChurn >= churn.everyRequests) {
            this.secretRequestsSinceChurn = 0;
            this.churnStep();
        }
    }

    /** Another client at work: edits data, deletes and creates Secrets. */
    private churnStep(): void {
        const churn = this.churn;
        if (!churn || (churn.maxSteps !== undefined && this.churnSteps >= churn.maxSteps)) return;
        this.churnSteps++;
        const pick = (): string | undefined => this.store.keyAt(Math.floor(this.random() * this.store.size));
        for (let i = 0; i < (churn.edits ?? 1); i++) {
            const key = pick();
            if (!key) break;
            const [namespace, name] = key.split("/");
            const mark = String(++this.churnCounter);
            this.store.update(
                namespace,
                name,
                (current) => ({ ...current, data: { ...((current.data as JsonObject) ?? {}), churn: Buffer.from(mark).toString("base64") } }),
                "churn",
            );
        }
        for (let i = 0; i < (churn.deletes ?? 0); i++) {
            const key = pick();
            if (!key) break;
            const [namespace, name] = key.split("/");
            this.store.delete(namespace, name, "churn");
        }
        for (let i = 0; i < (churn.creates ?? 0); i++) {
            const namespace = (pick() ?? "default/x").split("/")[0];
            this.store.create(
                namespace,
                { metadata: { name: `churn-created-${++this.churnCounter}` }, data: { value: Buffer.from("churn").toString("base64") } },
                "churn",
            );
        }
    }
}
