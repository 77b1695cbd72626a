/**
 * The resume checkpoint, handled like a careful Unix tool would:
 *
 * - It belongs to one run: it records the cluster (CA fingerprint, server URL
 *   as a hint), the annotation key and value, a format marker and a checksum.
 *   Anything else found at the path is refused, never overwritten: another
 *   tool's file, an older format, a checkpoint of another cluster or value, or
 *   one edited by hand.
 * - Saved with a random-named temporary file, created exclusively without
 *   following symlinks, fsynced, then renamed over the checkpoint: a SIGKILL
 *   or a full disk leaves the previous checkpoint intact, never a torn file.
 * - A lock file (`<state>.lock`) makes a second run on the same state refuse;
 *   a lock whose process is gone (a killed run) is taken over.
 *
 * It holds no Secret data: the annotation, the list's continue token, counters.
 * File access goes through `CheckpointFileSystem` so tests can inject EROFS or
 * ENOSPC (the suite runs as root, where chmod proves nothing).
 */
import { createHmac, randomBytes } from "node:crypto";
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, promises as nodeFs, openSync, readFileSync, writeSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Marks a file as ours; nothing without it is ever overwritten. */
export const CHECKPOINT_FORMAT = "ask-kms-secret-encryption/reencrypt-checkpoint";
export const STATE_FORMAT_VERSION = 2;

export interface ReencryptCounts {
    listed: number;
    rewritten: number;
    alreadyCurrent: number;
    gone: number;
    /** Written by someone else since listed (409): confirmed in verification. */
    conflicts: number;
    failedCount: number;
    /** PATCH requests sent, retries included. */
    writes: number;
    /** Expired continue tokens (410) met. */
    listRestarts: number;
}

/**
 * Which cluster a run talks to. The CA fingerprint is the identity (one cluster
 * may be reached by its public or its private URL); the server URL is a hint,
 * and the identity only when the kubeconfig names no CA.
 */
export interface ClusterIdentity {
    server: string;
    /** SHA-256 of the cluster CA certificate(s) the client trusts, hex; absent when the kubeconfig names none. */
    caFingerprint?: string;
}

export interface ReencryptState {
    format: typeof CHECKPOINT_FORMAT;
    formatVersion: number;
    cluster: ClusterIdentity;
    annotationKey: string;
    annotationValue: string;
    /** Token to list the page after the last completed one; absent at the start and once the rewrite pass finished. */
    continueToken?: string;
    rewritePassComplete: boolean;
    /** The list snapshot's resourceVersion when the run began, as this cluster reported it (see verification in engine.ts). */
    startResourceVersion?: string;
    startedAt: string;
    savedAt: string;
    /** Everything every run of this checkpoint did so far. */
    totals: ReencryptCounts;
    /** SHA-256 over the other fields: a hand-edited checkpoint is refused. */
    checksum: string;
}

export type CheckpointContent = Omit<ReencryptState, "format" | "formatVersion" | "checksum" | "savedAt">;

export function emptyCounts(): ReencryptCounts {
    return { listed: 0, rewritten: 0, alreadyCurrent: 0, gone: 0, conflicts: 0, failedCount: 0, writes: 0, listRestarts: 0 };
}

export function addCounts(a: ReencryptCounts, b: ReencryptCounts): ReencryptCounts {
    const sum = emptyCounts();
    for (const key of Object.keys(sum) as (keyof ReencryptCounts)[]) sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
    return sum;
}

/** The file operations the checkpoint needs: node's fs.promises, or a test's wrapper that fails on purpose. */
export interface CheckpointFileSystem {
    lstat(p: string): Promise<{ isFile(): boolean; isSymbolicLink(): boolean; mtimeMs?: number }>;
    readFile(p: string, encoding: "utf8"): Promise<string>;
    open(
        p: string,
        flags: number,
        mode: number,
    ): Promise<{ writeFile(data: string, encoding: "utf8"): Promise<void>; sync(): Promise<void>; close(): Promise<void> }>;
    rename(from: string, to: string): Promise<void>;
    unlink(p: string): Promise<void>;
}

export const nodeFileSystem: CheckpointFileSystem = nodeFs as unknown as CheckpointFileSystem;

