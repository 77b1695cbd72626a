// Request authentication as Alibaba Cloud does it: ACS3-HMAC-SHA256 (CS, ROA
// style) and HMAC-SHA1 signature v1 (KMS and STS, RPC style), with the
// timestamp window, single-use nonces and security tokens of temporary keys.

import * as crypto from "node:crypto";
import { CsError, Incoming, RpcError, header } from "./http";
import type { StandInState } from "./state";

type SigningState = Pick<StandInState, "accessKeys" | "usedNonces">;

const TIMESTAMP_SKEW_MS = 15 * 60 * 1000;

// Percent-encoding both SDKs sign with (RFC 3986, plus !'()*).
function popEncode(value: string): string {
    return encodeURIComponent(value).replace(/!/g, "%21").replace(/'/g, "%27").replace(/\(/g, "%28").replace(/\)/g, "%29").replace(/\*/g, "%2A");
}

function timestampProblem(value: string | undefined): string | undefined {
    if (!value) return "missing";
    const time = Date.parse(value);
    if (Number.isNaN(time)) return "malformed";
    if (Math.abs(Date.now() - time) > TIMESTAMP_SKEW_MS) return "expired";
    return undefined;
}

/** Verifies a CS request's ACS3-HMAC-SHA256 Authorization header; returns the caller's access key ID. */
export function verifyCsSignature(state: SigningState, incoming: Incoming): { accessKeyId: string } {
    const authorization = header(incoming.headers, "authorization") ?? "";
    const match = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(authorization);
    if (!match)
        throw new CsError(
            400,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards: expected an ACS3-HMAC-SHA256 Authorization header.",
        );
    const [, credential, signedHeaderList, signature] = match;
    const known = state.accessKeys.get(credential);
    if (!known) throw new CsError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    if (known.securityToken !== undefined && header(incoming.headers, "x-acs-security-token") !== known.securityToken) {
        throw new CsError(400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey.");
    }
    const signedHeaders = signedHeaderList.split(";");
    for (const required of ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"]) {
        if (!signedHeaders.includes(required))
            throw new CsError(400, "IncompleteSignature", `The request signature does not sign the required header ${required}.`);
    }
    const problem = timestampProblem(header(incoming.headers, "x-acs-date"));
    if (problem)
        throw new CsError(400, `InvalidTimeStamp.${problem === "expired" ? "Expired" : "Format"}`, `Specified time stamp or date value is ${problem}.`);
    const payloadHash = crypto.createHash("sha256").update(incoming.body).digest("hex");
    if (header(incoming.headers, "x-acs-content-sha256") !== payloadHash) {
        throw new CsError(400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the request body.");
    }
    const canonicalQuery = Object.keys(incoming.query)
        .sort()
        .map((k) => `${k}=${popEncode(incoming.query[k])}`)
        .join("&");
    const canonicalHeaders = signedHeaders.map((h) => `${h}:${(header(incoming.headers, h) ?? "").trim()}\n`).join("");
    const canonicalRequest = [incoming.method, incoming.path, canonicalQuery, canonicalHeaders, signedHeaders.join(";"), payloadHash].join("\n");
    const stringToSign = "ACS3-HMAC-SHA256\n" + crypto.createHash("sha256").update(canonicalRequest).digest("hex");
    const expected = crypto.createHmac("sha256", known.secret).update(stringToSign).digest("hex");
    if (expected.length !== signature.length || !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
        throw new CsError(400, "SignatureDoesNotMatch", `The request signature does not match. Server string to sign is: ${JSON.stringify(stringToSign)}`);
    }
    const nonce = header(incoming.headers, "x-acs-signature-nonce") ?? "";
    if (state.usedNonces.has(nonce)) throw new CsError(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    state.usedNonces.add(nonce);
    return { accessKeyId: credential };
}

/** Verifies an RPC request's HMAC-SHA1 v1 signature parameters; returns the caller's access key ID. */
export function verifyRpcSignature(state: SigningState, method: string, params: Record<string, string>): string {
    const required = ["AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Action", "Version"];
    for (const name of required) {
        if (!params[name]) {
            if (name === "Signature" || name.startsWith("Signature")) {
                throw new RpcError(400, "IncompleteSignature", `The request signature does not conform to Aliyun standards: ${name} is missing.`);
            }
            throw new RpcError(400, "MissingParameter", `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
        }
    }
    if (params.SignatureMethod !== "HMAC-SHA1" || params.SignatureVersion !== "1.0") {
        throw new RpcError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards: use HMAC-SHA1 with SignatureVersion 1.0.");
    }
    const known = state.accessKeys.get(params.AccessKeyId);
    if (!known) throw new RpcError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    if (known.securityToken !== undefined && params.SecurityToken !== known.securityToken) {
        throw new RpcError(400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey.");
    }
    const problem = timestampProblem(params.Timestamp);
    if (problem)
        throw new RpcError(400, `InvalidTimeStamp.${problem === "expired" ? "Expired" : "Format"}`, `Specified time stamp or date value is ${problem}.`);
    const canonicalized = Object.keys(params)
        .filter((k) => k !== "Signature")
        .sort()
        .map((k) => `${popEncode(k)}=${popEncode(params[k])}`)
        .join("&");
    const stringToSign = `${method}&${popEncode("/")}&${popEncode(canonicalized)}`;
    const expected = crypto
        .createHmac("sha1", known.secret + "&")
        .update(stringToSign)
        .digest("base64");
    if (expected.length !== params.Signature.length || !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(params.Signature))) {
        throw new RpcError(400, "SignatureDoesNotMatch", `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`);
    }
    if (state.usedNonces.has(params.SignatureNonce)) throw new RpcError(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    state.usedNonces.add(params.SignatureNonce);
    return params.AccessKeyId;
}
