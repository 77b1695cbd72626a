/**
 * A light kubeconfig loader for the re-encryption CLI.
 *
 * Why not @kubernetes/client-node's KubeConfig everywhere: its module imports
 * the generated API code (about 64 MB resident), which alone pushes the CLI past
 * its memory budget. This loader uses only the library's small, dependency-free
 * pieces (config_types.js for parsing and validation, exec_auth.js for exec
 * credential plugins, file_auth.js for in-cluster token files) and covers what
 * real kubeconfigs use: CA, client certificates, tokens, token files, basic
 * auth, insecure-skip-tls-verify, tls-server-name, impersonation and exec
 * plugins. Anything else (auth-provider: oidc/azure/gcp, proxy-url) is handed
 * to the full KubeConfig, so behaviour there is exactly the library's.
 */
import * as fs from "node:fs";
import type { OutgoingHttpHeaders } from "node:http";
import type * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Cluster, Context, User } from "@kubernetes/client-node/dist/config_types.js";

/** What the Secrets client needs from a kubeconfig; client-node's KubeConfig satisfies it too. */
export interface KubeAccess {
    getCurrentCluster(): { readonly server: string; readonly proxyUrl?: string } | null;
    applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** A loaded kubeconfig with its context chosen. */
export interface LoadedKubeConfig extends KubeAccess {
    getCurrentContext(): string;
}

export interface KubeConfigSource {
    /** A kubeconfig file. Default: $KUBECONFIG (may list several files), then ~/.kube/config, then in-cluster. */
    kubeconfigPath?: string;
    /** Context to use instead of current-context. */
    context?: string;
    /** Kubeconfig content (e.g. fetched at run time from the CS API); wins over the path. */
    kubeconfigYaml?: string;
}

const SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

interface ParsedFile {
    origin: string; // a file path, or "the given kubeconfig content"
    clusters: Cluster[];
    users: User[];
    contexts: Context[];
    currentContext?: string;
}

interface ExecAuthenticator {
    applyAuthentication(user: User, opts: https.RequestOptions): Promise<void>;
}

/**
 * Loads the kubeconfig like kubectl picks it, with the chosen context.
 * Returns the light loader's configuration, or client-node's KubeConfig when
 * the selected user or cluster needs something only the library implements.
 */
export function loadKubeConfig(source: KubeConfigSource = {}): LoadedKubeConfig {
    let parsed: ParsedFile[];
    if (source.kubeconfigYaml !== undefined) {
        parsed = [parseKubeconfig(source.kubeconfigYaml, "the given kubeconfig content")];
    } else {
        const files = kubeconfigFiles(source.kubeconfigPath);
        if (files.length === 0) {
            if (!process.env.KUBERNETES_SERVICE_HOST) {
                throw new Error("no kubeconfig found: pass --kubeconfig PATH, set $KUBECONFIG, or create ~/.kube/config");
            }
            return LightKubeConfig.inCluster(source.context);
        }
        parsed = files.map(readKubeconfigFile);
    }
    const merged = mergeKubeconfigs(parsed);
    const light = LightKubeConfig.select(merged, source.context);
    if (light.needsFullLibrary()) return fullKubeConfig(source, light.getCurrentContext());
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
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new Error(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
    }
    return parseKubeconfig(text, file, path.dirname(file));
}

/** Parses one kubeconfig document; relative file references resolve against `baseDir` like kubectl does. */
export function parseKubeconfig(text: string, origin: string, baseDir?: string): ParsedFile {
    const configTypes = loadConfigTypes();
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- js-yaml loads only when a kubeconfig is parsed
        const yaml = require("js-yaml") as typeof import("js-yaml");
        const doc = (yaml.load(text) ?? {}) as Record<string, unknown>;
        if (typeof doc !== "object" || Array.isArray(doc)) throw new Error("the document is not a mapping");
        const absolute = (file: unknown) => (typeof file === "string" && baseDir && !path.isAbsolute(file) ? path.join(baseDir, file) : file);
        const rawUsers = Array.isArray(doc.users) ? (doc.users as Array<{ user?: Record<string, unknown> }>) : [];
        for (const entry of rawUsers) {
            // config_types reads token-file while parsing, relative to the working directory: point it at the right file first.
            if (entry?.user && entry.user["token-file"] !== undefined) entry.user["token-file"] = absolute(entry.user["token-file"]);
        }
        const clusters = configTypes.newClusters(doc.clusters).map((c) => (c.caFile ? { ...c, caFile: absolute(c.caFile) as string } : c));
        const users = configTypes.newUsers(rawUsers).map((u) => ({
            ...u,
            certFile: u.certFile ? (absolute(u.certFile) as string) : u.certFile,
            keyFile: u.keyFile ? (absolute(u.keyFile) as string) : u.keyFile,
        }));
        const contexts = configTypes.newContexts(doc.contexts);
        const current = doc["current-context"];
        return { origin, clusters, users, contexts, currentContext: typeof current === "string" && current ? current : undefined };
    } catch (err) {
        throw new Error(`cannot load kubeconfig ${origin}: ${(err as Error).message}`);
    }
}

