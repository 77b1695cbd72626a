// A Kubernetes API test server for Secrets: real TLS, bearer tokens, discovery
// enough for kubectl, chunked lists with continue tokens, metadata-only and Table
// lists, GET/PATCH/PUT/POST/DELETE, TokenRequest with restricted rights, the
// no-op-write rule of kube-apiserver, a record of the key version that sealed
// each Secret, and fault knobs (latency, 429, 5xx, resets, expired continue
// tokens, churn). It runs in the test's (or benchmark's) own process.

import { randomBytes } from "crypto";
import { writeFileSync } from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import { Json, JsonObject, PatchError, applyPatch, isJsonObject } from "./kubePatch";
import { ApiError, SecretStore, SeedOptions, notFound, secretKey } from "./kubeStore";

export type SecretVerb = "list" | "get" | "patch" | "update" | "create" | "delete";
export type Verb = SecretVerb | "createToken" | "discovery";

export interface FaultOptions {
    /** probability (0-1) that a Secret request gets 429 with Retry-After and a plain-text body. */
    throttleProbability?: number;
    /** Retry-After seconds sent with 429; default 1. */
    retryAfterSeconds?: number;
    /** probability of a 500/503 Status instead of handling the request. */
    serverErrorProbability?: number;
    /** probability that the connection is reset before the request is handled. */
    resetProbability?: number;
    /** probability that a write is handled (and stored) but its response is lost to a reset. */
    lostResponseProbability?: number;
    /** probability that the request hangs for hangMs and then the connection is reset. */
    hangProbability?: number;
    hangMs?: number;
    /** which Secret verbs the probabilistic faults hit; default all. */
    faultVerbs?: SecretVerb[];
    /** the first continue request after this many chunked pages were served gets 410 Expired, once. */
    expireContinueAfterPages?: number;
    /** continue tokens older than this answer 410 Expired (every time). */
    continueTokenTtlMs?: number;
    /** whether a 410 Expired Status carries metadata.continue for the (inconsistent) remainder. */
    expiredContinueCarriesRemainder?: boolean;
}

export interface ChurnOptions {
    /** one churn step after every N Secret requests. */
    everyRequests?: number;
    /** or one churn step on this timer. */
    intervalMs?: number;
    /** per step: Secrets whose data is edited (as another client would), deleted, created. */
    edits?: number;
    deletes?: number;
    creates?: number;
    /** stop after this many steps; default unlimited. */
    maxSteps?: number;
}

export interface PolicyRule {
    verbs: string[];
    /** e.g. "secrets", "serviceaccounts/token"; "*" for all. */
    resources: string[];
    /** namespaces the rule applies in; undefined = every namespace and cluster scope. */
    namespaces?: string[];
}

export interface RequestInfo {
    verb: Verb;
    method: string;
    path: string;
    namespace?: string;
    name?: string;
    user: string;
}

/** What a request hook may do to one request: nothing, reset it, or answer it. */
export type HookAction = void | "reset" | { status: number; body: string; headers?: Record<string, string> };
export type RequestHook = (request: RequestInfo) => HookAction;

export interface KubeServerOptions {
    /** the bearer token with full rights; default random. */
    token?: string;
    /** key version that seals Secrets written from now on; default 1. */
    keyVersion?: number;
    /** seed of the deterministic randomness behind faults and churn; default 1. */
    randomSeed?: number;
    /** latency added to every API request. */
    latencyMs?: number;
    /** latency added to every real write (the KMS Encrypt of kube-apiserver's KMS provider). */
    writeLatencyMs?: number;
    faults?: FaultOptions;
    churn?: ChurnOptions;
}

export interface KubeconfigOptions {
    /** context (and cluster/user) name; default "kube-test". */
    context?: string;
    /** bearer token to put in the kubeconfig; default the full-rights token. */
    token?: string;
    /** default namespace of the context. */
    namespace?: string;
}

export interface ServerStats {
    secrets: number;
    keyVersion: number;
    bySealedVersion: Record<number, number>;
    apiUpdates: number;
    apiCreates: number;
    apiDeletes: number;
    churnWrites: number;
    maxWritesPerSecret: number;
    requests: number;
    requestsByVerb: Partial<Record<Verb, number>>;
    responsesByStatus: Record<number, number>;
    noOpWrites: number;
    faultsInjected: { throttled: number; serverErrors: number; resets: number; lostResponses: number; hangs: number; expiredContinues: number };
    peakConcurrentRequests: number;
}

