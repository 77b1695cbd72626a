/**
 * An in-memory SecretsClient that behaves like kube-apiserver where the engine
 * can tell: resourceVersions are a global increasing revision, a merge patch
 * with a stale resourceVersion is a 409, a missing Secret is a 404, a patch
 * that changes nothing is not a write. Faults are injected per call through
 * hooks, so every failure class can be produced on demand.
 */
import { ClusterTarget, KubernetesApiError, ListRequest, SecretPage, SecretRef, SecretsClient } from "../../components/reencrypt";

export interface StoredSecret {
    namespace: string;
    name: string;
    resourceVersion: number;
    annotations: Record<string, string>;
    creationTimestamp: string;
    /** Real writes (changes) that hit storage; our patches and outside edits alike. */
    writes: number;
}

export interface ListCall {
    limit: number;
    continueToken?: string;
}

export interface FakeOptions {
    /** Delay before each patch completes, to make concurrency observable. */
    patchLatencyMs?: number;
    /** Return an error to fail this patch call (callIndex counts from 0 over all patch calls). */
    patchFault?: (ref: SecretRef, callIndex: number) => unknown;
    /** Return an error to fail this list call. */
    listFault?: (call: ListCall, callIndex: number) => unknown;
    /** Runs before a patch is applied (e.g. to simulate someone else editing the Secret). */
    beforePatch?: (ref: SecretRef, fake: FakeSecretsClient) => void;
    /** The cluster the fake claims to be (default: one fixed fake cluster). */
    target?: ClusterTarget;
    /** Called on renewCredentials; without it the fake offers no renewal. */
    renew?: () => Promise<void>;
}

export const FAKE_TARGET: ClusterTarget = { server: "https://fake-cluster.invalid:6443", caFingerprint: "f".repeat(64), context: "fake", user: "fake-user" };

interface ContinueState {
    after: string;
    rv: string;
}

export class FakeSecretsClient implements SecretsClient {
    readonly secrets = new Map<string, StoredSecret>();
    readonly listCalls: ListCall[] = [];
    patchCalls = 0;
    inFlight = 0;
    maxInFlight = 0;
    readonly patchStartTimes: number[] = [];
    private revision = 1000;

    readonly target: ClusterTarget;
    renewCredentials?: () => Promise<void>;
    renewals = 0;

    constructor(private readonly options: FakeOptions = {}) {
        this.target = options.target ?? FAKE_TARGET;
        if (options.renew) {
            this.renewCredentials = async () => {
                this.renewals++;
                await options.renew!();
            };
        }
    }

    static withSecrets(count: number, options: FakeOptions = {}, namespaces = 3): FakeSecretsClient {
        const fake = new FakeSecretsClient(options);
        for (let i = 0; i < count; i++) fake.create(`ns-${i % namespaces}`, `secret-${String(i).padStart(6, "0")}`);
        return fake;
    }

    create(namespace: string, name: string, annotations: Record<string, string> = {}): StoredSecret {
        const secret: StoredSecret = {
            namespace,
            name,
            resourceVersion: ++this.revision,
            annotations: { ...annotations },
            creationTimestamp: new Date().toISOString(),
            writes: 0,
        };
        this.secrets.set(keyOf(namespace, name), secret);
        return secret;
    }

    /** Someone else writes the Secret: a new resourceVersion, no annotation from us. */
    touch(namespace: string, name: string): void {
        const secret = this.get(namespace, name);
        secret.resourceVersion = ++this.revision;
        secret.writes++;
    }

    delete(namespace: string, name: string): void {
        this.secrets.delete(keyOf(namespace, name));
    }

    get(namespace: string, name: string): StoredSecret {
        const secret = this.secrets.get(keyOf(namespace, name));
        if (!secret) throw new Error(`test bug: no secret ${namespace}/${name}`);
        return secret;
    }

    carrying(key: string, value: string): number {
        return [...this.secrets.values()].filter((s) => s.annotations[key] === value).length;
    }

    async listPage(req: ListRequest): Promise<SecretPage> {
        const call = { limit: req.limit, continueToken: req.continueToken };
        const callIndex = this.listCalls.length;
        this.listCalls.push(call);
        await Promise.resolve();
        const fault = this.options.listFault?.(call, callIndex);
        if (fault) throw fault;
        const position: ContinueState = req.continueToken
            ? (JSON.parse(Buffer.from(req.continueToken, "base64").toString("utf8")) as ContinueState)
            : { after: "", rv: String(this.revision) };
        const keys = [...this.secrets.keys()].filter((k) => k > position.after).sort();
        const pageKeys = keys.slice(0, req.limit);
        const items = pageKeys.map((k) => this.toRef(this.secrets.get(k)!));
        const more = keys.length > pageKeys.length;
        return {
            items,
            resourceVersion: position.rv,
            continueToken: more ? encodeContinue({ after: pageKeys[pageKeys.length - 1], rv: position.rv }) : undefined,
            remainingItemCount: more ? keys.length - pageKeys.length : undefined,
        };
    }

    async patchAnnotation(ref: SecretRef, key: string, value: string): Promise<void> {
        const callIndex = this.patchCalls++;
        this.patchStartTimes.push(Date.now());
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
            if (this.options.patchLatencyMs) await new Promise((r) => setTimeout(r, this.options.patchLatencyMs));
            else await Promise.resolve();
            const fault = this.options.patchFault?.(ref, callIndex);
            if (fault) throw fault;
            this.options.beforePatch?.(ref, this);
            const secret = this.secrets.get(keyOf(ref.namespace, ref.name));
            if (!secret) throw apiError(404, "NotFound", `secrets "${ref.name}" not found`);
            if (String(secret.resourceVersion) !== ref.resourceVersion) {
                throw apiError(409, "Conflict", `Operation cannot be fulfilled on secrets "${ref.name}": the object has been modified`);
            }
            if (secret.annotations[key] === value) return; // nothing changes, nothing is written
            secret.annotations[key] = value;
            secret.resourceVersion = ++this.revision;
            secret.writes++;
        } finally {
            this.inFlight--;
        }
    }

    private toRef(s: StoredSecret): SecretRef {
        return {
            namespace: s.namespace,
            name: s.name,
            resourceVersion: String(s.resourceVersion),
            annotations: { ...s.annotations },
            creationTimestamp: s.creationTimestamp,
        };
    }
}

export function apiError(
    status: number,
    reason?: string,
    message?: string,
    extra: { retryAfterSeconds?: number; continueToken?: string } = {},
): KubernetesApiError {
    return new KubernetesApiError({ status, operation: "fake request", reason, message, ...extra });
}

export function networkError(code: string): Error {
    return Object.assign(new Error(`socket trouble (${code})`), { code });
}

function keyOf(namespace: string, name: string): string {
    return `${namespace}/${name}`;
}

function encodeContinue(state: ContinueState): string {
    return Buffer.from(JSON.stringify(state)).toString("base64");
}
