// The Secret store behind the Kubernetes API test server: objects, resource
// versions, the no-op-write rule of kube-apiserver, and a record of which key
// version sealed each Secret. No HTTP here; the server and tests call it directly.

import { createHash, randomUUID } from "node:crypto";
import { Json, JsonObject, isJsonObject } from "./patch";
import { ApiError, conflict, invalid, notFound } from "./apiErrors";
import { canonicalOfNormalized, dataEqual, hashData, normalizeSecret } from "./secretObject";

/** Who wrote: the client under test ("api"), background churn, or the test's own seeding. */
export type WriteOrigin = "api" | "churn" | "seed";

interface StoredSecret {
    object: JsonObject;
    /** canonical JSON of everything but data and resourceVersion; with equal data, equal means "nothing changed". */
    canonical: string;
    sealedWith: number;
    apiWrites: number;
    dataHash: string;
    /** the data hash the test expects: set by seeding, creation and churn, never by the client under test. */
    expectedDataHash: string;
}

export interface ListPage {
    items: JsonObject[];
    /** key of the last item returned when more remain, else undefined. */
    lastKey?: string;
    remainingItemCount: number;
}

export interface SeedOptions {
    /** namespaces to spread the Secrets over, round robin; default ["default"]. */
    namespaces?: string[];
    /** bytes of random-looking data per Secret (one key, "value"); default 64. */
    dataBytes?: number;
    /** name prefix; default "secret". Names are `${prefix}-${index}` zero-padded. */
    namePrefix?: string;
}

const NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function secretKey(namespace: string, name: string): string {
    return `${namespace}/${name}`;
}

function lowerBound(sorted: string[], key: string): number {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
        const middle = (low + high) >>> 1;
        if (sorted[middle] < key) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low;
}

export class SecretStore {
    private readonly secrets = new Map<string, StoredSecret>();
    /** keys in etcd order ("namespace/name"), so a namespace is one contiguous range. */
    private readonly sortedKeys: string[] = [];
    private revision = 1000;
    keyVersion = 1;
    apiUpdates = 0;
    apiCreates = 0;
    apiDeletes = 0;
    churnWrites = 0;
    /** performance.now() of every real write by the client under test (rate measurements). */
    readonly apiWriteTimes: number[] = [];

    get size(): number {
        return this.secrets.size;
    }

    currentRevision(): string {
        return String(this.revision);
    }

    get(namespace: string, name: string): JsonObject | undefined {
        return this.secrets.get(secretKey(namespace, name))?.object;
    }

    /** Items after `afterKey` (exclusive) in one namespace or all, at most `limit` (0 = all). */
    list(namespace: string | undefined, afterKey: string | undefined, limit: number): ListPage {
        const rangeStart = namespace === undefined ? 0 : lowerBound(this.sortedKeys, namespace + "/");
        // "0" sorts right after "/", so this is the end of the namespace's range.
        const rangeEnd = namespace === undefined ? this.sortedKeys.length : lowerBound(this.sortedKeys, namespace + "0");
        let start = rangeStart;
        if (afterKey !== undefined) {
            start = Math.max(rangeStart, lowerBound(this.sortedKeys, afterKey));
            if (start < rangeEnd && this.sortedKeys[start] === afterKey) {
                start++;
            }
        }
        const end = limit > 0 ? Math.min(rangeEnd, start + limit) : rangeEnd;
        const items: JsonObject[] = [];
        for (let index = start; index < end; index++) {
            items.push((this.secrets.get(this.sortedKeys[index]) as StoredSecret).object);
        }
        const remainingItemCount = rangeEnd - end;
        return {
            items,
            lastKey: remainingItemCount > 0 && end > start ? this.sortedKeys[end - 1] : undefined,
            remainingItemCount,
        };
    }

