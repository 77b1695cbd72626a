/**
 * The one place where failures are classified. The engine, the Kubernetes
 * client and every caller (CLI, rotation provider) reuse `classifyError`, so a
 * status code means the same thing everywhere.
 */

/** unauthorized: 401, the credentials were rejected (renew them once). forbidden: 403, this identity may not (RBAC, an admission webhook). */
export type ErrorClass = "retryable" | "gone" | "conflict" | "unauthorized" | "forbidden" | "expired" | "fatal";

/**
 * A non-2xx answer from the Kubernetes API. Carries only what classification
 * and operators need: the status, the Status reason/message (never a Secret
 * value: error bodies are Status objects or plain text), Retry-After, and the
 * remainder continue token of a 410 Expired list.
 */
export class KubernetesApiError extends Error {
    readonly status: number;
    readonly reason?: string;
    readonly retryAfterSeconds?: number;
    /** For 410 Expired on a list: the Status's metadata.continue (an inconsistent remainder), when given. */
    readonly continueToken?: string;

    constructor(init: { status: number; operation: string; reason?: string; message?: string; retryAfterSeconds?: number; continueToken?: string }) {
        const detail = init.message ? `: ${init.message}` : "";
        super(`${init.operation} failed with HTTP ${init.status}${init.reason ? ` ${init.reason}` : ""}${detail}`);
        this.name = "KubernetesApiError";
        this.status = init.status;
        this.reason = init.reason;
        this.retryAfterSeconds = init.retryAfterSeconds;
        this.continueToken = init.continueToken;
    }
}

/** The run cannot go on: the credentials are rejected or lack a permission. */
export class PermissionDeniedError extends Error {
    constructor(
        message: string,
        readonly status: number,
    ) {
        super(message);
        this.name = "PermissionDeniedError";
    }
}

// Transport failures that say nothing about the request itself: the same
// request may well succeed on a fresh connection a moment later.
const TRANSIENT_NETWORK_CODES: readonly string[] = [
    "ECONNRESET",
    "ECONNREFUSED",
    "ECONNABORTED",
    "ETIMEDOUT",
    "ESOCKETTIMEDOUT",
    "EPIPE",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ENETDOWN",
    "UND_ERR_SOCKET",
    "UND_ERR_CONNECT_TIMEOUT",
    "ERR_HTTP2_STREAM_ERROR",
];

/** True for a transport failure code that a retry on a fresh connection may well get past. */
export function isTransientNetworkCode(code: unknown): boolean {
    return typeof code === "string" && TRANSIENT_NETWORK_CODES.includes(code);
}

/** The HTTP status an error carries, whatever client produced it (ours, @kubernetes/client-node's ApiException uses `code`). */
export function httpStatusOf(err: unknown): number | undefined {
    if (typeof err !== "object" || err === null) return undefined;
    const e = err as { status?: unknown; statusCode?: unknown; code?: unknown };
    for (const candidate of [e.status, e.statusCode, e.code]) {
        if (typeof candidate === "number" && candidate >= 100 && candidate < 600) return candidate;
    }
    return undefined;
}

export function classifyError(err: unknown): ErrorClass {
    const status = httpStatusOf(err);
    if (status !== undefined) {
        if (status === 401) return "unauthorized";
        if (status === 403) return "forbidden";
        if (status === 404) return "gone";
        if (status === 409) return "conflict";
        if (status === 410) return "expired";
        if (status === 408 || status === 429) return "retryable";
        // 501/505 will not change on retry; every other 5xx is an overloaded or restarting server.
        if (status >= 500 && status !== 501 && status !== 505) return "retryable";
        return "fatal";
    }
    const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
    if (isTransientNetworkCode(code)) return "retryable";
    return "fatal";
}

/** Seconds the server asked us to wait (Retry-After), when it did. */
export function retryAfterSecondsOf(err: unknown): number | undefined {
    if (typeof err !== "object" || err === null) return undefined;
    const value = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The remainder token of a 410 Expired list answer, when the server gave one. */
export function remainderContinueTokenOf(err: unknown): string | undefined {
    if (typeof err !== "object" || err === null) return undefined;
    const token = (err as { continueToken?: unknown }).continueToken;
    return typeof token === "string" && token.length > 0 ? token : undefined;
}

/**
 * Parse a Retry-After header (RFC 9110 section 10.2.3: delta-seconds, 1*DIGIT, or an
 * HTTP-date). Returns seconds, or undefined when absent or not one of those
 * forms: "-5", "1.5" or "soon" are not, and then the caller's own backoff
 * applies (Date.parse would read "-5" as a year and wait nothing). The
 * caller caps the result.
 */
export function parseRetryAfter(header: string | string[] | undefined, nowMs = Date.now()): number | undefined {
    const raw = Array.isArray(header) ? header[0] : header;
    if (raw === undefined) return undefined;
    const trimmed = raw.trim();
    if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed);
    // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (also the obsolete forms Date.parse reads, as long as they name GMT).
    if (!/^[A-Za-z]{3},? .*\bGMT$/.test(trimmed)) return undefined;
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    return Math.max(0, (at - nowMs) / 1000);
}

/** A short reason for a per-Secret failure: safe to print (no bodies beyond Status messages). */
export function describeError(err: unknown): string {
    if (err instanceof Error) {
        const code = (err as { code?: unknown }).code;
        const prefix = typeof code === "string" && !err.message.includes(code) ? `${code}: ` : "";
        return truncate(prefix + err.message, 300);
    }
    return truncate(String(err), 300);
}

function truncate(text: string, max: number): string {
    return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A 401 or 403 in words: what was refused, and the credential or RBAC rule that fixes it. */
export function permissionDenied(err: unknown, action: string): PermissionDeniedError {
    const status = httpStatusOf(err) ?? 403;
    const detail = describeError(err);
    if (status === 401) {
        return new PermissionDeniedError(
            `the Kubernetes API server rejected the credentials (HTTP 401) trying to ${action}: the token or client certificate ` +
                `is missing, invalid or expired; refresh the kubeconfig (or its exec plugin login) and run again. Server said: ${detail}`,
            401,
        );
    }
    return new PermissionDeniedError(
        `permission denied (HTTP 403) trying to ${action}: this job needs the RBAC verbs "list" and "patch" on "secrets" in all ` +
            `namespaces (a ClusterRole with apiGroups [""], resources ["secrets"], verbs ["list","patch"] and a ClusterRoleBinding to ` +
            `the identity in the kubeconfig). Server said: ${detail}`,
        403,
    );
}
