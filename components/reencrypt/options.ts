/** The engine's options with their defaults, checked once; and the abortable sleep every wait uses. */
import { annotationKeyProblem, annotationValueProblem, DEFAULT_ANNOTATION_KEY, REENCRYPT_LIMITS, REENCRYPT_TUNING } from "../config";
import { ReencryptOptions } from "./types";

export type ResolvedOptions = Required<Omit<ReencryptOptions, "statePath" | "onProgress" | "signal" | "checkpointFileSystem" | "checkpointKeyFile">> &
    Pick<ReencryptOptions, "statePath" | "onProgress" | "signal" | "checkpointFileSystem" | "checkpointKeyFile">;

/** The longest a timer can wait (2^31-1 ms); longer waits would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

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
        ...REENCRYPT_LIMITS,
        errorBudget: REENCRYPT_TUNING.errorBudget.default,
        stallTimeoutMs: REENCRYPT_TUNING.stallTimeoutSeconds.default * 1000,
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

function positiveInteger(name: string, value: number): string | undefined {
    return Number.isInteger(value) && value > 0 ? undefined : `${name} must be a positive integer, got ${value}`;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
