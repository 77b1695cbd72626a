import * as assert from "node:assert/strict";
import * as http from "node:http";
import { AlibabaApiError, describeCluster, describeClusterUserKubeconfig, describeKey, isUserKey, updateKmsEncryption } from "../../components/alibaba";
import { parseEncryptionCapabilities } from "../../components/alibaba/cs";
import { resolveEndpoint } from "../../components/alibaba/endpoints";
import { redactCredentials, toAlibabaApiError } from "../../components/alibaba/errors";
import { AlibabaStandIn, startAlibabaStandIn, useAlibabaStandInEnv } from "../support/alibabaStandIn/index";

const REGION = "cn-hangzhou";
const ctx = { regionId: REGION };

async function rejection(promise: Promise<unknown>): Promise<AlibabaApiError> {
    try {
        await promise;
    } catch (e) {
        assert.ok(e instanceof AlibabaApiError, `expected an AlibabaApiError, got ${String(e)}`);
        return e;
    }
    assert.fail("expected the call to fail");
}

describe("alibaba: endpoints", () => {
    it("defaults to the regional HTTPS endpoints", () => {
        assert.deepEqual(resolveEndpoint("cs", "cn-shanghai", {}), { endpoint: "cs.cn-shanghai.aliyuncs.com", protocol: "https", source: "regional default" });
        assert.equal(resolveEndpoint("kms", "ap-southeast-1", {}).endpoint, "kms.ap-southeast-1.aliyuncs.com");
    });

    it("takes overrides from the environment; the scheme picks the protocol, https by default", () => {
        const http1 = resolveEndpoint("cs", REGION, { ALIBABA_CLOUD_CS_ENDPOINT: "http://127.0.0.1:8080" });
        assert.deepEqual([http1.endpoint, http1.protocol], ["127.0.0.1:8080", "http"]);
        const bare = resolveEndpoint("kms", REGION, { ALIBABA_CLOUD_KMS_ENDPOINT: "kms-vpc.cn-hangzhou.aliyuncs.com" });
        assert.deepEqual([bare.endpoint, bare.protocol], ["kms-vpc.cn-hangzhou.aliyuncs.com", "https"]);
        // The CS override does not leak into KMS.
        assert.equal(resolveEndpoint("kms", REGION, { ALIBABA_CLOUD_CS_ENDPOINT: "http://127.0.0.1:1" }).endpoint, "kms.cn-hangzhou.aliyuncs.com");
    });

    it("rejects a malformed override or region with a message naming the variable", () => {
        assert.throws(
            () => resolveEndpoint("cs", REGION, { ALIBABA_CLOUD_CS_ENDPOINT: "ftp://x/y/z" }),
            /ALIBABA_CLOUD_CS_ENDPOINT="ftp:\/\/x\/y\/z" is not a valid endpoint/,
        );
        assert.throws(() => resolveEndpoint("kms", "Hangzhou", {}), /alicloud:region.*ALIBABA_CLOUD_KMS_ENDPOINT/);
    });
});

describe("alibaba: meta_data parsing", () => {
    it("reads EncryptionKMSKeyId and DisableEncryption (boolean or string)", () => {
        assert.deepEqual(parseEncryptionCapabilities(JSON.stringify({ Capabilities: { EncryptionKMSKeyId: "k1", DisableEncryption: false } }), "c"), {
            encryptionKeyId: "k1",
            encryptionDisabled: false,
        });
        assert.equal(
            parseEncryptionCapabilities(JSON.stringify({ Capabilities: { EncryptionKMSKeyId: "k1", DisableEncryption: "true" } }), "c").encryptionDisabled,
            true,
        );
        assert.deepEqual(parseEncryptionCapabilities("{}", "c"), { encryptionKeyId: undefined, encryptionDisabled: true });
        assert.deepEqual(parseEncryptionCapabilities(undefined, "c"), { encryptionDisabled: true });
    });

    it("fails clearly on meta_data that is not JSON", () => {
        assert.throws(() => parseEncryptionCapabilities("{not json", "c-9"), /cluster "c-9" returned meta_data that is not JSON/);
    });
});

