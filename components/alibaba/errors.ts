// The one place that turns whatever the Alibaba SDKs throw into an error a
// person can act on: which call failed, the service's code, HTTP status and
// request ID (what support asks for), and what to do about it. Every caller
// (wrappers, providers, CLIs) classifies through here.

import type { AlibabaService } from "./endpoints";

/**
 * conflict: the service refused because another change is in flight (HTTP 409),
 *           worth retrying after a pause;
 * throttled / transient: retry with backoff;
 * notFound: the named resource does not exist;
 * auth: credentials missing or rejected; forbidden: authenticated but not allowed;
 * fatal: anything else (bad request, unknown).
 */
export type AlibabaErrorKind = "conflict" | "throttled" | "transient" | "notFound" | "auth" | "forbidden" | "fatal";

export interface AlibabaCallSite {
    service: AlibabaService;
    /** API name, e.g. "UpdateKMSEncryption". */
    operation: string;
    /** What the call was about, e.g. `cluster "c123"`. */
    target?: string;
    /** Endpoint the call went to, for network errors. */
    endpoint?: string;
}

export class AlibabaApiError extends Error {
    readonly service: AlibabaService;
    readonly operation: string;
    readonly code: string;
    readonly httpStatus?: number;
    readonly requestId?: string;
    readonly kind: AlibabaErrorKind;
    readonly hint: string;

    constructor(fields: {
        service: AlibabaService;
        operation: string;
        code: string;
        httpStatus?: number;
        requestId?: string;
        kind: AlibabaErrorKind;
        hint: string;
        detail: string;
        target?: string;
    }) {
        const where = fields.target ? ` for ${fields.target}` : "";
        const status = fields.httpStatus !== undefined ? `, HTTP ${fields.httpStatus}` : "";
        const request = fields.requestId ? `, request ID ${fields.requestId}` : "";
        super(
            `${fields.service.toUpperCase()} ${fields.operation}${where} failed: ${fields.code}${status}${request}. ` +
                `${fields.detail}${fields.detail.endsWith(".") ? "" : "."} What to do: ${fields.hint}`,
        );
        this.name = "AlibabaApiError";
        this.service = fields.service;
        this.operation = fields.operation;
        this.code = fields.code;
        this.httpStatus = fields.httpStatus;
        this.requestId = fields.requestId;
        this.kind = fields.kind;
        this.hint = fields.hint;
    }
}

const CREDENTIAL_HELP =
    "give the stack an Alibaba Cloud identity the way its alicloud provider takes one: alicloud:accessKey and " +
    "alicloud:secretKey (`pulumi config set --secret alicloud:secretKey ...`), alicloud:profile (a profile in ~/.aliyun/config.json), " +
    "optionally alicloud:assumeRole on top, or the environment variables ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY " +
    "(ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET), or an ECS RAM role or OIDC (RRSA)";

interface CodeAdvice {
    kind: AlibabaErrorKind;
    hint: (site: AlibabaCallSite) => string;
}

// Codes whose meaning is fixed regardless of HTTP status. Matched exactly, then by prefix.
const ADVICE_BY_CODE: Record<string, CodeAdvice> = {
    SignatureDoesNotMatch: {
        kind: "auth",
        hint: () =>
            "the AccessKey secret does not belong to the AccessKey ID that signed the request; check the stack's secret key " +
            "(alicloud:secretKey, ALICLOUD_SECRET_KEY / ALIBABA_CLOUD_ACCESS_KEY_SECRET, or the profile) and that the clock of this machine is correct.",
    },
    IncompleteSignature: {
        kind: "auth",
        hint: () =>
            "the request signature was rejected; check the stack's AccessKey secret (alicloud:secretKey or its environment variables) and the system clock.",
    },
    "InvalidAccessKeyId.NotFound": {
        kind: "auth",
        hint: () => "the AccessKey ID is unknown to Alibaba Cloud; " + CREDENTIAL_HELP + ".",
    },
    "InvalidAccessKeyId.Inactive": {
        kind: "auth",
        hint: () => "the AccessKey is disabled; enable it in the RAM console or use another one.",
    },
    "InvalidSecurityToken.Expired": {
        kind: "auth",
        hint: () =>
            "the STS token expired; set a fresh alicloud:securityToken (or ALICLOUD_SECURITY_TOKEN), or use alicloud:assumeRole / an ECS role, which refresh it, and retry.",
    },
    CredentialsNotFound: { kind: "auth", hint: () => CREDENTIAL_HELP + "." },
    ForbiddenUpdateKMSState: {
        kind: "forbidden",
        hint: (site) =>
            `the caller may not change Secret encryption on ${site.target ?? "the cluster"}. It needs the RBAC role admin or ops ` +
            "on that cluster (Container Service console > Authorizations) AND the RAM system policy AliyunKMSCryptoAdminAccess; " +
            "grant both to the RAM user or role in the credential chain, then run again.",
    },
    ErrorClusterNotFound: {
        kind: "notFound",
        hint: () => "check the clusterId in the stack config and that alicloud:region is the cluster's region.",
    },
    "Forbidden.KeyNotFound": {
        kind: "notFound",
        hint: () => "check the KMS key ID and that the key lives in the stack's region (alicloud:region).",
    },
    "Forbidden.RAM": {
        kind: "forbidden",
        hint: (site) => `grant the RAM user or role in the credential chain permission for ${site.service}:${site.operation}.`,
    },
    "Forbidden.NoPermission": {
        kind: "forbidden",
        hint: (site) => `grant the RAM user or role in the credential chain permission for ${site.service}:${site.operation}.`,
    },
    NoPermission: {
        kind: "forbidden",
        hint: (site) => `grant the RAM user or role in the credential chain permission for ${site.service}:${site.operation}.`,
    },
    Throttling: { kind: "throttled", hint: () => "the API is throttling this account; retry later or lower the call rate." },
    "Rejected.Throttling": { kind: "throttled", hint: () => "KMS is throttling this account; retry later or lower the call rate." },
    ServiceUnavailable: { kind: "transient", hint: () => "the service is temporarily unavailable; retry shortly." },
    InternalError: {
        kind: "transient",
        hint: () => "the service reported an internal error; retry shortly, and quote the request ID to support if it persists.",
    },
};

