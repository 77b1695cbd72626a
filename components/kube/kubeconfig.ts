/**
 * A light kubeconfig loader for the re-encryption CLI.
 *
 * Why not @kubernetes/client-node's KubeConfig everywhere: its module imports
 * the generated API code (about 64 MB resident), which alone pushes the CLI past
 * its memory budget. This loader uses only the library's small, dependency-free
 * config_types.js for parsing, runs exec credential plugins itself
 * (execCredential.ts: timeout, abort, validated output) and reads token files
 * itself, and covers what real kubeconfigs use: CA, client certificates,
 * tokens, token files, basic auth, insecure-skip-tls-verify, tls-server-name,
 * impersonation and exec plugins. Anything else (auth-provider: oidc/azure/gcp,
 * proxy-url) is handed to the full KubeConfig, so behaviour there is exactly the
 * library's (including its exec plugin runner, without our timeout).
 *
 * No error from this module repeats a kubeconfig's secrets or an exec plugin's
 * output: YAML errors keep only the reason and line (safeYaml.ts), shape errors
 * name the field, TLS errors name the user and file, plugin errors name the
 * command and user.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import type { OutgoingHttpHeaders } from "node:http";
import type * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Cluster, Context, User } from "@kubernetes/client-node/dist/config_types.js";
import { ExecCredentialProvider, parseExecConfig, type ExecClusterInfo, type ExecConfig, type ExecCredentialStatus } from "./execCredential";
import { readFileWithin, readTextFileWithin } from "../files/boundedRead";

/** What the Secrets client needs from a kubeconfig; client-node's KubeConfig satisfies it too. */
export interface KubeAccess {
    getCurrentCluster(): { readonly server: string; readonly proxyUrl?: string } | null;
    applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
    /**
     * Drops cached credentials (the exec plugin's, a token file's), so the next
     * applyToHTTPSOptions fetches fresh ones even if the cached one claims to be
     * valid: call it after a 401. The light loader has it; client-node's KubeConfig does not.
     */
    invalidateCredentials?(): void;
}

/** A loaded kubeconfig with its context chosen. */
export interface LoadedKubeConfig extends KubeAccess {
    getCurrentContext(): string;
    /** The context's user (to say whom the tool acts as); null when the context names none. */
    getCurrentUser(): { readonly name: string } | null;
}

export interface KubeConfigSource {
    /** A kubeconfig file. Default: $KUBECONFIG (may list several files), then ~/.kube/config, then in-cluster. */
    kubeconfigPath?: string;
    /** Context to use instead of current-context. */
    context?: string;
    /** Kubeconfig content (e.g. fetched at run time from the CS API); wins over the path. */
    kubeconfigYaml?: string;
}

/** How exec credential plugins run (light loader only; the full KubeConfig uses client-node's runner). */
export interface KubeConfigLoadOptions {
    /** Total time one plugin run may take before it is killed; default DEFAULT_EXEC_TIMEOUT_MS (60 s). */
    execTimeoutMs?: number;
    /** Aborting kills a running plugin and fails credential requests from then on. */
    signal?: AbortSignal;
}

const SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const CONTENT_ORIGIN = "the given kubeconfig content";
/** Token files are re-read this often, as client-go does (they are rotated in place, e.g. projected ServiceAccount tokens). */
const TOKEN_FILE_REFRESH_MS = 60_000;
// Certificates, keys and token files are kilobytes; a bigger one is not what the kubeconfig meant.
const MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024;

/** A user as config_types parses it, plus its token file, which this module reads itself. */
type LightUser = User & { readonly tokenFile?: string };

interface ParsedFile {
    origin: string; // a file path, or CONTENT_ORIGIN
    clusters: Cluster[];
    users: LightUser[];
    contexts: Context[];
    currentContext?: string;
    /** "kind\0name" → the origin defining it (filled by the merge). */
    owners?: Map<string, string>;
}

/** "kubeconfig /path" or "the given kubeconfig content": how messages name where something is defined. */
function place(origin: string): string {
    return origin === CONTENT_ORIGIN ? origin : `kubeconfig ${origin}`;
}