describe("alibaba: error classification", () => {
    it("classifies an openapi-core ClientError (409) as a conflict with code, status and request ID", () => {
        const e = toAlibabaApiError(
            {
                name: "ClientError",
                code: "Conflict",
                statusCode: 409,
                requestId: "RID-1",
                message: "code: 409, busy request id: RID-1",
                data: { code: "Conflict", message: "busy" },
            },
            { service: "cs", operation: "UpdateKMSEncryption", target: 'cluster "c1"' },
        );
        assert.equal(e.kind, "conflict");
        assert.equal(e.httpStatus, 409);
        assert.match(
            e.message,
            /^CS UpdateKMSEncryption for cluster "c1" failed: Conflict, HTTP 409, request ID RID-1\. The service said: busy\. What to do: .*5 minutes/,
        );
    });

    it("classifies an rpc-client error (code suffixed with Error, status only in the message)", () => {
        const e = toAlibabaApiError(
            {
                code: "Forbidden.KeyNotFoundError",
                message: "Forbidden.KeyNotFoundError: code: 404, The specified Key is not found. requestid: R2",
                data: { Code: "Forbidden.KeyNotFound", Message: "The specified Key is not found.", RequestId: "R2" },
            },
            { service: "kms", operation: "DescribeKey", target: 'key "k"' },
        );
        assert.deepEqual([e.code, e.httpStatus, e.requestId, e.kind], ["Forbidden.KeyNotFound", 404, "R2", "notFound"]);
    });

    it("explains ForbiddenUpdateKMSState with RBAC admin/ops and AliyunKMSCryptoAdminAccess", () => {
        const e = toAlibabaApiError(
            { code: "ForbiddenUpdateKMSState", statusCode: 403, data: {} },
            { service: "cs", operation: "UpdateKMSEncryption", target: 'cluster "c1"' },
        );
        assert.equal(e.kind, "forbidden");
        assert.match(e.message, /Secret encryption on cluster "c1"\. It needs the RBAC role admin or ops/);
        assert.match(e.message, /AliyunKMSCryptoAdminAccess/);
    });

    it("turns network errors into transient errors naming the endpoint override, without quoting credentials", () => {
        const e = toAlibabaApiError(
            { code: "ECONNREFUSED", message: "connect ECONNREFUSED http://h/?AccessKeyId=AK&SecurityToken=tok123&Signature=sig" },
            { service: "kms", operation: "DescribeKey", endpoint: "127.0.0.1:9" },
        );
        assert.equal(e.kind, "transient");
        assert.match(e.message, /127\.0\.0\.1:9.*ALIBABA_CLOUD_KMS_ENDPOINT/);
        assert.doesNotMatch(e.message, /tok123/);
    });

    it("redacts tokens, signatures and key IDs from any text, plain or percent-encoded", () => {
        assert.equal(
            redactCredentials("a?SecurityToken=abc&Signature=x%2B&AccessKeyId=LTAI&b=1"),
            "a?SecurityToken=[redacted]&Signature=[redacted]&AccessKeyId=[redacted]&b=1",
        );
        assert.equal(
            redactCredentials("POST&%2F&AccessKeyId%3DLTAI5t%26Action%3DDescribeKey%26SecurityToken%3Dtok%252Bx%26Timestamp%3D1"),
            "POST&%2F&AccessKeyId%3D[redacted]%26Action%3DDescribeKey%26SecurityToken%3D[redacted]%26Timestamp%3D1",
        );
    });
});

