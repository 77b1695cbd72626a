import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planProgram, readStackConfig } from "../scripts/planner";
import { PROJECT } from "../components/config";
import { PROJECT_DIR, startProviderHost } from "./support/providerHost";

const ROOT = path.resolve(__dirname, "..");

/** Runs the plan exactly as the README says: `npm run -s plan -- ...`. */
function plan(...args: string[]) {
    const r = spawnSync("npm", ["run", "-s", "plan", "--", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("offline plan (npm run plan)", () => {
    it("--json prints exactly one JSON document with what `pulumi up` would register", () => {
        const { code, stdout, stderr } = plan("--stack", "dev", "--json");
        assert.equal(code, 0, stderr);
        const doc = JSON.parse(stdout);
        assert.equal(doc.stack, "dev");
        const byType = (t: string) => doc.resources.filter((r: { type: string }) => r.type === t);
        for (const r of doc.resources) {
            assert.deepEqual(Object.keys(r).sort().slice(0, 6), ["name", "parent", "props", "protect", "type", "urn"]);
            assert.match(r.urn, /^urn:pulumi:dev::ask-kms-secret-encryption::/);
        }
        assert.equal(byType("alicloud:kms/instance:Instance").length, 1);
        const [key] = byType("alicloud:kms/key:Key");
        assert.equal(key.protect, true);
        assert.equal(key.props.keySpec, "Aliyun_AES_256");
        assert.equal(key.props.automaticRotation, "Enabled");
        assert.equal(key.props.deletionProtection, "Enabled");
        const [role] = byType("alicloud:ram/role:Role");
        assert.equal(role.props.roleName, "AliyunCSManagedSecurityRole");
        assert.match(role.props.assumeRolePolicyDocument, /cs\.aliyuncs\.com/);
        const policies = [
            ...byType("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment"),
            ...byType("alicloud:ram/userPolicyAttachment:UserPolicyAttachment"),
        ].map((a: { props: { policyName: string } }) => a.props.policyName);
        assert.deepEqual(policies.sort(), ["AliyunCSManagedSecurityRolePolicy", "AliyunKMSCryptoAdminAccess"]);
        const [enc] = byType("pulumi-nodejs:dynamic/ask:ClusterEncryption");
        assert.equal(enc.props.clusterId, "c8f2a1b3c4d5e6f708192a3b4c5d6e7f8");
        assert.match(enc.props.__provider, /^\[serialized provider, \d+ bytes\]$/);
        assert.equal(byType("pulumi-nodejs:dynamic/ask:SecretRotation").length, 1);
        // The Kubernetes provider's kubeconfig holds no credential: an exec plugin fetches one at each use.
        const kubeconfig = JSON.parse(byType("pulumi:providers:kubernetes")[0].props.kubeconfig);
        assert.equal(kubeconfig.users[0].user.exec.command, "node");
        assert.doesNotMatch(JSON.stringify(kubeconfig), /token|client-key|client-certificate/);
        // The policy pack's verdicts, through its gRPC Analyzer server: the shipped stack is compliant.
        assert.equal(doc.policy.pack, "ask-kms-key-guard");
        assert.deepEqual(
            doc.policy.violations.filter((v: { level: string }) => v.level === "mandatory"),
            [],
        );
    });

    it("exits 1 on a mandatory policy violation, still printing the verdicts", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        const stackFile = path.join(dir, "Pulumi.adopt.yaml");
        fs.writeFileSync(
            stackFile,
            "config:\n  alicloud:region: cn-hangzhou\n  clusterId: c8f2a1b3c4d5e6f708192a3b4c5d6e7f8\n  kmsKeyId: key-hzz62f1cb66fa42qo5jgx\n  securityRole: adopt\n",
        );
        const policyConfig = path.join(dir, "policy.json");
        // An imported key's pending window is unknown offline: advisory by default, made mandatory here.
        fs.writeFileSync(policyConfig, JSON.stringify({ "kms-key-in-use-pending-window": "mandatory" }));
        const { code, stdout, stderr } = plan("--stack", "adopt", "--config-file", stackFile, "--policy-config", policyConfig, "--json");
        assert.equal(code, 1, stderr);
        const doc = JSON.parse(stdout);
        const mandatory = doc.policy.violations.filter((v: { level: string }) => v.level === "mandatory");
        assert.deepEqual(
            mandatory.map((v: { policy: string }) => v.policy),
            ["kms-key-in-use-pending-window"],
        );
        assert.match(mandatory[0].urn, /alicloud:kms\/key:Key::/);
        assert.match(stderr, /1 mandatory policy violation/);
    });

    it("prints a readable table by default", () => {
        const { code, stdout } = plan("--stack", "dev");
        assert.equal(code, 0);
        assert.match(stdout, /Policy pack ask-kms-key-guard: no violations/);
        assert.match(stdout, /^Stack dev .*: \d+ resources would be registered/);
        assert.match(stdout, /protect\s+alicloud:kms\/key:Key\s+\S+-key\s+\S+\s+keySpec=Aliyun_AES_256/);
    });

    it("exits 2 naming each bad config key, and registers nothing", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        const file = path.join(dir, "Pulumi.broken.yaml");
        fs.writeFileSync(
            file,
            "config:\n  alicloud:region: cn-hangzhou\n  clusterId: nope\n  kmsInstance: {vpcId: vpc-a, vswitchIds: [], zoneIds: [cn-hangzhou-k]}\n",
        );
        const { code, stdout, stderr } = plan("--stack", "broken", "--config-file", file, "--json");
        assert.equal(code, 2);
        assert.equal(stdout, "", "nothing may be planned on a bad config");
        assert.match(stderr, /ask-kms-secret-encryption:clusterId: "nope" is not valid/);
        assert.match(stderr, /ask-kms-secret-encryption:kmsInstance\.vswitchIds: required/);
    });

    it("exits 2 naming every KMS instance setting the provider would reject at up, and plans nothing", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        const file = path.join(dir, "Pulumi.instance.yaml");
        fs.writeFileSync(
            file,
            "config:\n  alicloud:region: cn-hangzhou\n  clusterId: c8f2a1b3c4d5e6f708192a3b4c5d6e7f8\n" +
                "  kmsInstance: {vpcId: vpc-a, vswitchIds: [vsw-a], zoneIds: [cn-hangzhou-k], paymentType: Subscription, spec: 1000, keyNum: 50, period: 5, renewStatus: NotRenewal, productVersion: '4'}\n",
        );
        const { code, stdout, stderr } = plan("--stack", "instance", "--config-file", file, "--json");
        assert.equal(code, 2, stderr);
        assert.equal(stdout, "");
        for (const key of ["kmsInstance.zoneIds", "kmsInstance.keyNum", "kmsInstance.period", "kmsInstance.renewStatus", "kmsInstance.productVersion"]) {
            assert.match(stderr, new RegExp(`ask-kms-secret-encryption:${key.replace(".", "\\.")}: `), key);
        }
    });

    it("accepts both key ID forms (KMS 3.0 and KMS 1.0 UUID) and an ARN when adopting a key", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        for (const [name, reference, id] of [
            ["kms3", "key-hzz62f1cb66fa42qo5jgx", "key-hzz62f1cb66fa42qo5jgx"],
            ["kms1", "05754286-3ba2-4fa6-8d41-4323aca6a4c2", "05754286-3ba2-4fa6-8d41-4323aca6a4c2"],
            ["arn", "acs:kms:cn-hangzhou:1234567890123456:key/05754286-3ba2-4fa6-8d41-4323aca6a4c2", "05754286-3ba2-4fa6-8d41-4323aca6a4c2"],
        ]) {
            const file = path.join(dir, `Pulumi.${name}.yaml`);
            fs.writeFileSync(
                file,
                `config:\n  alicloud:region: cn-hangzhou\n  clusterId: c8f2a1b3c4d5e6f708192a3b4c5d6e7f8\n  kmsKeyId: "${reference}"\n  securityRole: adopt\n`,
            );
            const { code, stdout, stderr } = plan("--stack", name, "--config-file", file, "--json", "--no-policy");
            assert.equal(code, 0, `${name}: ${stderr}`);
            const key = JSON.parse(stdout).resources.find((r: { type: string }) => r.type === "alicloud:kms/key:Key");
            assert.ok(key, name);
            const enc = JSON.parse(stdout).resources.find((r: { type: string }) => r.type === "pulumi-nodejs:dynamic/ask:ClusterEncryption");
            assert.equal(enc.props.kmsKeyId, id, name);
        }
    });

    it("exits 2 for a stack without a stack file, listing the ones there are", () => {
        const { code, stderr } = plan("--stack", "nosuch");
        assert.equal(code, 2);
        assert.match(stderr, /no stack file .*Pulumi\.nosuch\.yaml.*pick one of: dev/);
    });

    it("is a preview: what does not exist yet is unknown, so the pack sees a new stack's dependency path", () => {
        const { code, stdout, stderr } = plan("--stack", "dev", "--json");
        assert.equal(code, 0, stderr);
        const doc = JSON.parse(stdout);
        const one = (t: string) => doc.resources.find((r: { type: string }) => r.type === t);
        assert.equal(one("alicloud:kms/key:Key").props.dkmsInstanceId, "[unknown]", "the new instance's ID");
        assert.equal(one("pulumi-nodejs:dynamic/ask:ClusterEncryption").props.kmsKeyId, "[unknown]", "the new key's ID");
        assert.equal(one("pulumi-nodejs:dynamic/ask:SecretRotation").props.encryptionEnabledAt, "[unknown]");
        assert.deepEqual(
            doc.policy.violations.filter((v: { level: string }) => v.level === "mandatory"),
            [],
            "the pack's dependency fallback holds",
        );
    });

    it("shows what adopting a key would change, in the table and (JSON kept as it is) on stderr", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        const stackFile = path.join(dir, "Pulumi.adopt.yaml");
        fs.writeFileSync(
            stackFile,
            "config:\n  alicloud:region: cn-hangzhou\n  clusterId: c8f2a1b3c4d5e6f708192a3b4c5d6e7f8\n  kmsKeyId: key-hzz62f1cb66fa42qo5jgx\n  securityRole: adopt\n",
        );
        const table = plan("--stack", "adopt", "--config-file", stackFile, "--no-policy");
        assert.equal(table.code, 0, table.stderr);
        assert.match(table.stdout, /Warnings:\n( {2}- adopting key key-hzz62f1cb66fa42qo5jgx: .*\n){5}/);
        assert.match(table.stdout, /automaticRotation is not visible to the lookup; the import is followed by an update that sets it to Enabled/);
        const json = plan("--stack", "adopt", "--config-file", stackFile, "--no-policy", "--json");
        assert.deepEqual(Object.keys(JSON.parse(json.stdout)), ["stack", "resources"]);
        assert.match(json.stderr, /warning: adopting key key-hzz62f1cb66fa42qo5jgx: its deletionProtection is not visible/);
    });

    it("sends the pack what the engine would: the dynamic resources' inputs as their check (through the host) returns them", async function () {
        this.timeout(60_000);
        const config = readStackConfig(PROJECT_DIR, "dev", PROJECT);
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, loaded the way the plan loads it
        const preview = await planProgram({ program: require("../index"), project: PROJECT, stack: "dev", config });
        const host = await startProviderHost({ env: { HOME: os.tmpdir(), ALIBABA_CLOUD_ECS_METADATA_DISABLED: "true" } });
        try {
            // A preview needs a credential (the alicloud provider's too); with unknown inputs, check calls no API.
            const withKeys = { ...config.config, "alicloud:accessKey": "LTAIpreviewOnly0001", "alicloud:secretKey": "preview-only" };
            await host.configure(withKeys, [...config.secretKeys, "alicloud:secretKey"]);
            for (const r of preview.resources.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/"))) {
                const checked = await host.check(r.urn, {}, r.wireProps);
                assert.deepEqual(checked.failures, [], r.urn);
                assert.deepEqual(checked.inputs, r.wireProps, `${r.urn}: the pack must get the checked inputs`);
            }
        } finally {
            await host.close();
        }
    });

    it("exits 2 without --stack", () => {
        const { code, stderr } = plan();
        assert.equal(code, 2);
        assert.match(stderr, /--stack is required/);
    });
});
