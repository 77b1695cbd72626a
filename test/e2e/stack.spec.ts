// The stack as users run it, driven by the real Pulumi CLI (v3.248.0, built by `npm run tools`):
// preview with the policy pack, up, a quiet preview, refresh, a key rotation that re-seals every
// Secret, and destroy. The program is index.ts itself, run as an Automation API inline program (the
// Node language host cannot be had here: see test/support/e2e). Kubernetes is real (etcd +
// kube-apiserver + our KMS plugin, test/support/realCluster) and reached through the program's
// credential-free kubeconfig and its exec helper; Alibaba Cloud is the stand-in (test/support/
// alibabaStandIn) behind the stand-in alicloud plugin (test/support/alicloudPlugin). Nothing is
// downloaded: a temporary PULUMI_HOME, a file backend, automatic plugin acquisition off.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { AlibabaStandIn, STAND_IN_ACCESS_KEY_ID, STAND_IN_ACCESS_KEY_SECRET, startAlibabaStandIn } from "../support/alibabaStandIn";
import { alicloudPluginEnv, installStandInAlicloudPlugin } from "../support/alicloudPlugin";
import { PulumiSandbox, pulumiSandbox } from "../support/e2e";
import { RealCluster } from "../support/realCluster";
import { toolPath } from "../support/realCluster/processes";
import { REPO_ROOT } from "../support/repo";

const PROJECT = "ask-kms-secret-encryption";
const REGION = "cn-hangzhou";
const KUBERNETES_PLUGIN_VERSION = (
    JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules/@pulumi/kubernetes/package.json"), "utf8")) as { version: string }
).version;

/** The example stack's config (Pulumi.dev.yaml), as `pulumi config set` would store it. */
function exampleStackConfig(): Record<string, { value: string; secret?: boolean }> {
    const file = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key, { value: typeof value === "string" ? value : JSON.stringify(value) }]));
}

