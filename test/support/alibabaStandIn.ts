// A local stand-in for the Alibaba Cloud OpenAPI operations this project
// calls: Container Service (ROA style, ACS3-HMAC-SHA256 signatures) and KMS
// (RPC style, HMAC-SHA1 signature v1). It verifies every request's signature
// with a test AccessKey, answers in the real APIs' response shapes, and has
// knobs for the failure scenarios the providers must handle. Tests reach it
// through the real SDKs by pointing ALIBABA_CLOUD_CS_ENDPOINT /
// ALIBABA_CLOUD_KMS_ENDPOINT at it (see useAlibabaStandInEnv).

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { serverCertificate } from "./kubeServer";

export interface StandInCluster {
    clusterId: string;
    name: string;
    clusterSpec: string;
    clusterType: string;
    profile: string;
    state: string;
    regionId: string;
    vpcId: string;
    encryptionKeyId?: string;
    encryptionDisabled: boolean;
}

export interface StandInKeyVersion {
    keyVersionId: string;
    creationDate: string;
}

export interface StandInKey {
    keyId: string;
    arn: string;
    keySpec: string;
    keyUsage: string;
    keyState: string;
    creatorType: "User" | "Service";
    creator: string;
    origin: string;
    description: string;
    creationDate: string;
    protectionLevel: string;
    dkmsInstanceId: string;
    automaticRotation: string;
    rotationInterval: string;
    deletionProtection: string;
    lastRotationDate: string;
    nextRotationDate: string;
    primaryKeyVersion: string;
    versions: StandInKeyVersion[];
}

export interface StandInKnobs {
    /** DescribeClusterDetail calls that still report "updating" after an accepted UpdateKMSEncryption (Infinity: never finishes). */
    updatingPolls: number;
    /** The next N UpdateKMSEncryption calls answer HTTP 409 (changed within 5 minutes). */
    conflictsBeforeAccept: number;
    /** UpdateKMSEncryption answers 403 ForbiddenUpdateKMSState (caller lacks RBAC admin/ops). */
    forbidUpdate: boolean;
    /** The accepted update ends in state "updating_failed" instead of "running". */
    failUpdate: boolean;
}

export interface RecordedCall {
    service: "cs" | "kms" | "sts";
    action: string;
    method: string;
    path: string;
    query: Record<string, string>;
    body: string;
    status: number;
    accessKeyId?: string;
    securityToken?: string;
}

export interface StandInOptions {
    accessKeyId?: string;
    accessKeySecret?: string;
    regionId?: string;
    /** Builds the kubeconfig DescribeClusterUserKubeconfig returns (the rotation provider's tests point it at a test API server). */
    kubeconfig?: (clusterId: string, temporaryDurationMinutes: number) => string;
    /** Also serve STS AssumeRole over TLS (127.0.0.1, self-signed: pass `stsCaFile` as NODE_EXTRA_CA_CERTS). */
    sts?: boolean;
}

/** An RAM role STS may hand out: AssumeRole with its ARN returns a temporary key (STS.*) and a token. */
export interface StandInRole {
    roleArn: string;
    /** Access key IDs allowed to assume it; "*" trusts every key the stand-in accepts. */
    trustedAccessKeyIds: string[];
}

export interface AlibabaStandIn {
    /** "http://127.0.0.1:PORT", ready for ALIBABA_CLOUD_CS_ENDPOINT. */
    csEndpoint: string;
    /** "http://127.0.0.1:PORT", ready for ALIBABA_CLOUD_KMS_ENDPOINT. */
    kmsEndpoint: string;
    accessKeyId: string;
    accessKeySecret: string;
    regionId: string;
    /** "127.0.0.1:PORT" of the STS endpoint (https) when started with `sts: true`. */
    stsEndpoint?: string;
    /** PEM file of the STS endpoint's self-signed certificate, for NODE_EXTRA_CA_CERTS. */
    stsCaFile?: string;
    /** A credentials URI (alicloud:credentialsUri) that hands out a fresh temporary key (STS.*) with a token. */
    credentialsUri: string;
    /** Accept another access key (optionally only with a security token), e.g. a profile's or a config's. */
    addAccessKey(accessKeyId: string, accessKeySecret: string, securityToken?: string): void;
    addRole(role: StandInRole): void;
    clusters: Map<string, StandInCluster>;
    keys: Map<string, StandInKey>;
    knobs: StandInKnobs;
    calls: RecordedCall[];
    addCluster(partial?: Partial<StandInCluster>): StandInCluster;
    addKey(partial?: Partial<StandInKey>): StandInKey;
    /** Simulates a KMS automatic rotation: a new primary version and a new lastRotationDate. */
    rotateKey(keyId: string, at?: Date): StandInKeyVersion;
    scenario: {
        notProCluster(clusterId: string): void;
        removeCluster(clusterId: string): void;
        stillUpdatingFor(polls: number): void;
        conflictOnce(): void;
        forbidUpdates(): void;
        disableKey(keyId: string): void;
        makeServiceKey(keyId: string): void;
        setKeySpec(keyId: string, keySpec: string): void;
    };
    /** Calls of one action, in order. */
    callsOf(action: string): RecordedCall[];
    close(): Promise<void>;
}