/**
 * Loads the kubeconfig like kubectl picks it, with the chosen context.
 * Returns the light loader's configuration, or client-node's KubeConfig when
 * the selected user or cluster needs something only the library implements.
 * On the light path, the selected user's and cluster's TLS material, token file
 * and exec section are checked here, so a bad kubeconfig fails before any request.
 */
export function loadKubeConfig(source: KubeConfigSource = {}, options: KubeConfigLoadOptions = {}): LoadedKubeConfig {
    let parsed: ParsedFile[];
    if (source.kubeconfigYaml !== undefined) {
        parsed = [parseKubeconfig(source.kubeconfigYaml, CONTENT_ORIGIN)];
    } else {
        const files = kubeconfigFiles(source.kubeconfigPath);
        if (files.length === 0) {
            if (!process.env.KUBERNETES_SERVICE_HOST) {
                throw new Error("no kubeconfig found: pass --kubeconfig PATH, set $KUBECONFIG, or create ~/.kube/config");
            }
            const inCluster = LightKubeConfig.inCluster(source.context, options);
            inCluster.check();
            return inCluster;
        }
        parsed = files.map(readKubeconfigFile);
    }
    const merged = mergeKubeconfigs(parsed);
    const light = LightKubeConfig.select(merged, source.context, options);
    if (light.needsFullLibrary()) {
        light.refuseExecOnFullLibrary();
        return fullKubeConfig(source, light.getCurrentContext());
    }
    light.check();
    return light;
}

function kubeconfigFiles(explicit: string | undefined): string[] {
    const files = (explicit || process.env.KUBECONFIG || "").split(path.delimiter).filter(Boolean);
    const homeConfig = path.join(os.homedir(), ".kube", "config");
    if (files.length === 0 && fs.existsSync(homeConfig)) files.push(homeConfig);
    for (const file of files) {
        if (!fs.existsSync(file)) throw new Error(`kubeconfig ${file} does not exist`);
    }
    return files;
}

function readKubeconfigFile(file: string): ParsedFile {
    // A regular file within the YAML cap, checked before reading: not /dev/zero, not a 1.5 GB file read whole.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, like the parse below (js-yaml loads only when a kubeconfig is read)
    const { DEFAULT_YAML_LIMITS } = require("../files/safeYaml") as typeof import("../files/safeYaml");
    const text = readTextFileWithin(file, DEFAULT_YAML_LIMITS.maxBytes, "kubeconfig", (message) => new Error(message));
    return parseKubeconfig(text, file, path.dirname(file));
}

