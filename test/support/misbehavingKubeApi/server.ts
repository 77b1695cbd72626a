// A small misbehaving Kubernetes API server for tests: it serves only
// what the re-encryption client uses (a metadata-only list of all Secrets, a
// preconditioned merge patch of one annotation) plus the discovery kubectl
// needs, and misbehaves on demand: drip, hang, 410 forever, a continue token
// that never ends, Retry-After of any shape, 5xx, oversized pages, admission
// denials, tokens that stop working. Independent of ../kube (the full test server).

import { randomBytes, randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { misbehavingKubeApiCertificate } from "./cert";
import { writeHostileKubeconfig } from "./kubeconfig";
import type {
    HostileMode,
    HostileModeKind,
    MisbehavingKubeApi,
    MisbehavingKubeApiOptions,
    HostileStats,
    KubeconfigFileOptions,
    ModeSetting,
    RequestKind,
    Target,
} from "./types";
import {
    ContinueToken,
    DISCOVERY_PATHS,
    EXPIRED_CONTINUE_MESSAGE,
    JsonObject,
    LIST_CONTENT_TYPES,
    StoredSecret,
    decodeContinue,
    discovery,
    encodeContinue,
    negotiateList,
    objectMeta,
    readBody,
    renderList,
    renderSecret,
    status,
} from "./wire";

export * from "./types";
export { writeHostileKubeconfig } from "./kubeconfig";

const DEFAULT_DRIP_MS = 2000;
const DEFAULT_OVERSIZED_KEY = "kubectl.kubernetes.io/last-applied-configuration";
const PATCH_TYPES = ["application/merge-patch+json", "application/strategic-merge-patch+json"];

interface Route {
    kind: RequestKind;
    namespace?: string;
    name?: string;
}

interface Reply {
    status: number;
    body: JsonObject | string;
    contentType: string;
    headers?: Record<string, string>;
    /** Send without Content-Length, in 64 KiB chunks: the client only learns the size by reading. */
    chunked?: boolean;
}

/** A mode in force, with how often it has fired since setMode (for `times`) and repeatContinue's one token. */
interface ActiveMode<M extends HostileMode = HostileMode> {
    mode: M;
    hits: number;
    token?: string;
}

function route(method: string, path: string): Route {
    if (method === "GET" && DISCOVERY_PATHS.has(path)) return { kind: "discovery" };
    if (method === "GET" && path === "/api/v1/secrets") return { kind: "list" };
    let match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(path);
    if (match && method === "GET") return { kind: "list", namespace: decodeURIComponent(match[1]) };
    match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path);
    if (match && method === "PATCH") return { kind: "patch", namespace: decodeURIComponent(match[1]), name: decodeURIComponent(match[2]) };
    return { kind: "other" };
}

function applies(on: Target | undefined, call: "list" | "patch", fallback: Target): boolean {
    const target = on ?? fallback;
    return target === "all" || target === call;
}