export const STAND_IN_ACCESS_KEY_ID = "LTAI5tStandInTestKey01";
export const STAND_IN_ACCESS_KEY_SECRET = "standInTestSecret0123456789abcdef";

interface PendingUpdate {
    encryptionKeyId?: string;
    encryptionDisabled: boolean;
    remainingPolls: number;
}

function requestId(): string {
    return crypto.randomUUID().toUpperCase();
}

// Percent-encoding both SDKs sign with (RFC 3986, plus !'()*).
function popEncode(value: string): string {
    return encodeURIComponent(value).replace(/!/g, "%21").replace(/'/g, "%27").replace(/\(/g, "%28").replace(/\)/g, "%29").replace(/\*/g, "%2A");
}

function parseQuery(raw: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (!raw) return out;
    for (const pair of raw.split("&")) {
        if (!pair) continue;
        const eq = pair.indexOf("=");
        const key = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, "%20"));
        const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, "%20"));
        out[key] = value;
    }
    return out;
}

function isoSeconds(date: Date): string {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const TIMESTAMP_SKEW_MS = 15 * 60 * 1000;
const CREDENTIALS_URI_PATH = "/standin/credentials-uri";

export async function startAlibabaStandIn(options: StandInOptions = {}): Promise<AlibabaStandIn> {
    const accessKeyId = options.accessKeyId ?? STAND_IN_ACCESS_KEY_ID;
    const accessKeySecret = options.accessKeySecret ?? STAND_IN_ACCESS_KEY_SECRET;
    const regionId = options.regionId ?? "cn-hangzhou";
    const clusters = new Map<string, StandInCluster>();
    const keys = new Map<string, StandInKey>();
    const pending = new Map<string, PendingUpdate>();
    const knobs: StandInKnobs = { updatingPolls: 0, conflictsBeforeAccept: 0, forbidUpdate: false, failUpdate: false };
    const calls: RecordedCall[] = [];
    const usedNonces = new Set<string>();
    // Every key the stand-in accepts, with the token a temporary (STS) key must come with.
    const accessKeys = new Map<string, { secret: string; securityToken?: string }>([[accessKeyId, { secret: accessKeySecret }]]);
    const roles = new Map<string, StandInRole>();
    let keyCounter = 0;
    let clusterCounter = 0;

    const defaultKubeconfig = (clusterId: string, minutes: number) =>
        [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            `- name: ${clusterId}`,
            "  cluster:",
            `    server: https://${clusterId}.standin.invalid:6443`,
            "contexts:",
            `- name: ${clusterId}-admin`,
            "  context:",
            `    cluster: ${clusterId}`,
            "    user: standin-user",
            `current-context: ${clusterId}-admin`,
            "users:",
            "- name: standin-user",
            "  user:",
            `    token: standin-token-valid-${minutes}-minutes`,
            "",
        ].join("\n");

    function addCluster(partial: Partial<StandInCluster> = {}): StandInCluster {
        clusterCounter++;
        const cluster: StandInCluster = {
            clusterId: partial.clusterId ?? `c${String(clusterCounter).padStart(4, "0")}standin${crypto.randomBytes(4).toString("hex")}`,
            name: `ask-pro-${clusterCounter}`,
            clusterSpec: "ack.pro.small",
            clusterType: "ManagedKubernetes",
            profile: "Serverless",
            state: "running",
            regionId,
            vpcId: "vpc-standin0001",
            encryptionDisabled: true,
            ...partial,
        };
        clusters.set(cluster.clusterId, cluster);
        return cluster;
    }

    function addKey(partial: Partial<StandInKey> = {}): StandInKey {
        keyCounter++;
        const keyId = partial.keyId ?? crypto.randomUUID();
        const created = isoSeconds(new Date(Date.UTC(2026, 0, 1)));
        const firstVersion = { keyVersionId: crypto.randomUUID(), creationDate: created };
        const key: StandInKey = {
            keyId,
            arn: `acs:kms:${regionId}:1234567890123456:key/${keyId}`,
            keySpec: "Aliyun_AES_256",
            keyUsage: "ENCRYPT/DECRYPT",
            keyState: "Enabled",
            creatorType: "User",
            creator: "1234567890123456",
            origin: "Aliyun_KMS",
            description: `stand-in key ${keyCounter}`,
            creationDate: created,
            protectionLevel: "SOFTWARE",
            dkmsInstanceId: "kst-standin0001",
            automaticRotation: "Enabled",
            rotationInterval: "31536000s",
            deletionProtection: "Enabled",
            lastRotationDate: created,
            nextRotationDate: isoSeconds(new Date(Date.UTC(2027, 0, 1))),
            primaryKeyVersion: firstVersion.keyVersionId,
            versions: [firstVersion],
            ...partial,
        };
        keys.set(key.keyId, key);
        return key;
    }

    function rotateKey(keyId: string, at: Date = new Date()): StandInKeyVersion {
        const key = keys.get(keyId);
        if (!key) throw new Error(`stand-in: no key "${keyId}" to rotate`);
        const version = { keyVersionId: crypto.randomUUID(), creationDate: isoSeconds(at) };
        key.versions.push(version);
        key.primaryKeyVersion = version.keyVersionId;
        key.lastRotationDate = version.creationDate;
        return version;
    }

    function mustCluster(clusterId: string): StandInCluster {
        const c = clusters.get(clusterId);
        if (!c) throw new Error(`stand-in: no cluster "${clusterId}"`);
        return c;
    }
    function mustKey(keyId: string): StandInKey {
        const k = keys.get(keyId);
        if (!k) throw new Error(`stand-in: no key "${keyId}"`);
        return k;
    }

    // ---- Shared request plumbing ----------------------------------------------------------

    interface Incoming {
        method: string;
        path: string;
        rawQuery: string;
        query: Record<string, string>;
        headers: http.IncomingHttpHeaders;
        body: Buffer;
    }

    function readRequest(req: http.IncomingMessage): Promise<Incoming> {
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("error", reject);
            req.on("end", () => {
                const url = req.url ?? "/";
                const q = url.indexOf("?");
                const rawQuery = q < 0 ? "" : url.slice(q + 1);
                resolve({
                    method: (req.method ?? "GET").toUpperCase(),
                    path: q < 0 ? url : url.slice(0, q),
                    rawQuery,
                    query: parseQuery(rawQuery),
                    headers: req.headers,
                    body: Buffer.concat(chunks),
                });
            });
        });
    }

    function send(res: http.ServerResponse, status: number, payload: unknown): number {
        const text = payload === undefined ? "" : JSON.stringify(payload);
        res.writeHead(status, { "content-type": "application/json;charset=utf-8", "x-acs-request-id": requestId() });
        res.end(text);
        return status;
    }

    function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
        const v = headers[name];
        return Array.isArray(v) ? v.join(",") : v;
    }

    function timestampProblem(value: string | undefined): string | undefined {
        if (!value) return "missing";
        const t = Date.parse(value);
        if (Number.isNaN(t)) return "malformed";
        if (Math.abs(Date.now() - t) > TIMESTAMP_SKEW_MS) return "expired";
        return undefined;
    }

    // ---- CS (ROA, ACS3-HMAC-SHA256) ---------------------------------------------------------

    class CsError {
        constructor(
            readonly status: number,
            readonly code: string,
            readonly message: string,
        ) {}
    }

    function verifyCsSignature(r: Incoming): { accessKeyId: string } {
        const authorization = header(r.headers, "authorization") ?? "";
        const match = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(authorization);
        if (!match)
            throw new CsError(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards: expected an ACS3-HMAC-SHA256 Authorization header.",
            );
        const [, credential, signedHeaderList, signature] = match;
        const known = accessKeys.get(credential);
        if (!known) throw new CsError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
        if (known.securityToken !== undefined && header(r.headers, "x-acs-security-token") !== known.securityToken) {
            throw new CsError(400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey.");
        }
        const signedHeaders = signedHeaderList.split(";");
        for (const required of ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"]) {
            if (!signedHeaders.includes(required))
                throw new CsError(400, "IncompleteSignature", `The request signature does not sign the required header ${required}.`);
        }
        const problem = timestampProblem(header(r.headers, "x-acs-date"));
        if (problem)
            throw new CsError(400, `InvalidTimeStamp.${problem === "expired" ? "Expired" : "Format"}`, `Specified time stamp or date value is ${problem}.`);
        const payloadHash = crypto.createHash("sha256").update(r.body).digest("hex");
        if (header(r.headers, "x-acs-content-sha256") !== payloadHash) {
            throw new CsError(400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the request body.");
        }
        const canonicalQuery = Object.keys(r.query)
            .sort()
            .map((k) => `${k}=${popEncode(r.query[k])}`)
            .join("&");
        const canonicalHeaders = signedHeaders.map((h) => `${h}:${(header(r.headers, h) ?? "").trim()}\n`).join("");
        const canonicalRequest = [r.method, r.path, canonicalQuery, canonicalHeaders, signedHeaders.join(";"), payloadHash].join("\n");
        const stringToSign = "ACS3-HMAC-SHA256\n" + crypto.createHash("sha256").update(canonicalRequest).digest("hex");
        const expected = crypto.createHmac("sha256", known.secret).update(stringToSign).digest("hex");
        if (expected.length !== signature.length || !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
            throw new CsError(400, "SignatureDoesNotMatch", `The request signature does not match. Server string to sign is: ${JSON.stringify(stringToSign)}`);
        }
        const nonce = header(r.headers, "x-acs-signature-nonce") ?? "";
        if (usedNonces.has(nonce)) throw new CsError(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
        usedNonces.add(nonce);
        return { accessKeyId: credential };
    }

    function clusterDetail(c: StandInCluster): Record<string, unknown> {
        const capabilities: Record<string, unknown> = { DisableEncryption: c.encryptionDisabled };
        if (c.encryptionKeyId !== undefined) capabilities.EncryptionKMSKeyId = c.encryptionKeyId;
        return {
            cluster_id: c.clusterId,
            name: c.name,
            cluster_spec: c.clusterSpec,
            cluster_type: c.clusterType,
            profile: c.profile,
            state: c.state,
            region_id: c.regionId,
            vpc_id: c.vpcId,
            current_version: "1.31.1-aliyun.1",
            created: "2026-01-01T00:00:00+08:00",
            updated: isoSeconds(new Date()),
            deletion_protection: true,
            resource_group_id: "rg-standin",
            meta_data: JSON.stringify({ Capabilities: capabilities, KubernetesVersion: "1.31.1-aliyun.1" }),
        };
    }

    function csDescribeClusterDetail(clusterId: string): Record<string, unknown> {
        const c = clusters.get(clusterId);
        if (!c) throw new CsError(404, "ErrorClusterNotFound", `cluster ${clusterId} not found`);
        const p = pending.get(clusterId);
        if (p) {
            if (p.remainingPolls <= 0) {
                pending.delete(clusterId);
                c.state = knobs.failUpdate ? "updating_failed" : "running";
                if (!knobs.failUpdate) {
                    c.encryptionKeyId = p.encryptionKeyId;
                    c.encryptionDisabled = p.encryptionDisabled;
                }
            } else {
                p.remainingPolls--;
            }
        }
        return clusterDetail(c);
    }

    function csUpdateKmsEncryption(clusterId: string, body: Buffer): undefined {
        const c = clusters.get(clusterId);
        if (!c) throw new CsError(404, "ErrorClusterNotFound", `cluster ${clusterId} not found`);
        if (knobs.forbidUpdate) {
            throw new CsError(
                403,
                "ForbiddenUpdateKMSState",
                "Forbidden update kms state, current user has no permission to update kms encryption of this cluster",
            );
        }
        if (knobs.conflictsBeforeAccept > 0) {
            knobs.conflictsBeforeAccept--;
            throw new CsError(409, "Conflict", "The KMS encryption configuration of the cluster was updated within 5 minutes, please try again later");
        }
        if (c.state !== "running") throw new CsError(409, "Conflict", `cluster ${clusterId} is ${c.state}, please try again later`);
        let parsed: { kms_key_id?: unknown; disable_encryption?: unknown };
        try {
            parsed = JSON.parse(body.toString("utf8") || "{}");
        } catch {
            throw new CsError(400, "InvalidParameter", "request body is not valid JSON");
        }
        const disable = parsed.disable_encryption === true;
        const keyId = typeof parsed.kms_key_id === "string" && parsed.kms_key_id !== "" ? parsed.kms_key_id : undefined;
        if (!disable) {
            const key = keyId ? keys.get(keyId) : undefined;
            if (!key) throw new CsError(400, "InvalidParameter", `kms key ${keyId ?? "(empty)"} not found`);
            if (key.keySpec !== "Aliyun_AES_256" || key.keyUsage !== "ENCRYPT/DECRYPT" || key.keyState !== "Enabled" || key.creatorType !== "User") {
                throw new CsError(400, "InvalidParameter", `kms key ${keyId} can not be used for secret encryption`);
            }
        }
        c.state = "updating";
        pending.set(clusterId, {
            encryptionKeyId: disable ? c.encryptionKeyId : keyId,
            encryptionDisabled: disable,
            remainingPolls: knobs.updatingPolls,
        });
        return undefined;
    }

    function csUserKubeconfig(clusterId: string, query: Record<string, string>): Record<string, unknown> {
        if (!clusters.has(clusterId)) throw new CsError(404, "ErrorClusterNotFound", `cluster ${clusterId} not found`);
        const minutes = Number(query.TemporaryDurationMinutes ?? 0);
        const config = (options.kubeconfig ?? defaultKubeconfig)(clusterId, minutes);
        const expiration = isoSeconds(new Date(Date.now() + (minutes > 0 ? minutes : 3 * 365 * 24 * 60) * 60_000));
        return { config, expiration };
    }

    const csRoutes: { action: string; method: string; pattern: RegExp; handle: (m: RegExpExecArray, r: Incoming) => unknown }[] = [
        { action: "DescribeClusterDetail", method: "GET", pattern: /^\/clusters\/([^/]+)$/, handle: (m) => csDescribeClusterDetail(decodeURIComponent(m[1])) },
        {
            action: "UpdateKMSEncryption",
            method: "PUT",
            pattern: /^\/clusters\/([^/]+)\/kms$/,
            handle: (m, r) => csUpdateKmsEncryption(decodeURIComponent(m[1]), r.body),
        },
        {
            action: "DescribeClusterUserKubeconfig",
            method: "GET",
            pattern: /^\/k8s\/([^/]+)\/user_config$/,
            handle: (m, r) => csUserKubeconfig(decodeURIComponent(m[1]), r.query),
        },
    ];

    async function handleCs(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const r = await readRequest(req);
        if (r.method === "GET" && r.path === CREDENTIALS_URI_PATH) {
            const issued = issueTemporaryKey();
            calls.push({ service: "sts", action: "CredentialsURI", method: r.method, path: r.path, query: {}, body: "", status: 200, accessKeyId: issued.id });
            send(res, 200, {
                Code: "Success",
                AccessKeyId: issued.id,
                AccessKeySecret: issued.secret,
                SecurityToken: issued.token,
                Expiration: isoSeconds(new Date(Date.now() + 3600_000)),
            });
            return;
        }
        const action = header(r.headers, "x-acs-action") ?? "";
        const call: RecordedCall = {
            service: "cs",
            action,
            method: r.method,
            path: r.path,
            query: r.query,
            body: r.body.toString("utf8"),
            status: 0,
            securityToken: header(r.headers, "x-acs-security-token"),
        };
        calls.push(call);
        const rid = requestId();
        try {
            const auth = verifyCsSignature(r);
            call.accessKeyId = auth.accessKeyId;
            for (const route of csRoutes) {
                const m = route.pattern.exec(r.path);
                if (m && route.method === r.method && route.action === action) {
                    call.status = send(res, 200, route.handle(m, r));
                    return;
                }
            }
            throw new CsError(
                404,
                "InvalidAction.NotFound",
                `Specified api is not found, please check your url and method: ${r.method} ${r.path} (${action}).`,
            );
        } catch (e) {
            if (!(e instanceof CsError)) throw e;
            call.status = send(res, e.status, { code: e.code, message: e.message, requestId: rid, status: e.status });
        }
    }

    // ---- KMS (RPC, HMAC-SHA1 signature v1) ------------------------------------------------

    class RpcError {
        constructor(
            readonly status: number,
            readonly code: string,
            readonly message: string,
        ) {}
    }

    function verifyRpcSignature(method: string, params: Record<string, string>): string {
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
            throw new RpcError(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards: use HMAC-SHA1 with SignatureVersion 1.0.",
            );
        }
        const known = accessKeys.get(params.AccessKeyId);
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
            throw new RpcError(
                400,
                "SignatureDoesNotMatch",
                `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`,
            );
        }
        if (usedNonces.has(params.SignatureNonce)) throw new RpcError(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
        usedNonces.add(params.SignatureNonce);
        return params.AccessKeyId;
    }

    function keyMetadata(k: StandInKey): Record<string, unknown> {
        return {
            KeyId: k.keyId,
            Arn: k.arn,
            KeySpec: k.keySpec,
            KeyUsage: k.keyUsage,
            KeyState: k.keyState,
            Creator: k.creator,
            Origin: k.origin,
            Description: k.description,
            CreationDate: k.creationDate,
            DeleteDate: "",
            MaterialExpireTime: "",
            ProtectionLevel: k.protectionLevel,
            DKMSInstanceId: k.dkmsInstanceId,
            AutomaticRotation: k.automaticRotation,
            RotationInterval: k.rotationInterval,
            DeletionProtection: k.deletionProtection,
            LastRotationDate: k.lastRotationDate,
            NextRotationDate: k.nextRotationDate,
            PrimaryKeyVersion: k.primaryKeyVersion,
        };
    }

    function findKey(keyId: string | undefined): StandInKey {
        const k = keyId ? (keys.get(keyId) ?? [...keys.values()].find((x) => x.arn === keyId)) : undefined;
        if (!k) throw new RpcError(404, "Forbidden.KeyNotFound", "The specified Key is not found.");
        return k;
    }

    function paging(params: Record<string, string>): { pageNumber: number; pageSize: number } {
        const pageNumber = Number(params.PageNumber ?? 1);
        const pageSize = Number(params.PageSize ?? 10);
        if (!Number.isInteger(pageNumber) || pageNumber < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
            throw new RpcError(400, "InvalidParameter", "PageNumber must be >= 1 and PageSize from 1 to 100.");
        }
        return { pageNumber, pageSize };
    }

    function listKeys(params: Record<string, string>): Record<string, unknown> {
        const { pageNumber, pageSize } = paging(params);
        let matching = [...keys.values()];
        if (params.Filters) {
            let filters: { Key?: string; Values?: string[] }[];
            try {
                filters = JSON.parse(params.Filters);
            } catch {
                throw new RpcError(400, "InvalidParameter", "The parameter Filters is not valid JSON.");
            }
            for (const f of filters) {
                const values = f.Values ?? [];
                const field: Record<string, (k: StandInKey) => string> = {
                    CreatorType: (k) => k.creatorType,
                    KeyState: (k) => k.keyState,
                    KeySpec: (k) => k.keySpec,
                    KeyUsage: (k) => k.keyUsage,
                    ProtectionLevel: (k) => k.protectionLevel,
                };
                const get = f.Key ? field[f.Key] : undefined;
                if (!get) throw new RpcError(400, "InvalidParameter", `The filter key ${f.Key} is not supported.`);
                matching = matching.filter((k) => values.includes(get(k)));
            }
        }
        const page = matching.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
        return {
            Keys: { Key: page.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })) },
            TotalCount: matching.length,
            PageNumber: pageNumber,
            PageSize: pageSize,
        };
    }

    function listKeyVersions(params: Record<string, string>): Record<string, unknown> {
        const k = findKey(params.KeyId);
        const { pageNumber, pageSize } = paging(params);
        const page = k.versions.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
        return {
            KeyVersions: { KeyVersion: page.map((v) => ({ KeyId: k.keyId, KeyVersionId: v.keyVersionId, CreationDate: v.creationDate })) },
            TotalCount: k.versions.length,
            PageNumber: pageNumber,
            PageSize: pageSize,
        };
    }

    const kmsActions: Record<string, (params: Record<string, string>) => Record<string, unknown>> = {
        DescribeKey: (p) => ({ KeyMetadata: keyMetadata(findKey(p.KeyId)) }),
        ListKeys: listKeys,
        ListKeyVersions: listKeyVersions,
    };

    async function handleKms(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const r = await readRequest(req);
        const formBody = /application\/x-www-form-urlencoded/.test(header(r.headers, "content-type") ?? "") ? parseQuery(r.body.toString("utf8")) : {};
        const params = { ...r.query, ...formBody };
        const action = params.Action ?? "";
        const call: RecordedCall = {
            service: "kms",
            action,
            method: r.method,
            path: r.path,
            query: params,
            body: r.body.toString("utf8"),
            status: 0,
            securityToken: params.SecurityToken,
        };
        calls.push(call);
        const rid = requestId();
        try {
            if (r.path !== "/") throw new RpcError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
            call.accessKeyId = verifyRpcSignature(r.method, params);
            if (params.Version !== "2016-01-20") throw new RpcError(400, "InvalidVersion", `Specified parameter Version ${params.Version} is not valid.`);
            const handler = kmsActions[action];
            if (!handler) throw new RpcError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
            call.status = send(res, 200, { ...handler(params), RequestId: rid });
        } catch (e) {
            if (!(e instanceof RpcError)) throw e;
            call.status = send(res, e.status, {
                RequestId: rid,
                HostId: `kms.${regionId}.aliyuncs.com`,
                Code: e.code,
                Message: e.message,
                Recommend: `https://api.aliyun.com/troubleshoot?q=${e.code}&product=Kms`,
            });
        }
    }

    // ---- STS (RPC, HMAC-SHA1 signature v1, https only) ---------------------------------------

    function issueTemporaryKey() {
        const issued = {
            id: `STS.${crypto.randomBytes(8).toString("hex")}`,
            secret: crypto.randomBytes(16).toString("hex"),
            token: `CAIS${crypto.randomBytes(24).toString("base64url")}`,
        };
        accessKeys.set(issued.id, { secret: issued.secret, securityToken: issued.token });
        return issued;
    }

    function assumeRole(params: Record<string, string>, caller: string): Record<string, unknown> {
        const role = roles.get(params.RoleArn ?? "");
        if (!role) throw new RpcError(404, "EntityNotExist.Role", `The role ${params.RoleArn} does not exist.`);
        if (!role.trustedAccessKeyIds.includes(caller) && !role.trustedAccessKeyIds.includes("*")) {
            throw new RpcError(403, "NoPermission", `You are not authorized to assume ${role.roleArn}.`);
        }
        const duration = Number(params.DurationSeconds ?? 3600);
        if (!(duration >= 900 && duration <= 43200)) throw new RpcError(400, "InvalidParameter.DurationSeconds", "DurationSeconds must be 900-43200.");
        const issued = issueTemporaryKey();
        return {
            AssumedRoleUser: {
                Arn: `${role.roleArn.replace(":role/", ":assumed-role/")}/${params.RoleSessionName}`,
                AssumedRoleId: `3${crypto.randomBytes(8).toString("hex")}:${params.RoleSessionName}`,
            },
            Credentials: {
                AccessKeyId: issued.id,
                AccessKeySecret: issued.secret,
                SecurityToken: issued.token,
                Expiration: isoSeconds(new Date(Date.now() + duration * 1000)),
            },
        };
    }

    async function handleSts(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const r = await readRequest(req);
        const formBody = /application\/x-www-form-urlencoded/.test(header(r.headers, "content-type") ?? "") ? parseQuery(r.body.toString("utf8")) : {};
        const params = { ...r.query, ...formBody };
        const call: RecordedCall = {
            service: "sts",
            action: params.Action ?? "",
            method: r.method,
            path: r.path,
            query: params,
            body: r.body.toString("utf8"),
            status: 0,
            securityToken: params.SecurityToken,
        };
        calls.push(call);
        const rid = requestId();
        try {
            call.accessKeyId = verifyRpcSignature(r.method, params);
            if (params.Action !== "AssumeRole" || params.Version !== "2015-04-01")
                throw new RpcError(404, "InvalidAction.NotFound", "Specified api is not found.");
            call.status = send(res, 200, { ...assumeRole(params, call.accessKeyId), RequestId: rid });
        } catch (e) {
            if (!(e instanceof RpcError)) throw e;
            call.status = send(res, e.status, { RequestId: rid, HostId: "sts.aliyuncs.com", Code: e.code, Message: e.message });
        }
    }

    // ---- Servers ---------------------------------------------------------------------------

    function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>): http.Server {
        return http.createServer((req, res) => {
            handler(req, res).catch((e: Error) => {
                if (!res.headersSent) send(res, 500, { code: "InternalError", message: `stand-in failure: ${e.message}`, requestId: requestId() });
                else res.destroy();
            });
        });
    }

    const listen = (server: http.Server) =>
        new Promise<number>((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
        });

    const csServer = serve(handleCs);
    const kmsServer = serve(handleKms);
    const [csPort, kmsPort] = await Promise.all([listen(csServer), listen(kmsServer)]);
    let stsServer: https.Server | undefined;
    let stsCaFile: string | undefined;
    if (options.sts) {
        const { cert, key } = await serverCertificate();
        stsServer = https.createServer({ cert, key }, (req, res) => {
            handleSts(req, res).catch(() => res.destroy());
        });
        stsCaFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sts-ca-")), "ca.pem");
        fs.writeFileSync(stsCaFile, cert);
    }
    const stsPort = stsServer ? await listen(stsServer as unknown as http.Server) : undefined;

    const stop = (server: http.Server) =>
        new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        });

    return {
        csEndpoint: `http://127.0.0.1:${csPort}`,
        kmsEndpoint: `http://127.0.0.1:${kmsPort}`,
        stsEndpoint: stsPort ? `127.0.0.1:${stsPort}` : undefined,
        credentialsUri: `http://127.0.0.1:${csPort}${CREDENTIALS_URI_PATH}`,
        stsCaFile,
        addAccessKey: (id, secret, securityToken) => void accessKeys.set(id, { secret, securityToken }),
        addRole: (role) => void roles.set(role.roleArn, role),
        accessKeyId,
        accessKeySecret,
        regionId,
        clusters,
        keys,
        knobs,
        calls,
        addCluster,
        addKey,
        rotateKey,
        scenario: {
            notProCluster: (id) => void (mustCluster(id).clusterSpec = "ack.standard"),
            removeCluster: (id) => void (mustCluster(id), clusters.delete(id)),
            stillUpdatingFor: (polls) => void (knobs.updatingPolls = polls),
            conflictOnce: () => void (knobs.conflictsBeforeAccept = 1),
            forbidUpdates: () => void (knobs.forbidUpdate = true),
            disableKey: (id) => void (mustKey(id).keyState = "Disabled"),
            makeServiceKey: (id) => void (mustKey(id).creatorType = "Service"),
            setKeySpec: (id, spec) => void (mustKey(id).keySpec = spec),
        },
        callsOf: (action) => calls.filter((c) => c.action === action),
        close: async () => {
            await Promise.all([stop(csServer), stop(kmsServer), ...(stsServer ? [stop(stsServer as unknown as http.Server)] : [])]);
            if (stsCaFile) fs.rmSync(path.dirname(stsCaFile), { recursive: true, force: true });
        },
    };
}