function adviceFor(code: string, httpStatus: number | undefined, site: AlibabaCallSite): { kind: AlibabaErrorKind; hint: string } {
    const exact = ADVICE_BY_CODE[code];
    if (exact) return { kind: exact.kind, hint: exact.hint(site) };
    if (code.startsWith("Throttling")) return { kind: "throttled", hint: "the API is throttling this account; retry later." };
    if (httpStatus === 409) {
        return {
            kind: "conflict",
            hint: `${site.target ?? "the resource"} is busy with another change (the KMS encryption setting of a cluster can be changed at most once within 5 minutes); wait and retry.`,
        };
    }
    if (httpStatus === 401) return { kind: "auth", hint: CREDENTIAL_HELP + "." };
    if (httpStatus === 403) {
        return { kind: "forbidden", hint: `grant the RAM user or role in the credential chain permission for ${site.service}:${site.operation}.` };
    }
    if (httpStatus === 404) return { kind: "notFound", hint: `check that ${site.target ?? "the resource"} exists in the stack's region.` };
    if (httpStatus === 429) return { kind: "throttled", hint: "the API is throttling this account; retry later." };
    if (httpStatus !== undefined && httpStatus >= 500) {
        return { kind: "transient", hint: "the service failed on its side; retry shortly, and quote the request ID to support if it persists." };
    }
    return { kind: "fatal", hint: "read the service's message above; fix the request or the stack config and run again." };
}

const NETWORK_CODES: readonly string[] = [
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EPIPE",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ReadTimeout",
    "ConnectTimeout",
];

// RPC-style requests carry AccessKeyId, Signature and (for STS) SecurityToken in
// the query string, and network errors quote the URL: never let those through.
// KMS's SignatureDoesNotMatch message quotes its string to sign, where the same
// parameters appear percent-encoded ("SecurityToken%3D...%26").
export function redactCredentials(text: string): string {
    return text.replace(/((?:SecurityToken|Signature|AccessKeyId|AccessKeySecret)(?:=|%3D|%253D))(?:(?!%26|%2526)[^&\s"'])*/gi, "$1[redacted]");
}

function stringField(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" && value !== "undefined" ? value : undefined;
}

/**
 * Turns an SDK exception (cs20151215/openapi-core ClientError/ServerError,
 * kms20160120/rpc-client tea errors, credential-chain errors, network errors)
 * into an AlibabaApiError. Already-classified errors pass through unchanged.
 */
export function toAlibabaApiError(error: unknown, site: AlibabaCallSite): AlibabaApiError {
    if (error instanceof AlibabaApiError) return error;
    const raw = (error ?? {}) as Record<string, unknown>;
    const data = (raw.data ?? {}) as Record<string, unknown>;
    const rawMessage = redactCredentials(
        typeof raw.message === "string" && raw.message !== "" ? raw.message : typeof error === "string" ? error : "no message",
    );

    if (/unable to get credentials from any of the providers in the chain/i.test(rawMessage) || raw.code === "InvalidCredentials") {
        const { kind, hint } = adviceFor("CredentialsNotFound", undefined, site);
        return new AlibabaApiError({
            ...site,
            code: "CredentialsNotFound",
            kind,
            hint,
            detail: "No credentials were found in the Alibaba Cloud default credential chain",
        });
    }

    const networkCode = stringField(raw.code) ?? stringField(raw.errno);
    if (networkCode && NETWORK_CODES.includes(networkCode)) {
        const where = site.endpoint ? ` ${site.endpoint}` : "";
        return new AlibabaApiError({
            ...site,
            code: networkCode,
            kind: "transient",
            detail: `Could not reach the ${site.service.toUpperCase()} endpoint${where}`,
            hint: `check network access to the endpoint, or the ${site.service === "cs" ? "ALIBABA_CLOUD_CS_ENDPOINT" : "ALIBABA_CLOUD_KMS_ENDPOINT"} override if one is set; retry when it is reachable.`,
        });
    }

    // openapi-core puts the service code in .code and the status in .statusCode;
    // rpc-client appends "Error" to the code and only mentions the status in the message.
    const serviceCode = stringField(data.Code) ?? stringField(data.code) ?? stringField(raw.code)?.replace(/Error$/, "") ?? "UnknownError";
    let httpStatus = typeof raw.statusCode === "number" ? raw.statusCode : undefined;
    if (httpStatus === undefined) {
        const statusInMessage = /code: (\d{3})\b/.exec(rawMessage);
        if (statusInMessage) httpStatus = Number(statusInMessage[1]);
    }
    const requestId = stringField(raw.requestId) ?? stringField(data.RequestId) ?? stringField(data.requestId);
    const serviceMessage = stringField(data.Message) ?? stringField(data.message) ?? rawMessage;
    const { kind, hint } = adviceFor(serviceCode, httpStatus, site);
    return new AlibabaApiError({
        ...site,
        code: serviceCode,
        httpStatus,
        requestId,
        kind,
        hint,
        detail: `The service said: ${redactCredentials(serviceMessage)}`,
    });
}
