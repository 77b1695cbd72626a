// SecretRotation: its pure rules in-process, and its behaviour as `pulumi up` runs
// it: the registered `__provider` text in Pulumi's provider host over gRPC, against
// the KMS/CS stand-in and the Kubernetes API test server.
import { eachTuning } from "../../components/config";
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UNKNOWN_INPUT } from "../../components/providers/kit";
import {
    annotationValueFor,
    rotationTimeValue,
    rotationDue,
    SecretRotationInputs,
    SecretRotationOutputs,
    validateRotationInputs,
} from "../../components/providers/secretRotation";
import { AlibabaStandIn, StandInKey, standInHostEnv, standInStackConfig, startAlibabaStandIn } from "../support/alibabaStandIn/index";
import { KubeStandIn, startKubeStandIn } from "../support/kubeStandIn/index";
import { Props, ProviderHost, startProviderHost } from "../support/providerHost";
import { RegisteredDynamicResource, registeredDynamicResources, SECRET_ROTATION_TYPE } from "../support/registered";

const REGION = "cn-hangzhou";
const SECRETS = 60;

describe("rotation: pure rules", () => {
    it("formats the guide's TIME in UTC", () => {
        assert.equal(rotationTimeValue(new Date("2022-01-01T01:01:01Z")), "20220101-010101");
    });

    it("derives the value from the later of the last rotation and switching encryption on", () => {
        const key = { lastRotationDate: "2026-03-01T00:00:00Z", creationDate: "2025-01-01T00:00:00Z" };
        assert.equal(annotationValueFor(key), "20260301-000000");
        assert.equal(annotationValueFor(key, "2026-05-02T03:04:05Z"), "20260502-030405");
        assert.equal(annotationValueFor({ lastRotationDate: "", creationDate: "2025-01-01T00:00:00Z" }), "20250101-000000");
        assert.throws(() => annotationValueFor({ lastRotationDate: "", creationDate: "" }), /no rotation time can be derived/);
    });

    const inputs: SecretRotationInputs = {
        clusterId: "c1",
        regionId: REGION,
        kmsKeyId: "key-1",
        annotationKey: "encryption-key-rotation-time",
        ...eachTuning((setting) => setting.default),
        serviceAccountNamespace: "kube-system",
        serviceAccountName: "ask-secret-reencryptor",
    };
    const done = { ...inputs, keyVersion: "v1", annotationValue: "x", listed: 1, rewritten: 1, remainingCount: 0, verified: true };

    it("is due only when the primary version moved, the key or cluster changed, or the last run did not verify", () => {
        assert.equal(rotationDue(done, inputs, "v1"), undefined);
        assert.match(rotationDue(done, inputs, "v2") ?? "", /KMS rotated key key-1: primary version v2, Secrets last re-sealed with v1/);
        assert.match(rotationDue(done, { ...inputs, kmsKeyId: "key-2" }, "v1") ?? "", /key changed/);
        assert.match(rotationDue({ ...done, verified: false, remainingCount: 3 }, inputs, "v1") ?? "", /did not verify \(3 Secrets remained\)/);
        assert.match(rotationDue(done, { ...inputs, encryptionEnabledAt: "2026-01-01T00:00:00Z" }, "v1") ?? "", /switched on again/);
    });

    it("rejects out-of-range settings, naming each", () => {
        assert.deepEqual(validateRotationInputs(inputs), []);
        const failures = validateRotationInputs({ ...inputs, concurrency: 0, qps: -1, kmsKeyId: "" });
        assert.equal(failures.length, 3);
        assert.match(failures.join("\n"), /concurrency: 0 must be a whole number from 1 to 64/);
    });
});

