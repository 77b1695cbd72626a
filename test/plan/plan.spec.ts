import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { planProgram, readStackConfig, StackFileError, STACK_FILE_LIMITS } from "../../plan/planner";
import { main } from "../../plan/plan";
import { POLICY_CONFIG_MAX_BYTES } from "../../plan/policyConfig";
import type { ProbeReport } from "../support/planProbe";
import { PROJECT } from "../../components/config";
import { PROJECT_DIR, startProviderHost } from "../support/providerHost";
import { REPO_ROOT } from "../support/repo";

const ROOT = REPO_ROOT;

/** Runs the plan exactly as the README says: `npm run -s plan -- ...`. */
function plan(...args: string[]) {
    const r = spawnSync("npm", ["run", "-s", "plan", "--", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("offline plan (npm run plan)", () => {
    it("the example stack plans the same resources, URNs, props and verdicts as before the layout change", () => {
        // The fixture is this command's output from the last commit before components/ was split into folders,
        // with two corrections made since: the component's URN in the engine's form (no root Stack type in it), and
        // ClusterEncryption's onDelete input (recorded so a destroy acts on what the last up decided).
        const { code, stdout, stderr } = plan("--stack", "dev", "--json");
        assert.equal(code, 0, stderr);
        const before = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "dev-plan.before-layout.json"), "utf8"));
        // The serialized provider names the compiled module's path, which moved: its size is all the plan shows.
        const withoutProviderText = (doc: { resources: { props: Record<string, unknown> }[] }) => ({
            ...doc,
            resources: doc.resources.map((r) => ({ ...r, props: { ...r.props, __provider: r.props.__provider === undefined ? undefined : "[shim]" } })),
        });
        assert.deepEqual(withoutProviderText(JSON.parse(stdout)), withoutProviderText(before));
    });

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
        const preview = await planProgram({ program: require("../../index"), project: PROJECT, stack: "dev", config });
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

/** A YAML "billion laughs": nine anchors, each a list of nine aliases of the one before (9^9 values once expanded). */
function aliasBomb(): string {
    const lines = [
        "config:",
        "  alicloud:region: cn-hangzhou",
        "  clusterId: c8f2a1b3c4d5e6f708192a3b4c5d6e7f8",
        `  a0: &a0 [${Array(9).fill('"x"').join(",")}]`,
    ];
    for (let i = 1; i <= 8; i++) {
        const aliases = Array(9).fill(`*a${i - 1}`);
        lines.push(`  a${i}: &a${i} [${aliases.join(",")}]`);
    }
    return `${lines.join("\n")}\n`;
}

/**
 * Runs the plan as `npm run plan` does (ts-node, transpile only) with test/support/planProbe.ts
 * preloaded: what the run loaded, spawned, wrote and read comes back with its exit code. The
 * child is killed after `timeoutMs`; the wall time is measured.
 */
function probedPlan(args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-probe-"));
    const reportFile = path.join(dir, "report.json");
    const started = Date.now();
    const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-r", "./test/support/planProbe.ts", "plan/plan.ts", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: options.timeoutMs ?? 60_000,
        env: { ...process.env, PLAN_DEBUG: "", ...options.env, PLAN_PROBE_REPORT: reportFile },
    });
    const ms = Date.now() - started;
    const probe = fs.existsSync(reportFile) ? (JSON.parse(fs.readFileSync(reportFile, "utf8")) as ProbeReport) : undefined;
    fs.rmSync(dir, { recursive: true, force: true });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms, probe };
}

/** Nothing was planned or printed: the program was not loaded, no process (the policy pack) started, no file written. */
function assertNothingRan(run: ReturnType<typeof probedPlan>): void {
    assert.equal(run.stdout, "", "nothing may be printed on stdout");
    assert.ok(run.probe, `the probe reported nothing (exit ${run.code}, signal ${run.signal}): ${run.stderr}`);
    assert.equal(run.probe.programLoaded, false, "the Pulumi program must not be loaded");
    assert.deepEqual(run.probe.spawned, [], "no process (the policy pack) may be started");
    assert.deepEqual(run.probe.written, [], "no file may be written");
}

