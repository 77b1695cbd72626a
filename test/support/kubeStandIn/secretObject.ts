// What a Secret looks like once stored: normalization as the typed Go decoder
// and the registry strategy do it, and the canonical forms and data hashes the
// store compares to tell a real write from a no-op.

import { createHash, randomUUID } from "node:crypto";
import { Json, JsonObject, isJsonObject } from "./patch";
import { ApiError, invalid } from "./apiErrors";

const META_FIELDS_KEPT = ["name", "generateName", "namespace", "uid", "creationTimestamp", "labels", "annotations", "ownerReferences", "finalizers"];

const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

function canonicalJson(value: Json): string {
    if (Array.isArray(value)) {
        return "[" + value.map(canonicalJson).join(",") + "]";
    }
    if (isJsonObject(value)) {
        return (
            "{" +
            Object.keys(value)
                .sort()
                .map((key) => JSON.stringify(key) + ":" + canonicalJson(value[key]))
                .join(",") +
            "}"
        );
    }
    return JSON.stringify(value);
}

function sortedMap(map: JsonObject): JsonObject {
    const sorted: JsonObject = {};
    for (const key of Object.keys(map).sort()) {
        sorted[key] = map[key];
    }
    return sorted;
}

/**
 * Identity of a normalized object apart from its data, before its resourceVersion
 * is set: normalizeSecret() emits fields in a fixed order with sorted maps, so plain
 * JSON is canonical. Data is compared on its own (dataEqual): it is the bulk of a Secret.
 */
export function canonicalOfNormalized(object: JsonObject): string {
    return JSON.stringify([object.metadata, object.type, object.immutable ?? null]);
}

export function dataEqual(a: Json | undefined, b: Json | undefined): boolean {
    const left = isJsonObject(a) ? a : {};
    const right = isJsonObject(b) ? b : {};
    const keys = Object.keys(left);
    if (keys.length !== Object.keys(right).length) return false;
    return keys.every((key) => left[key] === right[key]);
}

export function hashData(data: Json | undefined): string {
    return createHash("sha1")
        .update(JSON.stringify(data ?? {}))
        .digest("hex");
}

/** The metadata kube-apiserver keeps: request fields it honours, system fields from the stored object (or new ones). */
function normalizeMetadata(inputMeta: JsonObject, namespace: string, name: string, stored: JsonObject | undefined): JsonObject {
    const metadata: JsonObject = {};
    for (const field of META_FIELDS_KEPT) {
        const value = inputMeta[field];
        if (value === undefined || value === null) {
            continue;
        }
        if (isJsonObject(value) && Object.keys(value).length === 0) {
            continue;
        }
        if (Array.isArray(value) && value.length === 0) {
            continue;
        }
        metadata[field] = value;
    }
    for (const mapField of ["labels", "annotations"]) {
        const map = metadata[mapField];
        if (map !== undefined) {
            if (!isJsonObject(map) || Object.values(map).some((v) => typeof v !== "string")) {
                throw invalid(name, `metadata.${mapField}: values must be strings`);
            }
            metadata[mapField] = sortedMap(map);
        }
    }
    if (metadata.ownerReferences !== undefined) {
        metadata.ownerReferences = JSON.parse(canonicalJson(metadata.ownerReferences)) as Json;
    }
    metadata.name = name;
    metadata.namespace = namespace;
    if (stored) {
        const storedMeta = stored.metadata as JsonObject;
        metadata.uid = storedMeta.uid;
        metadata.creationTimestamp = storedMeta.creationTimestamp;
        if (storedMeta.generateName !== undefined) {
            metadata.generateName = storedMeta.generateName;
        }
    } else {
        metadata.uid = randomUUID();
        metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    }
    return metadata;
}

/**
 * Validates and normalizes a Secret the way the typed Go decoder and the
 * registry strategy do: unknown fields dropped, stringData folded into data,
 * empty maps omitted, system fields taken from the stored object.
 */
export function normalizeSecret(candidate: Json, namespace: string, name: string, stored: JsonObject | undefined): JsonObject {
    if (!isJsonObject(candidate)) {
        throw new ApiError(400, "BadRequest", "the request body must be a JSON object (a Secret)");
    }
    if (candidate.kind !== undefined && candidate.kind !== "Secret") {
        throw new ApiError(400, "BadRequest", `expected kind Secret, got ${JSON.stringify(candidate.kind)}`);
    }
    const inputMeta = isJsonObject(candidate.metadata) ? candidate.metadata : {};
    if (inputMeta.namespace !== undefined && inputMeta.namespace !== namespace) {
        throw new ApiError(
            400,
            "BadRequest",
            `the namespace of the provided object (${String(inputMeta.namespace)}) does not match the namespace sent on the request (${namespace})`,
        );
    }
    if (inputMeta.name !== undefined && inputMeta.name !== name) {
        throw new ApiError(400, "BadRequest", `the name of the object (${String(inputMeta.name)}) does not match the name on the URL (${name})`);
    }
    const metadata = normalizeMetadata(inputMeta, namespace, name, stored);
    const data: JsonObject = {};
    if (candidate.data !== undefined && candidate.data !== null) {
        if (!isJsonObject(candidate.data)) {
            throw invalid(name, "data must be a map of base64 strings");
        }
        const storedData = stored && isJsonObject(stored.data) ? stored.data : {};
        for (const [key, value] of Object.entries(candidate.data)) {
            if (value === storedData[key]) {
                data[key] = value;
                continue;
            }
            if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64_PATTERN.test(value)) {
                throw new ApiError(400, "BadRequest", `Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data["${key}"]`);
            }
            data[key] = value;
        }
    }
    if (isJsonObject(candidate.stringData)) {
        for (const [key, value] of Object.entries(candidate.stringData)) {
            data[key] = Buffer.from(String(value), "utf8").toString("base64");
        }
    }
    const type = typeof candidate.type === "string" && candidate.type !== "" ? candidate.type : "Opaque";
    // A fixed field order keeps JSON.stringify canonical (see canonicalOfNormalized).
    const orderedMetadata: JsonObject = {};
    for (const field of META_FIELDS_KEPT) {
        if (metadata[field] !== undefined) {
            orderedMetadata[field] = metadata[field];
        }
    }
    const result: JsonObject = { apiVersion: "v1", kind: "Secret", metadata: orderedMetadata };
    if (Object.keys(data).length > 0) {
        result.data = sortedMap(data);
    }
    if (candidate.immutable === true || candidate.immutable === false) {
        result.immutable = candidate.immutable;
    }
    result.type = type;
    if (stored) {
        if (stored.type !== type) {
            throw invalid(name, "type: Invalid value: field is immutable");
        }
        if (stored.immutable === true && (!dataEqual(stored.data, result.data) || result.immutable !== true)) {
            throw invalid(name, "data: Forbidden: field is immutable when `immutable` is set");
        }
    }
    return result;
}
