// The public shapes of the Kubernetes API test server: its options, fault and
// churn knobs, RBAC rules, request hooks, statistics and the server interface.

import type { SecretStore, SeedOptions } from "./store";

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
    /**
     * continue tokens carry only the list position (namespace scope and last key), no resourceVersion
     * and no issue time, as a server or proxy may issue them (the API calls tokens opaque): a continued
     * page is served at the current revision, and a restarted list hands out the same tokens again.
     */
    positionOnlyContinueTokens?: boolean;
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

export interface KubeStandInOptions {
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

export interface KubeStandIn {
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
    /** Expires every token issued for the ServiceAccount so far; returns how many. */
    expireTokensOf(namespace: string, name: string): number;
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

/** Who a bearer token stands for, what it may do, and until when. */
export interface TokenIdentity {
    user: string;
    rules: PolicyRule[] | "all";
    expiresAt: number;
}
