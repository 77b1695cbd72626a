/**
 * Our own runner for kubeconfig exec credential plugins (`users[].user.exec`),
 * used by the light kubeconfig loader instead of client-node's ExecAuth.
 *
 * The contract is client-go's, API group client.authentication.k8s.io, versions
 * v1 and v1beta1 (v1alpha1 was removed in Kubernetes 1.24):
 *   https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
 *   https://kubernetes.io/docs/reference/config-api/client-authentication.v1/
 *   https://kubernetes.io/docs/reference/config-api/client-authentication.v1beta1/
 * - the command runs with the kubeconfig's `args`, and its `env` list merged over
 *   our environment, plus KUBERNETES_EXEC_INFO: an ExecCredential request of the
 *   configured apiVersion whose spec says `interactive: false` (and carries the
 *   cluster when the kubeconfig sets `provideClusterInfo: true`);
 * - `interactiveMode`: Never / IfAvailable (v1beta1's default) / Always; required
 *   for v1. We never give the plugin a terminal (stdin is ignored, and the plugin
 *   runs in its own session, without a controlling terminal), so "Always" cannot
 *   be honoured and is refused up front, as client-go does without a terminal;
 * - the plugin prints an ExecCredential of the SAME apiVersion on stdout, whose
 *   `status` holds a `token`, or `clientCertificateData` + `clientKeyData` (PEM),
 *   and optionally `expirationTimestamp` (RFC 3339); the credential is used
 *   until then, or until the API server answers 401 (`invalidate()`).
 *
 * What client-node's ExecAuth lacks and this adds: a total timeout that kills the
 * plugin (and whatever it started: its process group), an abort signal, bounded
 * output, validation of the output, and errors that never echo anything the
 * plugin printed, on stdout or stderr, since both may hold credentials.
 */
import { spawn } from "node:child_process";

/** How long one plugin run may take, in total, before it is killed. */
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
/** Largest stdout accepted from a plugin; an ExecCredential is a few KB. */
export const EXEC_STDOUT_LIMIT_BYTES = 1024 * 1024;
/** After SIGTERM, how long the plugin has to exit before SIGKILL. */
export const EXEC_KILL_GRACE_MS = 2_000;
/** A cached credential is renewed this long before its expirationTimestamp. */
export const EXEC_EXPIRY_MARGIN_MS = 10_000;

export const EXEC_API_VERSIONS = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"] as const;
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];
export type ExecInteractiveMode = "Never" | "IfAvailable" | "Always";

/** A kubeconfig user's `exec` section, validated. */
export interface ExecConfig {
    command: string;
    args: string[];
    env: Array<{ name: string; value: string }>;
    apiVersion: ExecApiVersion;
    interactiveMode: ExecInteractiveMode;
    provideClusterInfo: boolean;
    /** Shown when the command is not found, as kubectl does. */
    installHint?: string;
}

/** `spec.cluster` of the request, sent when the kubeconfig sets provideClusterInfo. Field names are the API's. */
export interface ExecClusterInfo {
    server: string;
    "tls-server-name"?: string;
    "insecure-skip-tls-verify"?: boolean;
    /** Base64 of the PEM bytes (the API's []byte). */
    "certificate-authority-data"?: string;
    "proxy-url"?: string;
}

/** What a plugin returned, validated: a token, a client certificate and key, or both. */
export interface ExecCredentialStatus {
    token?: string;
    clientCertificateData?: string;
    clientKeyData?: string;
    expirationTimestamp?: string;
}

export interface ExecRunOptions {
    /** Total time for one run; default DEFAULT_EXEC_TIMEOUT_MS. */
    timeoutMs?: number;
    /** Aborting kills a running plugin and fails the call. */
    signal?: AbortSignal;
    /** Default EXEC_STDOUT_LIMIT_BYTES. */
    stdoutLimitBytes?: number;
    /** Default EXEC_KILL_GRACE_MS. */
    killGraceMs?: number;
}

export interface ExecCredentialOptions extends ExecRunOptions {
    /** Default EXEC_EXPIRY_MARGIN_MS. */
    expiryMarginMs?: number;
    /** Clock for the cache; default Date.now. */
    now?: () => number;
}

