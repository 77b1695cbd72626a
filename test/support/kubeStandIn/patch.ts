// Patch formats the Kubernetes API accepts for a Secret, applied the way
// kube-apiserver applies them. Pure functions: the store calls them, tests may too.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const MERGE_PATCH = "application/merge-patch+json";
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";

/** A patch the server must refuse; `code` is the HTTP status kube-apiserver uses for it. */
export class PatchError extends Error {
    constructor(
        message: string,
        readonly code: 400 | 415 | 422,
    ) {
        super(message);
    }
}

export function isJsonObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(target: Json, patch: Json): Json {
    if (!isJsonObject(patch)) {
        return patch;
    }
    const result: JsonObject = isJsonObject(target) ? { ...target } : {};
    for (const [key, value] of Object.entries(patch)) {
        if (value === null) {
            delete result[key];
        } else {
            result[key] = applyMergePatch(result[key] ?? null, value);
        }
    }
    return result;
}

// Lists inside a Secret that strategic merge merges by key instead of replacing
// (from the Go struct tags of ObjectMeta); every other list is replaced.
const MERGE_KEYS_BY_FIELD: Record<string, string> = {
    ownerReferences: "uid",
};

/**
 * Strategic merge patch for the fields a Secret has. It is a merge patch plus
 * the directives clients actually send for such objects: `$patch: replace|delete`
 * on a map, `$retainKeys`, and `ownerReferences` merged by uid.
 */
export function applyStrategicMergePatch(target: Json, patch: Json, field = ""): Json {
    if (!isJsonObject(patch)) {
        if (Array.isArray(patch) && Array.isArray(target) && MERGE_KEYS_BY_FIELD[field]) {
            return mergeListByKey(target, patch, MERGE_KEYS_BY_FIELD[field]);
        }
        return patch;
    }
    const directive = patch["$patch"];
    if (directive === "delete") {
        return null;
    }
    const base: JsonObject = directive === "replace" || !isJsonObject(target) ? {} : { ...target };
    const retainKeys = patch["$retainKeys"];
    if (Array.isArray(retainKeys)) {
        for (const key of Object.keys(base)) {
            if (!retainKeys.includes(key)) {
                delete base[key];
            }
        }
    }
    for (const [key, value] of Object.entries(patch)) {
        if (key.startsWith("$")) {
            if (key !== "$patch" && key !== "$retainKeys") {
                throw new PatchError(`strategic merge patch directive ${key} is not supported by this test server`, 400);
            }
            continue;
        }
        if (value === null) {
            delete base[key];
            continue;
        }
        const merged = applyStrategicMergePatch(base[key] ?? null, value, key);
        if (merged === null) {
            delete base[key];
        } else {
            base[key] = merged;
        }
    }
    return base;
}

function mergeListByKey(target: Json[], patch: Json[], mergeKey: string): Json[] {
    const result = [...target];
    for (const element of patch) {
        if (!isJsonObject(element) || typeof element[mergeKey] !== "string") {
            throw new PatchError(`every element of a merged list needs the merge key "${mergeKey}"`, 400);
        }
        const index = result.findIndex((existing) => isJsonObject(existing) && existing[mergeKey] === element[mergeKey]);
        if (element["$patch"] === "delete") {
            if (index >= 0) {
                result.splice(index, 1);
            }
        } else if (index >= 0) {
            result[index] = applyStrategicMergePatch(result[index], element) as Json;
        } else {
            result.push(element);
        }
    }
    return result;
}