/** Parses one kubeconfig document; relative file references resolve against `baseDir` like kubectl does. */
export function parseKubeconfig(text: string, origin: string, baseDir?: string): ParsedFile {
    const label = place(origin);
    // Loaded here, not at the top: js-yaml loads only when a kubeconfig is parsed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load, see above
    const safeYaml = require("../files/safeYaml") as typeof import("../files/safeYaml");
    let doc: unknown;
    try {
        doc = safeYaml.loadYamlSafely(text, label) ?? {};
    } catch (err) {
        if (err instanceof safeYaml.YamlDocumentError) throw new Error(redactYamlMessage(err.message, label));
        throw new Error(`cannot load ${label}: the YAML parser failed`);
    }
    const fail = (problem: string): never => {
        throw new Error(`cannot load ${label}: ${problem}`);
    };
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("the document is not a mapping");
    const root = doc as Record<string, unknown>;
    checkShape(root, fail);
    const absolute = (file: string | undefined | null) => (file && baseDir && !path.isAbsolute(file) ? path.join(baseDir, file) : file || undefined);
    const rawUsers = (root.users ?? []) as Array<{ name: string; user?: Record<string, unknown> | null }>;
    // token-file is read by this module (at load, then every minute), not by config_types at parse time.
    const tokenFiles = new Map<string, string>();
    const usersForParser = rawUsers.map((entry) => {
        const tokenFile = entry.user?.["token-file"];
        if (typeof tokenFile !== "string" || !tokenFile) return entry;
        tokenFiles.set(entry.name, absolute(tokenFile) as string);
        const { "token-file": _dropped, ...user } = entry.user as Record<string, unknown>;
        return { ...entry, user };
    });
    const configTypes = loadConfigTypes();
    try {
        const clusters = configTypes.newClusters(root.clusters).map((c) => (c.caFile ? { ...c, caFile: absolute(c.caFile) } : c));
        const users: LightUser[] = configTypes.newUsers(usersForParser).map((u) => ({
            ...u,
            certFile: absolute(u.certFile),
            keyFile: absolute(u.keyFile),
            tokenFile: tokenFiles.get(u.name),
        }));
        const contexts = configTypes.newContexts(root.contexts);
        const current = root["current-context"];
        return { origin, clusters, users, contexts, currentContext: typeof current === "string" && current ? current : undefined };
    } catch (err) {
        // checkShape has already refused what config_types would trip on; its own messages ("users[0].name is
        // missing") carry no values, anything else (a TypeError) is not repeated, in case it ever does.
        const message = String((err as Error)?.message ?? "");
        throw new Error(
            `cannot load ${label}: ${/^(clusters|users|contexts)\[\d+\]\.[\w.]+ is missing$/.test(message) ? message : "an entry has an unexpected shape"}`,
        );
    }
}

/**
 * js-yaml's reasons quote a few things from the document (an alias or tag name: `password: *hunter2` is an
 * alias); safeYaml keeps the reason, so those quotes are blanked here. The line and column stay.
 */
function redactYamlMessage(message: string, label: string): string {
    const prefix = `${label} is not valid YAML: `;
    if (!message.startsWith(prefix)) return message; // size and alias-bomb refusals: fixed text
    const [, reason = "", where = ""] = /^([\s\S]*?)( \(line \d+, column \d+\))?$/.exec(message.slice(prefix.length)) ?? [];
    const blanked = reason
        .replace(/"[^"]*"/g, '"…"')
        .replace(/!<[^>]*>/g, "!<…>")
        .replace(/^(tag name cannot contain such characters|tag name is malformed|tag prefix is malformed):[\s\S]*$/, "$1");
    return `${prefix}${blanked}${where}; fix the YAML at that line`;
}

type Fail = (problem: string) => never;

/** The document's lists and the fields this loader reads, type-checked. Messages name the field, never its value. */
function checkShape(root: Record<string, unknown>, fail: Fail): void {
    const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    const list = (key: string): unknown[] => {
        const value = root[key];
        if (value === undefined || value === null) return [];
        if (!Array.isArray(value)) fail(`${key} is not a list`);
        return value as unknown[];
    };
    const strings = (obj: Record<string, unknown>, at: string, keys: string[]) => {
        for (const key of keys) {
            const value = obj[key];
            if (value !== undefined && value !== null && typeof value !== "string") fail(`${at}.${key} must be a string (quote it)`);
        }
    };
    const entry = (key: string, i: number, item: unknown, body: string, bodyRequired: boolean): Record<string, unknown> | undefined => {
        if (!isMapping(item)) fail(`${key}[${i}] is not a mapping`);
        const named = item as Record<string, unknown>;
        if (named.name === undefined || named.name === null || named.name === "") fail(`${key}[${i}].name is missing`);
        if (typeof named.name !== "string") fail(`${key}[${i}].name must be a string (quote it)`);
        const inner = named[body];
        if (inner === undefined || inner === null) {
            if (bodyRequired) fail(`${key}[${i}].${body} is missing`);
            return undefined;
        }
        if (!isMapping(inner)) fail(`${key}[${i}].${body} is not a mapping`);
        return inner as Record<string, unknown>;
    };
    list("clusters").forEach((item, i) => {
        const cluster = entry("clusters", i, item, "cluster", true) as Record<string, unknown>;
        const at = `clusters[${i}].cluster`;
        if (cluster.server === undefined || cluster.server === null || cluster.server === "") fail(`${at}.server is missing`);
        strings(cluster, at, ["server", "certificate-authority", "certificate-authority-data", "tls-server-name", "proxy-url"]);
        const skip = cluster["insecure-skip-tls-verify"];
        if (skip !== undefined && skip !== null && typeof skip !== "boolean") fail(`${at}.insecure-skip-tls-verify must be true or false`);
    });
    list("users").forEach((item, i) => {
        const user = entry("users", i, item, "user", false);
        if (!user) return;
        const at = `users[${i}].user`;
        strings(user, at, [
            "token",
            "token-file",
            "client-certificate",
            "client-certificate-data",
            "client-key",
            "client-key-data",
            "username",
            "password",
            "as",
        ]);
        for (const key of ["exec", "auth-provider"]) {
            if (user[key] !== undefined && user[key] !== null && !isMapping(user[key])) fail(`${at}.${key} is not a mapping`);
        }
    });
    list("contexts").forEach((item, i) => {
        const context = entry("contexts", i, item, "context", true) as Record<string, unknown>;
        const at = `contexts[${i}].context`;
        if (context.cluster === undefined || context.cluster === null || context.cluster === "") fail(`${at}.cluster is missing`);
        strings(context, at, ["cluster", "user", "namespace"]);
    });
    const current = root["current-context"];
    if (current !== undefined && current !== null && typeof current !== "string") fail("current-context must be a string");
}