function reply(
    code: number,
    reason: string,
    message: string,
    extra: { details?: JsonObject; metadata?: JsonObject; headers?: Record<string, string> } = {},
): Reply {
    return { status: code, body: status(code, reason, message, extra.details, extra.metadata), contentType: "application/json", headers: extra.headers };
}

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sameAnnotations(a: Record<string, string>, b: Record<string, string>): boolean {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

/** Index of the first key after `after` in sorted `keys` ("" = from the start). */
function firstAfter(keys: string[], after: string): number {
    let low = 0;
    let high = keys.length;
    while (low < high) {
        const mid = (low + high) >>> 1;
        if (keys[mid] <= after) low = mid + 1;
        else high = mid;
    }
    return low;
}

function oversizedValue(bytes: number): string {
    const head = '{"apiVersion":"v1","kind":"Secret","metadata":{"annotations":{"padding":"';
    return (head + "A".repeat(Math.max(0, bytes))).slice(0, Math.max(0, bytes));
}

function noStats(): HostileStats {
    return {
        requests: 0,
        byKind: { list: 0, patch: 0, discovery: 0, other: 0 },
        byMethod: {},
        byStatus: {},
        listsServed: 0,
        patchesApplied: 0,
        noOpPatches: 0,
        patchesPerSecret: {},
        misbehaved: {},
        bytesSent: 0,
        openConnections: 0,
        connectionsAccepted: 0,
    };
}

class Hostile {
    url = "";
    port = 0;
    caPem = "";
    token: string;
    private readonly acceptAnyToken: boolean;
    private readonly tls: boolean;
    private server: http.Server | undefined;
    private readonly secrets = new Map<string, StoredSecret>();
    /** "namespace/name", sorted: the list order. */
    private keys: string[] = [];
    private revision = 100;
    private tokenSerial = 0;
    private modes: ActiveMode[] = [];
    private auth = { used: 0, exhausted: false, revoked: undefined as string | undefined };
    private counters = noStats();
    private readonly sockets = new Set<Socket>();
    private readonly drips = new Set<NodeJS.Timeout>();

    constructor(options: MisbehavingKubeApiOptions) {
        this.token = options.token ?? randomBytes(16).toString("hex");
        this.acceptAnyToken = options.acceptAnyToken ?? false;
        this.tls = options.tls ?? true;
        const namespaces = Math.max(1, options.namespaces ?? 3);
        const created = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
        for (let i = 0; i < (options.secrets ?? 10); i++) {
            const secret: StoredSecret = {
                namespace: `ns-${i % namespaces}`,
                name: `s-${String(i).padStart(5, "0")}`,
                uid: randomUUID(),
                creationTimestamp: created,
                resourceVersion: String(++this.revision),
                annotations: {},
            };
            this.secrets.set(`${secret.namespace}/${secret.name}`, secret);
        }
        this.keys = [...this.secrets.keys()].sort();
        this.setMode(options.mode ?? "normal");
    }

    async start(): Promise<void> {
        const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
            this.handle(request, response).catch((error: unknown) => this.send(response, reply(500, "InternalError", `hostile server bug: ${String(error)}`)));
        };
        if (this.tls) {
            const { cert, key } = await misbehavingKubeApiCertificate();
            this.caPem = cert;
            this.server = https.createServer({ cert, key }, handler);
        } else {
            this.server = http.createServer(handler);
        }
        this.server.on("connection", (socket: Socket) => {
            this.sockets.add(socket);
            this.counters.connectionsAccepted++;
            socket.on("close", () => this.sockets.delete(socket));
        });
        const server = this.server;
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, "127.0.0.1", () => resolve());
        });
        this.port = (server.address() as AddressInfo).port;
        this.url = `${this.tls ? "https" : "http"}://127.0.0.1:${this.port}`;
    }

    async close(): Promise<void> {
        for (const timer of this.drips) clearInterval(timer);
        this.drips.clear();
        const server = this.server;
        if (!server) return;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const sockets = [...this.sockets].map((socket) => new Promise<void>((resolve) => (socket.once("close", () => resolve()), socket.destroy())));
        await Promise.all([closed, ...sockets]);
    }

    setMode(setting: ModeSetting): void {
        const list = Array.isArray(setting) ? setting : [typeof setting === "string" ? ({ kind: setting } as HostileMode) : setting];
        this.modes = list.filter((mode) => mode.kind !== "normal").map((mode) => ({ mode, hits: 0 }));
        this.auth = { used: 0, exhausted: false, revoked: undefined };
    }

    setToken(token: string): void {
        this.token = token;
    }

    stats(): HostileStats {
        const c = this.counters;
        return {
            ...c,
            byKind: { ...c.byKind },
            byMethod: { ...c.byMethod },
            byStatus: { ...c.byStatus },
            patchesPerSecret: { ...c.patchesPerSecret },
            misbehaved: { ...c.misbehaved },
            openConnections: this.sockets.size,
        };
    }

    resetStats(): void {
        const accepted = this.counters.connectionsAccepted;
        this.counters = noStats();
        this.counters.connectionsAccepted = accepted;
    }

    annotations(namespace: string, name: string): Record<string, string> | undefined {
        const secret = this.secrets.get(`${namespace}/${name}`);
        return secret ? { ...secret.annotations } : undefined;
    }

    resourceVersion(namespace: string, name: string): string | undefined {
        return this.secrets.get(`${namespace}/${name}`)?.resourceVersion;
    }

    secretKeys(): string[] {
        return [...this.keys];
    }

    setAnnotation(namespace: string, name: string, key: string, value: string | null): void {
        const secret = this.secrets.get(`${namespace}/${name}`);
        if (!secret) throw new Error(`no Secret ${namespace}/${name} on the hostile server`);
        if (value === null) delete secret.annotations[key];
        else secret.annotations[key] = value;
        secret.resourceVersion = String(++this.revision);
    }

    deleteSecret(namespace: string, name: string): boolean {
        const key = `${namespace}/${name}`;
        if (!this.secrets.delete(key)) return false;
        this.keys.splice(this.keys.indexOf(key), 1);
        this.revision++;
        return true;
    }

    writeKubeconfig(path: string, options?: KubeconfigFileOptions): string {
        return writeHostileKubeconfig(path, this, options);
    }

    // ---- requests -------------------------------------------------------------

    private active<K extends HostileModeKind>(kind: K): ActiveMode<Extract<HostileMode, { kind: K }>> | undefined {
        return this.modes.find((entry) => entry.mode.kind === kind) as ActiveMode<Extract<HostileMode, { kind: K }>> | undefined;
    }

    private misbehaved(entry: ActiveMode): void {
        entry.hits++;
        this.counters.misbehaved[entry.mode.kind] = (this.counters.misbehaved[entry.mode.kind] ?? 0) + 1;
    }

    private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        const method = request.method ?? "GET";
        const url = new URL(request.url ?? "/", "http://hostile.invalid");
        const target = route(method, url.pathname.replace(/\/+$/, "") || "/");
        this.counters.requests++;
        this.counters.byMethod[method] = (this.counters.byMethod[method] ?? 0) + 1;
        this.counters.byKind[target.kind]++;

        if (!this.authenticate(request.headers.authorization)) {
            request.resume();
            return this.send(response, reply(401, "Unauthorized", "Unauthorized"));
        }
        if (target.kind === "discovery" || target.kind === "other") {
            request.resume();
            if (target.kind === "other") return this.send(response, reply(404, "NotFound", "the server could not find the requested resource"));
            const { body, contentType } = discovery(url.pathname.replace(/\/+$/, ""), `127.0.0.1:${this.port}`);
            return this.send(response, { status: 200, body, contentType });
        }
        const call = target.kind;

        for (const entry of this.modes) {
            const mode = entry.mode;
            if (mode.kind === "hang" && applies(mode.on, call, "all")) {
                this.misbehaved(entry);
                if (call === "patch" && mode.applyPatches) await this.patch(target, request, true);
                else request.resume();
                return; // never answered; close() destroys the socket
            }
            const answer = this.misbehaviourAnswer(entry, call, target);
            if (answer) {
                this.misbehaved(entry);
                request.resume();
                return this.send(response, answer);
            }
        }

        const drip = this.active("drip");
        const dripping = drip && applies(drip.mode.on, call, "all") ? drip : undefined;
        const result = call === "list" ? this.list(target, url, request) : await this.patch(target, request, !dripping || dripping.mode.applyPatches === true);
        if (dripping) {
            this.misbehaved(dripping);
            return this.drip(response, result, dripping.mode.dripMs ?? DEFAULT_DRIP_MS);
        }
        if (call === "list" && result.status === 200) this.counters.listsServed++;
        this.send(response, result);
    }

    /** The answer a mode gives in place of serving the request, if it applies to this one. */
    private misbehaviourAnswer(entry: ActiveMode, call: "list" | "patch", target: Route): Reply | undefined {
        const mode = entry.mode;
        switch (mode.kind) {
            case "retryAfter": {
                if (!applies(mode.on, call, "all") || (mode.times !== undefined && entry.hits >= mode.times)) return undefined;
                const code = mode.status ?? 429;
                const headers: Record<string, string> = mode.retryAfter !== undefined ? { "Retry-After": mode.retryAfter } : {};
                if (mode.plainText)
                    return { status: code, body: "Too many requests, please try again later.\n", contentType: "text/plain; charset=utf-8", headers };
                return code === 429
                    ? reply(429, "TooManyRequests", "Too many requests, please try again later.", { headers })
                    : reply(503, "ServiceUnavailable", "the server is currently unable to handle the request", { headers });
            }
            case "serverErrors":
                if (!applies(mode.on, call, "patch") || (mode.times !== undefined && entry.hits >= mode.times)) return undefined;
                return (mode.status ?? 500) === 500
                    ? reply(500, "InternalError", "Internal error occurred: etcdserver: request timed out")
                    : reply(503, "ServiceUnavailable", "the server is currently unable to handle the request");
            case "denyPatch": {
                if (call !== "patch") return undefined;
                const namespace = target.namespace as string;
                const name = target.name as string;
                const denyAll = mode.namespaces === undefined && mode.names === undefined;
                if (denyAll || mode.namespaces?.includes(namespace)) {
                    return reply(
                        403,
                        "Forbidden",
                        `admission webhook "deny.example.com" denied the request: Secrets in namespace "${namespace}" may not be changed`,
                    );
                }
                if (mode.names?.includes(name) || mode.names?.includes(`${namespace}/${name}`)) {
                    return reply(
                        422,
                        "Invalid",
                        `Secret "${name}" is invalid: metadata.annotations: Invalid value: "${name}": rejected by the hostile test server`,
                        {
                            details: {
                                name,
                                kind: "Secret",
                                causes: [{ reason: "FieldValueInvalid", message: "Invalid value", field: "metadata.annotations" }],
                            },
                        },
                    );
                }
                return undefined;
            }
            default:
                return undefined;
        }
    }

    /** Whether the Authorization header gets in, with unauthorizedAfter's budget and revoked token. */
    private authenticate(header: string | undefined): boolean {
        const presented = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
        if (presented === undefined || (!this.acceptAnyToken && presented !== this.token)) return false;
        const entry = this.active("unauthorizedAfter");
        if (!entry) return true;
        if (this.auth.exhausted) {
            if (!entry.mode.rejectNewTokens && presented !== this.auth.revoked) return true;
            this.misbehaved(entry);
            return false;
        }
        if (this.auth.used < entry.mode.requests) {
            this.auth.used++;
            return true;
        }
        this.auth.exhausted = true;
        this.auth.revoked = presented;
        this.misbehaved(entry);
        entry.mode.onExhausted?.();
        return false;
    }

    private list(target: Route, url: URL, request: http.IncomingMessage): Reply {
        const form = negotiateList(request.headers.accept);
        if (!form) {
            return reply(406, "NotAcceptable", `only the following media types are accepted: ${Object.values(LIST_CONTENT_TYPES).reverse().join(", ")}`);
        }
        const scope = target.namespace ?? "";
        const limitParam = Number.parseInt(url.searchParams.get("limit") ?? "", 10);
        const limit = Number.isFinite(limitParam) && limitParam > 0 ? limitParam : 0;
        const continueParam = url.searchParams.get("continue") || undefined;
        let token: ContinueToken | undefined;
        if (continueParam) {
            token = decodeContinue(continueParam);
            if (!token || token.ns !== scope)
                return reply(400, "BadRequest", "continue key is not valid: the token is not one this server issued for this list");
        }

        const expired = this.active("expiredForever");
        if (expired && (token || expired.mode.everyList)) {
            this.misbehaved(expired);
            const remainder = encodeContinue({ rv: String(this.revision), ns: scope, after: token?.after ?? "", n: ++this.tokenSerial });
            return reply(410, "Expired", EXPIRED_CONTINUE_MESSAGE, { metadata: { continue: remainder } });
        }

        const keys = scope ? this.keys.filter((key) => key.startsWith(`${scope}/`)) : this.keys;
        const repeat = this.active("repeatContinue");
        const start = repeat ? 0 : firstAfter(keys, token?.after ?? "");
        const end = limit > 0 ? Math.min(keys.length, start + limit) : keys.length;
        const rv = repeat ? undefined : token?.rv;
        const listMeta: JsonObject = { resourceVersion: rv ?? String(this.revision) };
        if (repeat) {
            this.misbehaved(repeat);
            repeat.token ??= encodeContinue({ rv: String(this.revision), ns: scope, after: keys[end - 1] ?? "" });
            listMeta.continue = repeat.token;
        } else if (end < keys.length) {
            listMeta.continue = encodeContinue({ rv: listMeta.resourceVersion as string, ns: scope, after: keys[end - 1] });
        }
        if (end < keys.length) listMeta.remainingItemCount = keys.length - end;

        const oversized = this.active("oversizedPage");
        const extra = oversized ? { [oversized.mode.annotationKey ?? DEFAULT_OVERSIZED_KEY]: oversizedValue(oversized.mode.bytesPerItem) } : {};
        if (oversized) this.misbehaved(oversized);
        const items = keys.slice(start, end).map((key) => {
            const secret = this.secrets.get(key) as StoredSecret;
            return { secret, metadata: objectMeta(secret, extra) };
        });
        return { status: 200, body: renderList(form, items, listMeta), contentType: LIST_CONTENT_TYPES[form], chunked: oversized?.mode.chunked };
    }

    /** A merge patch of annotations with an optional resourceVersion precondition; `apply` false: validate and answer, write nothing. */
    private async patch(target: Route, request: http.IncomingMessage, apply: boolean): Promise<Reply> {
        const namespace = target.namespace as string;
        const name = target.name as string;
        const text = await readBody(request);
        if (text === undefined) return reply(413, "RequestEntityTooLarge", "request entity too large: limit is 3145728");
        const contentType = (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
        if (!PATCH_TYPES.includes(contentType)) {
            return reply(
                415,
                "UnsupportedMediaType",
                `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}`,
            );
        }
        let patch: unknown;
        try {
            patch = JSON.parse(text);
        } catch {
            return reply(400, "BadRequest", "the request body is not valid JSON");
        }
        const metadata = isObject(patch) ? (patch.metadata ?? {}) : undefined;
        if (!isObject(metadata)) return reply(400, "BadRequest", "the patch must be a JSON object whose metadata is an object");

        const key = `${namespace}/${name}`;
        const secret = this.secrets.get(key);
        if (!secret) return reply(404, "NotFound", `secrets "${name}" not found`, { details: { name, kind: "secrets" } });
        if (metadata.resourceVersion !== undefined && metadata.resourceVersion !== null && metadata.resourceVersion !== secret.resourceVersion) {
            return reply(
                409,
                "Conflict",
                `Operation cannot be fulfilled on secrets "${name}": the object has been modified; please apply your changes to the latest version and try again`,
                { details: { name, kind: "secrets" } },
            );
        }
        let next = { ...secret.annotations };
        if (metadata.annotations === null) {
            next = {};
        } else if (metadata.annotations !== undefined) {
            if (!isObject(metadata.annotations)) return reply(400, "BadRequest", "metadata.annotations must be an object");
            for (const [annotation, value] of Object.entries(metadata.annotations)) {
                if (value === null) delete next[annotation];
                else if (typeof value === "string") next[annotation] = value;
                else return reply(400, "BadRequest", `Secret in version "v1" cannot be handled as a Secret: annotation ${annotation} is not a string`);
            }
        }
        if (apply) {
            if (sameAnnotations(next, secret.annotations)) {
                this.counters.noOpPatches++; // kube-apiserver skips a write that changes nothing: no new resourceVersion
            } else {
                secret.annotations = next;
                secret.resourceVersion = String(++this.revision);
                this.counters.patchesApplied++;
                this.counters.patchesPerSecret[key] = (this.counters.patchesPerSecret[key] ?? 0) + 1;
            }
        }
        const { body, contentType: answerType } = renderSecret(secret, request.headers.accept);
        return { status: 200, body, contentType: answerType };
    }

    // ---- responses ------------------------------------------------------------

    private send(response: http.ServerResponse, answer: Reply): void {
        if (response.headersSent || response.destroyed) return;
        const body = Buffer.from(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
        this.counters.byStatus[answer.status] = (this.counters.byStatus[answer.status] ?? 0) + 1;
        if (answer.chunked) {
            response.writeHead(answer.status, { "Content-Type": answer.contentType, ...answer.headers });
            const writeFrom = (offset: number): void => {
                // Stops as soon as the client hangs up: bytesSent then shows how much it read before giving up.
                while (offset < body.length && !response.destroyed) {
                    const chunk = body.subarray(offset, offset + 65536);
                    offset += chunk.length;
                    this.counters.bytesSent += chunk.length;
                    if (!response.write(chunk)) return void response.once("drain", () => writeFrom(offset));
                }
                if (!response.destroyed) response.end();
            };
            writeFrom(0);
            return;
        }
        response.writeHead(answer.status, { "Content-Type": answer.contentType, "Content-Length": body.length, ...answer.headers });
        response.end(body);
        this.counters.bytesSent += body.length;
    }

    /** Headers now, then one byte of the body every `dripMs` (spaces once the body is out), until the connection goes. */
    private drip(response: http.ServerResponse, answer: Reply, dripMs: number): void {
        const body = Buffer.from(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
        this.counters.byStatus[answer.status] = (this.counters.byStatus[answer.status] ?? 0) + 1;
        response.writeHead(answer.status, { "Content-Type": answer.contentType, ...answer.headers });
        response.flushHeaders();
        let offset = 0;
        const timer = setInterval(() => {
            if (response.destroyed || response.writableEnded) return stop();
            response.write(offset < body.length ? body.subarray(offset, offset + 1) : " ");
            offset++;
            this.counters.bytesSent++;
        }, dripMs);
        const stop = () => {
            clearInterval(timer);
            this.drips.delete(timer);
        };
        this.drips.add(timer);
        response.on("close", stop);
    }
}

/** Starts a hostile server on 127.0.0.1 (random port). Always `close()` it: that also ends hanging and dripping requests. */
export async function startMisbehavingKubeApi(options: MisbehavingKubeApiOptions = {}): Promise<MisbehavingKubeApi> {
    const server = new Hostile(options);
    await server.start();
    // A plain object of bound functions, so tests may destructure it.
    return {
        url: server.url,
        port: server.port,
        caPem: server.caPem,
        get token() {
            return server.token;
        },
        close: () => server.close(),
        stats: () => server.stats(),
        resetStats: () => server.resetStats(),
        setMode: (mode) => server.setMode(mode),
        setToken: (token) => server.setToken(token),
        annotations: (namespace, name) => server.annotations(namespace, name),
        resourceVersion: (namespace, name) => server.resourceVersion(namespace, name),
        secretKeys: () => server.secretKeys(),
        setAnnotation: (namespace, name, key, value) => server.setAnnotation(namespace, name, key, value),
        deleteSecret: (namespace, name) => server.deleteSecret(namespace, name),
        writeKubeconfig: (path, options) => server.writeKubeconfig(path, options),
    };
}
