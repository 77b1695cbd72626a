// The Secret endpoints of the Kubernetes API test server: chunked lists with
// continue tokens, get, patch/update with kube-apiserver's no-op-write rule and
// write latency, create and delete (with preconditions and dryRun).

import * as http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { Json, JsonObject, applyPatch, isJsonObject } from "./patch";
import { ApiError, notFound } from "./apiErrors";
import type { FaultInjector } from "./faults";
import {
    EXPIRED_CONTINUE_MESSAGE,
    decodeContinue,
    encodeContinue,
    negotiate,
    partialMetadata,
    readBody,
    readJson,
    renderList,
    status,
    table,
} from "./negotiation";
import type { SecretStore } from "./store";

export type Send = (response: http.ServerResponse, code: number, body: JsonObject | string, contentType?: string, headers?: Record<string, string>) => void;

/** What the endpoints need from the server that hosts them. */
export interface EndpointHost {
    readonly store: SecretStore;
    readonly faults: FaultInjector;
    /** read per request: tests change it while the server runs. */
    writeLatencyMs(): number;
    countNoOpWrite(): void;
    send: Send;
}

export class SecretEndpoints {
    constructor(private readonly host: EndpointHost) {}

    private get store(): SecretStore {
        return this.host.store;
    }

    list(namespace: string | undefined, query: URLSearchParams, request: http.IncomingMessage, response: http.ServerResponse): void {
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
            if (this.host.faults.continueExpired(token.issuedAt)) {
                const metadata: JsonObject = {};
                if (this.host.faults.expiredContinueCarriesRemainder) {
                    metadata.continue = this.continueToken(scope, token.after, this.store.currentRevision(), Date.now());
                }
                this.host.send(response, 410, status(410, "Expired", EXPIRED_CONTINUE_MESSAGE, undefined, metadata));
                return;
            }
            afterKey = token.after;
            listRevision = token.rv ?? listRevision;
        }
        const page = this.store.list(namespace, afterKey, limit);
        const listMeta: JsonObject = { resourceVersion: listRevision };
        if (page.lastKey !== undefined) {
            this.host.faults.chunkedPageServed();
            listMeta.continue = this.continueToken(scope, page.lastKey, listRevision, continueParam ? decodeContinue(continueParam).issuedAt : Date.now());
            listMeta.remainingItemCount = page.remainingItemCount;
        }
        this.host.send(response, 200, renderList(negotiated, page.items, listMeta), negotiated.contentType);
    }

    private continueToken(ns: string, after: string, rv: string, issuedAt: number | undefined): string {
        return this.host.faults.positionOnlyContinueTokens ? encodeContinue({ ns, after }) : encodeContinue({ rv, ns, after, issuedAt });
    }

    get(namespace: string, name: string, request: http.IncomingMessage, response: http.ServerResponse): void {
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
            this.host.send(response, 200, partialMetadata(object), negotiated.contentType);
        } else if (negotiated.as === "Table") {
            this.host.send(
                response,
                200,
                table([object], "meta.k8s.io/v1", { resourceVersion: (object.metadata as JsonObject).resourceVersion }),
                negotiated.contentType,
            );
        } else {
            this.host.send(response, 200, object);
        }
    }

    async update(
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
        const body = await readJson(request);
        const updateFn = (current: JsonObject): Json => (verb === "patch" ? applyPatch(contentType, current, body) : body);
        if (this.host.writeLatencyMs() === 0 && !query.has("dryRun")) {
            const result = this.store.update(namespace, name, updateFn, "api");
            if (!result.changed) {
                this.host.countNoOpWrite();
            }
            this.sendWriteResult(request, response, 200, result.object);
            return;
        }
        const prepared = this.store.prepareUpdate(namespace, name, updateFn);
        if (query.has("dryRun")) {
            this.host.send(response, 200, prepared.changed ? prepared.object : (this.store.get(namespace, name) as JsonObject));
            return;
        }
        if (!prepared.changed) {
            this.host.countNoOpWrite();
            this.host.send(response, 200, this.store.get(namespace, name) as JsonObject);
            return;
        }
        await sleep(this.host.writeLatencyMs());
        // Re-applied to whatever is stored now, as kube-apiserver's GuaranteedUpdate retries.
        const result = this.store.update(namespace, name, updateFn, "api");
        if (!result.changed) {
            this.host.countNoOpWrite();
        }
        this.sendWriteResult(request, response, 200, result.object);
    }

    private sendWriteResult(request: http.IncomingMessage, response: http.ServerResponse, code: number, object: JsonObject): void {
        if (this.host.faults.loseWriteResponse()) {
            request.socket.destroy();
            return;
        }
        this.host.send(response, code, object);
    }

    async create(namespace: string, query: URLSearchParams, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        const body = await readJson(request);
        if (query.has("dryRun")) {
            this.host.send(response, 201, body as JsonObject);
            return;
        }
        const writeLatencyMs = this.host.writeLatencyMs();
        if (writeLatencyMs > 0) {
            await sleep(writeLatencyMs);
        }
        this.sendWriteResult(request, response, 201, this.store.create(namespace, body, "api"));
    }

    async delete(namespace: string, name: string, query: URLSearchParams, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        const text = await readBody(request);
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
            this.host.send(response, 200, object);
            return;
        }
        this.host.send(response, 200, this.store.delete(namespace, name, "api", optionsForStore));
    }
}