/** A checkpoint problem the run cannot go past: the message names the file and what to do. */
export class CheckpointError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CheckpointError";
    }
}

const LOCK_SUFFIX = ".lock";
const TAKEOVER_SUFFIX = ".takeover";
// A takeover takes milliseconds; a marker this old was left by a run killed in the middle of one.
const STALE_TAKEOVER_MS = 60_000;

interface LockRecord {
    kind: "ours";
    pid: number;
    host: string;
    since: string;
    procStart?: string;
}
// O_NOFOLLOW is POSIX; where it is missing (Windows) O_EXCL alone still refuses an existing symlink.
const CREATE_EXCLUSIVE = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0);
const START_OVER = "Secrets already annotated are skipped, so starting over costs only the list";

export function sameCluster(a: ClusterIdentity, b: ClusterIdentity): boolean {
    if (a.caFingerprint && b.caFingerprint) return a.caFingerprint === b.caFingerprint;
    return !a.caFingerprint && !b.caFingerprint && a.server === b.server;
}

/** A cluster identity for messages: its CA fingerprint and where it was seen. */
export function clusterIdentityInWords(c: ClusterIdentity): string {
    return c.caFingerprint
        ? `the cluster with CA sha256:${c.caFingerprint.slice(0, 16)}… (seen at ${c.server})`
        : `the cluster at ${c.server} (no CA configured)`;
}

/**
 * The checksum is an HMAC under a key kept outside the state file (private to the user), so a
 * checkpoint cannot be forged or edited by anyone who can only write the state file: a plain hash
 * anyone can recompute, and a forged start revision would "verify" Secrets nobody rewrote.
 */
function checksumOf(state: Omit<ReencryptState, "checksum">, key: Buffer): string {
    return createHmac("sha256", key).update(JSON.stringify(state)).digest("hex");
}

/** Where the checkpoint key lives: $ASK_REENCRYPT_KEY_FILE, else ~/.ask-kms-secret-encryption/checkpoint.key. */
export function defaultCheckpointKeyFile(): string {
    return process.env.ASK_REENCRYPT_KEY_FILE || path.join(os.homedir(), ".ask-kms-secret-encryption", "checkpoint.key");
}

/** Reads the checkpoint key, creating it (32 random bytes, 0600, exclusively, no symlink followed) on first use. */
export function checkpointKey(file: string): Buffer {
    const advice = "set ASK_REENCRYPT_KEY_FILE to a file in a private directory you can write to";
    for (let attempt = 1; attempt <= 2; attempt++) {
        try {
            const stat = lstatSync(file);
            if (!stat.isFile() || stat.size !== 64) throw new CheckpointError(`the checkpoint key ${file} is not a key file of this tool; ${advice}`);
            const text = readFileSync(file, "utf8");
            if (!/^[0-9a-f]{64}$/.test(text)) throw new CheckpointError(`the checkpoint key ${file} is not a key file of this tool; ${advice}`);
            return Buffer.from(text, "hex");
        } catch (err) {
            if (err instanceof CheckpointError) throw err;
            if ((err as NodeJS.ErrnoException).code !== "ENOENT")
                throw new CheckpointError(`cannot read the checkpoint key ${file}: ${errnoText(err)}; ${advice}`);
        }
        try {
            mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
            const fd = openSync(file, CREATE_EXCLUSIVE, 0o600);
            try {
                writeSync(fd, randomBytes(32).toString("hex"));
                fsyncSync(fd);
            } finally {
                closeSync(fd);
            }
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST")
                throw new CheckpointError(`cannot create the checkpoint key ${file}: ${errnoText(err)}; ${advice}`);
            // another run created it at the same moment: read theirs
        }
    }
    throw new CheckpointError(`cannot read the checkpoint key ${file}; ${advice}`);
}

/** One run's checkpoint file and its lock. */
export class Checkpoint {
    private lockHeld = false;

    private key?: Buffer;

    constructor(
        readonly statePath: string,
        private readonly fs: CheckpointFileSystem = nodeFileSystem,
        private readonly now: () => number = Date.now,
        private readonly keyFile: string = defaultCheckpointKeyFile(),
    ) {}

    private hmacKey(): Buffer {
        this.key ??= checkpointKey(this.keyFile);
        return this.key;
    }