/** No stack trace: no "    at ..." frame and nothing but one line per reported problem. */
function assertNoStackTrace(stderr: string): void {
    assert.doesNotMatch(stderr, /^\s+at /m, stderr);
    for (const line of stderr.trimEnd().split("\n")) assert.match(line, /^plan: /, `every stderr line is a plan message: ${stderr}`);
}

describe("offline plan: hostile input files", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-hostile-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("refuses a YAML alias bomb in the stack file within seconds: exit 2, one sentence naming the file, nothing run", function () {
        this.timeout(20_000);
        const file = path.join(dir, "Pulumi.bomb.yaml");
        fs.writeFileSync(file, aliasBomb());
        // Unguarded, this run took 18 s of CPU and 1.8 GB before crashing with exit 1; refused, it is the ts-node start-up.
        const run = probedPlan(["--stack", "bomb", "--config-file", file], { timeoutMs: 10_000 });
        assert.equal(run.signal, null, `killed after ${run.ms} ms: the bomb was not refused in time`);
        assert.equal(run.code, 2, run.stderr);
        assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
        assert.equal(
            run.stderr,
            `plan: stack bomb: the stack file ${file} reuses anchored values more than ${STACK_FILE_LIMITS.maxAliases} times; refusing it (a YAML alias bomb?)\n`,
        );
        assertNothingRan(run);
    });

    it("refuses the alias bomb itself (the stack file read) in well under a second", function () {
        this.timeout(10_000);
        const file = path.join(dir, "Pulumi.bomb.yaml");
        fs.writeFileSync(file, aliasBomb());
        const started = process.hrtime.bigint();
        assert.throws(
            () => readStackConfig(ROOT, "bomb", PROJECT, file),
            (e: unknown) => e instanceof StackFileError && /alias bomb/.test(e.message),
        );
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        assert.ok(ms < 1000, `took ${ms} ms`);
    });

    it("refuses an oversized stack file from its size alone: exit 2 naming the file, never opened", function () {
        this.timeout(20_000);
        const file = path.join(dir, "Pulumi.huge.yaml");
        // A sparse 3 GiB file: reading it would take seconds and fail past Node's 2 GiB buffer limit.
        fs.writeFileSync(file, "config:\n  clusterId: c8f2a1b3c4d5e6f708192a3b4c5d6e7f8\n");
        fs.truncateSync(file, 3 * 1024 ** 3);
        const run = probedPlan(["--stack", "huge", "--config-file", file], { timeoutMs: 10_000 });
        assert.equal(run.code, 2, run.stderr);
        assert.equal(
            run.stderr,
            `plan: stack huge: the stack file ${file} is ${3 * 1024 ** 3} bytes, more than the ${STACK_FILE_LIMITS.maxBytes} accepted; is it the right file?\n`,
        );
        assertNothingRan(run);
        assert.ok(!run.probe!.read.includes(file), "the oversized file must not be opened");
    });

    it("refuses a stack file just over the cap, and one that is not a regular file, naming each", function () {
        this.timeout(10_000);
        const file = path.join(dir, "Pulumi.over.yaml");
        fs.writeFileSync(file, `config:\n  clusterId: c8f2a1b3c4d5e6f708192a3b4c5d6e7f8\n  pad: "${"x".repeat(STACK_FILE_LIMITS.maxBytes)}"\n`);
        assert.throws(
            () => readStackConfig(ROOT, "over", PROJECT, file),
            (e: unknown) => e instanceof StackFileError && e.message.includes(`the stack file ${file} is `),
        );
        assert.throws(
            () => readStackConfig(ROOT, "dir", PROJECT, dir),
            (e: unknown) => e instanceof StackFileError && e.message === `the stack file ${dir} is not a regular file; give the path of a file`,
        );
    });

    it("names the line of a YAML syntax error without echoing the stack file (a secret on the line before stays out)", async function () {
        this.timeout(10_000);
        const file = path.join(dir, "Pulumi.syntax.yaml");
        fs.writeFileSync(file, "config:\n  token: s3cr3t-value\n  clusterId: [unclosed\n");
        const out = new StringSink();
        const err = new StringSink();
        const code = await main(["--stack", "syntax", "--config-file", file, "--no-policy"], out, err);
        assert.equal(code, 2);
        assert.equal(out.text, "");
        assert.match(err.text, new RegExp(`^plan: stack syntax: the stack file ${escape(file)} is not valid YAML: .*\\(line \\d+, column \\d+\\)\n$`));
        assert.doesNotMatch(err.text, /s3cr3t|unclosed/);
    });

    it("refuses a --policy-config of the wrong shape before anything runs: exit 2 naming the policy and the fix", function () {
        this.timeout(60_000);
        const cases: [string, unknown, RegExp][] = [
            [
                "array",
                [],
                /the policy config must be a JSON object mapping policy names of pack "ask-kms-key-guard" to a level or settings, e\.g\. \{"kms-key-in-use-enabled": "mandatory"\}; got an array\./,
            ],
            [
                "number",
                { "kms-key-in-use-present": 5 },
                /policy config for "kms-key-in-use-present" must be an enforcement level \("advisory", "mandatory", "remediate", "disabled"\) or an object .*; got a number\./,
            ],
            [
                "bad level",
                { "kms-key-in-use-enabled": { enforcementLevel: "bogus" } },
                /policy config "kms-key-in-use-enabled\.enforcementLevel" is "bogus"; use one of "advisory", "mandatory", "remediate", "disabled"\./,
            ],
            [
                "bad item",
                { "kms-key-in-use-present": { externalKeyIds: [1] } },
                /policy config "kms-key-in-use-present\.externalKeyIds\[0\]" must be of type string; got number\./,
            ],
        ];
        for (const [label, config, expected] of cases) {
            const file = path.join(dir, `${label.replace(" ", "-")}.json`);
            fs.writeFileSync(file, JSON.stringify(config));
            const run = probedPlan(["--stack", "dev", "--policy-config", file], { timeoutMs: 15_000 });
            assert.equal(run.code, 2, `${label}: ${run.stderr}`);
            assert.match(run.stderr, new RegExp(`^plan: --policy-config ${escape(file)}: ${expected.source}\n$`), label);
            assertNoStackTrace(run.stderr);
            assertNothingRan(run);
        }
    });

    it("refuses a --policy-config naming a policy the pack does not have, listing the pack's policies", function () {
        this.timeout(20_000);
        const file = path.join(dir, "unknown.json");
        fs.writeFileSync(file, JSON.stringify({ "kms-key-in-use-presnt": "mandatory" }));
        const run = probedPlan(["--stack", "dev", "--policy-config", file], { timeoutMs: 15_000 });
        assert.equal(run.code, 2, run.stderr);
        assert.match(
            run.stderr,
            /^plan: --policy-config .*: policy config names "kms-key-in-use-presnt", which is not a policy of pack "ask-kms-key-guard"; fix or remove it\. Its policies are: .*kms-key-in-use-present.*\.\n$/,
        );
        assertNoStackTrace(run.stderr);
        assertNothingRan(run);
    });

    it("checks every shape of --policy-config in main(), reporting every problem, before reading the stack", async function () {
        this.timeout(10_000);
        const cases: [string, string, RegExp[]][] = [
            ["null", "null", [/must be a JSON object .*; got null\./]],
            ["a string", '"mandatory"', [/must be a JSON object .*; got "mandatory"\./]],
            ["a level list", '{"kms-key-in-use-enabled": ["mandatory"]}', [/"kms-key-in-use-enabled" must be an enforcement level .*; got an array\./]],
            ["a null level", '{"kms-key-in-use-enabled": null}', [/"kms-key-in-use-enabled" must be an enforcement level .*; got null\./]],
            ["an unknown level", '{"kms-key-in-use-enabled": "strict"}', [/"kms-key-in-use-enabled" must be an enforcement level .*; got "strict"\./]],
            [
                "a level of another type",
                '{"kms-key-in-use-enabled": {"enforcementLevel": 1}}',
                [/"kms-key-in-use-enabled\.enforcementLevel" is a number; use one of/],
            ],
            [
                "a setting of the wrong type",
                '{"kms-key-in-use-present": {"externalKeyIds": "key-1"}}',
                [/"kms-key-in-use-present\.externalKeyIds" must be of type array; got string\./],
            ],
            [
                "a setting the policy lacks",
                '{"kms-key-in-use-enabled": {"externalKeyIds": []}}',
                [/"kms-key-in-use-enabled\.externalKeyIds" is not a setting of that policy; remove it \(it takes only enforcementLevel\)\./],
            ],
            [
                "an inherited name",
                '{"toString": "mandatory", "kms-key-in-use-present": {"constructor": 1}}',
                [
                    /names "toString", which is not a policy/,
                    /"kms-key-in-use-present\.constructor" is not a setting of that policy; fix or remove it; its settings are: externalKeyIds \(and enforcementLevel\)\./,
                ],
            ],
            [
                "not JSON",
                '{"token": "s3cr3t-value",\n x}',
                [/is not valid JSON: expected double-quoted property name \(line 2, column 2\); it must be a JSON object\./],
            ],
            [
                "too large",
                `{"kms-key-in-use-enabled": "mandatory", "pad": "${"x".repeat(POLICY_CONFIG_MAX_BYTES)}"}`,
                [new RegExp(`is \\d+ bytes, more than the ${POLICY_CONFIG_MAX_BYTES} accepted; is it the right file\\?`)],
            ],
        ];
        for (const [label, text, expected] of cases) {
            const file = path.join(dir, "shape.json");
            fs.writeFileSync(file, text);
            const out = new StringSink();
            const err = new StringSink();
            // A stack without a stack file: had the config passed, the plan would have said so instead.
            const code = await main(["--stack", "nosuch", "--policy-config", file], out, err);
            assert.equal(code, 2, label);
            assert.equal(out.text, "", label);
            for (const re of expected) assert.match(err.text, re, label);
            assert.equal(err.text.trimEnd().split("\n").length, expected.length, `${label}: one line per problem: ${err.text}`);
            assert.doesNotMatch(err.text, /no stack file|s3cr3t/, label);
            assertNoStackTrace(err.text);
        }
    });

    it("exits 2 (not 1, which means a violation) with one line on an unexpected failure; PLAN_DEBUG=1 adds the trace", function () {
        this.timeout(30_000);
        const quiet = probedPlan(["--stack", "dev", "--no-policy"], { timeoutMs: 15_000, env: { PLAN_PROBE_FAIL: "injected failure\nwith a second line" } });
        assert.equal(quiet.code, 2, quiet.stderr);
        assert.equal(quiet.stdout, "");
        assert.equal(quiet.stderr, "plan: stack dev: injected failure (PLAN_DEBUG=1 prints the stack trace)\n");
        const debug = probedPlan(["--stack", "dev", "--no-policy"], { timeoutMs: 15_000, env: { PLAN_PROBE_FAIL: "injected failure", PLAN_DEBUG: "1" } });
        assert.equal(debug.code, 2, debug.stderr);
        assert.match(debug.stderr, /^plan: stack dev: injected failure\nError: injected failure\n\s+at /);
    });
});