describe("alibaba: wrappers through the real SDKs against the stand-in", () => {
    let standIn: AlibabaStandIn;
    let restoreEnv: () => void;

    beforeEach(async () => {
        standIn = await startAlibabaStandIn({ regionId: REGION });
        restoreEnv = useAlibabaStandInEnv(standIn);
    });
    afterEach(async () => {
        restoreEnv();
        await standIn.close();
    });

    it("describeCluster returns the parsed detail, signed with the chain's AccessKey (ACS3-HMAC-SHA256)", async () => {
        const cluster = standIn.addCluster({ name: "prod-ask", vpcId: "vpc-123" });
        const info = await describeCluster(ctx, cluster.clusterId);
        assert.deepEqual(info, {
            clusterId: cluster.clusterId,
            name: "prod-ask",
            clusterSpec: "ack.pro.small",
            state: "running",
            regionId: REGION,
            vpcId: "vpc-123",
            encryptionKeyId: undefined,
            encryptionDisabled: true,
        });
        const [call] = standIn.callsOf("DescribeClusterDetail");
        assert.deepEqual([call.method, call.path, call.status, call.accessKeyId], ["GET", `/clusters/${cluster.clusterId}`, 200, standIn.accessKeyId]);
    });

    it("updateKmsEncryption sends PUT /clusters/{id}/kms and the cluster reports the key once it is running again", async () => {
        const cluster = standIn.addCluster();
        const key = standIn.addKey();
        standIn.scenario.stillUpdatingFor(1);
        await updateKmsEncryption(ctx, cluster.clusterId, { kmsKeyId: key.keyId, disableEncryption: false });
        const [call] = standIn.callsOf("UpdateKMSEncryption");
        assert.equal(call.method, "PUT");
        assert.equal(call.path, `/clusters/${cluster.clusterId}/kms`);
        assert.deepEqual(JSON.parse(call.body), { disable_encryption: false, kms_key_id: key.keyId });
        assert.equal((await describeCluster(ctx, cluster.clusterId)).state, "updating");
        const after = await describeCluster(ctx, cluster.clusterId);
        assert.deepEqual([after.state, after.encryptionKeyId, after.encryptionDisabled], ["running", key.keyId, false]);
    });

    it("updateKmsEncryption refuses to enable without a key before calling the API", async () => {
        await assert.rejects(updateKmsEncryption(ctx, "c1", { disableEncryption: false }), /enabling encryption needs a KMS key ID/);
        assert.equal(standIn.calls.length, 0);
    });

    it("describeKey returns the full KeyMetadata (RPC HMAC-SHA1 signed)", async () => {
        const key = standIn.addKey({ rotationInterval: "7776000s", dkmsInstanceId: "kst-abc" });
        const info = await describeKey(ctx, key.keyId);
        assert.equal(info.keyId, key.keyId);
        assert.equal(info.arn, key.arn);
        assert.equal(info.keySpec, "Aliyun_AES_256");
        assert.equal(info.keyUsage, "ENCRYPT/DECRYPT");
        assert.equal(info.keyState, "Enabled");
        assert.equal(info.primaryKeyVersion, key.primaryKeyVersion);
        assert.equal(info.lastRotationDate, key.lastRotationDate);
        assert.equal(info.automaticRotation, "Enabled");
        assert.equal(info.rotationInterval, "7776000s");
        assert.equal(info.deletionProtection, "Enabled");
        assert.equal(info.protectionLevel, "SOFTWARE");
        assert.equal(info.dkmsInstanceId, "kst-abc");
        assert.equal(info.creator, key.creator);
        const [call] = standIn.callsOf("DescribeKey");
        assert.deepEqual([call.method, call.query.SignatureMethod, call.query.KeyId, call.status], ["POST", "HMAC-SHA1", key.keyId, 200]);
    });

    it("isUserKey filters ListKeys by CreatorType=User and pages through all User keys", async () => {
        for (let i = 0; i < 120; i++) standIn.addKey();
        const last = standIn.addKey();
        const service = standIn.addKey({ creatorType: "Service" });
        assert.equal(await isUserKey(ctx, last.keyId), true);
        const pages = standIn.callsOf("ListKeys");
        assert.deepEqual(
            pages.map((c) => c.query.PageNumber),
            ["1", "2"],
        );
        assert.deepEqual(JSON.parse(pages[0].query.Filters), [{ Key: "CreatorType", Values: ["User"] }]);
        assert.equal(await isUserKey(ctx, service.keyId), false);
    });

    it("a rotated key shows a new primary version, a new lastRotationDate and one more key version", async () => {
        const key = standIn.addKey();
        const before = await describeKey(ctx, key.keyId);
        const rotated = standIn.rotateKey(key.keyId, new Date("2026-06-01T00:00:00Z"));
        const after = await describeKey(ctx, key.keyId);
        assert.notEqual(after.primaryKeyVersion, before.primaryKeyVersion);
        assert.equal(after.primaryKeyVersion, rotated.keyVersionId);
        assert.equal(after.lastRotationDate, "2026-06-01T00:00:00Z");
    });

    it("describeClusterUserKubeconfig asks for a temporary kubeconfig and returns it", async () => {
        const cluster = standIn.addCluster();
        const config = await describeClusterUserKubeconfig(ctx, cluster.clusterId, 30);
        assert.match(config, /^apiVersion: v1\nkind: Config/);
        assert.match(config, new RegExp(`server: https://${cluster.clusterId}`));
        assert.match(await describeClusterUserKubeconfig(ctx, cluster.clusterId, 15), /^apiVersion: v1/);
        const calls = standIn.callsOf("DescribeClusterUserKubeconfig");
        assert.deepEqual(
            calls.map((c) => [c.method, c.path, c.query.TemporaryDurationMinutes]),
            [
                ["GET", `/k8s/${cluster.clusterId}/user_config`, "30"],
                ["GET", `/k8s/${cluster.clusterId}/user_config`, "15"],
            ],
        );
        await assert.rejects(describeClusterUserKubeconfig(ctx, cluster.clusterId, 5), /from 15 to 4320, got 5/);
    });

    it("a missing cluster or key becomes a notFound error with the service's code, status and request ID", async () => {
        const clusterError = await rejection(describeCluster(ctx, "c-missing"));
        assert.deepEqual([clusterError.code, clusterError.httpStatus, clusterError.kind], ["ErrorClusterNotFound", 404, "notFound"]);
        assert.match(clusterError.requestId ?? "", /^[0-9A-F-]{36}$/);
        const keyError = await rejection(describeKey(ctx, "key-missing"));
        assert.deepEqual([keyError.code, keyError.httpStatus, keyError.kind], ["Forbidden.KeyNotFound", 404, "notFound"]);
        assert.match(keyError.message, /stack's region/);
    });

    it("a wrong secret gets SignatureDoesNotMatch from both services, and no message quotes the secret", async () => {
        const cluster = standIn.addCluster();
        const key = standIn.addKey();
        restoreEnv();
        const wrongSecret = "definitely-not-the-secret-0001";
        restoreEnv = useAlibabaStandInEnv(standIn, { accessKeySecret: wrongSecret });
        const cs = await rejection(describeCluster(ctx, cluster.clusterId));
        assert.deepEqual([cs.code, cs.httpStatus, cs.kind], ["SignatureDoesNotMatch", 400, "auth"]);
        assert.match(cs.message, /ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
        const kms = await rejection(describeKey(ctx, key.keyId));
        assert.deepEqual([kms.code, kms.httpStatus, kms.kind], ["SignatureDoesNotMatch", 400, "auth"]);
        for (const e of [cs, kms]) {
            assert.doesNotMatch(e.message, new RegExp(wrongSecret));
            assert.doesNotMatch(e.message, new RegExp(standIn.accessKeySecret));
        }
        // Nothing was changed or answered with data.
        assert.ok(standIn.calls.every((c) => c.status === 400));
    });

    it("an STS token never appears in an error, even when the service quotes its string to sign", async () => {
        const key = standIn.addKey();
        restoreEnv();
        const token = "CAIS-sts-token-must-not-leak-42";
        restoreEnv = useAlibabaStandInEnv(standIn, { accessKeySecret: "wrong-secret-for-sts", securityToken: token });
        const kms = await rejection(describeKey(ctx, key.keyId));
        assert.equal(kms.code, "SignatureDoesNotMatch");
        assert.equal(standIn.callsOf("DescribeKey")[0].securityToken, token);
        assert.match(kms.message, /string to sign/);
        assert.doesNotMatch(kms.message, new RegExp(token));
        assert.doesNotMatch(kms.message, new RegExp(standIn.accessKeyId));
    });

    it("an unknown AccessKey ID gets InvalidAccessKeyId.NotFound", async () => {
        const cluster = standIn.addCluster();
        restoreEnv();
        restoreEnv = useAlibabaStandInEnv(standIn, { accessKeyId: "LTAI5tUnknownKey" });
        const cs = await rejection(describeCluster(ctx, cluster.clusterId));
        assert.deepEqual([cs.code, cs.httpStatus, cs.kind], ["InvalidAccessKeyId.NotFound", 404, "auth"]);
        const kms = await rejection(isUserKey(ctx, "k"));
        assert.equal(kms.code, "InvalidAccessKeyId.NotFound");
    });

    it("the stand-in rejects a request whose signature was not made with the test secret", async () => {
        const cluster = standIn.addCluster();
        const url = new URL(`${standIn.csEndpoint}/clusters/${cluster.clusterId}`);
        const body = await new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
            const req = http.request(
                url,
                {
                    method: "GET",
                    headers: {
                        "x-acs-action": "DescribeClusterDetail",
                        "x-acs-version": "2015-12-15",
                        "x-acs-date": new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
                        "x-acs-signature-nonce": "n-1",
                        "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        authorization: `ACS3-HMAC-SHA256 Credential=${standIn.accessKeyId},SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=${"0".repeat(64)}`,
                    },
                },
                (res) => {
                    let text = "";
                    res.on("data", (d) => (text += d));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
                },
            );
            req.on("error", reject);
            req.end();
        });
        assert.equal(body.status, 400);
        assert.equal(body.json.code, "SignatureDoesNotMatch");
        assert.ok(typeof body.json.requestId === "string" && body.json.message);
    });

    it("missing credentials give one clear error naming the credential chain", async () => {
        restoreEnv();
        const saved = { ...process.env };
        try {
            for (const name of Object.keys(process.env)) if (name.startsWith("ALIBABA_CLOUD_")) delete process.env[name];
            process.env.ALIBABA_CLOUD_CS_ENDPOINT = standIn.csEndpoint;
            process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";
            process.env.ALIBABA_CLOUD_CREDENTIALS_FILE = "/nonexistent/credentials.ini";
            process.env.ALIBABA_CLOUD_CONFIG_FILE = "/nonexistent/config.json";
            process.env.HOME = "/nonexistent-home";
            const e = await rejection(describeCluster(ctx, "c1"));
            assert.equal(e.code, "CredentialsNotFound");
            assert.equal(e.kind, "auth");
            assert.match(e.message, /alicloud:accessKey and alicloud:secretKey.*ALIBABA_CLOUD_ACCESS_KEY_ID\/ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
            assert.equal(standIn.calls.length, 0);
        } finally {
            for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
            Object.assign(process.env, saved);
            restoreEnv = useAlibabaStandInEnv(standIn);
        }
    });

    it("an unreachable endpoint is a transient error naming the endpoint", async () => {
        const closed = await startAlibabaStandIn();
        await closed.close();
        process.env.ALIBABA_CLOUD_CS_ENDPOINT = closed.csEndpoint;
        const e = await rejection(describeCluster({ ...ctx, connectTimeoutMs: 2000 }, "c1"));
        assert.equal(e.kind, "transient");
        assert.match(e.message, new RegExp(closed.csEndpoint.replace("http://", "").replace(/\./g, "\\.")));
    });
});