export interface KubeTestServer {
    readonly url: string;
    readonly port: number;
    /** the full-rights bearer token. */
    readonly token: string;
    /** PEM of the self-signed serving certificate (also the CA). */
    readonly caPem: string;
    readonly store: SecretStore;
    readonly keyVersion: number;
    writeKubeconfig(path: string, options?: KubeconfigOptions): string;
    setKeyVersion(version: number): void;
    setLatency(latency: { latencyMs?: number; writeLatencyMs?: number }): void;
    /** replaces the fault settings (and re-arms the one-shot continue expiry). */
    setFaults(faults: FaultOptions): void;
    setChurn(churn: ChurnOptions | undefined): void;
    setRequestHook(hook: RequestHook | undefined): void;
    /** a ServiceAccount whose TokenRequest tokens carry only these rights. */
    addServiceAccount(namespace: string, name: string, rules: PolicyRule[]): void;
    /** mints a token for a registered ServiceAccount directly (tests; no 10-minute minimum). */
    mintToken(namespace: string, name: string, ttlSeconds?: number): string;
    seed(count: number, options?: SeedOptions): string[];
    stats(): ServerStats;
    /** "namespace/name" of every Secret not sealed with `version`. */
    secretsNotOnKeyVersion(version: number): string[];
    /** "namespace/name" of every Secret whose data differs from what seeding/churn put there. */
    secretsWithChangedContents(): string[];
    /** zeroes request counters, write counters and the peak concurrency. */
    resetCounters(): void;
    close(): Promise<void>;
}

interface TokenIdentity {
    user: string;
    rules: PolicyRule[] | "all";
    expiresAt: number;
}

interface ContinueToken {
    /** resourceVersion of the list the token continues. */
    rv: string;
    /** namespace scope; "" = all namespaces. */
    ns: string;
    after: string;
    issuedAt: number;
}

const EXPIRED_CONTINUE_MESSAGE =
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

const THROTTLE_BODY = "Too many requests, please try again later.\n";
const MAX_BODY_BYTES = 3 * 1024 * 1024;
const TOKEN_REQUEST_MIN_SECONDS = 600;

let certificatePromise: Promise<{ cert: string; key: string }> | undefined;

/** One self-signed certificate per process: SAN IP 127.0.0.1 (and localhost), usable as its own CA. */
export function serverCertificate(): Promise<{ cert: string; key: string }> {
    if (!certificatePromise) {
        certificatePromise = new Promise((resolve, reject) => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- selfsigned is CommonJS only, loaded once per process
            const selfsigned = require("selfsigned") as typeof import("selfsigned");
            selfsigned.generate(
                [{ name: "commonName", value: "kube-test-apiserver" }],
                {
                    keySize: 2048,
                    days: 30,
                    algorithm: "sha256",
                    extensions: [
                        { name: "basicConstraints", cA: true },
                        { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
                        { name: "extKeyUsage", serverAuth: true },
                        {
                            name: "subjectAltName",
                            altNames: [
                                { type: 7, ip: "127.0.0.1" },
                                { type: 2, value: "localhost" },
                            ],
                        },
                    ],
                },
                (error, result) => (error ? reject(error) : resolve({ cert: result.cert, key: result.private })),
            );
        });
    }
    return certificatePromise;
}

/** mulberry32: small, fast, deterministic for a given seed. */
function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

function status(code: number, reason: string, message: string, details?: JsonObject, metadata: JsonObject = {}): JsonObject {
    const body: JsonObject = { kind: "Status", apiVersion: "v1", metadata, status: "Failure", message, reason };
    if (details) {
        body.details = details;
    }
    body.code = code;
    return body;
}

interface NegotiatedType {
    /** plain JSON of the resource, or one of the meta.k8s.io transformations. */
    as: "object" | "PartialObjectMetadata" | "PartialObjectMetadataList" | "Table";
    contentType: string;
}

/** Picks the first Accept entry this server can produce, as kube-apiserver's negotiation does. */
export function negotiate(accept: string | undefined, isList: boolean): NegotiatedType | undefined {
    if (!accept || accept.trim() === "") {
        return { as: "object", contentType: "application/json" };
    }
    for (const entry of accept.split(",")) {
        const [mediaRange, ...paramParts] = entry.split(";").map((part) => part.trim());
        const params: Record<string, string> = {};
        for (const part of paramParts) {
            const [key, value] = part.split("=").map((s) => s.trim());
            params[key] = value ?? "";
        }
        if (mediaRange !== "application/json" && mediaRange !== "*/*" && mediaRange !== "application/*") {
            continue;
        }
        if (params.as === undefined) {
            return { as: "object", contentType: "application/json" };
        }
        if (params.g !== "meta.k8s.io" || (params.v !== "v1" && params.v !== "v1beta1")) {
            continue;
        }
        const contentType = `application/json;as=${params.as};g=meta.k8s.io;v=${params.v}`;
        if (params.as === "Table") {
            return { as: "Table", contentType };
        }
        if (params.as === "PartialObjectMetadataList" && isList) {
            return { as: "PartialObjectMetadataList", contentType };
        }
        if (params.as === "PartialObjectMetadata" && !isList) {
            return { as: "PartialObjectMetadata", contentType };
        }
    }
    return undefined;
}

