/**
 * The SecretsClient for a real cluster: raw HTTPS with one keep-alive agent,
 * credentials and TLS material from a KubeAccess: the light kubeconfig loader
 * (./kubeconfig) or @kubernetes/client-node's KubeConfig.
 *
 * Why not the generated API classes: lists must ask for
 * PartialObjectMetadataList so no Secret value ever reaches this process, and
 * a PATCH response (which holds the whole Secret) must be drained unread.
 * Nothing of the library is imported here, so the CLI only pays for what the
 * kubeconfig needs.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { KubeAccess } from "./kubeconfig";
import { KubernetesApiError, parseRetryAfter } from "../reencrypt/errors";
import { SecretPage, SecretRef, SecretsClient } from "../reencrypt/types";
import { REENCRYPT_TUNING } from "../settings";

const METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
// Servers that cannot transform a PATCH response fall back to plain JSON, which is drained unread anyway.
const METADATA_OBJECT_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json";
const FIELD_MANAGER = "reencrypt-secrets";
const USER_AGENT = "reencrypt-secrets";
// Exec plugins and token files hand out short-lived tokens; ask the library again this often.
const CREDENTIAL_REFRESH_MS = 60_000;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface KubernetesClientOptions {
    /** Writes in flight at once; sizes the connection pool. Default: REENCRYPT_TUNING.concurrency in ../settings.ts. */
    concurrency?: number;
    /** Per-request timeout for a PATCH. Default 30 s. */
    writeTimeoutMs?: number;
    /** Per-request timeout for a list page. Default 120 s. */
    listTimeoutMs?: number;
}

export interface KubernetesSecretsClient extends SecretsClient {
    /** The API server URL the client talks to. */
    readonly server: string;
    /** Close pooled connections. */
    close(): void;
}

interface Connection {
    agent: http.Agent;
    headers: Record<string, string>;
    auth?: string;
    tlsIdentity: string;
}

interface RawResponse {
    status: number;
    headers: http.IncomingHttpHeaders;
    body?: Buffer;
}

export function createKubernetesSecretsClient(kc: KubeAccess, opts: KubernetesClientOptions = {}): KubernetesSecretsClient {
    return new SecretsHttpClient(kc, opts);
}

interface RequestInit {
    accept: string;
    body?: string;
    contentType?: string;
    timeoutMs: number;
    /** false: a 2xx body is drained unread (a PATCH answer holds the whole Secret). */
    keepBody: boolean;
}

/**
 * Credentials and TLS material from the kubeconfig, re-read every
 * CREDENTIAL_REFRESH_MS (exec plugins, token files) or on demand after a 401,
 * and one keep-alive agent that is replaced only when the TLS identity changes.
 */
class ApiConnection {
    private current: Promise<Connection> | undefined;
    private readAt = 0;
    private agent: http.Agent | undefined;

    constructor(
        private readonly kc: KubeAccess,
        private readonly proxied: boolean,
        private readonly plainHttp: boolean,
        private readonly poolSize: number,
    ) {}

    async get(refresh: boolean): Promise<Connection> {
        if (!this.current || refresh || Date.now() - this.readAt > CREDENTIAL_REFRESH_MS) {
            const previous = this.current ? await this.current.catch(() => undefined) : undefined;
            this.readAt = Date.now();
            const next = this.read(previous);
            this.current = next;
            next.catch(() => {
                if (this.current === next) this.current = undefined;
            });
        }
        return this.current;
    }

    close(): void {
        this.agent?.destroy();
    }

    private async read(previous?: Connection): Promise<Connection> {
        const applied: https.RequestOptions = {};
        await this.kc.applyToHTTPSOptions(applied);
        const tlsIdentity = [applied.ca, applied.cert, applied.key, applied.pfx].map((v) => (v === undefined ? "" : String(v))).join("\u0000");
        if (this.proxied) {
            this.agent = applied.agent as http.Agent; // the library's proxy agent; it pools on its own
        } else if (!this.agent || previous?.tlsIdentity !== tlsIdentity) {
            this.agent?.destroy();
            const tls = {
                ca: applied.ca,
                cert: applied.cert,
                key: applied.key,
                pfx: applied.pfx,
                passphrase: applied.passphrase,
                rejectUnauthorized: applied.rejectUnauthorized,
                servername: applied.servername,
            };
            const poolOptions = { keepAlive: true, maxSockets: this.poolSize, maxFreeSockets: this.poolSize };
            this.agent = this.plainHttp ? new http.Agent(poolOptions) : new https.Agent({ ...poolOptions, ...withoutUndefined(tls) });
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(applied.headers ?? {})) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : String(value);
        }
        return { agent: this.agent!, headers, auth: applied.auth ?? undefined, tlsIdentity };
    }
}

