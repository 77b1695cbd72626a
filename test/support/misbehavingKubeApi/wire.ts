// What the hostile server puts on the wire: Status objects, continue tokens,
// Accept negotiation, the three list renderings (metadata-only for the client,
// Table for kubectl get, plain SecretList) and the discovery documents kubectl
// reads before it lists.

import * as http from "node:http";

export type JsonObject = { [key: string]: unknown };

/** A Secret as the hostile server keeps it: metadata only, plus one small fixed data key. */
export interface StoredSecret {
    namespace: string;
    name: string;
    uid: string;
    creationTimestamp: string;
    resourceVersion: string;
    annotations: Record<string, string>;
}

export const EXPIRED_CONTINUE_MESSAGE =
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/** A Kubernetes Status object for a failed request. */
export function status(code: number, reason: string, message: string, details?: JsonObject, metadata: JsonObject = {}): JsonObject {
    return { kind: "Status", apiVersion: "v1", metadata, status: "Failure", message, reason, ...(details ? { details } : {}), code };
}

/** Where a list continues: the list's resourceVersion, its namespace scope ("" = all) and the last key sent. */
export interface ContinueToken {
    rv: string;
    ns: string;
    after: string;
    /** Makes otherwise equal tokens differ (expiredForever hands out a fresh one each time). */
    n?: number;
}

export function encodeContinue(token: ContinueToken): string {
    return Buffer.from(JSON.stringify(token)).toString("base64url");
}

export function decodeContinue(raw: string): ContinueToken | undefined {
    try {
        const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Partial<ContinueToken>;
        if (typeof parsed.rv === "string" && typeof parsed.ns === "string" && typeof parsed.after === "string") return parsed as ContinueToken;
    } catch {
        // not one of ours: the caller answers 400
    }
    return undefined;
}

export type ListForm = "metadata" | "table" | "json";

/** The first Accept entry this server can produce for a list, or undefined (406). */
export function negotiateList(accept: string | undefined): ListForm | undefined {
    if (!accept || accept.trim() === "") return "json";
    for (const entry of accept.split(",")) {
        const [range, ...rest] = entry.split(";").map((part) => part.trim());
        if (range !== "application/json" && range !== "*/*" && range !== "application/*") continue;
        const params = Object.fromEntries(rest.map((part) => part.split("=").map((s) => s.trim())));
        if (params.as === undefined) return "json";
        if (params.g !== "meta.k8s.io" || params.v !== "v1") continue;
        if (params.as === "PartialObjectMetadataList") return "metadata";
        if (params.as === "Table") return "table";
    }
    return undefined;
}

export const LIST_CONTENT_TYPES: Record<ListForm, string> = {
    metadata: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
    table: "application/json;as=Table;g=meta.k8s.io;v=v1",
    json: "application/json",
};

export function objectMeta(secret: StoredSecret, extraAnnotations: Record<string, string> = {}): JsonObject {
    const annotations = { ...secret.annotations, ...extraAnnotations };
    return {
        name: secret.name,
        namespace: secret.namespace,
        uid: secret.uid,
        resourceVersion: secret.resourceVersion,
        creationTimestamp: secret.creationTimestamp,
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
}

export function partialObjectMetadata(metadata: JsonObject): JsonObject {
    return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata };
}

function secretBody(secret: StoredSecret, metadata: JsonObject): JsonObject {
    return { metadata, data: { password: Buffer.from(secret.name).toString("base64") }, type: "Opaque" };
}

/** A single Secret as a PATCH answers it: metadata only when the client asked for it, else the Secret. */
export function renderSecret(secret: StoredSecret, accept: string | undefined): { body: JsonObject; contentType: string } {
    const metadata = objectMeta(secret);
    if (/as=PartialObjectMetadata\s*(;|,|$)/.test(accept ?? "") && /g=meta\.k8s\.io/.test(accept ?? "")) {
        return { body: partialObjectMetadata(metadata), contentType: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1" };
    }
    return { body: { kind: "Secret", apiVersion: "v1", ...secretBody(secret, metadata) }, contentType: "application/json" };
}

export function renderList(form: ListForm, items: Array<{ secret: StoredSecret; metadata: JsonObject }>, listMeta: JsonObject): JsonObject {
    switch (form) {
        case "metadata":
            return {
                kind: "PartialObjectMetadataList",
                apiVersion: "meta.k8s.io/v1",
                metadata: listMeta,
                items: items.map((item) => partialObjectMetadata(item.metadata)),
            };
        case "table":
            return {
                kind: "Table",
                apiVersion: "meta.k8s.io/v1",
                metadata: listMeta,
                columnDefinitions: [
                    { name: "Name", type: "string", format: "name", description: "Name of the Secret", priority: 0 },
                    { name: "Type", type: "string", format: "", description: "Type of the Secret", priority: 0 },
                    { name: "Data", type: "integer", format: "", description: "Number of data keys", priority: 0 },
                    { name: "Age", type: "string", format: "", description: "Time since creation", priority: 0 },
                ],
                rows: items.map((item) => ({
                    cells: [item.secret.name, "Opaque", 1, age(item.secret.creationTimestamp)],
                    object: partialObjectMetadata(item.metadata),
                })),
            };
        default:
            return { kind: "SecretList", apiVersion: "v1", metadata: listMeta, items: items.map((item) => secretBody(item.secret, item.metadata)) };
    }
}

function age(creationTimestamp: string): string {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(creationTimestamp)) / 1000));
    return seconds < 120 ? `${seconds}s` : seconds < 7200 ? `${Math.floor(seconds / 60)}m` : `${Math.floor(seconds / 3600)}h`;
}

export const DISCOVERY_PATHS = new Set(["/api", "/api/v1", "/apis", "/version", "/healthz", "/livez", "/readyz"]);

/** The legacy (unaggregated) discovery documents: enough for kubectl to find secrets in core/v1. */
export function discovery(path: string, hostPort: string): { body: JsonObject | string; contentType: string } {
    switch (path) {
        case "/api":
            return {
                body: { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: hostPort }] },
                contentType: "application/json",
            };
        case "/apis":
            return { body: { kind: "APIGroupList", apiVersion: "v1", groups: [] }, contentType: "application/json" };
        case "/api/v1":
            return {
                body: {
                    kind: "APIResourceList",
                    groupVersion: "v1",
                    resources: [{ name: "secrets", singularName: "secret", namespaced: true, kind: "Secret", verbs: ["get", "list", "patch"] }],
                },
                contentType: "application/json",
            };
        case "/version":
            return {
                body: {
                    major: "1",
                    minor: "32",
                    gitVersion: "v1.32.0-hostile",
                    gitTreeState: "clean",
                    goVersion: "go1.23",
                    compiler: "gc",
                    platform: "linux/amd64",
                },
                contentType: "application/json",
            };
        default:
            return { body: "ok", contentType: "text/plain" };
    }
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** The request body as text, or undefined when it is over kube-apiserver's 3 MiB limit. */
export async function readBody(request: http.IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
        size += (chunk as Buffer).length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
    }
    return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString("utf8");
}