function encodeContinue(token: ContinueToken): string {
    return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeContinue(raw: string): ContinueToken {
    try {
        const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
        if (typeof parsed.rv === "string" && typeof parsed.ns === "string" && typeof parsed.after === "string" && typeof parsed.issuedAt === "number") {
            return parsed as ContinueToken;
        }
    } catch {
        // fall through to the error below
    }
    throw new ApiError(400, "BadRequest", "continue key is not valid: the token is not one this server issued");
}

function age(creationTimestamp: Json): string {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(String(creationTimestamp))) / 1000));
    if (seconds < 120) return `${seconds}s`;
    if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
    return `${Math.floor(seconds / 3600)}h`;
}

function partialMetadata(object: JsonObject): JsonObject {
    return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata as JsonObject };
}

function table(objects: JsonObject[], apiVersion: string, listMeta: JsonObject): JsonObject {
    return {
        kind: "Table",
        apiVersion,
        metadata: listMeta,
        columnDefinitions: [
            { name: "Name", type: "string", format: "name", description: "Name of the Secret", priority: 0 },
            { name: "Type", type: "string", format: "", description: "Type of the Secret", priority: 0 },
            { name: "Data", type: "integer", format: "", description: "Number of data keys", priority: 0 },
            { name: "Age", type: "string", format: "", description: "Time since creation", priority: 0 },
        ],
        rows: objects.map((object) => ({
            cells: [
                (object.metadata as JsonObject).name,
                object.type ?? "Opaque",
                Object.keys(isJsonObject(object.data) ? object.data : {}).length,
                age((object.metadata as JsonObject).creationTimestamp),
            ],
            object: partialMetadata(object),
        })),
    };
}

function isAllowed(identity: TokenIdentity, verb: string, resource: string, namespace: string | undefined): boolean {
    if (identity.rules === "all") {
        return true;
    }
    return identity.rules.some(
        (rule) =>
            (rule.verbs.includes(verb) || rule.verbs.includes("*")) &&
            (rule.resources.includes(resource) || rule.resources.includes("*")) &&
            (rule.namespaces === undefined || (namespace !== undefined && rule.namespaces.includes(namespace))),
    );
}

class Server implements KubeTestServer {
    readonly store = new SecretStore();
    url = "";
    port = 0;
    caPem = "";
    readonly token: string;
    private httpsServer: https.Server | undefined;
    private readonly random: () => number;
    private latencyMs: number;
    private writeLatencyMs: number;
    private faults: FaultOptions = {};
    private continueExpiredOnce = false;
    private chunkedPagesServed = 0;
    private churn: ChurnOptions | undefined;
    private churnTimer: NodeJS.Timeout | undefined;
    private churnSteps = 0;
    private churnCounter = 0;
    private secretRequestsSinceChurn = 0;
    private hook: RequestHook | undefined;
    private readonly identities = new Map<string, TokenIdentity>();
    private readonly serviceAccounts = new Map<string, PolicyRule[]>();
    private readonly sockets = new Set<import("stream").Duplex>();
    private counters = this.emptyCounters();
    private inFlight = 0;

    constructor(options: KubeServerOptions) {
        this.token = options.token ?? randomBytes(24).toString("hex");
        this.identities.set(this.token, { user: "kube-test-admin", rules: "all", expiresAt: Number.POSITIVE_INFINITY });
        this.store.keyVersion = options.keyVersion ?? 1;
        this.random = seededRandom(options.randomSeed ?? 1);
        this.latencyMs = options.latencyMs ?? 0;
        this.writeLatencyMs = options.writeLatencyMs ?? 0;
        this.setFaults(options.faults ?? {});
        this.setChurn(options.churn);
    }

    private emptyCounters() {
        return {
            requests: 0,
            requestsByVerb: {} as Partial<Record<Verb, number>>,
            responsesByStatus: {} as Record<number, number>,
            noOpWrites: 0,
            faultsInjected: { throttled: 0, serverErrors: 0, resets: 0, lostResponses: 0, hangs: 0, expiredContinues: 0 },
            peakConcurrentRequests: 0,
        };
    }

    async start(): Promise<void> {
        const { cert, key } = await serverCertificate();
        this.caPem = cert;
        this.httpsServer = https.createServer({ cert, key, keepAlive: true }, (request, response) => {
            this.handle(request, response).catch((error: unknown) => {
                this.send(response, 500, status(500, "InternalError", `test server bug: ${String(error)}`));
            });
        });
        this.httpsServer.keepAliveTimeout = 60_000;
        this.httpsServer.headersTimeout = 65_000;
        this.httpsServer.on("connection", (socket) => {
            this.sockets.add(socket);
            socket.on("close", () => this.sockets.delete(socket));
        });
        await new Promise<void>((resolve) => (this.httpsServer as https.Server).listen(0, "127.0.0.1", resolve));
        this.port = (this.httpsServer.address() as AddressInfo).port;
        this.url = `https://127.0.0.1:${this.port}`;
    }

    get keyVersion(): number {
        return this.store.keyVersion;
    }

    setKeyVersion(version: number): void {
        this.store.keyVersion = version;
    }