/** Like kubectl with several $KUBECONFIG files: the first current-context set wins; a name defined twice is an error. */
function mergeKubeconfigs(files: ParsedFile[]): ParsedFile {
    const owners = new Map<string, string>();
    const merged: ParsedFile = { origin: files.map((f) => f.origin).join(path.delimiter), clusters: [], users: [], contexts: [], owners };
    const add = <T extends { name: string }>(kind: string, into: T[], items: T[], origin: string) => {
        for (const item of items) {
            const key = `${kind}\u0000${item.name}`;
            const first = owners.get(key);
            if (first !== undefined) {
                throw new Error(`${kind} "${item.name}" is defined in both kubeconfig ${first} and ${origin}; rename one of them`);
            }
            owners.set(key, origin);
            into.push(item);
        }
    };
    for (const file of files) {
        merged.currentContext ??= file.currentContext;
        add("cluster", merged.clusters, file.clusters, file.origin);
        add("user", merged.users, file.users, file.origin);
        add("context", merged.contexts, file.contexts, file.origin);
    }
    return merged;
}

interface TlsMaterial {
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
}

export class LightKubeConfig implements LoadedKubeConfig {
    private readonly execCredentials: ExecCredentialProvider;
    private execConfig: ExecConfig | undefined;
    private fileToken: { token: string; readAt: number } | undefined;
    /** Exec results whose certificate and key have been checked (a cached credential is checked once). */
    private readonly checkedExecTls = new WeakSet<ExecCredentialStatus>();

    private constructor(
        private readonly contextName: string,
        private readonly cluster: Cluster,
        private readonly user: LightUser | undefined,
        /** Where the cluster and the user are defined, as messages name it. */
        private readonly where: { cluster: string; user: string },
        options: KubeConfigLoadOptions,
    ) {
        this.execCredentials = new ExecCredentialProvider({ timeoutMs: options.execTimeoutMs, signal: options.signal });
    }