    private get lockPath(): string {
        return this.statePath + LOCK_SUFFIX;
    }

    /**
     * Reads the checkpoint, if any, and refuses one this run must not continue
     * or overwrite. Returns undefined when there is none.
     */
    async load(expected: { cluster: ClusterIdentity; annotationKey: string; annotationValue: string }): Promise<ReencryptState | undefined> {
        const file = this.statePath;
        let stat;
        try {
            stat = await this.fs.lstat(file);
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
            throw new CheckpointError(`cannot read state file ${file}: ${errnoText(err)}`);
        }
        if (stat.isSymbolicLink()) throw new CheckpointError(`state file ${file} is a symbolic link; refusing to follow it: give the real path`);
        if (!stat.isFile()) throw new CheckpointError(`state file ${file} exists and is not a regular file; use another state file path`);
        let text: string;
        try {
            text = await this.fs.readFile(file, "utf8");
        } catch (err) {
            throw new CheckpointError(`cannot read state file ${file}: ${errnoText(err)}`);
        }
        const notOurs = `${file} exists and is not a re-encryption checkpoint; refusing to overwrite it: use another state file path`;
        let parsed: Partial<ReencryptState> & Record<string, unknown>;
        try {
            parsed = JSON.parse(text) as typeof parsed;
        } catch {
            throw new CheckpointError(notOurs);
        }
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new CheckpointError(notOurs);
        if (parsed.format !== CHECKPOINT_FORMAT) {
            if (parsed.formatVersion === 1 && typeof parsed.annotationValue === "string") {
                throw new CheckpointError(
                    `state file ${file} is a checkpoint in an older format (1), which does not record its cluster; it is left as it is: ` +
                        `finish that run with the version that wrote it, or delete the file to start over (${START_OVER})`,
                );
            }
            throw new CheckpointError(notOurs);
        }
        if (parsed.formatVersion !== STATE_FORMAT_VERSION) {
            throw new CheckpointError(
                `state file ${file} is a checkpoint in format ${String(parsed.formatVersion)}, this tool reads format ${STATE_FORMAT_VERSION}; ` +
                    `finish that run with the version that wrote it, or delete the file to start over (${START_OVER})`,
            );
        }
        const { checksum, ...rest } = parsed as ReencryptState;
        if (typeof checksum !== "string" || checksumOf(rest, this.hmacKey()) !== checksum || !wellFormed(parsed)) {
            throw new CheckpointError(
                `state file ${file} was modified after the run saved it, or saved by another user or machine (its checksum does not match ` +
                    `this user's checkpoint key ${this.keyFile}); it cannot be trusted: delete it to start over (${START_OVER})`,
            );
        }
        const state = parsed as ReencryptState;
        if (!sameCluster(state.cluster, expected.cluster)) {
            throw new CheckpointError(
                `state file ${file} belongs to ${clusterIdentityInWords(state.cluster)}, but this run talks to ${clusterIdentityInWords(expected.cluster)}; ` +
                    `check which cluster the kubeconfig and context point at, or use another state file for this cluster`,
            );
        }
        if (state.annotationKey !== expected.annotationKey || state.annotationValue !== expected.annotationValue) {
            throw new CheckpointError(
                `state file ${file} belongs to a run writing ${state.annotationKey}=${state.annotationValue}, this run writes ` +
                    `${expected.annotationKey}=${expected.annotationValue}; finish that run with the same annotation key and value, ` +
                    `use another state file, or delete it (${START_OVER})`,
            );
        }
        return state;
    }