describe("e2e: the real Pulumi CLI runs the example stack", function () {
    this.timeout(1_800_000);
    let cluster: RealCluster;
    let standIn: AlibabaStandIn;
    let sandbox: PulumiSandbox;
    let stack: Stack;
    let workDir: string;
    let clusterId: string;

    /** The program's own module, loaded in this process as the inline program. */
    const program = async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, as `pulumi up` loads it
        const run = require(path.join(REPO_ROOT, "index.ts")) as () => Promise<Record<string, unknown>>;
        return run();
    };

    /** No file Pulumi or the providers keep (state, PULUMI_HOME, checkpoints), and nothing the CLI printed, holds a credential in plain text. */
    function assertNoPlaintextCredentials(step: string): void {
        const kept = ["state", "home", "checkpoints"].map((d) => path.join(sandbox.dir, d)).filter((d) => fs.existsSync(d));
        const files = execFileSync("find", [...kept, "-type", "f", "-not", "-path", "*/plugins/*"], { encoding: "utf8" })
            .split("\n")
            .filter(Boolean);
        assert.ok(!output.join("").includes(STAND_IN_ACCESS_KEY_SECRET), `${step}: the CLI printed the access key secret`);
        for (const file of files) {
            const text = fs.readFileSync(file, "utf8");
            assert.ok(!text.includes(STAND_IN_ACCESS_KEY_SECRET), `${step}: ${file} holds the access key secret in plain text`);
            assert.doesNotMatch(text, /BEGIN (RSA |EC )?PRIVATE KEY|client-key-data/, `${step}: ${file} holds a private key`);
        }
    }

    before(async () => {
        cluster = await RealCluster.start({ kms: "v2" });
        // The Kubernetes provider deletes with foreground propagation: the garbage collector clears the finalizer.
        await cluster.startControllerManager(["garbage-collector-controller"]);
        for (const namespace of ["payments", "web"]) {
            await cluster.ensureNamespace(namespace);
            for (let i = 0; i < 20; i++)
                await cluster.request("POST", `/api/v1/namespaces/${namespace}/secrets`, {
                    metadata: { name: `app-${i}` },
                    stringData: { v: `${namespace}-${i}` },
                });
        }
        const admin = cluster.inlineKubeconfig();
        standIn = await startAlibabaStandIn({ regionId: REGION, kubeconfig: () => admin });
        const config = exampleStackConfig();
        clusterId = config[`${PROJECT}:clusterId`].value;
        standIn.addCluster({ clusterId, regionId: REGION, endpoints: { internet: cluster.url } });
        const instance = JSON.parse(config[`${PROJECT}:kmsInstance`].value) as { vpcId: string; vswitchIds: string[]; zoneIds: string[] };
        instance.vswitchIds.forEach((vswitchId, i) => standIn.addVSwitch({ vswitchId, vpcId: instance.vpcId, zoneId: instance.zoneIds[i], regionId: REGION }));
        standIn.addRamUser("platform-deployer");

        sandbox = await pulumiSandbox({
            ...alicloudPluginEnv(standIn),
            ALIBABA_CLOUD_CS_ENDPOINT: standIn.csEndpoint,
            ALIBABA_CLOUD_KMS_ENDPOINT: standIn.kmsEndpoint,
            // The exec helper of the credential-free kubeconfig acts as the environment's identity.
            ALIBABA_CLOUD_ACCESS_KEY_ID: STAND_IN_ACCESS_KEY_ID,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET: STAND_IN_ACCESS_KEY_SECRET,
        });
        sandbox.env.ASK_REENCRYPT_STATE_DIR = path.join(sandbox.dir, "checkpoints");
        await installStandInAlicloudPlugin(sandbox.home, toolPath("pulumi", "pulumi"));
        const installed = spawnSync(
            toolPath("pulumi", "pulumi"),
            ["plugin", "install", "resource", "kubernetes", KUBERNETES_PLUGIN_VERSION, "--file", toolPath("pulumi-kubernetes", "pulumi-resource-kubernetes")],
            { env: sandbox.env, encoding: "utf8", timeout: 120_000 },
        );
        assert.equal(installed.status, 0, installed.stderr);

        // The program directory as a user has it: the compiled providers (dist/) and node_modules beside the program.
        workDir = path.join(sandbox.dir, "project");
        fs.mkdirSync(workDir);
        for (const entry of ["dist", "node_modules"]) fs.symlinkSync(path.join(REPO_ROOT, entry), path.join(workDir, entry), "dir");
        fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(workDir, "package.json"));
        stack = await sandbox.stack(PROJECT, "dev", program, workDir);
        await stack.setAllConfig({
            ...exampleStackConfig(),
            "alicloud:accessKey": { value: STAND_IN_ACCESS_KEY_ID, secret: true },
            "alicloud:secretKey": { value: STAND_IN_ACCESS_KEY_SECRET, secret: true },
        });
    });

    after(async () => {
        await cluster?.stop();
        await standIn?.close();
        sandbox?.dispose();
    });

    const events: EngineEvent[] = [];
    const output: string[] = [];
    const watch = { onEvent: (e: EngineEvent) => void events.push(e), onOutput: (o: string) => void output.push(o) };

    it("preview --policy-pack policy: every resource to create, no mandatory policy violation, and the offline plan agrees", async () => {
        events.length = 0;
        const preview = await stack.preview({ policyPacks: [sandbox.policyPackDir()], ...watch });
        assert.ok((preview.changeSummary.create ?? 0) > 10, JSON.stringify(preview.changeSummary));
        const mandatory = events.filter((e) => e.policyEvent?.enforcementLevel === "mandatory");
        assert.deepEqual(
            mandatory.map((e) => e.policyEvent?.message),
            [],
        );
        assertNoPlaintextCredentials("preview");

        // The offline plan (npm run plan) shows the same resources, URNs and policy verdicts as this preview.
        // Default providers are the engine's own, not the program's registrations: the plan has none.
        const previewUrns = new Set(
            events
                .map((e) => e.resourcePreEvent?.metadata.urn)
                .filter((urn): urn is string => urn !== undefined && !/::pulumi:providers:[^:]+::default(_|$)/.test(urn)),
        );
        const planned = spawnSync("npm", ["run", "-s", "plan", "--", "--stack", "dev", "--json"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 300_000 });
        assert.equal(planned.status, 0, planned.stderr);
        const plan = JSON.parse(planned.stdout) as { resources: { urn: string }[]; policy: { violations: { policy: string; level: string; urn?: string }[] } };
        assert.deepEqual([...previewUrns].sort(), plan.resources.map((r) => r.urn).sort());
        const verdicts = (list: { policy: string; level: string; urn?: string }[]) => list.map((v) => `${v.level} ${v.policy} ${v.urn ?? ""}`).sort();
        const previewVerdicts = events
            .filter((e) => e.policyEvent)
            .map((e) => ({ policy: e.policyEvent!.policyName, level: e.policyEvent!.enforcementLevel, urn: e.policyEvent!.resourceUrn || undefined }));
        assert.deepEqual(verdicts(previewVerdicts), verdicts(plan.policy.violations));
    });

    it("up --policy-pack policy: encryption on with the new key, the RBAC identity in the cluster, every Secret verified", async () => {
        const up = await stack.up({ policyPacks: [sandbox.policyPackDir()], ...watch });
        assert.equal(up.summary.result, "succeeded", output.join(""));
        assert.equal(up.outputs.encryptionEnabled.value, true);
        assert.ok(up.outputs.rotationVerifiedAt.value, "the first re-encryption verified");
        const encrypted = standIn.clusters.get(clusterId);
        assert.equal(encrypted?.encryptionKeyId, up.outputs.kmsKeyId.value);
        const sa = await cluster.request("GET", "/api/v1/namespaces/kube-system/serviceaccounts/ask-secret-reencryptor");
        assert.equal(sa.status, 200);
        assertNoPlaintextCredentials("up");
        // What Pulumi itself keeps of the stack config it sends to the dynamic providers: the inputs of the default
        // pulumi-nodejs provider, secrets encrypted and every other key in clear (the README says so).
        const resources = (await stack.exportStack()).deployment.resources as { type: string; urn: string; inputs?: Record<string, unknown> }[];
        const host = resources.find((r) => r.type === "pulumi:providers:pulumi-nodejs" && r.urn.endsWith("::default"));
        assert.ok(host, resources.map((r) => r.urn).join("\n"));
        assert.equal(host.inputs?.["alicloud:region"], REGION, "non-secret config is stored in clear");
        // A secret is marked with Pulumi's secret signature (the export decrypts it; on disk it is ciphertext, checked above).
        assert.ok(JSON.stringify(host.inputs?.["alicloud:secretKey"]).includes("4dabf18193072939515e22adb298388d"), "secret config is kept as a secret");
    });

    it("preview --expect-no-changes: an unchanged stack plans nothing", async () => {
        await stack.preview({ expectNoChanges: true, ...watch });
        assertNoPlaintextCredentials("preview --expect-no-changes");
    });

    it("refresh: reads every resource back without drift", async () => {
        const refresh = await stack.refresh({ ...watch });
        assert.equal(refresh.summary.result, "succeeded");
        assertNoPlaintextCredentials("refresh");
    });

    it("a key rotation: preview shows the re-encryption due; after up, etcd shows every Secret sealed with the new key version", async () => {
        const keyId = String((await stack.outputs()).kmsKeyId.value);
        standIn.rotateKey(keyId, new Date());
        cluster.rotateKey(2);
        await cluster.waitUntilSealingWith(2);
        const preview = await stack.preview({ ...watch });
        assert.equal(preview.changeSummary.update, 1, JSON.stringify(preview.changeSummary));
        const up = await stack.up({ ...watch });
        assert.equal(up.summary.result, "succeeded");
        const notOnNewKey = [...(await cluster.secretSealings())].filter(([, s]) => s.keyVersion !== 2);
        assert.deepEqual(notOnNewKey, []);
        assertNoPlaintextCredentials("up after rotation");
    });

    it("refresh while the cluster is updating to another setting (where a timed-out up leaves it): refresh succeeds and shows the drift", async () => {
        const encrypted = standIn.clusters.get(clusterId)!;
        const before = { state: encrypted.state, key: encrypted.encryptionKeyId };
        encrypted.state = "updating";
        encrypted.encryptionKeyId = "key-set-by-someone-else";
        try {
            events.length = 0;
            const refresh = await stack.refresh({ ...watch });
            assert.equal(refresh.summary.result, "succeeded");
            const drifted = events.filter((e) => e.resOutputsEvent?.metadata.type === "pulumi-nodejs:dynamic/ask:ClusterEncryption");
            assert.ok(drifted.length > 0, "the refresh went through ClusterEncryption");
        } finally {
            Object.assign(encrypted, { state: before.state, encryptionKeyId: before.key });
        }
        await stack.refresh({ ...watch });
        assertNoPlaintextCredentials("refresh while updating");
    });

    it("destroy: what it leaves, and what a user sees", async () => {
        const destroyed = await stack.destroy({ ...watch }).catch((e: Error) => e);
        const said = destroyed instanceof Error ? destroyed.message : "";
        // Recorded as it is today: the engine refuses to delete the protected key and instance, so destroy fails;
        // by then it has deleted everything else, and ClusterEncryption's delete switched Secret encryption off.
        assert.ok(destroyed instanceof Error, "destroy stops at the protected resources");
        assert.match(said, /protected/);
        const left = (await stack.exportStack()).deployment.resources.map((r: { type: string }) => r.type);
        assert.ok(left.includes("alicloud:kms/key:Key") && left.includes("alicloud:kms/instance:Instance"), left.join(", "));
        assert.equal(standIn.clusters.get(clusterId)?.encryptionDisabled, true, "the cluster's Secret encryption is off after destroy");
        process.stdout.write(
            `      destroy said: ${said
                .split("\n")
                .filter((l) => /error|protect/i.test(l))
                .slice(0, 6)
                .join(" | ")}\n`,
        );
        assertNoPlaintextCredentials("destroy");
    });
});
