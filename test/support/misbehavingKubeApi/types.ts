// The knobs, misbehaviour modes and counters of the hostile Kubernetes API test
// server (./server.ts).

/** Which of the two calls the re-encryption client makes a misbehaviour applies to. */
export type Target = "list" | "patch" | "all";

/** Send the response headers, then one byte of the body every `dripMs`, forever. */
export interface DripMode {
    kind: "drip";
    /** Default 2000. */
    dripMs?: number;
    /** Default "all". */
    on?: Target;
    /** PATCH only: apply the patch before dripping its answer (default false: nothing is written). */
    applyPatches?: boolean;
}

/** Read the request and never answer it. */
export interface HangMode {
    kind: "hang";
    /** Default "all". */
    on?: Target;
    /** PATCH only: apply the patch, then withhold the answer (a lost response; default false). */
    applyPatches?: boolean;
}

/** Lists answer 410 Expired with a fresh remainder token in metadata.continue, forever. */
export interface ExpiredForeverMode {
    kind: "expiredForever";
    /** Also expire first pages (lists without a continue token). Default false: only lists that carry one. */
    everyList?: boolean;
}

/** Every list answers the first page with one and the same continue token. */
export interface RepeatContinueMode {
    kind: "repeatContinue";
}

/** 429 (or 503) with a raw Retry-After header. */
export interface RetryAfterMode {
    kind: "retryAfter";
    /** Default 429. */
    status?: 429 | 503;
    /** Sent verbatim ("-5", "3600", an HTTP date, "abc"); undefined: no Retry-After header at all. */
    retryAfter?: string;
    /** Default "all". */
    on?: Target;
    /** Only the first `times` matching requests misbehave; later ones are served normally. Default: forever. */
    times?: number;
    /** Answer kube-apiserver's max-in-flight plain text instead of a Status object. */
    plainText?: boolean;
}

/** 500 InternalError (or 503 ServiceUnavailable) Status. */
export interface ServerErrorsMode {
    kind: "serverErrors";
    /** Default 500. */
    status?: 500 | 503;
    /** Default "patch". */
    on?: Target;
    /** Only the first `times` matching requests fail. Default: forever. */
    times?: number;
}

/** List items carry one huge annotation, so a page weighs about `limit * bytesPerItem` bytes. */
export interface OversizedPageMode {
    kind: "oversizedPage";
    bytesPerItem: number;
    /** Default "kubectl.kubernetes.io/last-applied-configuration". */
    annotationKey?: string;
    /** No Content-Length: sent in chunks, so only reading tells the size. */
    chunked?: boolean;
}

/** PATCH answers 403 from an admission webhook in some namespaces, 422 Invalid for some names. */
export interface DenyPatchMode {
    kind: "denyPatch";
    /** PATCH of any Secret in these namespaces: 403 Forbidden. */
    namespaces?: string[];
    /** PATCH of these Secrets ("name" or "namespace/name"): 422 Invalid. */
    names?: string[];
}

/**
 * After `requests` authenticated requests, every request answers 401 until the
 * server's token changes (setToken); with rejectNewTokens, even after that.
 */
export interface UnauthorizedAfterMode {
    kind: "unauthorizedAfter";
    requests: number;
    rejectNewTokens?: boolean;
    /** Called once, synchronously, when the budget runs out (before the first 401 is sent): e.g. to rotate a token file. */
    onExhausted?: () => void;
}

export type HostileMode =
    | { kind: "normal" }
    | DripMode
    | HangMode
    | ExpiredForeverMode
    | RepeatContinueMode
    | RetryAfterMode
    | ServerErrorsMode
    | OversizedPageMode
    | DenyPatchMode
    | UnauthorizedAfterMode;

export type HostileModeKind = HostileMode["kind"];

/** A mode, a mode's name (defaults for everything; not for oversizedPage/unauthorizedAfter, which need a number) or several modes (first that applies wins). */
export type ModeSetting = HostileMode | Exclude<HostileModeKind, "oversizedPage" | "unauthorizedAfter"> | HostileMode[];

export interface MisbehavingKubeApiOptions {
    /** Secrets in the store: s-00000, s-00001, ... Default 10. */
    secrets?: number;
    /** Namespaces ns-0 .. ns-(k-1); Secret i lives in ns-(i mod k). Default 3. */
    namespaces?: number;
    /** The accepted bearer token. Default: random hex. */
    token?: string;
    /** Accept any non-empty bearer token. */
    acceptAnyToken?: boolean;
    /** Default true: HTTPS with a self-signed certificate; false: plain HTTP. */
    tls?: boolean;
    /** Default "normal". */
    mode?: ModeSetting;
}

/** What a request was: the two calls the client makes, discovery (kubectl), or anything else. */
export type RequestKind = "list" | "patch" | "discovery" | "other";

export interface HostileStats {
    requests: number;
    byKind: Record<RequestKind, number>;
    byMethod: Record<string, number>;
    byStatus: Record<number, number>;
    /** 200 list pages sent in full. */
    listsServed: number;
    /** Patches that changed a Secret (each bumps the global resourceVersion). */
    patchesApplied: number;
    /** Patches that would change nothing: answered 200, not written (as kube-apiserver does). */
    noOpPatches: number;
    /** "namespace/name" → patches applied to it. */
    patchesPerSecret: Record<string, number>;
    /** Requests a misbehaviour mode answered (or swallowed), by mode. */
    misbehaved: Partial<Record<HostileModeKind, number>>;
    /** Response body bytes written (headers and TLS framing not included). */
    bytesSent: number;
    openConnections: number;
    connectionsAccepted: number;
}

export interface KubeconfigFileOptions {
    /** Default: the server's current token. */
    token?: string;
    /** Write `token-file: <path>` instead of a token. */
    tokenFile?: string;
    /** Context, cluster and user name. Default "hostile". */
    context?: string;
    namespace?: string;
}

export interface MisbehavingKubeApi {
    readonly url: string;
    readonly port: number;
    /** PEM of the self-signed serving certificate (its own CA); "" in plain HTTP mode. */
    readonly caPem: string;
    /** The token currently accepted. */
    readonly token: string;
    close(): Promise<void>;
    stats(): HostileStats;
    resetStats(): void;
    setMode(mode: ModeSetting): void;
    /** Accept `token` from now on (the previous one is rejected); ends an exhausted unauthorizedAfter unless rejectNewTokens. */
    setToken(token: string): void;
    /** Stored annotations of a Secret, or undefined when there is no such Secret. */
    annotations(namespace: string, name: string): Record<string, string> | undefined;
    resourceVersion(namespace: string, name: string): string | undefined;
    /** Every Secret as "namespace/name", in list order. */
    secretKeys(): string[];
    /** Writes an annotation behind the API's back (bumps the resourceVersion, not the patch counters); value null removes it. */
    setAnnotation(namespace: string, name: string, key: string, value: string | null): void;
    deleteSecret(namespace: string, name: string): boolean;
    /** Writes a kubeconfig (YAML, mode 0600) pointing at this server; returns `path`. */
    writeKubeconfig(path: string, options?: KubeconfigFileOptions): string;
}