    private commit(key: string, object: JsonObject, canonical: string, previous: StoredSecret | undefined, origin: WriteOrigin): JsonObject {
        this.revision++;
        (object.metadata as JsonObject).resourceVersion = String(this.revision);
        const dataHash = previous && dataEqual(previous.object.data, object.data) ? previous.dataHash : hashData(object.data);
        const entry: StoredSecret = {
            object,
            canonical,
            sealedWith: this.keyVersion,
            apiWrites: (previous?.apiWrites ?? 0) + (origin === "api" ? 1 : 0),
            dataHash,
            expectedDataHash: origin === "api" && previous ? previous.expectedDataHash : dataHash,
        };
        if (!previous) {
            this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 0, key);
        }
        this.secrets.set(key, entry);
        if (origin === "api") {
            this.apiWriteTimes.push(performance.now());
            if (previous) {
                this.apiUpdates++;
            } else {
                this.apiCreates++;
            }
        } else if (origin === "churn") {
            this.churnWrites++;
        }
        return object;
    }

    /**
     * Computes the object an update would store, without storing it.
     * `changed: false` means kube-apiserver would skip the write (same bytes):
     * no new resourceVersion, no re-encryption.
     */
    prepareUpdate(
        namespace: string,
        name: string,
        update: (current: JsonObject) => Json,
        options: { preconditionResourceVersion?: string; preconditionUid?: string } = {},
    ): { changed: boolean; object: JsonObject; canonical: string } {
        const stored = this.secrets.get(secretKey(namespace, name));
        if (!stored) {
            throw notFound(name);
        }
        const currentMeta = stored.object.metadata as JsonObject;
        if (options.preconditionUid !== undefined && options.preconditionUid !== currentMeta.uid) {
            throw conflict(name, `Precondition failed: UID in precondition: ${options.preconditionUid}, UID in object meta: ${String(currentMeta.uid)}`);
        }
        if (options.preconditionResourceVersion !== undefined && options.preconditionResourceVersion !== currentMeta.resourceVersion) {
            throw conflict(name, "the object has been modified; please apply your changes to the latest version and try again");
        }
        // Update functions must not mutate their argument (merge patches copy along the path).
        const updated = update(stored.object);
        // A resourceVersion in the result (from a PUT body or a patch) is a precondition, as in kube-apiserver.
        const requestedVersion = isJsonObject(updated) && isJsonObject(updated.metadata) ? updated.metadata.resourceVersion : undefined;
        if (typeof requestedVersion === "string" && requestedVersion !== "" && requestedVersion !== currentMeta.resourceVersion) {
            throw conflict(name, "the object has been modified; please apply your changes to the latest version and try again");
        }
        const candidate = normalizeSecret(updated, namespace, name, stored.object);
        const canonical = canonicalOfNormalized(candidate);
        return { changed: canonical !== stored.canonical || !dataEqual(stored.object.data, candidate.data), object: candidate, canonical };
    }

    /**
     * Applies `update` to the current object and stores it if anything changed.
     * Returns the stored object (the old one on a no-op) and whether a write happened.
     */
    update(
        namespace: string,
        name: string,
        update: (current: JsonObject) => Json,
        origin: WriteOrigin,
        options: { preconditionResourceVersion?: string; preconditionUid?: string } = {},
    ): { changed: boolean; object: JsonObject } {
        const prepared = this.prepareUpdate(namespace, name, update, options);
        const key = secretKey(namespace, name);
        const previous = this.secrets.get(key) as StoredSecret;
        if (!prepared.changed) {
            return { changed: false, object: previous.object };
        }
        return { changed: true, object: this.commit(key, prepared.object, prepared.canonical, previous, origin) };
    }

    create(namespace: string, body: Json, origin: WriteOrigin): JsonObject {
        const meta = isJsonObject(body) && isJsonObject(body.metadata) ? body.metadata : {};
        let name = typeof meta.name === "string" ? meta.name : "";
        if (name === "" && typeof meta.generateName === "string") {
            name = meta.generateName + randomUUID().slice(0, 5);
        }
        if (name === "") {
            throw invalid(name, "metadata.name: Required value: name or generateName is required");
        }
        if (!NAME_PATTERN.test(name) || name.length > 253) {
            throw invalid(
                name,
                `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
            );
        }
        const key = secretKey(namespace, name);
        if (this.secrets.has(key)) {
            throw new ApiError(409, "AlreadyExists", `secrets "${name}" already exists`, { name, kind: "secrets" });
        }
        const bodyWithName = isJsonObject(body) ? { ...body, metadata: { ...meta, name } } : body;
        const object = normalizeSecret(bodyWithName, namespace, name, undefined);
        return this.commit(key, object, canonicalOfNormalized(object), undefined, origin);
    }

    delete(namespace: string, name: string, origin: WriteOrigin, options: { preconditionResourceVersion?: string; preconditionUid?: string } = {}): JsonObject {
        const key = secretKey(namespace, name);
        const stored = this.secrets.get(key);
        if (!stored) {
            throw notFound(name);
        }
        const meta = stored.object.metadata as JsonObject;
        if (options.preconditionUid !== undefined && options.preconditionUid !== meta.uid) {
            throw conflict(name, `Precondition failed: UID in precondition: ${options.preconditionUid}, UID in object meta: ${String(meta.uid)}`);
        }
        if (options.preconditionResourceVersion !== undefined && options.preconditionResourceVersion !== meta.resourceVersion) {
            throw conflict(
                name,
                `Precondition failed: ResourceVersion in precondition: ${options.preconditionResourceVersion}, ResourceVersion in object meta: ${String(meta.resourceVersion)}`,
            );
        }
        this.secrets.delete(key);
        this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 1);
        this.revision++;
        if (origin === "api") {
            this.apiDeletes++;
        } else if (origin === "churn") {
            this.churnWrites++;
        }
        return stored.object;
    }

    /** Creates `count` Secrets quickly, sealed with the current key version; returns their keys. */
    seed(count: number, options: SeedOptions = {}): string[] {
        const namespaces = options.namespaces && options.namespaces.length > 0 ? options.namespaces : ["default"];
        const dataBytes = options.dataBytes ?? 64;
        const prefix = options.namePrefix ?? "secret";
        const width = String(Math.max(count - 1, 0)).length;
        const keys: string[] = [];
        for (let index = 0; index < count; index++) {
            const namespace = namespaces[index % namespaces.length];
            const name = `${prefix}-${String(index).padStart(width, "0")}`;
            const filler = createHash("sha256").update(`${namespace}/${name}`).digest();
            const bytes = Buffer.alloc(dataBytes);
            for (let offset = 0; offset < dataBytes; offset += filler.length) {
                filler.copy(bytes, offset, 0, Math.min(filler.length, dataBytes - offset));
            }
            const object = this.create(
                namespace,
                { metadata: { name, labels: { app: "seeded" } }, type: "Opaque", data: { value: bytes.toString("base64") } },
                "seed",
            );
            keys.push(secretKey(namespace, (object.metadata as JsonObject).name as string));
        }
        return keys;
    }

    keys(): readonly string[] {
        return this.sortedKeys;
    }

    keyAt(index: number): string | undefined {
        return this.sortedKeys[index];
    }

    // ---- inspection -------------------------------------------------------

    countBySealedVersion(): Record<number, number> {
        const counts: Record<number, number> = {};
        for (const entry of this.secrets.values()) {
            counts[entry.sealedWith] = (counts[entry.sealedWith] ?? 0) + 1;
        }
        return counts;
    }

    namesNotSealedWith(version: number): string[] {
        const names: string[] = [];
        for (const [key, entry] of this.secrets) {
            if (entry.sealedWith !== version) {
                names.push(key);
            }
        }
        return names;
    }

    sealedWith(namespace: string, name: string): number | undefined {
        return this.secrets.get(secretKey(namespace, name))?.sealedWith;
    }

    apiWritesOf(namespace: string, name: string): number {
        return this.secrets.get(secretKey(namespace, name))?.apiWrites ?? 0;
    }

    maxApiWritesPerSecret(): number {
        let max = 0;
        for (const entry of this.secrets.values()) {
            max = Math.max(max, entry.apiWrites);
        }
        return max;
    }

    /** Secrets whose data differs from what seeding, creation or churn last put there. */
    namesWithChangedContents(): string[] {
        const names: string[] = [];
        for (const [key, entry] of this.secrets) {
            if (entry.dataHash !== entry.expectedDataHash) {
                names.push(key);
            }
        }
        return names;
    }

    /** Forgets write counts and timings (not the objects), e.g. between benchmark rounds. */
    resetWriteCounters(): void {
        this.apiUpdates = 0;
        this.apiCreates = 0;
        this.apiDeletes = 0;
        this.churnWrites = 0;
        this.apiWriteTimes.length = 0;
        for (const entry of this.secrets.values()) {
            entry.apiWrites = 0;
        }
    }
}