export type ExecFailure =
    | "config" // the kubeconfig's exec section is unusable
    | "interactive" // interactiveMode: Always
    | "not-found" // the command does not exist / is not executable
    | "spawn" // the command could not be started for another reason
    | "timeout"
    | "aborted"
    | "exit" // non-zero exit or killed by a signal
    | "output-too-large"
    | "invalid-output";

/** A plugin run that failed. The message is safe to print: it never holds plugin output (stdout or stderr) or kubeconfig secrets. */
export class ExecCredentialError extends Error {
    constructor(
        message: string,
        readonly reason: ExecFailure,
    ) {
        super(message);
        this.name = "ExecCredentialError";
    }
}

const NOT_SHOWN = "is not shown, as it may hold credentials";

/** Printable, bounded form of a kubeconfig string (a command name, a hint): no control characters. */
function printable(text: string, max = 200): string {
    // eslint-disable-next-line no-control-regex -- strip terminal control characters from kubeconfig text before printing it
    const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
    return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function pluginLabel(userName: string, command: string): string {
    return `exec credential plugin "${printable(command)}" of user "${printable(userName)}"`;
}

/**
 * Validates a kubeconfig user's raw `exec` section. `where` names the kubeconfig
 * (e.g. `kubeconfig /home/me/.kube/config`). Errors name the field, never its value.
 */
export function parseExecConfig(raw: unknown, userName: string, where: string): ExecConfig {
    const fail = (problem: string, fix: string): never => {
        throw new ExecCredentialError(`the exec section of user "${printable(userName)}" in ${where} ${problem}; ${fix}`, "config");
    };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("is not a mapping", "see kubectl's exec credential plugin documentation");
    const exec = raw as Record<string, unknown>;
    if (typeof exec.command !== "string" || exec.command.trim() === "") fail("has no command", "set exec.command to the plugin to run");
    const command = exec.command as string;
    const apiVersion = exec.apiVersion;
    if (typeof apiVersion !== "string" || !(EXEC_API_VERSIONS as readonly string[]).includes(apiVersion)) {
        fail(
            typeof apiVersion === "string" ? "asks for an apiVersion this tool does not support" : "has no apiVersion",
            `set exec.apiVersion to ${EXEC_API_VERSIONS.join(" or ")} (whichever the plugin prints)`,
        );
    }
    const args = exec.args ?? [];
    if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) fail("has args that are not a list of strings", "quote each argument");
    const env = exec.env ?? [];
    if (
        !Array.isArray(env) ||
        env.some(
            (e) =>
                typeof e !== "object" ||
                e === null ||
                typeof (e as { name?: unknown }).name !== "string" ||
                typeof (e as { value?: unknown }).value !== "string",
        )
    ) {
        fail("has an env that is not a list of {name, value} strings", "quote each name and value");
    }
    let interactiveMode = exec.interactiveMode;
    if (interactiveMode === undefined || interactiveMode === null || interactiveMode === "") {
        // v1 requires the field (client-go refuses the kubeconfig without it); v1beta1 defaults to IfAvailable.
        if (apiVersion === "client.authentication.k8s.io/v1") fail("has no interactiveMode, which apiVersion v1 requires", "add interactiveMode: Never");
        interactiveMode = "IfAvailable";
    }
    if (interactiveMode !== "Never" && interactiveMode !== "IfAvailable" && interactiveMode !== "Always") {
        fail("has an interactiveMode other than Never, IfAvailable or Always", "set interactiveMode: Never");
    }
    const provide = exec.provideClusterInfo ?? false;
    if (typeof provide !== "boolean") fail("has a provideClusterInfo that is not true or false", "set it to true or false");
    const hint = exec.installHint;
    return {
        command,
        args: args as string[],
        env: (env as Array<{ name: string; value: string }>).map(({ name, value }) => ({ name, value })),
        apiVersion: apiVersion as ExecApiVersion,
        interactiveMode: interactiveMode as ExecInteractiveMode,
        provideClusterInfo: provide as boolean,
        installHint: typeof hint === "string" && hint.trim() ? hint.trim() : undefined,
    };
}