/** Like kubectl with several $KUBECONFIG files: the first current-context set wins; a name defined twice is an error. */
function mergeKubeconfigs(files: ParsedFile[]): ParsedFile {
    const merged: ParsedFile = { origin: files.map((f) => f.origin).join(path.delimiter), clusters: [], users: [], contexts: [] };
    const owners = new Map<string, string>();
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

export class LightKubeConfig implements LoadedKubeConfig {
    private execAuth: ExecAuthenticator | undefined;
    private fileAuth: ExecAuthenticator | undefined;

    private constructor(
        private readonly contextName: string,
        private readonly cluster: Cluster,
        private readonly user: User | undefined,
    ) {}

    static select(config: ParsedFile, contextOverride: string | undefined): LightKubeConfig {
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
        let user: User | undefined;
        if (context.user) {
            user = config.users.find((u) => u.name === context.user);
            if (!user) throw new Error(`context "${name}" names user "${context.user}", which kubeconfig ${config.origin} does not define`);
        }
        return new LightKubeConfig(name, cluster, user);
    }

    /** The pod's ServiceAccount, as client-node's loadFromCluster sets it up. */
    static inCluster(contextOverride: string | undefined): LightKubeConfig {
        if (contextOverride) {
            throw new Error(`--context ${contextOverride} needs a kubeconfig, but none was found (running in-cluster); pass --kubeconfig PATH`);
        }
        const host = process.env.KUBERNETES_SERVICE_HOST ?? "";
        const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
        const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
        const server = `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
        const cluster: Cluster = { name: "inCluster", server, caFile: `${SERVICEACCOUNT_DIR}/ca.crt`, skipTLSVerify: false };
        const user: User = { name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile: `${SERVICEACCOUNT_DIR}/token` } } };
        return new LightKubeConfig("inClusterContext", cluster, user);
    }

    getCurrentContext(): string {
        return this.contextName;
    }

    getCurrentCluster(): Cluster {
        return this.cluster;
    }

    /** True when the user or cluster needs an implementation only the full library has. */
    needsFullLibrary(): boolean {
        return Boolean(this.cluster.proxyUrl) || (Boolean(this.user?.authProvider) && !this.isInClusterTokenFile());
    }

    // Mirrors KubeConfig.applyToHTTPSOptions (client-node 1.4), order included: the exec plugin's
    // credentials first, then a static token overrides its Authorization, then basic auth.
    async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
        const { cluster, user } = this;
        if (cluster.server.startsWith("http:") && !cluster.skipTLSVerify) {
            throw new Error(`cluster "${cluster.name}" uses plain HTTP (${cluster.server}); set insecure-skip-tls-verify: true to allow it`);
        }
        if (!user) return;
        if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
        if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
        const ca = fileOrData(cluster.caFile, cluster.caData, `cluster "${cluster.name}" certificate-authority`);
        if (ca) opts.ca = ca;
        const cert = fileOrData(user.certFile, user.certData, `user "${user.name}" client-certificate`);
        if (cert) opts.cert = cert;
        const key = fileOrData(user.keyFile, user.keyData, `user "${user.name}" client-key`);
        if (key) opts.key = key;
        // Callers pass header objects, never raw header arrays.
        const headers = (opts.headers ??= {}) as OutgoingHttpHeaders;
        if (user.impersonateUser != null) headers["Impersonate-User"] = user.impersonateUser;
        if (user.exec) {
            try {
                await this.exec().applyAuthentication(user, opts);
            } catch (err) {
                const command = typeof user.exec.command === "string" ? user.exec.command : "(none)";
                throw new Error(`exec credential plugin "${command}" of user "${user.name}" failed: ${String((err as Error).message).trim() || "no output"}`);
            }
        } else if (this.isInClusterTokenFile()) {
            this.fileAuth ??= new (loadClientModule<typeof import("@kubernetes/client-node/dist/file_auth.js")>("file_auth.js").FileAuth)();
            await this.fileAuth.applyAuthentication(user, opts);
        }
        if (user.token) headers.Authorization = `Bearer ${user.token}`;
        if (user.username) opts.auth = `${user.username}:${user.password}`;
    }

    private exec(): ExecAuthenticator {
        this.execAuth ??= new (loadClientModule<typeof import("@kubernetes/client-node/dist/exec_auth.js")>("exec_auth.js").ExecAuth)();
        return this.execAuth;
    }

    private isInClusterTokenFile(): boolean {
        const provider = this.user?.authProvider as { name?: string; config?: { tokenFile?: string } } | undefined;
        return provider?.name === "tokenFile" && typeof provider.config?.tokenFile === "string";
    }
}

function fileOrData(file: string | undefined | null, data: string | undefined | null, what: string): Buffer | undefined {
    if (file) {
        try {
            return fs.readFileSync(file);
        } catch (err) {
            throw new Error(`cannot read the ${what} file ${file}: ${(err as Error).message}`);
        }
    }
    return data ? Buffer.from(data, "base64") : undefined;
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