const MANAGED_ENV_VARS = [
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_CS_ENDPOINT",
    "ALIBABA_CLOUD_KMS_ENDPOINT",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
] as const;

/**
 * Points the default credential chain and the endpoint overrides at the
 * stand-in (optionally with a different secret or key ID, to provoke
 * signature errors). Returns a function that restores the previous values.
 */
export function useAlibabaStandInEnv(
    standIn: Pick<AlibabaStandIn, "csEndpoint" | "kmsEndpoint" | "accessKeyId" | "accessKeySecret">,
    overrides: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string } = {},
): () => void {
    const saved = new Map<string, string | undefined>(MANAGED_ENV_VARS.map((name) => [name, process.env[name]]));
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = overrides.accessKeyId ?? standIn.accessKeyId;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = overrides.accessKeySecret ?? standIn.accessKeySecret;
    if (overrides.securityToken) process.env.ALIBABA_CLOUD_SECURITY_TOKEN = overrides.securityToken;
    else delete process.env.ALIBABA_CLOUD_SECURITY_TOKEN;
    process.env.ALIBABA_CLOUD_CS_ENDPOINT = standIn.csEndpoint;
    process.env.ALIBABA_CLOUD_KMS_ENDPOINT = standIn.kmsEndpoint;
    // Never fall through to the ECS metadata service from a test machine.
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";
    return () => {
        for (const [name, value] of saved) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
    };
}

/**
 * The environment for a provider host that talks to the stand-in: endpoint
 * overrides, no ECS metadata fallback, and an empty HOME so no real profile
 * or credential file of this machine can be picked up.
 */
export function standInHostEnv(standIn: Pick<AlibabaStandIn, "csEndpoint" | "kmsEndpoint">, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
        HOME: home,
        ALIBABA_CLOUD_CS_ENDPOINT: standIn.csEndpoint,
        ALIBABA_CLOUD_KMS_ENDPOINT: standIn.kmsEndpoint,
        ALIBABA_CLOUD_ECS_METADATA_DISABLED: "true",
        ...extra,
    };
}

/** The stack config `pulumi up` sends the dynamic providers (CLI >= 3.139): region and the stand-in's key as explicit alicloud config. */
export function standInStackConfig(standIn: Pick<AlibabaStandIn, "accessKeyId" | "accessKeySecret" | "regionId">): {
    config: Record<string, string>;
    secretKeys: string[];
} {
    return {
        config: { "alicloud:region": standIn.regionId, "alicloud:accessKey": standIn.accessKeyId, "alicloud:secretKey": standIn.accessKeySecret },
        secretKeys: ["alicloud:secretKey"],
    };
}