/** The two calls the engine needs, over raw HTTP(S): a metadata-only list page and a preconditioned merge patch. */
class SecretsHttpClient implements KubernetesSecretsClient {
    readonly server: string;
    private readonly url: URL;
    private readonly basePath: string;
    private readonly transport: typeof http | typeof https;
    private readonly connection: ApiConnection;
    private readonly writeTimeoutMs: number;
    private readonly listTimeoutMs: number;

    constructor(kc: KubeAccess, opts: KubernetesClientOptions) {
        const cluster = kc.getCurrentCluster();
        if (!cluster) throw new Error("the kubeconfig has no current cluster");
        this.server = cluster.server;
        this.url = new URL(cluster.server);
        this.basePath = this.url.pathname.replace(/\/+$/, "");
        this.transport = this.url.protocol === "http:" ? http : https;
        // The writers, plus a prefetched list page.
        const poolSize = (opts.concurrency ?? REENCRYPT_TUNING.concurrency.default) + 2;
        this.connection = new ApiConnection(kc, Boolean(cluster.proxyUrl), this.transport === http, poolSize);
        this.writeTimeoutMs = opts.writeTimeoutMs ?? 30_000;
        this.listTimeoutMs = opts.listTimeoutMs ?? 120_000;
    }

    async listPage({ limit, continueToken }: { limit: number; continueToken?: string }): Promise<SecretPage> {
        const query = new URLSearchParams({ limit: String(limit) });
        if (continueToken) query.set("continue", continueToken);
        const response = await this.send("GET", `/api/v1/secrets?${query}`, { accept: METADATA_LIST_ACCEPT, timeoutMs: this.listTimeoutMs, keepBody: true });
        if (response.status !== 200) throw apiError("list secrets", response);
        return parseMetadataList(response.body ?? Buffer.alloc(0));
    }