    setLatency(latency: { latencyMs?: number; writeLatencyMs?: number }): void {
        if (latency.latencyMs !== undefined) this.latencyMs = latency.latencyMs;
        if (latency.writeLatencyMs !== undefined) this.writeLatencyMs = latency.writeLatencyMs;
    }

    setFaults(faults: FaultOptions): void {
        this.faults = { ...faults };
        this.continueExpiredOnce = false;
        this.chunkedPagesServed = 0;
    }

    setChurn(churn: ChurnOptions | undefined): void {
        if (this.churnTimer) {
            clearInterval(this.churnTimer);
            this.churnTimer = undefined;
        }
        this.churn = churn;
        this.churnSteps = 0;
        this.secretRequestsSinceChurn = 0;
        if (churn?.intervalMs) {
            this.churnTimer = setInterval(() => this.churnStep(), churn.intervalMs);
            this.churnTimer.unref();
        }
    }

    setRequestHook(hook: RequestHook | undefined): void {
        this.hook = hook;
    }

    addServiceAccount(namespace: string, name: string, rules: PolicyRule[]): void {
        this.serviceAccounts.set(`${namespace}/${name}`, rules);
    }

    mintToken(namespace: string, name: string, ttlSeconds = 3600): string {
        const rules = this.serviceAccounts.get(`${namespace}/${name}`);
        if (!rules) {
            throw new Error(`no ServiceAccount ${namespace}/${name} registered on the test server: call addServiceAccount first`);
        }
        const token = randomBytes(24).toString("hex");
        this.identities.set(token, { user: `system:serviceaccount:${namespace}:${name}`, rules, expiresAt: Date.now() + ttlSeconds * 1000 });
        return token;
    }

    seed(count: number, options?: SeedOptions): string[] {
        return this.store.seed(count, options);
    }

    secretsNotOnKeyVersion(version: number): string[] {
        return this.store.namesNotSealedWith(version);
    }

    secretsWithChangedContents(): string[] {
        return this.store.namesWithChangedContents();
    }

    stats(): ServerStats {
        return {
            secrets: this.store.size,
            keyVersion: this.store.keyVersion,
            bySealedVersion: this.store.countBySealedVersion(),
            apiUpdates: this.store.apiUpdates,
            apiCreates: this.store.apiCreates,
            apiDeletes: this.store.apiDeletes,
            churnWrites: this.store.churnWrites,
            maxWritesPerSecret: this.store.maxApiWritesPerSecret(),
            requests: this.counters.requests,
            requestsByVerb: { ...this.counters.requestsByVerb },
            responsesByStatus: { ...this.counters.responsesByStatus },
            noOpWrites: this.counters.noOpWrites,
            faultsInjected: { ...this.counters.faultsInjected },
            peakConcurrentRequests: this.counters.peakConcurrentRequests,
        };
    }

    resetCounters(): void {
        this.counters = this.emptyCounters();
        this.store.resetWriteCounters();
    }

    writeKubeconfig(path: string, options: KubeconfigOptions = {}): string {
        const name = options.context ?? "kube-test";
        const token = options.token ?? this.token;
        const ca = Buffer.from(this.caPem).toString("base64");
        const q = JSON.stringify;
        const lines = [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            `- name: ${q(name)}`,
            "  cluster:",
            `    server: ${q(this.url)}`,
            `    certificate-authority-data: ${q(ca)}`,
            "users:",
            `- name: ${q(name)}`,
            "  user:",
            `    token: ${q(token)}`,
            "contexts:",
            `- name: ${q(name)}`,
            "  context:",
            `    cluster: ${q(name)}`,
            `    user: ${q(name)}`,
            ...(options.namespace ? [`    namespace: ${q(options.namespace)}`] : []),
            `current-context: ${q(name)}`,
            "",
        ];
        writeFileSync(path, lines.join("\n"), { mode: 0o600 });
        return path;
    }

    async close(): Promise<void> {
        this.setChurn(undefined);
        const server = this.httpsServer;
        if (!server) return;
        await new Promise<void>((resolve) => {
            server.close(() => resolve());
            for (const socket of this.sockets) {
                socket.destroy();
            }
        });
    }

    // ---- request handling ---------------------------------------------------