    static select(config: ParsedFile, contextOverride: string | undefined, options: KubeConfigLoadOptions = {}): LightKubeConfig {
        const known = config.contexts.map((c) => c.name).join(", ") || "none";
        const name = contextOverride || config.currentContext;
        if (!name) {
            throw new Error(`kubeconfig ${config.origin} sets no current-context (contexts: ${known}); pass --context NAME`);
        }
        const context = config.contexts.find((c) => c.name === name);
        if (!context) {
            const hint = contextOverride ? "pass --context with one of them" : "fix current-context or pass --context NAME";
            throw new Error(`context "${name}" is not in the kubeconfig (contexts: ${known}) at ${config.origin}; ${hint}`);
        }
        const cluster = config.clusters.find((c) => c.name === context.cluster);
        if (!cluster) {
            throw new Error(`context "${name}" names cluster "${context.cluster}", which kubeconfig ${config.origin} does not define`);
        }
        let user: LightUser | undefined;
        if (context.user) {
            user = config.users.find((u) => u.name === context.user);
            if (!user) throw new Error(`context "${name}" names user "${context.user}", which kubeconfig ${config.origin} does not define`);
        }
        const origin = (kind: string, itemName: string | undefined) => place(config.owners?.get(`${kind}\u0000${itemName}`) ?? config.origin);
        return new LightKubeConfig(name, cluster, user, { cluster: origin("cluster", cluster.name), user: origin("user", user?.name) }, options);
    }

