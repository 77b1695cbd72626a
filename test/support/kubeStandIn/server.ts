// The Kubernetes API test server itself: TLS, the path from a request to its
// handler (authentication, latency, RBAC, the request hook, faults, churn), the
// request counters, and the knobs tests turn while it runs.

import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { JsonObject, PatchError } from "./patch";
import { ApiError } from "./apiErrors";
import { TokenAuthority, forbiddenStatus, serverCertificate, writeKubeconfigFile } from "./auth";
import { FaultInjector } from "./faults";
import { readJson, status } from "./negotiation";
import { Route, discoveryResponse, route } from "./routes";
import { SecretEndpoints } from "./secretEndpoints";
import { SecretStore, SeedOptions } from "./store";
import type {
    ChurnOptions,
    FaultOptions,
    KubeStandInOptions,
    KubeStandIn,
    KubeconfigOptions,
    PolicyRule,
    RequestHook,
    RequestInfo,
    SecretVerb,
    ServerStats,
    Verb,
} from "./types";

function noRequestsYet() {
    return {
        requests: 0,
        requestsByVerb: {} as Partial<Record<Verb, number>>,
        responsesByStatus: {} as Record<number, number>,
        noOpWrites: 0,
        peakConcurrentRequests: 0,
    };
}

class Server implements KubeStandIn {
    readonly store = new SecretStore();
    url = "";
    port = 0;
    caPem = "";
    readonly token: string;
    private httpsServer: https.Server | undefined;
    private latencyMs: number;
    private writeLatencyMs: number;
    private readonly faults: FaultInjector;
    private readonly tokens: TokenAuthority;
    private readonly secrets: SecretEndpoints;
    private hook: RequestHook | undefined;
    private readonly sockets = new Set<import("node:stream").Duplex>();
    private counters = noRequestsYet();
    private inFlight = 0;

    constructor(options: KubeStandInOptions) {
        this.token = options.token ?? randomBytes(24).toString("hex");
        this.tokens = new TokenAuthority(this.token);
        this.store.keyVersion = options.keyVersion ?? 1;
        this.faults = new FaultInjector(this.store, options.randomSeed ?? 1);
        this.latencyMs = options.latencyMs ?? 0;
        this.writeLatencyMs = options.writeLatencyMs ?? 0;
        this.setFaults(options.faults ?? {});
        this.setChurn(options.churn);
        this.secrets = new SecretEndpoints({
            store: this.store,
            faults: this.faults,
            writeLatencyMs: () => this.writeLatencyMs,
            countNoOpWrite: () => void this.counters.noOpWrites++,
            send: (response, code, body, contentType, headers) => this.send(response, code, body, contentType, headers),
        });
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
        this.faults.setFaults(faults);
    }

    setChurn(churn: ChurnOptions | undefined): void {
        this.faults.setChurn(churn);
    }

    setRequestHook(hook: RequestHook | undefined): void {
        this.hook = hook;
    }

    addServiceAccount(namespace: string, name: string, rules: PolicyRule[]): void {
        this.tokens.addServiceAccount(namespace, name, rules);
    }

    expireTokensOf(namespace: string, name: string): number {
        return this.tokens.expireTokensOf(namespace, name);
    }

    mintToken(namespace: string, name: string, ttlSeconds = 3600): string {
        return this.tokens.mintToken(namespace, name, ttlSeconds);
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
            faultsInjected: { ...this.faults.injected },
            peakConcurrentRequests: this.counters.peakConcurrentRequests,
        };
    }

    resetCounters(): void {
        this.counters = noRequestsYet();
        this.faults.resetCounters();
        this.store.resetWriteCounters();
    }

    writeKubeconfig(path: string, options: KubeconfigOptions = {}): string {
        return writeKubeconfigFile(path, this, options);
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

    /** Counts a request in flight until its response finishes or its connection closes. */
    private track(response: http.ServerResponse): void {
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
    }

    private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        this.track(response);
        const url = new URL(request.url ?? "/", "https://127.0.0.1");
        const path = url.pathname.replace(/\/+$/, "") || "/";
        const method = request.method ?? "GET";

        const identity = this.tokens.authenticate(request.headers.authorization);
        if (!identity) {
            request.resume();
            this.send(response, 401, status(401, "Unauthorized", "Unauthorized"));
            return;
        }
        if (this.latencyMs > 0) {
            await sleep(this.latencyMs);
        }

        const matched = route(method, path);
        if (!matched) {
            request.resume();
            this.send(response, 404, status(404, "NotFound", "the server could not find the requested resource"));
            return;
        }
        this.counters.requestsByVerb[matched.verb] = (this.counters.requestsByVerb[matched.verb] ?? 0) + 1;
        if (matched.verb === "discovery") {
            request.resume();
            const discovery = discoveryResponse(path, this.port);
            this.send(response, 200, discovery.body, discovery.contentType);
            return;
        }

        const forbidden = forbiddenStatus(identity, matched);
        if (forbidden) {
            request.resume();
            this.send(response, 403, forbidden);
            return;
        }

        const info: RequestInfo = { verb: matched.verb, method, path, namespace: matched.namespace, name: matched.name, user: identity.user };
        const action = this.hook?.(info);
        if (action === "reset") {
            this.faults.injected.resets++;
            request.socket.destroy();
            return;
        }
        if (action && typeof action === "object") {
            request.resume();
            this.send(response, action.status, action.body, action.headers?.["Content-Type"] ?? "application/json", action.headers ?? {});
            return;
        }

        if (matched.verb !== "createToken") {
            this.faults.maybeChurn();
            if (await this.injectFault(matched, request, response)) {
                return;
            }
        }

        try {
            await this.dispatch(matched, url.searchParams, request, response);
        } catch (error) {
            request.resume();
            this.sendError(response, error);
        }
    }

    /** Returns true when a fault answered (or dropped) the request. */
    private async injectFault(matched: Route, request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> {
        const fault = this.faults.decide(matched.verb as SecretVerb);
        if (!fault) {
            return false;
        }
        if (fault.kind === "hang") {
            await sleep(fault.ms);
        }
        if (fault.kind === "answer") {
            request.resume();
            this.send(response, fault.code, fault.body, fault.contentType, fault.headers);
        } else {
            request.socket.destroy();
        }
        return true;
    }

    private async dispatch(matched: Route, query: URLSearchParams, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        const namespace = matched.namespace as string;
        const name = matched.name as string;
        switch (matched.verb) {
            case "list":
                request.resume();
                this.secrets.list(matched.namespace, query, request, response);
                return;
            case "get":
                request.resume();
                this.secrets.get(namespace, name, request, response);
                return;
            case "patch":
            case "update":
                await this.secrets.update(matched.verb, namespace, name, query, request, response);
                return;
            case "create":
                await this.secrets.create(namespace, query, request, response);
                return;
            case "delete":
                await this.secrets.delete(namespace, name, query, request, response);
                return;
            case "createToken": {
                const body = await readJson(request);
                this.send(response, 201, this.tokens.tokenRequest(namespace, name, body));
                return;
            }
        }
    }
}

/** Starts the server on 127.0.0.1 with a random port. Close it with `close()`. */
export async function startKubeStandIn(options: KubeStandInOptions = {}): Promise<KubeStandIn> {
    const server = new Server(options);
    await server.start();
    return server;
}
