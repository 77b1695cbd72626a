// What goes over the wire: Accept negotiation, request bodies, Status objects,
// continue tokens, and the Table and metadata-only renderings kubectl asks for.

import * as http from "node:http";
import { Json, JsonObject, isJsonObject } from "./patch";
import { ApiError } from "./apiErrors";

/** A continue token as this server encodes it (opaque to clients, as in kube-apiserver). */
export interface ContinueToken {
    /** resourceVersion of the list the token continues; absent in position-only tokens. */
    rv?: string;
    /** namespace scope; "" = all namespaces. */
    ns: string;
    after: string;
    /** absent in position-only tokens. */
    issuedAt?: number;
}

export const EXPIRED_CONTINUE_MESSAGE =
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function status(code: number, reason: string, message: string, details?: JsonObject, metadata: JsonObject = {}): JsonObject {
    const body: JsonObject = { kind: "Status", apiVersion: "v1", metadata, status: "Failure", message, reason };
    if (details) {
        body.details = details;
    }
    body.code = code;
    return body;
}

export interface NegotiatedType {
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

export function encodeContinue(token: ContinueToken): string {
    return Buffer.from(JSON.stringify(token)).toString("base64url");
}

export function decodeContinue(raw: string): ContinueToken {
    try {
        const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
        const positionOnly = parsed.rv === undefined && parsed.issuedAt === undefined;
        const full = typeof parsed.rv === "string" && typeof parsed.issuedAt === "number";
        if (typeof parsed.ns === "string" && typeof parsed.after === "string" && (positionOnly || full)) {
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

export function partialMetadata(object: JsonObject): JsonObject {
    return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata as JsonObject };
}

export function table(objects: JsonObject[], apiVersion: string, listMeta: JsonObject): JsonObject {
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

/** A list page in the negotiated form: metadata only, a Table, or a plain SecretList. */
export function renderList(negotiated: NegotiatedType, items: JsonObject[], listMeta: JsonObject): JsonObject {
    switch (negotiated.as) {
        case "PartialObjectMetadataList":
            return { kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata: listMeta, items: items.map(partialMetadata) };
        case "Table":
            return table(items, negotiated.contentType.endsWith("v1beta1") ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1", listMeta);
        default:
            // kube-apiserver leaves kind/apiVersion off list items; kubectl fills them in.
            return {
                kind: "SecretList",
                apiVersion: "v1",
                metadata: listMeta,
                items: items.map((item) => {
                    const { apiVersion: _apiVersion, kind: _kind, ...rest } = item;
                    return rest;
                }),
            };
    }
}

export async function readBody(request: http.IncomingMessage): Promise<string> {
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

export async function readJson(request: http.IncomingMessage): Promise<Json> {
    const text = await readBody(request);
    try {
        return JSON.parse(text) as Json;
    } catch {
        throw new ApiError(400, "BadRequest", "the request body is not valid JSON");
    }
}