describe("SecretRotation through Pulumi's provider host, against the KMS stand-in and the Kubernetes API test server", function () {
    this.timeout(120_000);
    let registered: RegisteredDynamicResource;
    let standIn: AlibabaStandIn;
    let kube: KubeStandIn;
    let host: ProviderHost;
    let key: StandInKey;
    let dir: string;
    let operatorKubeconfig: string;
    let privateUnreachable = false;
    const clusterId = "c0123456789abcdef0123456789abcdef";
    const hostEnv = () => standInHostEnv(standIn, path.join(dir, "home"), { ASK_REENCRYPT_STATE_DIR: path.join(dir, "checkpoints") });
    async function newHost(): Promise<ProviderHost> {
        const started = await startProviderHost({ env: hostEnv() });
        const { config, secretKeys } = standInStackConfig(standIn);
        await started.configure(config, secretKeys);
        return started;
    }

    before(async () => {
        registered = (await registeredDynamicResources())[SECRET_ROTATION_TYPE];
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotation-"));
        fs.mkdirSync(path.join(dir, "home"));
        kube = await startKubeStandIn({ keyVersion: 1 });
        kube.addServiceAccount("kube-system", "ask-secret-reencryptor", [{ verbs: ["get", "list", "patch"], resources: ["secrets"] }]);
        operatorKubeconfig = fs.readFileSync(kube.writeKubeconfig(path.join(dir, "operator.yaml")), "utf8");
        // The private endpoint can be made unreachable (a refused port), as from outside the cluster's VPC.
        standIn = await startAlibabaStandIn({
            regionId: REGION,
            kubeconfig: (_clusterId, _minutes, privateIpAddress) =>
                privateIpAddress && privateUnreachable ? operatorKubeconfig.replace(/server: .*/, 'server: "https://127.0.0.1:1"') : operatorKubeconfig,
        });
        standIn.addCluster({ clusterId, regionId: REGION });
        key = standIn.addKey();
        kube.seed(SECRETS, { namespaces: ["default", "kube-system", "apps"] });
        host = await newHost();
    });

    after(async () => {
        await host?.close();
        await standIn?.close();
        await kube?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** The registered inputs (with `__provider`), aimed at the test cluster and key. */
    function inputs(extra: Props = {}): Props {
        return {
            ...registered.inputs,
            clusterId,
            regionId: REGION,
            kmsKeyId: key.keyId,
            encryptionEnabledAt: undefined,
            concurrency: 4,
            qps: 0,
            pageSize: 25,
            serviceAccountNamespace: "kube-system",
            serviceAccountName: "ask-secret-reencryptor",
            ...extra,
        };
    }
    const urn = () => registered.urn;
    const id = `${clusterId}/secret-rotation`;

    it("on create, re-seals every Secret written before encryption was on, with a short-lived kubeconfig and the dedicated identity", async () => {
        kube.resetCounters();
        const calls = standIn.callsOf("DescribeClusterUserKubeconfig").length;
        const created = await host.create(urn(), inputs({ encryptionEnabledAt: new Date().toISOString() }));
        const outs = created.outs;
        assert.equal(created.id, id);
        assert.equal(outs.keyVersion, key.primaryKeyVersion);
        assert.equal(outs.verified, true);
        assert.ok(typeof outs.verifiedAt === "string" && !isNaN(Date.parse(outs.verifiedAt)));
        assert.equal(outs.listed, SECRETS);
        assert.equal(outs.rewritten, SECRETS);
        assert.match(String(outs.annotationValue), /^\d{8}-\d{6}$/);
        assert.equal(outs.__provider, registered.providerText);
        assert.deepEqual(kube.secretsNotOnKeyVersion(1), []);
        assert.equal(standIn.callsOf("DescribeClusterUserKubeconfig").length, calls + 1, "the operator kubeconfig comes from the CS API");
        assert.equal(kube.stats().requestsByVerb.createToken, 1, "the run uses a TokenRequest token");
        assert.deepEqual(kube.secretsWithChangedContents(), []);
        const checkpoints = path.join(dir, "checkpoints");
        assert.equal((fs.statSync(checkpoints).mode & 0o777).toString(8), "700", "checkpoints must be private to the user");
        assert.deepEqual(fs.readdirSync(checkpoints), [], "a verified run leaves no checkpoint behind");
        assert.match(host.stderr(), /re-encrypting Secrets of cluster c0123456789abcdef0123456789abcdef/);
    });

    it("records a tuning change (concurrency, rate cap) without rewriting anything", async () => {
        const before = (await host.create(urn(), inputs())).outs;
        const tuned = inputs({ concurrency: 2, qps: 50 });
        assert.equal((await host.diff(id, urn(), before, tuned)).changes, "some");
        kube.resetCounters();
        const after = (await host.update(id, urn(), before, tuned)).outs;
        assert.equal(kube.stats().apiUpdates, 0, "a tuning change must not rewrite Secrets");
        assert.deepEqual([after.concurrency, after.qps], [2, 50]);
        assert.equal(after.keyVersion, before.keyVersion);
        assert.equal(after.verifiedAt, before.verifiedAt);
    });

    it("diff reports nothing while the key keeps its primary version (a quiet preview)", async () => {
        const outs = (await host.create(urn(), inputs())).outs;
        assert.deepEqual(await host.diff(id, urn(), outs, inputs()), { changes: "none", replaces: [] });
    });

    it("after KMS rotates the key: diff reports it, update re-seals every Secret with the new version, once each, then diff is quiet", async () => {
        const before = (await host.create(urn(), inputs())).outs;
        standIn.rotateKey(key.keyId, new Date("2030-06-07T08:09:10Z"));
        kube.setKeyVersion(2); // kube-apiserver's KMS plugin now encrypts with the new primary version
        assert.equal((await host.diff(id, urn(), before, inputs())).changes, "some");
        kube.resetCounters();
        const after = (await host.update(id, urn(), before, inputs())).outs;
        assert.equal(after.keyVersion, standIn.keys.get(key.keyId)!.primaryKeyVersion);
        assert.notEqual(after.keyVersion, before.keyVersion);
        assert.equal(after.annotationValue, "20300607-080910");
        assert.equal(after.verified, true);
        assert.deepEqual(kube.secretsNotOnKeyVersion(2), []);
        assert.ok(kube.stats().maxWritesPerSecret <= 1, `a Secret was written ${kube.stats().maxWritesPerSecret} times`);
        assert.equal((await host.diff(id, urn(), after, inputs())).changes, "none");
    });

    it("a killed rotation resumes from its checkpoint in a new host: every Secret re-sealed, each written once", async () => {
        const before = (await host.create(urn(), inputs())).outs;
        kube.seed(340, { namespaces: ["bulk"] });
        standIn.rotateKey(key.keyId, new Date("2031-03-03T03:03:03Z"));
        kube.setKeyVersion(3);
        kube.resetCounters();
        kube.setLatency({ writeLatencyMs: 25 });
        const dying = await newHost();
        const interrupted = dying.update(id, urn(), before, inputs({ concurrency: 2, pageSize: 20 })).then(
            () => "finished",
            (e: Error) => e.message,
        );
        // One checkpoint per cluster and annotation value (the rotation time).
        const checkpoint = path.join(dir, "checkpoints", `${clusterId}.20310303-030303.json`);
        for (let i = 0; i < 400 && !(fs.existsSync(checkpoint) && kube.stats().apiUpdates >= 100); i++) await new Promise((r) => setTimeout(r, 25));
        assert.ok(fs.existsSync(checkpoint), "the run checkpoints while it goes");
        await dying.close(); // SIGKILL, as a crashed `pulumi up` would leave it
        assert.notEqual(await interrupted, "finished", "the host was killed mid-run");
        const writtenBeforeKill = kube.stats().apiUpdates;
        assert.ok(kube.secretsNotOnKeyVersion(3).length > 0, "the kill left Secrets on the old version");

        kube.setLatency({ writeLatencyMs: 0 });
        const after = (await host.update(id, urn(), before, inputs({ concurrency: 2, pageSize: 20 }))).outs;
        assert.equal(after.verified, true);
        assert.deepEqual(kube.secretsNotOnKeyVersion(3), []);
        assert.ok(kube.stats().maxWritesPerSecret <= 1, `a Secret was written ${kube.stats().maxWritesPerSecret} times`);
        assert.ok(kube.stats().apiUpdates < writtenBeforeKill + kube.stats().secrets, "the resumed run skipped what the killed one had done");
        assert.ok(!fs.existsSync(checkpoint), "a verified run removes its checkpoint");
    });

    it("a token that expires mid-run: one new TokenRequest, and the run goes on to verify", async () => {
        const before = (await host.create(urn(), inputs())).outs;
        kube.seed(200, { namespaces: ["renewal"] });
        standIn.rotateKey(key.keyId, new Date("2031-04-04T04:04:04Z"));
        kube.setKeyVersion(4);
        kube.resetCounters();
        kube.setLatency({ writeLatencyMs: 10 });
        const update = host.update(id, urn(), before, inputs({ concurrency: 2, pageSize: 20 }));
        for (let i = 0; i < 400 && kube.stats().apiUpdates < 50; i++) await new Promise((r) => setTimeout(r, 25));
        assert.ok(kube.expireTokensOf("kube-system", "ask-secret-reencryptor") >= 1, "the run's token expires");
        const after = (await update).outs;
        kube.setLatency({ writeLatencyMs: 0 });
        assert.equal(after.verified, true);
        assert.deepEqual(kube.secretsNotOnKeyVersion(4), []);
        assert.equal(kube.stats().requestsByVerb.createToken, 2, "one renewal");
        assert.ok(kube.stats().maxWritesPerSecret <= 1);
        assert.match(host.stderr(), /rejected the credentials \(HTTP 401\); getting fresh ones once and going on/);
    });

    it("uses a configured kubeconfig file instead of the CS API", async () => {
        const file = kube.writeKubeconfig(path.join(dir, "given.yaml"));
        standIn.rotateKey(key.keyId, new Date("2031-05-05T05:05:05Z"));
        const calls = standIn.callsOf("DescribeClusterUserKubeconfig").length;
        const { outs } = await host.create(urn(), inputs({ kubeconfigPath: file }));
        assert.equal(outs.verified, true);
        assert.equal(standIn.callsOf("DescribeClusterUserKubeconfig").length, calls);
    });

    it("records denied writes per Secret (not verified, retried next time) and stops on a denied list, naming the permission", async () => {
        kube.addServiceAccount("kube-system", "read-only", [{ verbs: ["get", "list"], resources: ["secrets"] }]);
        standIn.rotateKey(key.keyId, new Date("2031-01-01T00:00:00Z"));
        kube.resetCounters();
        const { outs } = await host.create(urn(), inputs({ serviceAccountName: "read-only" }));
        assert.equal(outs.verified, false);
        assert.equal(outs.remainingCount, kube.stats().secrets);
        assert.equal(outs.verifiedAt, undefined);
        assert.equal(kube.stats().apiUpdates, 0);
        assert.notEqual(
            rotationDue(outs as unknown as SecretRotationOutputs, inputs() as unknown as SecretRotationInputs, String(outs.keyVersion)),
            undefined,
            "the next run retries",
        );

        kube.addServiceAccount("kube-system", "patch-only", [{ verbs: ["patch"], resources: ["secrets"] }]);
        await assert.rejects(host.create(urn(), inputs({ serviceAccountName: "patch-only" })), /403.*list secrets in all namespaces/);
    });

    it("asks the CS API for the VPC-internal endpoint's kubeconfig when clusterEndpoint is private", async () => {
        standIn.rotateKey(key.keyId, new Date("2031-07-07T07:07:07Z"));
        const { outs } = await host.create(urn(), inputs({ clusterEndpoint: "private" }));
        assert.equal(outs.verified, true);
        const [last] = standIn.callsOf("DescribeClusterUserKubeconfig").slice(-1);
        assert.equal(last.query.PrivateIpAddress, "true");
    });

    it("fails fast when the endpoint cannot be reached, naming the other choice", async () => {
        privateUnreachable = true;
        try {
            const started = Date.now();
            await assert.rejects(
                host.create(urn(), inputs({ clusterEndpoint: "private" })),
                /could not reach the API server of cluster \S+ at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): that is the cluster's VPC-internal endpoint: run `pulumi up` where the VPC is reachable, or set clusterEndpoint: public/,
            );
            assert.ok(Date.now() - started < 20_000);
        } finally {
            privateUnreachable = false;
        }
    });

    it("explains a missing ServiceAccount", async () => {
        await assert.rejects(host.create(urn(), inputs({ serviceAccountName: "nobody" })), /could not get a token for ServiceAccount kube-system\/nobody/);
    });

    it("explains a key that is gone, naming the call and the key", async () => {
        await assert.rejects(host.create(urn(), inputs({ kmsKeyId: "key-gone" })), /KMS DescribeKey for key "key-gone" failed: Forbidden\.KeyNotFound/);
    });

    it("check refuses out-of-range settings, naming each with the settings model's limits and default", async () => {
        const { failures } = await host.check(urn(), {}, inputs({ concurrency: 0, pageSize: 5, serviceAccountName: "Not_Valid" }));
        assert.deepEqual(
            failures.map((f) => f.property),
            ["concurrency", "pageSize", "serviceAccountName"],
        );
        assert.match(failures[0].reason, /concurrency: 0 must be a whole number from 1 to 64 \(default 8\): Secret writes in flight at once/);
        assert.match(failures[1].reason, /pageSize: 5 must be a whole number from 10 to 5000 \(default 500\)/);
        assert.match(failures[2].reason, /is not a ServiceAccount name/);
    });

    it("diff on unknown inputs (preview of a new key) reports a change without calling KMS", async () => {
        const calls = standIn.callsOf("DescribeKey").length;
        const diff = await host.diff(id, urn(), {}, inputs({ kmsKeyId: UNKNOWN_INPUT }));
        assert.equal(diff.changes, "some");
        assert.equal(standIn.callsOf("DescribeKey").length, calls);
    });

    it("asks for one update when the stored provider predates the shim", async () => {
        const outs = (await host.create(urn(), inputs())).outs;
        assert.equal((await host.diff(id, urn(), { ...outs, __provider: "exports.handler = __f0; /* pre-shim */" }, inputs())).changes, "some");
    });
});