/**
 * Runs the plugin once (no cache) and returns its validated credential.
 * Rejects with ExecCredentialError; the process (group) is killed on timeout, abort and oversized output.
 */
export function runExecCredentialPlugin(
    userName: string,
    config: ExecConfig,
    options: ExecRunOptions & { cluster?: ExecClusterInfo } = {},
): Promise<ExecCredentialStatus> {
    const label = pluginLabel(userName, config.command);
    // setTimeout's ceiling is 2^31-1 ms (about 24.8 days); beyond it, it fires at once.
    const timeoutMs = Math.min(options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS, 2 ** 31 - 1);
    const stdoutLimit = options.stdoutLimitBytes ?? EXEC_STDOUT_LIMIT_BYTES;
    const killGraceMs = options.killGraceMs ?? EXEC_KILL_GRACE_MS;
    const signal = options.signal;

    if (config.interactiveMode === "Always") {
        return Promise.reject(
            new ExecCredentialError(
                `${label} needs an interactive terminal (interactiveMode: Always), which this tool never provides; ` +
                    "log in by hand first, or use a kubeconfig whose plugin runs with interactiveMode: Never or IfAvailable",
                "interactive",
            ),
        );
    }
    if (!(timeoutMs > 0)) {
        return Promise.reject(new ExecCredentialError(`${label} was not started: its timeout must be a positive number of milliseconds`, "config"));
    }
    if (signal?.aborted) return Promise.reject(new ExecCredentialError(`${label} was not started: the run was cancelled`, "aborted"));

    const request: Record<string, unknown> = { apiVersion: config.apiVersion, kind: "ExecCredential", spec: { interactive: false } };
    if (config.provideClusterInfo && options.cluster) (request.spec as Record<string, unknown>).cluster = options.cluster;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const { name, value } of config.env) env[name] = value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(request);

    return new Promise<ExecCredentialStatus>((resolve, reject) => {
        // Own process group (POSIX): a timeout or abort kills the plugin and anything it started, and the plugin has
        // no controlling terminal to prompt on. Windows has no process groups; there the plugin alone is killed.
        const ownGroup = process.platform !== "win32";
        let child: ReturnType<typeof spawn>;
        try {
            child = spawn(config.command, config.args, { env, stdio: ["ignore", "pipe", "pipe"], detached: ownGroup, windowsHide: true });
        } catch (err) {
            reject(spawnError(label, config, err));
            return;
        }
        if (ownGroup && child.pid !== undefined) trackGroup(child.pid);
        const stdout: Buffer[] = [];
        let stdoutBytes = 0;
        let stderrBytes = 0;
        let settled = false;
        let killTimer: NodeJS.Timeout | undefined;

        const cleanup = () => {
            clearTimeout(deadline);
            signal?.removeEventListener("abort", onAbort);
        };
        const settle = (error: ExecCredentialError | undefined, value?: ExecCredentialStatus) => {
            if (settled) return;
            settled = true;
            cleanup();
            if (error) reject(error);
            else resolve(value as ExecCredentialStatus);
        };
        const sendSignal = (sig: NodeJS.Signals) => {
            try {
                if (ownGroup && child.pid !== undefined) process.kill(-child.pid, sig);
                else child.kill(sig);
            } catch {
                // ESRCH: already gone.
            }
        };
        const kill = () => {
            // Closing our ends of the pipes means a grandchild that kept them open cannot hold this process alive.
            child.stdout?.destroy();
            child.stderr?.destroy();
            if (child.pid === undefined) return;
            sendSignal("SIGTERM");
            killTimer ??= setTimeout(() => {
                sendSignal("SIGKILL");
                liveGroups.delete(child.pid as number);
            }, killGraceMs);
        };
        const fail = (message: string, reason: ExecFailure) => {
            if (settled) return;
            settle(new ExecCredentialError(message, reason));
            kill();
        };

        const deadline = setTimeout(
            () =>
                fail(
                    `${label} did not finish within ${formatMs(timeoutMs)} and was stopped; it may be waiting for a login or for input ` +
                        `(its output ${NOT_SHOWN}): run the command by hand to see, or raise the exec plugin timeout`,
                    "timeout",
                ),
            timeoutMs,
        );
        const onAbort = () => fail(`${label} was stopped: the run was cancelled`, "aborted");
        signal?.addEventListener("abort", onAbort, { once: true });

        child.stdout?.on("data", (chunk: Buffer) => {
            stdoutBytes += chunk.length;
            if (stdoutBytes > stdoutLimit) {
                fail(
                    `${label} printed more than ${stdoutLimit} bytes on stdout, which is not an ExecCredential; run the command by hand to see what it prints`,
                    "output-too-large",
                );
                return;
            }
            stdout.push(chunk);
        });
        child.stderr?.on("data", (chunk: Buffer) => {
            // Drained so the plugin never blocks on a full pipe, and counted; its content is neither kept nor shown.
            stderrBytes += chunk.length;
        });
        child.on("error", (err) => {
            settle(spawnError(label, config, err));
            kill();
        });
        child.on("exit", () => {
            // Once stopped by us, the group is SIGKILLed after the grace period if anything of it is still alive; a plugin
            // that exited on its own is left alone, and so is whatever it left running.
            const lingering = killTimer !== undefined && ownGroup && groupAlive(child.pid);
            if (killTimer && !lingering) clearTimeout(killTimer);
            if (!lingering && child.pid !== undefined) liveGroups.delete(child.pid);
        });
        child.on("close", (code, exitSignal) => {
            if (settled) return;
            if (code !== 0) {
                const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
                const said = stderrBytes > 0 ? `its stderr (${stderrBytes} bytes) ${NOT_SHOWN}` : "it wrote nothing to stderr";
                settle(new ExecCredentialError(`${label} ${how}; ${said}: run the command by hand to see why, and check that you are logged in`, "exit"));
                return;
            }
            try {
                settle(undefined, parseExecCredential(Buffer.concat(stdout), config.apiVersion, label));
            } catch (err) {
                settle(err as ExecCredentialError);
            }
        });
    });
}