    private send(
        response: http.ServerResponse,
        code: number,
        body: JsonObject | string,
        contentType = "application/json",
        headers: Record<string, string> = {},
    ): void {
        if (response.headersSent || response.destroyed) {
            return;
        }
        const text = typeof body === "string" ? body : JSON.stringify(body);
        this.counters.responsesByStatus[code] = (this.counters.responsesByStatus[code] ?? 0) + 1;
        response.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text), ...headers });
        response.end(text);
    }

    private sendError(response: http.ServerResponse, error: unknown): void {
        if (error instanceof ApiError) {
            this.send(response, error.code, status(error.code, error.reason, error.message, error.details));
        } else if (error instanceof PatchError) {
            const reason = error.code === 415 ? "UnsupportedMediaType" : error.code === 422 ? "Invalid" : "BadRequest";
            this.send(response, error.code, status(error.code, reason, error.message));
        } else {
            this.send(response, 500, status(500, "InternalError", `test server bug: ${String(error)}`));
        }
    }

    private authenticate(request: http.IncomingMessage): TokenIdentity | undefined {
        const header = request.headers.authorization ?? "";
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        if (!match) return undefined;
        const identity = this.identities.get(match[1]);
        if (!identity || identity.expiresAt < Date.now()) return undefined;
        return identity;
    }

    private async readBody(request: http.IncomingMessage): Promise<string> {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of request) {
            size += (chunk as Buffer).length;
            if (size > MAX_BODY_BYTES) {
                throw new ApiError(413, "RequestEntityTooLarge", "request entity too large: limit is 3145728");
            }
            chunks.push(chunk as Buffer);
        }
        return Buffer.concat(chunks).toString("utf8");
    }

    private async readJson(request: http.IncomingMessage): Promise<Json> {
        const text = await this.readBody(request);
        try {
            return JSON.parse(text) as Json;
        } catch {
            throw new ApiError(400, "BadRequest", "the request body is not valid JSON");
        }
    }

    private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        this.inFlight++;
        this.counters.peakConcurrentRequests = Math.max(this.counters.peakConcurrentRequests, this.inFlight);
        let finished = false;
        const done = () => {
            if (!finished) {
                finished = true;
                this.inFlight--;
            }
        };
        response.on("finish", done);
        response.on("close", done);
        this.counters.requests++;

        const url = new URL(request.url ?? "/", "https://127.0.0.1");
        const path = url.pathname.replace(/\/+$/, "") || "/";
        const method = request.method ?? "GET";

        const identity = this.authenticate(request);
        if (!identity) {
            request.resume();
            this.send(response, 401, status(401, "Unauthorized", "Unauthorized"));
            return;
        }
        if (this.latencyMs > 0) {
            await sleep(this.latencyMs);
        }

        const route = this.route(method, path);
        if (!route) {
            request.resume();
            this.send(response, 404, status(404, "NotFound", "the server could not find the requested resource"));
            return;
        }
        this.counters.requestsByVerb[route.verb] = (this.counters.requestsByVerb[route.verb] ?? 0) + 1;
        if (route.verb === "discovery") {
            request.resume();
            this.serveDiscovery(path, response);
            return;
        }

        const resource = route.verb === "createToken" ? "serviceaccounts/token" : "secrets";
        const rbacVerb = route.verb === "createToken" ? "create" : route.verb;
        if (!isAllowed(identity, rbacVerb, resource, route.namespace)) {
            request.resume();
            const scope = route.namespace ? `in the namespace "${route.namespace}"` : "at the cluster scope";
            const subject = route.name ? `${resource} "${route.name}"` : resource;
            this.send(
                response,
                403,
                status(
                    403,
                    "Forbidden",
                    `${subject} is forbidden: User "${identity.user}" cannot ${rbacVerb} resource "${resource.split("/")[0]}" in API group "" ${scope}`,
                    {
                        ...(route.name ? { name: route.name } : {}),
                        kind: resource.split("/")[0],
                    },
                ),
            );
            return;
        }

        const info: RequestInfo = { verb: route.verb, method, path, namespace: route.namespace, name: route.name, user: identity.user };
        const action = this.hook?.(info);
        if (action === "reset") {
            this.counters.faultsInjected.resets++;
            request.socket.destroy();
            return;
        }
        if (action && typeof action === "object") {
            request.resume();
            this.send(response, action.status, action.body, action.headers?.["Content-Type"] ?? "application/json", action.headers ?? {});
            return;
        }

        if (route.verb !== "createToken") {
            this.maybeChurn();
            if (await this.injectFault(route.verb, request, response)) {
                return;
            }
        }

        try {
            switch (route.verb) {
                case "list":
                    request.resume();
                    this.serveList(route.namespace, url.searchParams, request, response);
                    return;
                case "get":
                    request.resume();
                    this.serveGet(route.namespace as string, route.name as string, request, response);
                    return;
                case "patch":
                case "update":
                    await this.serveUpdate(route.verb, route.namespace as string, route.name as string, url.searchParams, request, response);
                    return;
                case "create":
                    await this.serveCreate(route.namespace as string, url.searchParams, request, response);
                    return;
                case "delete":
                    await this.serveDelete(route.namespace as string, route.name as string, url.searchParams, request, response);
                    return;
                case "createToken":
                    await this.serveTokenRequest(route.namespace as string, route.name as string, request, response);
                    return;
            }
        } catch (error) {
            request.resume();
            this.sendError(response, error);
        }
    }

    private route(method: string, path: string): { verb: Verb; namespace?: string; name?: string } | undefined {
        if (
            method === "GET" &&
            (path === "/api" || path === "/api/v1" || path === "/apis" || path === "/version" || path === "/healthz" || path === "/livez" || path === "/readyz")
        ) {
            return { verb: "discovery" };
        }
        if (path === "/api/v1/secrets") {
            return method === "GET" ? { verb: "list" } : undefined;
        }
        let match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(path);
        if (match) {
            if (method === "GET") return { verb: "list", namespace: decodeURIComponent(match[1]) };
            if (method === "POST") return { verb: "create", namespace: decodeURIComponent(match[1]) };
            return undefined;
        }
        match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path);
        if (match) {
            const verb = ({ GET: "get", PATCH: "patch", PUT: "update", DELETE: "delete" } as Record<string, SecretVerb>)[method];
            return verb ? { verb, namespace: decodeURIComponent(match[1]), name: decodeURIComponent(match[2]) } : undefined;
        }
        match = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/.exec(path);
        if (match && method === "POST") {
            return { verb: "createToken", namespace: decodeURIComponent(match[1]), name: decodeURIComponent(match[2]) };
        }
        return undefined;
    }

    private serveDiscovery(path: string, response: http.ServerResponse): void {
        switch (path) {
            case "/version":
                this.send(response, 200, {
                    major: "1",
                    minor: "32",
                    gitVersion: "v1.32.0-kube-test-server",
                    gitCommit: "0000000000000000000000000000000000000000",
                    gitTreeState: "clean",
                    buildDate: "2026-01-01T00:00:00Z",
                    goVersion: "go1.23",
                    compiler: "gc",
                    platform: "linux/amd64",
                });
                return;
            case "/api":
                this.send(response, 200, {
                    kind: "APIVersions",
                    versions: ["v1"],
                    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: `127.0.0.1:${this.port}` }],
                });
                return;
            case "/apis":
                this.send(response, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
                return;
            case "/api/v1":
                this.send(response, 200, {
                    kind: "APIResourceList",
                    groupVersion: "v1",
                    resources: [
                        {
                            name: "secrets",
                            singularName: "secret",
                            namespaced: true,
                            kind: "Secret",
                            verbs: ["create", "delete", "get", "list", "patch", "update"],
                            storageVersionHash: "S6u1pOWzb84=",
                        },
                        {
                            name: "serviceaccounts/token",
                            singularName: "",
                            namespaced: true,
                            group: "authentication.k8s.io",
                            version: "v1",
                            kind: "TokenRequest",
                            verbs: ["create"],
                        },
                    ],
                });
                return;
            default:
                this.send(response, 200, "ok", "text/plain");
        }
    }

    /** Returns true when a fault answered (or dropped) the request. */
    private async injectFault(verb: SecretVerb, request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> {
        const faults = this.faults;
        if (faults.faultVerbs && !faults.faultVerbs.includes(verb)) {
            return false;
        }
        if (faults.resetProbability && this.random() < faults.resetProbability) {
            this.counters.faultsInjected.resets++;
            request.socket.destroy();
            return true;
        }
        if (faults.hangProbability && this.random() < faults.hangProbability) {
            this.counters.faultsInjected.hangs++;
            await sleep(faults.hangMs ?? 30_000);
            request.socket.destroy();
            return true;
        }
        if (faults.throttleProbability && this.random() < faults.throttleProbability) {
            this.counters.faultsInjected.throttled++;
            request.resume();
            this.send(response, 429, THROTTLE_BODY, "text/plain; charset=utf-8", { "Retry-After": String(faults.retryAfterSeconds ?? 1) });
            return true;
        }
        if (faults.serverErrorProbability && this.random() < faults.serverErrorProbability) {
            this.counters.faultsInjected.serverErrors++;
            request.resume();
            if (this.random() < 0.5) {
                this.send(response, 500, status(500, "InternalError", "Internal error occurred: injected test fault"));
            } else {
                this.send(response, 503, status(503, "ServiceUnavailable", "the server is currently unable to handle the request (injected test fault)"));
            }
            return true;
        }
        return false;
    }

    private maybeChurn(): void {
        const churn = this.churn;
        if (!churn?.everyRequests) return;
        this.secretRequestsSinceChurn++;
        if (this.secretRequestsSinceChurn >= churn.everyRequests) {
            this.secretRequestsSinceChurn = 0;
            this.churnStep();
        }
    }

    /** Another client at work: edits data, deletes and creates Secrets. */
    private churnStep(): void {
        const churn = this.churn;
        if (!churn || (churn.maxSteps !== undefined && this.churnSteps >= churn.maxSteps)) return;
        this.churnSteps++;
        const pick = (): string | undefined => this.store.keyAt(Math.floor(this.random() * this.store.size));
        for (let i = 0; i < (churn.edits ?? 1); i++) {
            const key = pick();
            if (!key) break;
            const [namespace, name] = key.split("/");
            const mark = String(++this.churnCounter);
            this.store.update(
                namespace,
                name,
                (current) => ({ ...current, data: { ...((current.data as JsonObject) ?? {}), churn: Buffer.from(mark).toString("base64") } }),
                "churn",
            );
        }
        for (let i = 0; i < (churn.deletes ?? 0); i++) {
            const key = pick();
            if (!key) break;
            const [namespace, name] = key.split("/");
            this.store.delete(namespace, name, "churn");
        }
        for (let i = 0; i < (churn.creates ?? 0); i++) {
            const namespace = (pick() ?? "default/x").split("/")[0];
            this.store.create(
                namespace,
                { metadata: { name: `churn-created-${++this.churnCounter}` }, data: { value: Buffer.from("churn").toString("base64") } },
                "churn",
            );
        }
    }

    private serveList(namespace: string | undefined, query: URLSearchParams, request: http.IncomingMessage, response: http.ServerResponse): void {
        if (query.get("watch") === "true" || query.get("watch") === "1") {
            throw new ApiError(405, "MethodNotAllowed", "watch is not supported by this test server");
        }
        for (const selector of ["labelSelector", "fieldSelector"]) {
            const value = query.get(selector);
            if (value) {
                throw new ApiError(400, "BadRequest", `${selector} is not supported by this test server (got "${value}")`);
            }
        }
        const negotiated = negotiate(request.headers.accept, true);
        if (!negotiated) {
            throw new ApiError(
                406,
                "NotAcceptable",
                "only the following media types are accepted: application/json, application/json;as=Table;g=meta.k8s.io;v=v1, application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
            );
        }
        const limit = Math.max(0, Number.parseInt(query.get("limit") ?? "0", 10) || 0);
        const continueParam = query.get("continue");
        let afterKey: string | undefined;
        let listRevision = this.store.currentRevision();
        const scope = namespace ?? "";
        if (continueParam) {
            const token = decodeContinue(continueParam);
            if (token.ns !== scope) {
                throw new ApiError(400, "BadRequest", "continue key is not valid: it was issued for a different list");
            }
            const ttl = this.faults.continueTokenTtlMs;
            const expireOnce =
                this.faults.expireContinueAfterPages !== undefined &&
                !this.continueExpiredOnce &&
                this.chunkedPagesServed >= this.faults.expireContinueAfterPages;
            if (expireOnce || (ttl !== undefined && Date.now() - token.issuedAt > ttl)) {
                if (expireOnce) this.continueExpiredOnce = true;
                this.counters.faultsInjected.expiredContinues++;
                const metadata: JsonObject = {};
                if (this.faults.expiredContinueCarriesRemainder) {
                    metadata.continue = encodeContinue({ rv: this.store.currentRevision(), ns: scope, after: token.after, issuedAt: Date.now() });
                }
                this.send(response, 410, status(410, "Expired", EXPIRED_CONTINUE_MESSAGE, undefined, metadata));
                return;
            }
            afterKey = token.after;
            listRevision = token.rv;
        }
        const page = this.store.list(namespace, afterKey, limit);
        const listMeta: JsonObject = { resourceVersion: listRevision };
        if (page.lastKey !== undefined) {
            this.chunkedPagesServed++;
            listMeta.continue = encodeContinue({
                rv: listRevision,
                ns: scope,
                after: page.lastKey,
                issuedAt: continueParam ? decodeContinue(continueParam).issuedAt : Date.now(),
            });
            listMeta.remainingItemCount = page.remainingItemCount;
        }
        let body: JsonObject;
        switch (negotiated.as) {
            case "PartialObjectMetadataList":
                body = { kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata: listMeta, items: page.items.map(partialMetadata) };
                break;
            case "Table":
                body = table(page.items, negotiated.contentType.endsWith("v1beta1") ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1", listMeta);
                break;
            default:
                // kube-apiserver leaves kind/apiVersion off list items; kubectl fills them in.
                body = {
                    kind: "SecretList",
                    apiVersion: "v1",
                    metadata: listMeta,
                    items: page.items.map((item) => {
                        const { apiVersion: _apiVersion, kind: _kind, ...rest } = item;
                        return rest;
                    }),
                };
        }
        this.send(response, 200, body, negotiated.contentType);
    }

    private serveGet(namespace: string, name: string, request: http.IncomingMessage, response: http.ServerResponse): void {
        const negotiated = negotiate(request.headers.accept, false);
        if (!negotiated) {
            throw new ApiError(
                406,
                "NotAcceptable",
                "only the following media types are accepted: application/json, application/json;as=Table;g=meta.k8s.io;v=v1, application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
            );
        }
        const object = this.store.get(namespace, name);
        if (!object) {
            throw notFound(name);
        }
        if (negotiated.as === "PartialObjectMetadata") {
            this.send(response, 200, partialMetadata(object), negotiated.contentType);
        } else if (negotiated.as === "Table") {
            this.send(
                response,
                200,
                table([object], "meta.k8s.io/v1", { resourceVersion: (object.metadata as JsonObject).resourceVersion }),
                negotiated.contentType,
            );
        } else {
            this.send(response, 200, object);
        }
    }

    private async serveUpdate(
        verb: "patch" | "update",
        namespace: string,
        name: string,
        query: URLSearchParams,
        request: http.IncomingMessage,
        response: http.ServerResponse,
    ): Promise<void> {
        const contentType = (request.headers["content-type"] ?? "").split(";")[0].trim();
        if (verb === "update" && contentType !== "application/json" && contentType !== "") {
            throw new ApiError(
                415,
                "UnsupportedMediaType",
                `the body of the request was in an unknown format - accepted media types include: application/json (got ${contentType})`,
            );
        }
        const body = await this.readJson(request);
        const updateFn = (current: JsonObject): Json => (verb === "patch" ? applyPatch(contentType, current, body) : body);
        if (this.writeLatencyMs === 0 && !query.has("dryRun")) {
            const result = this.store.update(namespace, name, updateFn, "api");
            if (!result.changed) {
                this.counters.noOpWrites++;
            }
            this.sendWriteResult(request, response, 200, result.object);
            return;
        }
        const prepared = this.store.prepareUpdate(namespace, name, updateFn);
        if (query.has("dryRun")) {
            this.send(response, 200, prepared.changed ? prepared.object : (this.store.get(namespace, name) as JsonObject));
            return;
        }
        if (!prepared.changed) {
            this.counters.noOpWrites++;
            this.send(response, 200, this.store.get(namespace, name) as JsonObject);
            return;
        }
        await sleep(this.writeLatencyMs);
        // Re-applied to whatever is stored now, as kube-apiserver's GuaranteedUpdate retries.
        const result = this.store.update(namespace, name, updateFn, "api");
        if (!result.changed) {
            this.counters.noOpWrites++;
        }
        this.sendWriteResult(request, response, 200, result.object);
    }

    private sendWriteResult(request: http.IncomingMessage, response: http.ServerResponse, code: number, object: JsonObject): void {
        const lost = this.faults.lostResponseProbability;
        if (
            lost &&
            (!this.faults.faultVerbs || this.faults.faultVerbs.some((v) => v === "patch" || v === "update" || v === "create")) &&
            this.random() < lost
        ) {
            this.counters.faultsInjected.lostResponses++;
            request.socket.destroy();
            return;
        }
        this.send(response, code, object);
    }

    private async serveCreate(namespace: string, query: URLSearchParams, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        const body = await this.readJson(request);
        if (query.has("dryRun")) {
            this.send(response, 201, body as JsonObject);
            return;
        }
        if (this.writeLatencyMs > 0) {
            await sleep(this.writeLatencyMs);
        }
        this.sendWriteResult(request, response, 201, this.store.create(namespace, body, "api"));
    }

    private async serveDelete(
        namespace: string,
        name: string,
        query: URLSearchParams,
        request: http.IncomingMessage,
        response: http.ServerResponse,
    ): Promise<void> {
        const text = await this.readBody(request);
        let preconditions: JsonObject = {};
        if (text.trim() !== "") {
            let options: Json;
            try {
                options = JSON.parse(text) as Json;
            } catch {
                throw new ApiError(400, "BadRequest", "the DeleteOptions body is not valid JSON");
            }
            if (isJsonObject(options) && isJsonObject(options.preconditions)) {
                preconditions = options.preconditions;
            }
        }
        const optionsForStore = {
            preconditionResourceVersion: typeof preconditions.resourceVersion === "string" ? preconditions.resourceVersion : undefined,
            preconditionUid: typeof preconditions.uid === "string" ? preconditions.uid : undefined,
        };
        if (query.has("dryRun")) {
            const object = this.store.get(namespace, name);
            if (!object) throw notFound(name);
            this.send(response, 200, object);
            return;
        }
        this.send(response, 200, this.store.delete(namespace, name, "api", optionsForStore));
    }

    private async serveTokenRequest(namespace: string, name: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        const body = await this.readJson(request);
        if (!this.serviceAccounts.has(`${namespace}/${name}`)) {
            throw notFound(name, "serviceaccounts");
        }
        const spec = isJsonObject(body) && isJsonObject(body.spec) ? body.spec : {};
        const expirationSeconds = typeof spec.expirationSeconds === "number" ? spec.expirationSeconds : 3600;
        if (expirationSeconds < TOKEN_REQUEST_MIN_SECONDS) {
            throw new ApiError(
                422,
                "Invalid",
                `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
            );
        }
        const token = this.mintToken(namespace, name, expirationSeconds);
        const expiresAt = (this.identities.get(token) as TokenIdentity).expiresAt;
        this.send(response, 201, {
            kind: "TokenRequest",
            apiVersion: "authentication.k8s.io/v1",
            metadata: { name, namespace, creationTimestamp: null },
            spec: { audiences: Array.isArray(spec.audiences) ? spec.audiences : ["https://kubernetes.default.svc"], expirationSeconds, boundObjectRef: null },
            status: { token, expirationTimestamp: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z") },
        });
    }
}

/** Starts the server on 127.0.0.1 with a random port. Close it with `close()`. */
export async function startKubeServer(options: KubeServerOptions = {}): Promise<KubeTestServer> {
    const server = new Server(options);
    await server.start();
    return server;
}

export { secretKey };
