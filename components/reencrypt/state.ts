/**
 * The resume checkpoint. Saved after every completed page with write-to-temp,
 * fsync, rename: a SIGKILL leaves either the previous or the new checkpoint,
 * never a torn file. It holds no Secret data: the annotation, the list's
 * continue token and counters.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";

export const STATE_FORMAT_VERSION = 1;

export interface ReencryptCounts {
    listed: number;
    rewritten: number;
    alreadyCurrent: number;
    gone: number;
    conflicts: number;
    failedCount: number;
    writes: number;
    listRestarts: number;
}

export interface ReencryptState {
    formatVersion: number;
    annotationKey: string;
    annotationValue: string;
    /** Token to list the page after the last completed one; absent once the rewrite pass finished. */
    continueToken?: string;
    rewritePassComplete: boolean;
    /** The list snapshot's resourceVersion when the run began (see verification in engine.ts). */
    startResourceVersion?: string;
    startedAt: string;
    savedAt: string;
    counts: ReencryptCounts;
}

export function emptyCounts(): ReencryptCounts {
    return { listed: 0, rewritten: 0, alreadyCurrent: 0, gone: 0, conflicts: 0, failedCount: 0, writes: 0, listRestarts: 0 };
}

export type LoadedState = { kind: "none" } | { kind: "resume"; state: ReencryptState } | { kind: "startOver"; why: string };

/** Read the checkpoint and decide whether this run resumes it. */
export async function loadState(statePath: string, annotationKey: string, annotationValue: string): Promise<LoadedState> {
    let text: string;
    try {
        text = await fs.readFile(statePath, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "none" };
        throw new Error(`cannot read state file ${statePath}: ${(err as Error).message}`);
    }
    let parsed: Partial<ReencryptState>;
    try {
        parsed = JSON.parse(text) as Partial<ReencryptState>;
    } catch {
        return { kind: "startOver", why: `state file ${statePath} is not valid JSON; starting over (Secrets already annotated are skipped)` };
    }
    if (parsed.formatVersion !== STATE_FORMAT_VERSION || typeof parsed.annotationValue !== "string" || typeof parsed.startedAt !== "string") {
        return { kind: "startOver", why: `state file ${statePath} has an unknown format; starting over (Secrets already annotated are skipped)` };
    }
    if (parsed.annotationKey !== annotationKey || parsed.annotationValue !== annotationValue) {
        return {
            kind: "startOver",
            why: `state file ${statePath} belongs to ${parsed.annotationKey}=${parsed.annotationValue}, this run is ${annotationKey}=${annotationValue}; starting over`,
        };
    }
    return { kind: "resume", state: { ...parsed, counts: { ...emptyCounts(), ...parsed.counts } } as ReencryptState };
}

/** Deletes a finished run's checkpoint: nothing to resume, and nothing stale to mislead a later run. */
export async function removeState(statePath: string): Promise<void> {
    await fs.rm(statePath, { force: true });
}

export async function saveStateAtomically(statePath: string, state: ReencryptState): Promise<void> {
    // A fixed temporary name: a run killed mid-save leaves at most this one file, which the next save overwrites.
    const tmpPath = path.join(path.dirname(statePath), `.${path.basename(statePath)}.tmp`);
    const handle = await fs.open(tmpPath, "w", 0o600);
    try {
        await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, "utf8");
        await handle.sync();
    } finally {
        await handle.close();
    }
    await fs.rename(tmpPath, statePath);
    await syncDirectory(path.dirname(statePath));
}

/** Makes the rename itself durable across a power loss; not possible on every platform, so best effort. */
async function syncDirectory(dir: string): Promise<void> {
    let handle: fs.FileHandle | undefined;
    try {
        handle = await fs.open(dir, "r");
        await handle.sync();
    } catch {
        // e.g. Windows cannot open a directory for fsync; the rename is still atomic.
    } finally {
        await handle?.close();
    }
}