function spawnError(label: string, config: ExecConfig, err: unknown): ExecCredentialError {
    const code = (err as { code?: unknown })?.code;
    const hint = config.installHint ? `; ${printable(config.installHint, 500)}` : "";
    const command = printable(config.command);
    if (code === "ENOENT") {
        const where = /[\\/]/.test(config.command) ? "does not exist" : "not found on PATH";
        return new ExecCredentialError(
            `${label} could not run: command ${command} ${where}${hint || "; install it, or fix exec.command in the kubeconfig"}`,
            "not-found",
        );
    }
    if (code === "EACCES") {
        return new ExecCredentialError(`${label} could not run: command ${command} is not executable${hint || "; check its file permissions"}`, "not-found");
    }
    const why = typeof code === "string" ? ` (${code})` : "";
    return new ExecCredentialError(`${label} could not be started${why}; check exec.command and exec.args in the kubeconfig`, "spawn");
}

/**
 * Process groups of plugins started and not yet seen to end. The plugin does not share our terminal's process group,
 * so a Ctrl-C that ends this process would not reach it: on exit, whatever is left is killed.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function trackGroup(pid: number): void {
    liveGroups.add(pid);
    if (exitHookInstalled) return;
    exitHookInstalled = true;
    process.on("exit", () => {
        for (const group of liveGroups) {
            try {
                process.kill(-group, "SIGKILL");
            } catch {
                // already gone
            }
        }
    });
}

/** Whether any process of the group led by `pid` still exists. */
function groupAlive(pid: number | undefined): boolean {
    if (pid === undefined) return false;
    try {
        process.kill(-pid, 0);
        return true;
    } catch (err) {
        return (err as { code?: string }).code === "EPERM";
    }
}

