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
import { createHash, X509Certificate } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { KubeAccess } from "./kubeconfig";
import { KubernetesApiError, parseRetryAfter } from "../reencrypt/errors";
import { ClusterTarget, ListRequest, SecretPage, SecretRef, SecretsClient } from "../reencrypt/types";
import { REENCRYPT_TUNING } from "../config";
import { plainTransportError } from "./transportErrors";
import { readTextFileWithin } from "../files/boundedRead";

const METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
// Servers that cannot transform a PATCH response fall back to plain JSON, which is drained unread anyway.
const METADATA_OBJECT_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json";
const FIELD_MANAGER = "reencrypt-secrets";
const USER_AGENT = "reencrypt-secrets";
// Exec plugins and token files hand out short-lived tokens; ask the library again this often.
const CREDENTIAL_REFRESH_MS = 60_000;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface KubernetesClientOptions {
    /** Writes in flight at once; sizes the connection pool. Default: REENCRYPT_TUNING.concurrency in ../config/settings.ts. */
    concurrency?: number;
    /** Total deadline per request, connect to last byte. Default: REENCRYPT_TUNING.requestTimeoutSeconds in ../config/settings.ts. */
    requestTimeoutMs?: number;
    /** Largest list page accepted, in bytes; a larger one fails with code EPAGETOOLARGE. Default: REENCRYPT_TUNING.maxPageMiB. */
    maxPageBytes?: number;
    /** Fresh access after a 401 (e.g. a new TokenRequest); default: the kubeconfig's own credentials read again. */
    renewAccess?: () => Promise<KubeAccess>;
}

export interface KubernetesSecretsClient extends SecretsClient {
    /** The API server URL the client talks to. */
    readonly server: string;
    readonly target: ClusterTarget;
    renewCredentials(): Promise<void>;
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
    /** false: a 2xx body is drained unread (a PATCH answer holds the whole Secret). */
    keepBody: boolean;
    /** Largest 2xx body kept; beyond it the request fails with code EPAGETOOLARGE. */
    maxBodyBytes?: number;
    signal?: AbortSignal;
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
        private kc: KubeAccess,
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

