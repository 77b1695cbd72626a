import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Module from "module";
import * as pulumi from "@pulumi/pulumi";
import {
    annotationValueFor,
    guideTime,
    rotationDue,
    rotationProvider,
    runRotation,
    SecretRotationInputs,
    SecretRotationOutputs,
    validateRotationInputs,
} from "../components/rotation";
import { AlibabaStandIn, StandInKey, startAlibabaStandIn, useAlibabaStandInEnv } from "./support/alibabaStandIn";
import { KubeTestServer, startKubeServer } from "./support/kubeServer";

const REGION = "cn-hangzhou";
const SECRETS = 60;

describe("rotation: pure rules", () => {
    it("formats the guide's TIME in UTC", () => {
        assert.equal(guideTime(new Date("2022-01-01T01:01:01Z")), "20220101-010101");
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
        concurrency: 8,
        qps: 100,
        pageSize: 500,
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

describe("rotation provider against the KMS stand-in and the Kubernetes API test server", function () {
    this.timeout(120_000);
    let standIn: AlibabaStandIn;
    let kube: KubeTestServer;
    let restoreEnv: () => void;
    let key: StandInKey;
    let dir: string;
    let operatorKubeconfig: string;
    const clusterId = "c0123456789abcdef0123456789abcdef";

    let savedStateDir: string | undefined;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotation-"));
        savedStateDir = process.env.ASK_REENCRYPT_STATE_DIR;
        process.env.ASK_REENCRYPT_STATE_DIR = path.join(dir, "checkpoints");
        kube = await startKubeServer({ keyVersion: 1 });
        kube.addServiceAccount("kube-system", "ask-secret-reencryptor", [{ verbs: ["get", "list", "patch"], resources: ["secrets"] }]);
        operatorKubeconfig = fs.readFileSync(kube.writeKubeconfig(path.join(dir, "operator.yaml")), "utf8");
        standIn = await startAlibabaStandIn({ regionId: REGION, kubeconfig: () => operatorKubeconfig });
        restoreEnv = useAlibabaStandInEnv(standIn);
        standIn.addCluster({ clusterId, regionId: REGION });
        key = standIn.addKey();
        kube.seed(SECRETS, { namespaces: ["default", "kube-system", "apps"] });
    });

    after(async () => {
        if (savedStateDir === undefined) delete process.env.ASK_REENCRYPT_STATE_DIR;
        else process.env.ASK_REENCRYPT_STATE_DIR = savedStateDir;
        restoreEnv?.();
        await standIn?.close();
        await kube?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    function inputs(extra: Partial<SecretRotationInputs> = {}): SecretRotationInputs {
        return {
            clusterId,
            regionId: REGION,
            kmsKeyId: key.keyId,
            annotationKey: "encryption-key-rotation-time",
            concurrency: 4,
            qps: 0,
            pageSize: 25,
            serviceAccountNamespace: "kube-system",
            serviceAccountName: "ask-secret-reencryptor",
            ...extra,
        };
    }
    const quiet = { log: () => undefined };

    it("on create, re-seals every Secret written before encryption was on, with a short-lived kubeconfig and the dedicated identity", async () => {
        kube.resetCounters();
        const created = await rotationProvider.create!(inputs({ encryptionEnabledAt: new Date().toISOString() }));
        const outs = created.outs as SecretRotationOutputs;
        assert.equal(outs.keyVersion, key.primaryKeyVersion);
        assert.equal(outs.verified, true);
        assert.ok(outs.verifiedAt && !isNaN(Date.parse(outs.verifiedAt)));
        assert.equal(outs.listed, SECRETS);
        assert.equal(outs.rewritten, SECRETS);
        assert.match(outs.annotationValue, /^\d{8}-\d{6}$/);
        assert.deepEqual(kube.secretsNotOnKeyVersion(1), []);
        assert.equal(standIn.callsOf("DescribeClusterUserKubeconfig").length, 1, "the operator kubeconfig comes from the CS API");
        assert.equal(kube.stats().requestsByVerb.createToken, 1, "the run uses a TokenRequest token");
        assert.deepEqual(kube.secretsWithChangedContents(), []);
        const checkpoints = path.join(dir, "checkpoints");
        assert.equal((fs.statSync(checkpoints).mode & 0o777).toString(8), "700", "checkpoints must be private to the user");
        assert.deepEqual(fs.readdirSync(checkpoints), [], "a verified run leaves no checkpoint behind");
    });

    it("records a tuning change (concurrency, rate cap) without rewriting anything", async () => {
        const before = (await rotationProvider.create!(inputs())).outs as SecretRotationOutputs;
        const tuned = inputs({ concurrency: 2, qps: 50 });
        assert.equal((await rotationProvider.diff!("id", before, tuned)).changes, true);
        kube.resetCounters();
        const after = (await rotationProvider.update!("id", before, tuned)).outs as SecretRotationOutputs;
        assert.equal(kube.stats().apiUpdates, 0, "a tuning change must not rewrite Secrets");
        assert.equal(after.concurrency, 2);
        assert.equal(after.qps, 50);
        assert.equal(after.keyVersion, before.keyVersion);
        assert.equal(after.verifiedAt, before.verifiedAt);
    });

    it("diff reports nothing while the key keeps its primary version", async () => {
        const outs = (await rotationProvider.create!(inputs())).outs as SecretRotationOutputs;
        const diff = await rotationProvider.diff!("id", outs, inputs());
        assert.equal(diff.changes, false);
    });

    it("after KMS rotates the key: diff reports it, update re-seals every Secret with the new version, once each", async () => {
        const before = (await rotationProvider.create!(inputs())).outs as SecretRotationOutputs;
        standIn.rotateKey(key.keyId, new Date("2030-06-07T08:09:10Z"));
        kube.setKeyVersion(2); // kube-apiserver's KMS plugin now encrypts with the new primary version
        const diff = await rotationProvider.diff!("id", before, inputs());
        assert.equal(diff.changes, true);
        kube.resetCounters();
        const { outs } = await rotationProvider.update!("id", before, inputs());
        const after = outs as SecretRotationOutputs;
        assert.equal(after.keyVersion, standIn.keys.get(key.keyId)!.primaryKeyVersion);
        assert.notEqual(after.keyVersion, before.keyVersion);
        assert.equal(after.annotationValue, "20300607-080910");
        assert.equal(after.verified, true);
        assert.deepEqual(kube.secretsNotOnKeyVersion(2), []);
        assert.ok(kube.stats().maxWritesPerSecret <= 1, `a Secret was written ${kube.stats().maxWritesPerSecret} times`);
        assert.equal((await rotationProvider.diff!("id", after, inputs())).changes, false);
    });

    it("uses a configured kubeconfig file instead of the CS API", async () => {
        const file = kube.writeKubeconfig(path.join(dir, "given.yaml"));
        const calls = standIn.callsOf("DescribeClusterUserKubeconfig").length;
        const outs = await runRotation(inputs({ kubeconfigPath: file }), quiet);
        assert.equal(outs.verified, true);
        assert.equal(standIn.callsOf("DescribeClusterUserKubeconfig").length, calls);
    });

    it("stops with the missing permission when the identity may not patch Secrets", async () => {
        kube.addServiceAccount("kube-system", "read-only", [{ verbs: ["get", "list"], resources: ["secrets"] }]);
        standIn.rotateKey(key.keyId, new Date("2031-01-01T00:00:00Z"));
        await assert.rejects(runRotation(inputs({ serviceAccountName: "read-only" }), quiet), /patch/);
    });

    it("explains a missing ServiceAccount", async () => {
        await assert.rejects(runRotation(inputs({ serviceAccountName: "nobody" }), quiet), /could not get a token for ServiceAccount kube-system\/nobody/);
    });

    it("diff on unknown inputs (preview of a new key) reports a change without calling KMS", async () => {
        const calls = standIn.callsOf("DescribeKey").length;
        const diff = await rotationProvider.diff!("id", {} as SecretRotationOutputs, inputs({ kmsKeyId: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }));
        assert.equal(diff.changes, true);
        assert.equal(standIn.callsOf("DescribeKey").length, calls);
    });

    it("serializes by closure without any credential, and the serialized provider runs as the provider host loads it", async () => {
        const serialized = await pulumi.runtime.serializeFunction(() => rotationProvider, { allowSecrets: true });
        assert.equal(serialized.containsSecrets, false);
        assert.ok(!serialized.text.includes(standIn.accessKeySecret));
        assert.ok(!serialized.text.includes(kube.token));
        assert.match(serialized.text, /require\("@kubernetes\/client-node"\)/);
        // Local modules must travel by value: the host resolves require() against its own directory.
        assert.doesNotMatch(serialized.text, /require\("\.\.?\//);

        // Load the text in a directory that has node_modules but none of this project's sources,
        // the way @pulumi/pulumi's dynamic provider host does, and drive it.
        const filename = path.join(process.cwd(), "node_modules", "__serialized_rotation_provider__.js");
        const loaded = new Module(filename) as Module & { _compile(code: string, file: string): void };
        loaded.filename = filename;
        loaded.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
        loaded._compile(serialized.text, filename);
        const provider = (loaded.exports as Record<string, () => pulumi.dynamic.ResourceProvider>)[serialized.exportName]();
        standIn.rotateKey(key.keyId, new Date("2032-02-02T02:02:02Z"));
        kube.setKeyVersion(9);
        const created = await provider.create!(inputs());
        assert.equal((created.outs as SecretRotationOutputs).annotationValue, "20320202-020202");
        assert.deepEqual(kube.secretsNotOnKeyVersion(9), []);
        assert.equal((await provider.diff!("id", created.outs, inputs())).changes, false);
    });
});