function formatMs(ms: number): string {
    return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Validates a plugin's stdout. Errors describe the shape only: nothing of the output is repeated. */
export function parseExecCredential(stdout: Buffer, apiVersion: ExecApiVersion, label: string): ExecCredentialStatus {
    const invalid = (problem: string) =>
        new ExecCredentialError(`${label} ${problem}, so it gave no usable credential; run the command by hand to see what it prints`, "invalid-output");
    let doc: unknown;
    try {
        doc = JSON.parse(stdout.toString("utf8"));
    } catch {
        // JSON.parse's message quotes the text around the error: never pass it on.
        throw invalid(
            stdout.length === 0
                ? "printed nothing on stdout"
                : `printed ${stdout.length} bytes on stdout that are not JSON (not shown, as they may hold credentials)`,
        );
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw invalid("printed JSON that is not an object");
    const obj = doc as Record<string, unknown>;
    if (obj.apiVersion !== apiVersion) {
        throw invalid(`printed an ExecCredential whose apiVersion is not ${apiVersion}, the one the kubeconfig's exec.apiVersion names (they must match)`);
    }
    if (obj.kind !== "ExecCredential") throw invalid('printed an object whose kind is not "ExecCredential"');
    const status = obj.status;
    if (typeof status !== "object" || status === null || Array.isArray(status)) throw invalid("printed an ExecCredential without a status object");
    const s = status as Record<string, unknown>;
    const optionalString = (field: string): string | undefined => {
        const value = s[field];
        if (value === undefined || value === null || value === "") return undefined;
        if (typeof value !== "string") throw invalid(`printed an ExecCredential whose status.${field} is not a string`);
        return value;
    };
    const token = optionalString("token");
    const clientCertificateData = optionalString("clientCertificateData");
    const clientKeyData = optionalString("clientKeyData");
    const expirationTimestamp = optionalString("expirationTimestamp");
    if (Boolean(clientCertificateData) !== Boolean(clientKeyData)) {
        throw invalid("printed an ExecCredential with only one of status.clientCertificateData and status.clientKeyData (both are needed)");
    }
    if (!token && !clientCertificateData)
        throw invalid("printed an ExecCredential whose status has neither a token nor clientCertificateData and clientKeyData");
    if (expirationTimestamp !== undefined && (!RFC3339.test(expirationTimestamp) || Number.isNaN(Date.parse(expirationTimestamp)))) {
        throw invalid("printed an ExecCredential whose status.expirationTimestamp is not an RFC 3339 time");
    }
    const result: ExecCredentialStatus = {};
    if (token) result.token = token;
    if (clientCertificateData) result.clientCertificateData = clientCertificateData;
    if (clientKeyData) result.clientKeyData = clientKeyData;
    if (expirationTimestamp) result.expirationTimestamp = expirationTimestamp;
    return result;
}

/**
 * Runs plugins and caches each user's credential until its expirationTimestamp
 * (minus a margin; without one, until `invalidate()`), like client-go. Concurrent
 * callers for the same user share one run.
 */
export class ExecCredentialProvider {
    private readonly cache = new Map<string, { status: ExecCredentialStatus; validUntil: number }>();
    private readonly running = new Map<string, Promise<ExecCredentialStatus>>();
    private generation = 0;

    constructor(private readonly options: ExecCredentialOptions = {}) {}

    /** The cached credential, or a fresh one from the plugin. */
    getCredential(userName: string, config: ExecConfig, cluster?: ExecClusterInfo): Promise<ExecCredentialStatus> {
        const now = (this.options.now ?? Date.now)();
        const cached = this.cache.get(userName);
        if (cached && cached.validUntil > now) return Promise.resolve(cached.status);
        this.cache.delete(userName);
        const inFlight = this.running.get(userName);
        if (inFlight) return inFlight;
        const generation = this.generation;
        const run = runExecCredentialPlugin(userName, config, { ...this.options, cluster }).then((status) => {
            if (generation === this.generation) {
                const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Infinity;
                const validUntil = expires - (this.options.expiryMarginMs ?? EXEC_EXPIRY_MARGIN_MS);
                // Already (nearly) expired: used for this call, not kept.
                if (validUntil > (this.options.now ?? Date.now)()) this.cache.set(userName, { status, validUntil });
            }
            return status;
        });
        this.running.set(userName, run);
        const forget = () => {
            if (this.running.get(userName) === run) this.running.delete(userName);
        };
        run.then(forget, forget);
        return run;
    }

    /** Drops cached credentials (one user's, or all), so the next call runs the plugin again: e.g. after a 401. */
    invalidate(userName?: string): void {
        this.generation++;
        if (userName === undefined) {
            this.cache.clear();
            this.running.clear();
        } else {
            this.cache.delete(userName);
            this.running.delete(userName);
        }
    }
}