    /** The pod's ServiceAccount, as client-node's loadFromCluster sets it up. */
    static inCluster(contextOverride: string | undefined, options: KubeConfigLoadOptions = {}): LightKubeConfig {
        if (contextOverride) {
            throw new Error(`--context ${contextOverride} needs a kubeconfig, but none was found (running in-cluster); pass --kubeconfig PATH`);
        }
        const host = process.env.KUBERNETES_SERVICE_HOST ?? "";
        const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
        const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
        const server = `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
        const cluster: Cluster = { name: "inCluster", server, caFile: `${SERVICEACCOUNT_DIR}/ca.crt`, skipTLSVerify: false };
        const user: LightUser = { name: "inClusterUser", tokenFile: `${SERVICEACCOUNT_DIR}/token` };
        const where = "the pod's ServiceAccount";
        return new LightKubeConfig("inClusterContext", cluster, user, { cluster: where, user: where }, options);
    }

    getCurrentContext(): string {
        return this.contextName;
    }

    getCurrentCluster(): Cluster {
        return this.cluster;
    }

    /** Only the name: the user's entry holds credentials, which nobody printing "acting as" should get. */
    getCurrentUser(): { readonly name: string } | null {
        return this.user ? { name: this.user.name } : null;
    }

    invalidateCredentials(): void {
        this.execCredentials.invalidate();
        this.fileToken = undefined;
    }

    /**
     * The full library would run an exec plugin its own way: no deadline, no cancel, and its output in
     * error messages. Rather than lose those guarantees, the combination is refused.
     */
    refuseExecOnFullLibrary(): void {
        if (!this.user?.exec) return;
        const why = this.cluster.proxyUrl ? `cluster "${this.cluster.name}" sets proxy-url` : `user "${this.user.name}" also sets an auth-provider`;
        throw new Error(
            `user "${this.user.name}" in ${this.where.user} uses an exec credential plugin and ${why}; this tool runs exec plugins itself ` +
                "(with a deadline, never showing their output) and cannot do so through the library that handles that: " +
                "reach the API server without proxy-url, or use a kubeconfig with a token or client certificate",
        );
    }

    /** True when the user or cluster needs an implementation only the full library has. */
    needsFullLibrary(): boolean {
        return Boolean(this.cluster.proxyUrl) || Boolean(this.user?.authProvider);
    }

    /**
     * Checks what can be checked before any request: the exec section, the TLS material (readable, valid PEM,
     * key matching certificate) and the token file. Throws a message safe to print.
     */
    check(): void {
        const cluster = this.cluster;
        if (cluster.skipTLSVerify && (cluster.caData || cluster.caFile)) {
            // kubectl refuses the same ("specifying a root certificates file with the insecure flag is not allowed"):
            // a CA that is not checked would still name the cluster, in this tool's checkpoint among others.
            throw new Error(
                `cluster "${cluster.name}" in ${this.where.cluster} sets both a certificate-authority and insecure-skip-tls-verify; ` +
                    "remove insecure-skip-tls-verify (kubectl refuses the combination too)",
            );
        }
        this.exec();
        this.tlsMaterial();
        if (this.user?.tokenFile && !this.user.token) this.tokenFromFile();
    }

    // Mirrors KubeConfig.applyToHTTPSOptions (client-node 1.4), order included: the exec plugin's
    // credentials first, then a static token (token, or token-file) overrides its Authorization, then basic auth.
    async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
        const { cluster, user } = this;
        if (cluster.server.startsWith("http:") && !cluster.skipTLSVerify) {
            throw new Error(`cluster "${cluster.name}" uses plain HTTP (${cluster.server}); set insecure-skip-tls-verify: true to allow it`);
        }
        if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
        if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
        const material = this.tlsMaterial();
        if (material.ca) opts.ca = material.ca;
        if (!user) return;
        if (material.cert) opts.cert = material.cert;
        if (material.key) opts.key = material.key;
        // Callers pass header objects, never raw header arrays.
        const headers = (opts.headers ??= {}) as OutgoingHttpHeaders;
        if (user.impersonateUser != null) headers["Impersonate-User"] = user.impersonateUser;
        const exec = this.exec();
        if (exec) {
            const credential = await this.execCredentials.getCredential(user.name, exec, this.clusterInfo(material));
            if (credential.token) headers.Authorization = `Bearer ${credential.token}`;
            if (credential.clientCertificateData && credential.clientKeyData) {
                if (!this.checkedExecTls.has(credential)) {
                    const source = `printed by exec credential plugin "${exec.command}" of user "${user.name}" (${this.where.user})`;
                    const fix = "check the plugin's output by hand (its status.clientCertificateData and clientKeyData must be PEM)";
                    checkClientPair(Buffer.from(credential.clientCertificateData), Buffer.from(credential.clientKeyData), {
                        cert: `the clientCertificateData ${source}`,
                        key: `the clientKeyData ${source}`,
                        fix,
                    });
                    this.checkedExecTls.add(credential);
                }
                opts.cert = credential.clientCertificateData;
                opts.key = credential.clientKeyData;
            }
        }
        if (user.token) headers.Authorization = `Bearer ${user.token}`;
        else if (user.tokenFile) {
            const token = this.tokenFromFile();
            if (token) headers.Authorization = `Bearer ${token}`;
        }
        if (user.username) opts.auth = `${user.username}:${user.password}`;
    }

    private exec(): ExecConfig | undefined {
        if (this.user?.exec && !this.execConfig) this.execConfig = parseExecConfig(this.user.exec, this.user.name, this.where.user);
        return this.execConfig;
    }

    /** The request's spec.cluster, for plugins whose kubeconfig sets provideClusterInfo. */
    private clusterInfo(material: TlsMaterial): ExecClusterInfo {
        const { cluster } = this;
        const info: ExecClusterInfo = { server: cluster.server };
        if (cluster.tlsServerName) info["tls-server-name"] = cluster.tlsServerName;
        if (cluster.skipTLSVerify) info["insecure-skip-tls-verify"] = true;
        if (material.ca) info["certificate-authority-data"] = material.ca.toString("base64");
        return info;
    }

    /** CA, client certificate and key, read (files are re-read each time: they may be rotated) and checked. */
    private tlsMaterial(): TlsMaterial {
        const { cluster, user, where } = this;
        const clusterLabel = `cluster "${cluster.name}" in ${where.cluster}`;
        const ca = fileOrData(cluster.caFile, cluster.caData, `the certificate-authority of ${clusterLabel}`);
        if (ca) {
            checkCertificates(ca.bytes, `${ca.what} is not a valid PEM certificate bundle; check that it holds the cluster's CA certificate(s)`);
        }
        if (!user) return { ca: ca?.bytes };
        const userLabel = `user "${user.name}" in ${where.user}`;
        const cert = fileOrData(user.certFile, user.certData, `the client-certificate of ${userLabel}`);
        const key = fileOrData(user.keyFile, user.keyData, `the client-key of ${userLabel}`);
        if (cert && !key) throw new Error(`${userLabel} has a client-certificate but no client-key; add the client-key (or client-key-data) issued with it`);
        if (key && !cert)
            throw new Error(`${userLabel} has a client-key but no client-certificate; add the client-certificate (or client-certificate-data) issued with it`);
        if (cert && key) {
            const fix = "check the kubeconfig (kubectl needs the same: an unencrypted PEM key issued with that certificate)";
            checkClientPair(cert.bytes, key.bytes, { cert: cert.what, key: key.what, fix });
        }
        return { ca: ca?.bytes, cert: cert?.bytes, key: key?.bytes };
    }

    private tokenFromFile(): string | undefined {
        const file = this.user?.tokenFile;
        if (!file) return undefined;
        const now = Date.now();
        if (!this.fileToken || now - this.fileToken.readAt > TOKEN_FILE_REFRESH_MS) {
            const userName = this.user?.name ?? "";
            const text = readTextFileWithin(file, MAX_CREDENTIAL_FILE_BYTES, `token-file of user "${userName}" in ${this.where.user}:`, (m) => new Error(m));
            // Trimmed like client-go: a trailing newline is not part of the token.
            this.fileToken = { token: text.trim(), readAt: now };
        }
        return this.fileToken.token || undefined;
    }
}