    /** Forget the credential: the next request reads it afresh (re-running an exec plugin), or from `replacement`. */
    async renew(replacement?: KubeAccess): Promise<void> {
        if (replacement) this.kc = replacement;
        else (this.kc as { invalidateCredentials?(): void }).invalidateCredentials?.();
        await this.get(true);
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
    readonly target: ClusterTarget;
    private readonly url: URL;
    private readonly basePath: string;
    private readonly transport: typeof http | typeof https;
    private readonly connection: ApiConnection;
    private readonly requestTimeoutMs: number;
    private readonly maxPageBytes: number;

    constructor(
        kc: KubeAccess,
        private readonly opts: KubernetesClientOptions,
    ) {
        const cluster = kc.getCurrentCluster();
        if (!cluster) throw new Error("the kubeconfig has no current cluster");
        this.url = new URL(cluster.server);
        this.server = displayServer(this.url);
        this.basePath = this.url.pathname.replace(/\/+$/, "");
        this.transport = this.url.protocol === "http:" ? http : https;
        this.target = targetOf(kc, this.server);
        // The writers, plus a prefetched list page.
        const poolSize = (opts.concurrency ?? REENCRYPT_TUNING.concurrency.default) + 2;
        this.connection = new ApiConnection(kc, Boolean(cluster.proxyUrl), this.transport === http, poolSize);
        this.requestTimeoutMs = opts.requestTimeoutMs ?? REENCRYPT_TUNING.requestTimeoutSeconds.default * 1000;
        this.maxPageBytes = opts.maxPageBytes ?? REENCRYPT_TUNING.maxPageMiB.default * 1024 * 1024;
    }

    async listPage({ limit, continueToken, annotationKey, signal }: ListRequest): Promise<SecretPage> {
        const query = new URLSearchParams({ limit: String(limit) });
        if (continueToken) query.set("continue", continueToken);
        const response = await this.send("GET", `/api/v1/secrets?${query}`, {
            accept: METADATA_LIST_ACCEPT,
            keepBody: true,
            maxBodyBytes: this.maxPageBytes,
            signal,
        });
        if (response.status !== 200) throw apiError("list secrets", response);
        return parseMetadataList(response.body ?? Buffer.alloc(0), annotationKey);
    }

    async patchAnnotation(ref: SecretRef, key: string, value: string, signal?: AbortSignal): Promise<void> {
        const secretPath = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets/${encodeURIComponent(ref.name)}`;
        const body = JSON.stringify({ metadata: { resourceVersion: ref.resourceVersion, annotations: { [key]: value } } });
        const response = await this.send("PATCH", `${secretPath}?fieldManager=${FIELD_MANAGER}`, {
            accept: METADATA_OBJECT_ACCEPT,
            body,
            contentType: "application/merge-patch+json",
            keepBody: false,
            signal,
        });
        if (response.status < 200 || response.status >= 300) throw apiError(`patch secret ${ref.namespace}/${ref.name}`, response);
    }

    /** After a 401 (the engine decides when): re-read the kubeconfig's credential, or take the caller's fresh access. */
    async renewCredentials(): Promise<void> {
        await this.connection.renew(this.opts.renewAccess ? await this.opts.renewAccess() : undefined);
    }

    close(): void {
        this.connection.close();
    }

    private async send(method: string, pathAndQuery: string, init: RequestInit): Promise<RawResponse> {
        const what = `${method} ${this.server}${pathAndQuery.split("?")[0]}`;
        try {
            return await this.sendOnce(await this.connection.get(false), method, pathAndQuery, init);
        } catch (err) {
            throw plainTransportError(err, what, this.server);
        }
    }

    /** One request under a total deadline (connect to last byte: a dripping server cannot stretch it), cancelled by the signal. */
    private sendOnce(conn: Connection, method: string, pathAndQuery: string, init: RequestInit): Promise<RawResponse> {
        return new Promise<RawResponse>((resolve, reject) => {
            if (init.signal?.aborted) return reject(abortError());
            const headers: Record<string, string> = { ...conn.headers, Accept: init.accept, "User-Agent": USER_AGENT };
            if (init.body !== undefined) {
                headers["Content-Type"] = init.contentType ?? "application/json";
                headers["Content-Length"] = String(Buffer.byteLength(init.body));
            }
            let settled = false;
            let request: http.ClientRequest | undefined;
            const finish = (error: Error | undefined, response?: RawResponse) => {
                if (settled) return;
                settled = true;
                clearTimeout(deadline);
                init.signal?.removeEventListener("abort", onAbort);
                if (error) {
                    request?.destroy();
                    reject(error);
                } else resolve(response!);
            };
            const onAbort = () => finish(abortError());
            const deadline = setTimeout(() => {
                const err = Object.assign(new Error(`no complete answer within ${this.requestTimeoutMs / 1000} s (the request deadline)`), {
                    code: "ETIMEDOUT",
                });
                finish(err);
            }, this.requestTimeoutMs);
            try {
                request = this.transport.request(
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
                    (response) =>
                        collectResponse(response, init.keepBody, init.maxBodyBytes ?? Infinity).then(
                            (r) => finish(undefined, r),
                            (e: Error) => finish(e),
                        ),
                );
            } catch (err) {
                // Node validates headers synchronously (e.g. a token holding a newline: ERR_INVALID_CHAR).
                return finish(err as Error);
            }
            init.signal?.addEventListener("abort", onAbort, { once: true });
            request.on("error", (e) => finish(e));
            request.end(init.body);
        });
    }
}

function abortError(): Error {
    return Object.assign(new Error("the request was cancelled (the run is stopping)"), { code: "ABORT_ERR", name: "AbortError" });
}

/** Server, context, user and the CA fingerprint (the cluster's identity in a checkpoint). */
function targetOf(kc: KubeAccess, server: string): ClusterTarget {
    const cluster = kc.getCurrentCluster() as { server: string; caData?: string | null; caFile?: string | null; skipTLSVerify?: boolean };
    const named = kc as { getCurrentContext?(): string; getCurrentUser?(): { name?: string } | null };
    return {
        server,
        // A CA that TLS does not check proves nothing about which cluster answers.
        caFingerprint: cluster.skipTLSVerify ? undefined : caFingerprint(cluster),
        context: named.getCurrentContext?.() || undefined,
        user: named.getCurrentUser?.()?.name || undefined,
    };
}

/** The server URL as printed and recorded: user info and query (which can carry credentials) are never shown. */
export function displayServer(url: URL): string {
    const shown = new URL(url.href);
    if (shown.username || shown.password) {
        shown.username = "***";
        shown.password = "";
    }
    shown.search = "";
    shown.hash = "";
    return shown.href.replace(/\/$/, "");
}

/** SHA-256 over the DER of each CA certificate the kubeconfig trusts (sorted): the same CA gives the same value, whatever URL reaches it. */
export function caFingerprint(cluster: { caData?: string | null; caFile?: string | null }): string | undefined {
    let pem: string | undefined;
    try {
        if (cluster.caFile) pem = readTextFileWithin(cluster.caFile, 1024 * 1024, "certificate-authority", (m) => new Error(m));
        else if (cluster.caData) pem = Buffer.from(cluster.caData, "base64").toString("utf8");
    } catch {
        return undefined; // unreadable: the request itself reports that, in plain words
    }
    if (!pem) return undefined;
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const prints: string[] = [];
    for (const block of blocks) {
        try {
            prints.push(createHash("sha256").update(new X509Certificate(block).raw).digest("hex"));
        } catch {
            // not a certificate: the TLS layer will refuse it with its own message
        }
    }
    if (prints.length === 0) return undefined;
    return prints.length === 1 ? prints[0] : createHash("sha256").update(prints.sort().join(",")).digest("hex");
}

/** A response's status and headers, and its body when wanted: errors keep at most MAX_ERROR_BODY_BYTES, a 2xx at most `maxBodyBytes`. */
function collectResponse(response: http.IncomingMessage, keepBody: boolean, maxBodyBytes: number): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
        const status = response.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        if (ok && !keepBody) {
            response.resume();
            response.on("end", () => resolve({ status, headers: response.headers }));
            response.on("error", reject);
            return;
        }
        const limit = ok ? maxBodyBytes : MAX_ERROR_BODY_BYTES;
        const declared = Number(response.headers["content-length"]);
        const tooLarge = () =>
            Object.assign(new Error(`the answer is larger than the ${Math.round(maxBodyBytes / 1024 / 1024)} MiB page cap`), { code: "EPAGETOOLARGE" });
        if (ok && Number.isFinite(declared) && declared > limit) {
            response.destroy();
            return reject(tooLarge());
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= limit) chunks.push(chunk);
            else if (ok) {
                // Stop reading at once: memory stays bounded by the cap, whatever the server sends.
                chunks.length = 0;
                response.destroy();
                reject(tooLarge());
            }
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

/**
 * Parses a metadata list page. With `annotationKey`, only that annotation is kept: other annotation
 * values (kubectl's last-applied-configuration holds a Secret's data) exist only while the page is
 * parsed, bounded by the page cap, and are dropped before the page reaches the engine.
 */
export function parseMetadataList(body: Buffer, annotationKey?: string): SecretPage {
    let parsed: ListMetadata;
    try {
        parsed = JSON.parse(body.toString("utf8")) as ListMetadata;
    } catch {
        throw new Error("list secrets: the API server's answer is not JSON (is the server URL an API server?)");
    }
    if (typeof parsed !== "object" || parsed === null) throw new Error("list secrets: the API server's answer is not a JSON object");
    if (parsed.kind !== "PartialObjectMetadataList") {
        // Never go on with full Secrets in memory: the whole point is that values do not reach this process.
        throw new Error(
            `list secrets: expected kind PartialObjectMetadataList, got ${parsed.kind ?? "no kind"}; the API server does not ` +
                "support metadata-only lists (Kubernetes 1.15+ does), so this tool refuses to read full Secrets",
        );
    }
    if (parsed.items !== undefined && parsed.items !== null && !Array.isArray(parsed.items)) throw new Error("list secrets: the answer's items is not a list");
    const items: SecretRef[] = (parsed.items ?? []).map((item, index) => {
        const m = (item && typeof item === "object" ? item.metadata : undefined) ?? {};
        if (!m.namespace || !m.name || !m.resourceVersion) {
            throw new Error(`list secrets: item ${index} lacks metadata.namespace/name/resourceVersion`);
        }
        return {
            namespace: m.namespace,
            name: m.name,
            resourceVersion: m.resourceVersion,
            annotations: annotationKey === undefined ? m.annotations : onlyAnnotation(m.annotations, annotationKey),
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

function onlyAnnotation(annotations: Record<string, string> | undefined, key: string): Record<string, string> | undefined {
    const value = annotations?.[key];
    return typeof value === "string" ? { [key]: value } : undefined;
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
