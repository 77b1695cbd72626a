// The small kit both dynamic providers share: what they need from the outside
// (clock, sleep, log, the Alibaba context of the stack's identity), a bounded
// wait/poll helper, typed check failures and Pulumi's own wire markers.
//
// This module runs inside Pulumi's dynamic provider host (plain node, loaded
// from dist/ by the shim in ./shim.ts), so it may use anything Node offers.

import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import type { AlibabaContext } from "../alibaba";
import { stackIdentity } from "../alibaba/identity";

/** What the engine sends for an input that is not known yet (a preview before the key exists). */
export const UNKNOWN_INPUT: string = unknownValue;

export function isUnknown(value: unknown): boolean {
    return value === UNKNOWN_INPUT;
}

export function anyUnknown(inputs: object): boolean {
    return Object.values(inputs).some(isUnknown);
}

/** A check failure as the engine shows it: the input property and what is wrong with it. */
export interface CheckFailure {
    property: string;
    reason: string;
}

/** Everything time- and environment-dependent a provider uses, in one place. */
export interface ProviderRuntime {
    now(): number;
    sleep(ms: number): Promise<void>;
    /** Progress for the engine's log (the host owns stdout for its gRPC handshake). */
    log(line: string): void;
    /** The Alibaba context for a region, acting as the stack's identity (see ../alibaba/identity.ts). */
    alibaba(regionId: string): AlibabaContext;
}

export function defaultRuntime(component: string): ProviderRuntime {
    return {
        now: () => Date.now(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        log: (line) => void process.stderr.write(`[${component}] ${line}\n`),
        alibaba: (regionId) => ({ regionId, identity: stackIdentity() }),
    };
}

/** A wait that ends by a deadline: how often to look and when to give up. */
export interface Deadline {
    pollIntervalMs: number;
    /** Epoch milliseconds. */
    at: number;
    /** How the limit reads in messages, e.g. "30 minute(s)". */
    describe: string;
}

export function deadlineAfter(runtime: ProviderRuntime, pollIntervalSeconds: number, timeoutMinutes: number): Deadline {
    return {
        pollIntervalMs: pollIntervalSeconds * 1000,
        at: runtime.now() + timeoutMinutes * 60_000,
        describe: `${timeoutMinutes} minute(s)`,
    };
}

export type PollVerdict<T> = { done: T } | { failed: string } | { waiting: string };

/**
 * Calls `look` until it says done or failed, sleeping the poll interval between
 * looks; throws `timedOut(lastWaiting)` when the next look would pass the deadline.
 * A look that throws ends the wait (callers decide what is worth retrying inside `look`).
 */
export async function pollUntil<T>(
    runtime: ProviderRuntime,
    deadline: Deadline,
    look: () => Promise<PollVerdict<T>>,
    timedOut: (lastWaiting: string | undefined) => Error,
): Promise<T> {
    let lastWaiting: string | undefined;
    // The deadline bounds the loop; the cap only guards against a clock that stands still.
    const maxLooks = Math.ceil((deadline.at - runtime.now()) / Math.max(deadline.pollIntervalMs, 1)) + 2;
    for (let looks = 0; looks < maxLooks; looks++) {
        const verdict = await look();
        if ("done" in verdict) return verdict.done;
        if ("failed" in verdict) throw new Error(verdict.failed);
        lastWaiting = verdict.waiting;
        if (runtime.now() + deadline.pollIntervalMs > deadline.at) break;
        await runtime.sleep(deadline.pollIntervalMs);
    }
    throw timedOut(lastWaiting);
}

/** Plain `Error`s only: the engine shows `message`, and nothing here may depend on subclass identity. */
export function failuresError(what: string, failures: CheckFailure[]): Error {
    const lines = failures.map((f) => `- ${f.property}: ${f.reason}`);
    return new Error(`${what}; ${failures.length} problem(s):\n${lines.join("\n")}`);
}