/** RFC 6902 JSON patch: add, remove, replace, test, move, copy. */
export function applyJsonPatch(target: Json, operations: Json): Json {
    if (!Array.isArray(operations)) {
        throw new PatchError("a JSON patch must be an array of operations", 400);
    }
    let document: Json = structuredClone(target);
    for (const operation of operations) {
        if (!isJsonObject(operation) || typeof operation.op !== "string" || typeof operation.path !== "string") {
            throw new PatchError("each JSON patch operation needs string fields op and path", 400);
        }
        const path = operation.path;
        switch (operation.op) {
            case "add":
                document = setAtPointer(document, path, requireValue(operation), "add");
                break;
            case "replace":
                getAtPointer(document, path);
                document = setAtPointer(document, path, requireValue(operation), "replace");
                break;
            case "remove":
                document = removeAtPointer(document, path);
                break;
            case "test":
                if (JSON.stringify(getAtPointer(document, path)) !== JSON.stringify(requireValue(operation))) {
                    throw new PatchError(`JSON patch test failed at ${path}`, 422);
                }
                break;
            case "move":
            case "copy": {
                if (typeof operation.from !== "string") {
                    throw new PatchError(`JSON patch ${operation.op} needs a string "from"`, 400);
                }
                const value = structuredClone(getAtPointer(document, operation.from));
                if (operation.op === "move") {
                    document = removeAtPointer(document, operation.from);
                }
                document = setAtPointer(document, path, value, "add");
                break;
            }
            default:
                throw new PatchError(`unknown JSON patch operation "${operation.op}"`, 400);
        }
    }
    return document;
}

function requireValue(operation: JsonObject): Json {
    if (!("value" in operation)) {
        throw new PatchError(`JSON patch ${String(operation.op)} at ${String(operation.path)} needs a value`, 400);
    }
    return operation.value;
}

function pointerTokens(pointer: string): string[] {
    if (pointer === "") {
        return [];
    }
    if (!pointer.startsWith("/")) {
        throw new PatchError(`JSON pointer "${pointer}" must start with "/"`, 400);
    }
    return pointer
        .slice(1)
        .split("/")
        .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function getAtPointer(document: Json, pointer: string): Json {
    let current: Json = document;
    for (const token of pointerTokens(pointer)) {
        if (Array.isArray(current) && /^\d+$/.test(token) && Number(token) < current.length) {
            current = current[Number(token)];
        } else if (isJsonObject(current) && token in current) {
            current = current[token];
        } else {
            throw new PatchError(`JSON patch path ${pointer} does not exist`, 422);
        }
    }
    return current;
}

function parentOf(document: Json, pointer: string): { parent: Json; last: string } {
    const tokens = pointerTokens(pointer);
    if (tokens.length === 0) {
        throw new PatchError("JSON patch cannot target the whole object", 422);
    }
    const last = tokens.pop() as string;
    const parentPointer = tokens.map((t) => "/" + t.replace(/~/g, "~0").replace(/\//g, "~1")).join("");
    return { parent: getAtPointer(document, parentPointer), last };
}

function setAtPointer(document: Json, pointer: string, value: Json, mode: "add" | "replace"): Json {
    const { parent, last } = parentOf(document, pointer);
    if (Array.isArray(parent)) {
        const index = last === "-" ? parent.length : Number(last);
        if (!Number.isInteger(index) || index < 0 || index > parent.length) {
            throw new PatchError(`JSON patch index ${last} is out of range at ${pointer}`, 422);
        }
        if (mode === "add") {
            parent.splice(index, 0, value);
        } else {
            parent[index] = value;
        }
    } else if (isJsonObject(parent)) {
        parent[last] = value;
    } else {
        throw new PatchError(`JSON patch path ${pointer} is inside a scalar`, 422);
    }
    return document;
}

function removeAtPointer(document: Json, pointer: string): Json {
    getAtPointer(document, pointer);
    const { parent, last } = parentOf(document, pointer);
    if (Array.isArray(parent)) {
        parent.splice(Number(last), 1);
    } else if (isJsonObject(parent)) {
        delete parent[last];
    }
    return document;
}

/**
 * Applies a PATCH body of the given content type without mutating `target`;
 * throws PatchError (415 for an unknown type).
 */
export function applyPatch(contentType: string, target: JsonObject, patch: Json): Json {
    switch (contentType) {
        case MERGE_PATCH:
            return applyMergePatch(target, patch);
        case STRATEGIC_MERGE_PATCH:
            return applyStrategicMergePatch(target, patch);
        case JSON_PATCH:
            return applyJsonPatch(target, patch);
        default:
            throw new PatchError(
                `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${STRATEGIC_MERGE_PATCH}`,
                415,
            );
    }
}