    /** Writes the checkpoint: random temp name, exclusive create without following symlinks, fsync, rename, directory fsync. */
    async save(content: CheckpointContent): Promise<void> {
        const body: Omit<ReencryptState, "checksum"> = {
            format: CHECKPOINT_FORMAT,
            formatVersion: STATE_FORMAT_VERSION,
            ...content,
            savedAt: new Date(this.now()).toISOString(),
        };
        const state: ReencryptState = { ...body, checksum: checksumOf(body, this.hmacKey()) };
        const dir = path.dirname(this.statePath);
        const tmpPath = path.join(dir, `.${path.basename(this.statePath)}.${randomBytes(8).toString("hex")}.tmp`);
        let created = false;
        try {
            const handle = await this.fs.open(tmpPath, CREATE_EXCLUSIVE, 0o600);
            created = true;
            try {
                await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, "utf8");
                await handle.sync();
            } finally {
                await handle.close();
            }
            await this.fs.rename(tmpPath, this.statePath);
            created = false;
        } catch (err) {
            if (created) await this.fs.unlink(tmpPath).catch(() => undefined);
            throw new CheckpointError(`cannot save the checkpoint ${this.statePath}: ${errnoText(err)}; ${saveAdvice(err, dir)}`);
        }
        await syncDirectory(dir);
    }

    /** Deletes a finished run's checkpoint: nothing to resume, and nothing stale to mislead a later run. */
    async remove(): Promise<void> {
        await this.fs.unlink(this.statePath).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== "ENOENT") throw err;
        });
    }

    /** Takes the lock; a second run refuses, a lock left by a process that is gone is taken over (by one run only). */
    async lock(): Promise<void> {
        const record = JSON.stringify({
            pid: process.pid,
            host: os.hostname(),
            since: new Date(this.now()).toISOString(),
            procStart: processStartTicks(process.pid),
        });
        for (let attempt = 1; attempt <= 2; attempt++) {
            if (await this.createExclusive(this.lockPath, record)) {
                this.lockHeld = true;
                return;
            }
            const holder = await this.readLock();
            if (holder.kind === "foreign") {
                throw new CheckpointError(`${this.lockPath} exists and is not a lock of this tool; use another state file path`);
            }
            if (holder.kind === "empty") {
                throw new CheckpointError(
                    `the lock ${this.lockPath} is empty (a run killed while taking it?); if no run uses ${this.statePath}, delete ${this.lockPath}`,
                );
            }
            if (attempt === 1 && holder.host === os.hostname() && !processAlive(holder.pid, holder.procStart)) {
                await this.takeOver(holder);
                continue;
            }
            throw new CheckpointError(
                `state file ${this.statePath} is in use by another run (process ${holder.pid} on ${holder.host}, since ${holder.since}); ` +
                    `wait for it to finish or stop it (Ctrl-C saves its checkpoint). If no such run exists, delete ${this.lockPath}`,
            );
        }
    }

    /**
     * Removes a dead run's lock. Several runs may find the same dead lock at once: a marker created
     * exclusively lets one of them remove it, and only if it is still the dead run's lock.
     */
    private async takeOver(dead: LockRecord): Promise<void> {
        const marker = `${this.lockPath}${TAKEOVER_SUFFIX}`;
        if (!(await this.createExclusive(marker, String(process.pid)))) {
            // A marker left by a run killed in these few milliseconds must not block every later run.
            const stat = await this.fs.lstat(marker).catch(() => undefined);
            if (stat?.mtimeMs === undefined || this.now() - stat.mtimeMs < STALE_TAKEOVER_MS) return; // another run is taking over
            await this.fs.unlink(marker).catch(() => undefined);
            if (!(await this.createExclusive(marker, String(process.pid)))) return;
        }
        try {
            const current = await this.readLock();
            if (current.kind === "ours" && current.pid === dead.pid && current.since === dead.since) await this.fs.unlink(this.lockPath);
        } finally {
            await this.fs.unlink(marker).catch(() => undefined);
        }
    }

    /** Creates `file` exclusively with `content`: false when it exists; a failed write leaves nothing behind. */
    private async createExclusive(file: string, content: string): Promise<boolean> {
        let handle: Awaited<ReturnType<CheckpointFileSystem["open"]>>;
        try {
            handle = await this.fs.open(file, CREATE_EXCLUSIVE, 0o600);
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
            throw new CheckpointError(
                `cannot create the lock ${file} next to the checkpoint: ${errnoText(err)}; ${saveAdvice(err, path.dirname(this.statePath))}`,
            );
        }
        try {
            await handle.writeFile(content, "utf8");
        } catch (err) {
            await handle.close().catch(() => undefined);
            await this.fs.unlink(file).catch(() => undefined);
            throw new CheckpointError(`cannot write the lock ${file}: ${errnoText(err)}; ${saveAdvice(err, path.dirname(this.statePath))}`);
        }
        await handle.close();
        return true;
    }

    async unlock(): Promise<void> {
        if (!this.lockHeld) return;
        this.lockHeld = false;
        await this.fs.unlink(this.lockPath).catch(() => undefined);
    }

    private async readLock(): Promise<LockRecord | { kind: "empty" } | { kind: "foreign" }> {
        let text: string;
        try {
            const stat = await this.fs.lstat(this.lockPath);
            if (!stat.isFile()) return { kind: "foreign" };
            text = await this.fs.readFile(this.lockPath, "utf8");
        } catch {
            return { kind: "foreign" };
        }
        if (text.trim() === "") return { kind: "empty" };
        try {
            const parsed = JSON.parse(text) as { pid?: unknown; host?: unknown; since?: unknown; procStart?: unknown };
            if (typeof parsed.pid === "number" && typeof parsed.host === "string") {
                const procStart = typeof parsed.procStart === "string" ? parsed.procStart : undefined;
                return { kind: "ours", pid: parsed.pid, host: parsed.host, since: String(parsed.since), procStart };
            }
        } catch {
            // not our JSON
        }
        return { kind: "foreign" };
    }
}