/** A file's bytes, or base64 -data; `what` names it for messages ("the client-key file F of user ..."). */
function fileOrData(file: string | undefined | null, data: string | undefined | null, what: string): { bytes: Buffer; what: string } | undefined {
    if (file) {
        const fileWhat = what.replace(/^the ([\w-]+) of /, `the $1 file ${file} of `);
        return { bytes: readFileWithin(file, MAX_CREDENTIAL_FILE_BYTES, fileWhat.replace(/^the /, ""), (m) => new Error(m)), what: fileWhat };
    }
    return data ? { bytes: Buffer.from(data, "base64"), what } : undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every PEM certificate in `pem` parses, and there is at least one. OpenSSL's messages (ERR_OSSL_*) are not passed on. */
function checkCertificates(pem: Buffer, message: string): void {
    const blocks = pem.toString("latin1").match(PEM_CERTIFICATE);
    if (!blocks) throw new Error(message);
    for (const block of blocks) {
        try {
            new X509Certificate(block);
        } catch {
            throw new Error(message);
        }
    }
}

/** The client certificate parses, the key parses, and they belong together; plain sentences instead of ERR_OSSL_*. */
function checkClientPair(cert: Buffer, key: Buffer, names: { cert: string; key: string; fix: string }): void {
    checkCertificates(cert, `${names.cert} is not a valid PEM certificate; ${names.fix}`);
    try {
        tls.createSecureContext({ key });
    } catch {
        throw new Error(`${names.key} is not a valid PEM private key (or is encrypted, which is not supported); ${names.fix}`);
    }
    try {
        tls.createSecureContext({ cert, key });
    } catch {
        throw new Error(`${names.key} does not match its client-certificate; ${names.fix}`);
    }
}

function fullKubeConfig(source: KubeConfigSource, context: string): KubeConfig {
    const k8s = loadClientModule<typeof import("@kubernetes/client-node")>("index.js");
    const kc = new k8s.KubeConfig();
    if (source.kubeconfigYaml !== undefined) {
        kc.loadFromString(source.kubeconfigYaml);
    } else {
        // The light loader has already validated the files, their merge and the context.
        const files = kubeconfigFiles(source.kubeconfigPath);
        kc.loadFromFile(files[0]);
        for (const file of files.slice(1)) {
            const extra = new k8s.KubeConfig();
            extra.loadFromFile(file);
            kc.mergeConfig(extra, true);
        }
    }
    kc.setCurrentContext(context);
    return kc;
}

function loadConfigTypes(): typeof import("@kubernetes/client-node/dist/config_types.js") {
    return loadClientModule("config_types.js");
}

/** Deep requires of single client-node modules; the package has no "exports" map, so these paths are reachable. */
function loadClientModule<T>(file: string): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- one client-node file by path, so its generated API never loads (see above)
    return require(`@kubernetes/client-node/dist/${file}`) as T;
}