    async patchAnnotation(ref: SecretRef, key: string, value: string): Promise<void> {
        const secretPath = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets/${encodeURIComponent(ref.name)}`;
        const body = JSON.stringify({ metadata: { resourceVersion: ref.resourceVersion, annotations: { [key]: value } } });
        const response = await this.send("PATCH", `${secretPath}?fieldManager=${FIELD_MANAGER}`, {
            accept: METADATA_OBJECT_ACCEPT,
            body,
            contentType: "application/merge-patch+json",
            timeoutMs: this.writeTimeoutMs,
            keepBody: false,
        });
        if (response.status < 200 || response.status >= 300) throw apiError(`patch secret ${ref.namespace}/${ref.name}`, response);
    }

    close(): void {
        this.connection.close();
    }

    private async send(method: string, pathAndQuery: string, init: RequestInit): Promise<RawResponse> {
        let response = await this.sendOnce(await this.connection.get(false), method, pathAndQuery, init);
        if (response.status === 401) {
            // The token may just have expired: ask the kubeconfig (exec plugin, token file) once more before giving up.
            response = await this.sendOnce(await this.connection.get(true), method, pathAndQuery, init);
        }
        return response;
    }

    private sendOnce(conn: Connection, method: string, pathAndQuery: string, init: RequestInit): Promise<RawResponse> {
        return new Promise<RawResponse>((resolve, reject) => {
            const headers: Record<string, string> = { ...conn.headers, Accept: init.accept, "User-Agent": USER_AGENT };
            if (init.body !== undefined) {
                headers["Content-Type"] = init.contentType ?? "application/json";
                headers["Content-Length"] = String(Buffer.byteLength(init.body));
            }
            const request = this.transport.request(
                {
                    protocol: this.url.protocol,
                    hostname: this.url.hostname.replace(/^\[|\]$/g, ""),
                    port: this.url.port || undefined,
                    path: this.basePath + pathAndQuery,
                    method,
                    headers,
                    auth: conn.auth,
                    agent: conn.agent,
                },
                (response) => collectResponse(response, init.keepBody).then(resolve, reject),
            );
            request.setTimeout(init.timeoutMs, () => {
                request.destroy(
                    Object.assign(new Error(`${method} ${pathAndQuery.split("?")[0]} timed out after ${init.timeoutMs} ms`), { code: "ETIMEDOUT" }),
                );
            });
            request.on("error", reject);
            request.end(init.body);
        });
    }
}

/** A response's status and headers, and its body when wanted: errors keep at most MAX_ERROR_BODY_BYTES. */
function collectResponse(response: http.IncomingMessage, keepBody: boolean): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
        const status = response.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        if (ok && !keepBody) {
            response.resume();
            response.on("end", () => resolve({ status, headers: response.headers }));
            response.on("error", reject);
            return;
        }
        const limit = ok ? Infinity : MAX_ERROR_BODY_BYTES;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
            if (size < limit) chunks.push(chunk);
            size += chunk.length;
        });
        response.on("end", () => resolve({ status, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on("error", reject);
    });
}

function apiError(operation: string, response: RawResponse): KubernetesApiError {
    const status = parseStatusBody(response.body);
    return new KubernetesApiError({
        status: response.status,
        operation,
        reason: status?.reason,
        message: status?.message ?? plainTextSnippet(response.body),
        retryAfterSeconds: parseRetryAfter(response.headers["retry-after"]),
        continueToken: status?.continueToken,
    });
}

interface ListMetadata {
    kind?: string;
    metadata?: { continue?: string; resourceVersion?: string; remainingItemCount?: number };
    items?: Array<{ metadata?: Partial<SecretRef> & { namespace?: string; name?: string } }>;
}

export function parseMetadataList(body: Buffer): SecretPage {
    let parsed: ListMetadata;
    try {
        parsed = JSON.parse(body.toString("utf8")) as ListMetadata;
    } catch {
        throw new Error("list secrets: the API server's answer is not JSON");
    }
    if (parsed.kind !== "PartialObjectMetadataList") {
        // Never go on with full Secrets in memory: the whole point is that values do not reach this process.
        throw new Error(
            `list secrets: expected kind PartialObjectMetadataList, got ${parsed.kind ?? "no kind"}; the API server does not ` +
                "support metadata-only lists (Kubernetes 1.15+ does), so this tool refuses to read full Secrets",
        );
    }
    const items: SecretRef[] = (parsed.items ?? []).map((item, index) => {
        const m = item.metadata ?? {};
        if (!m.namespace || !m.name || !m.resourceVersion) {
            throw new Error(`list secrets: item ${index} lacks metadata.namespace/name/resourceVersion`);
        }
        return {
            namespace: m.namespace,
            name: m.name,
            resourceVersion: m.resourceVersion,
            annotations: m.annotations,
            creationTimestamp: m.creationTimestamp,
        };
    });
    const meta = parsed.metadata ?? {};
    return {
        items,
        continueToken: meta.continue || undefined,
        resourceVersion: meta.resourceVersion,
        remainingItemCount: typeof meta.remainingItemCount === "number" ? meta.remainingItemCount : undefined,
    };
}

function parseStatusBody(body: Buffer | undefined): { reason?: string; message?: string; continueToken?: string } | undefined {
    if (!body || body.length === 0) return undefined;
    try {
        const status = JSON.parse(body.toString("utf8")) as { kind?: string; reason?: string; message?: string; metadata?: { continue?: string } };
        if (status.kind !== "Status") return undefined;
        return { reason: status.reason, message: status.message, continueToken: status.metadata?.continue || undefined };
    } catch {
        return undefined; // e.g. "Too many requests, please try again later." as plain text
    }
}

function plainTextSnippet(body: Buffer | undefined): string | undefined {
    if (!body || body.length === 0) return undefined;
    const text = body.subarray(0, 200).toString("utf8").replace(/\s+/g, " ").trim();
    return text.length > 0 ? text : undefined;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