function wellFormed(s: Partial<ReencryptState>): boolean {
    return (
        typeof s.cluster === "object" &&
        s.cluster !== null &&
        typeof s.cluster.server === "string" &&
        typeof s.annotationKey === "string" &&
        typeof s.annotationValue === "string" &&
        typeof s.rewritePassComplete === "boolean" &&
        typeof s.startedAt === "string" &&
        typeof s.totals === "object" &&
        s.totals !== null &&
        (s.continueToken === undefined || typeof s.continueToken === "string") &&
        (s.startResourceVersion === undefined || typeof s.startResourceVersion === "string")
    );
}

/**
 * Whether the lock holder still runs. A killed process can linger as a zombie until its parent
 * reaps it, and its pid can be reused later: on Linux /proc tells both apart (state Z/X, and the
 * process start time recorded in the lock); elsewhere signal 0 is all there is.
 */
function processAlive(pid: number, procStart?: string): boolean {
    try {
        process.kill(pid, 0);
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by someone else
    }
    const stat = procStat(pid);
    if (!stat) return true;
    if (stat.state === "Z" || stat.state === "X") return false;
    return procStart === undefined || stat.startTicks === procStart;
}

/** State and start time (in clock ticks since boot) from /proc/<pid>/stat; undefined off Linux. */
function procStat(pid: number): { state: string; startTicks: string } | undefined {
    try {
        const text = readFileSync(`/proc/${pid}/stat`, "utf8");
        // After the command name in parentheses (which may itself hold spaces or parentheses): state is field 3, starttime field 22.
        const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
        return { state: fields[0], startTicks: fields[19] };
    } catch {
        return undefined;
    }
}

function processStartTicks(pid: number): string | undefined {
    return procStat(pid)?.startTicks;
}

function errnoText(err: unknown): string {
    const e = err as NodeJS.ErrnoException;
    const plain: Record<string, string> = {
        ENOSPC: "no space left on the device",
        EDQUOT: "disk quota exceeded",
        EROFS: "the file system is read-only",
        EACCES: "permission denied",
        EPERM: "operation not permitted",
        ENOENT: "the directory does not exist",
        ELOOP: "a symbolic link is in the way",
        EEXIST: "a file is in the way",
        EISDIR: "it is a directory",
    };
    return (e?.code && plain[e.code]) ?? e?.code ?? String(err);
}

function saveAdvice(err: unknown, dir: string): string {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === "ENOSPC" || code === "EDQUOT") return `free space in ${dir} and run again with the same state file to continue from the last saved checkpoint`;
    return `use a state file in a directory you can write to (checked: ${dir})`;
}

/** Makes the rename itself durable across a power loss; not possible on every platform, so best effort. */
async function syncDirectory(dir: string): Promise<void> {
    let handle: nodeFs.FileHandle | undefined;
    try {
        handle = await nodeFs.open(dir, "r");
        await handle.sync();
    } catch {
        // e.g. Windows cannot open a directory for fsync; the rename is still atomic.
    } finally {
        await handle?.close();
    }
}