/** A writable stream that keeps what main() writes. */
class StringSink extends Writable {
    text = "";
    _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
        this.text += chunk.toString();
        callback();
    }
}

function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("plan/planner: URNs in the engine's form", () => {
    it("qualifies a nested resource's type with its parent's whole chain, and a top-level one with none", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK the planner mocks
        const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        const plan = await planProgram({
            project: "nesting",
            stack: "dev",
            config: { config: {}, secretKeys: [] },
            program: async () => {
                const a = new pulumi.ComponentResource("x:a:A", "a");
                const b = new pulumi.ComponentResource("x:b:B", "b", {}, { parent: a });
                const c = new pulumi.ComponentResource("x:c:C", "c", {}, { parent: b });
                new pulumi.ComponentResource("x:d:D", "d", {}, { parent: c });
            },
        });
        const urn = (name: string) => plan.resources.find((r) => r.name === name)!;
        assert.equal(urn("a").urn, "urn:pulumi:dev::nesting::x:a:A::a");
        assert.equal(urn("c").urn, "urn:pulumi:dev::nesting::x:a:A$x:b:B$x:c:C::c");
        assert.equal(urn("d").urn, "urn:pulumi:dev::nesting::x:a:A$x:b:B$x:c:C$x:d:D::d");
        assert.equal(urn("d").parent, urn("c").urn, "a child's parent is its parent's own URN");
    });
});
