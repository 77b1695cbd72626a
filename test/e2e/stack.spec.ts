// The stack as users run it, driven by the real Pulumi CLI (v3.248.0, built by `npm run tools`):
// preview with the policy pack, up, a quiet preview, refresh, a key rotation that re-seals every
// Secret, and destroy. The program is index.ts itself, run as an Automation API inline program (the
// Node language host cannot be had here: see test/support/e2e). Kubernetes is real (etcd +
// kube-apiserver + our KMS plugin, test/support/realCluster) and reached through the program's
// credential-free kubeconfig and its exec helper; Alibaba Cloud is the stand-in (test/support/
// alibabaStandIn) behind the stand-in alicloud plugin (test/support/alicloudPlugin). Nothing is
// downloaded: a temporary PULUMI_HOME, a file backend, automatic plugin acquisition off.
import * as assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
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

    /**
     * Where an embedding program puts the component (index.ts's argument; `pulumi up` passes none). A step that
     * moves the component or edits its key changes this; later steps keep what the last up recorded.
     */
    let placement: { name?: string; opts?: pulumi.ComponentResourceOptions; parent?: () => pulumi.ComponentResource } = {};
    /** The program's own module, loaded in this process as the inline program. */
    const program = async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, as `pulumi up` loads it
        const run = require(path.join(REPO_ROOT, "index.ts")) as (p: {
            name?: string;
            opts?: pulumi.ComponentResourceOptions;
        }) => Promise<Record<string, unknown>>;
        const parent = placement.parent?.();
        return run({ name: placement.name, opts: { ...placement.opts, ...(parent ? { parent } : {}) } });
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

    /** The policy pack's mandatory verdicts among the events of the last command. */
    const mandatoryVerdicts = () =>
        events.filter((e) => e.policyEvent?.enforcementLevel === "mandatory").map((e) => `${e.policyEvent!.policyName}: ${e.policyEvent!.message}`);
    /** The stack's key as the stand-in account holds it. */
    async function accountKey() {
        const keyId = String((await stack.outputs()).kmsKeyId.value);
        return { keyId, key: standIn.keys.get(keyId)! };
    }

    for (const [change, edit, expected] of [
        ["disabling it", (a: pulumi.ResourceTransformArgs) => ({ props: { ...a.props, status: "Disabled" }, opts: a.opts }), 'its status is "Disabled"'],
        [
            "lowering its deletion protection",
            (a: pulumi.ResourceTransformArgs) => ({ props: { ...a.props, deletionProtection: "Disabled" }, opts: a.opts }),
            'its deletionProtection is "Disabled"',
        ],
        [
            "unprotecting it",
            (a: pulumi.ResourceTransformArgs) => ({ props: a.props, opts: { ...a.opts, protect: false } }),
            "the resource option protect is not set",
        ],
    ] as const) {
        it(`preview and up --skip-preview --policy-pack policy, ${change}: the guard stops the key's step before any call reaches the account`, async () => {
            const { keyId, key } = await accountKey();
            const keyBefore = { ...key };
            const writesBefore = standIn.controlWrites.length;
            placement = { ...placement, opts: { transforms: [(a) => (a.type === "alicloud:kms/key:Key" ? edit(a) : undefined)] } };
            const guarded = () => {
                const verdicts = mandatoryVerdicts();
                assert.ok(
                    verdicts.some((v) => v.startsWith("kms-key-for-cluster-guarded: ") && v.includes(expected) && v.includes("nothing was sent to KMS")),
                    verdicts.join("\n"),
                );
            };
            try {
                // `pulumi up` without --skip-preview stops at its preview.
                events.length = 0;
                const previewed = await stack.preview({ policyPacks: [sandbox.policyPackDir()], ...watch }).catch((e: Error) => e);
                assert.ok(previewed instanceof Error, "the preview is refused");
                guarded();
                // The Automation API's up is `pulumi up --yes --skip-preview`: no preview gates it.
                events.length = 0;
                const refused = await stack.up({ policyPacks: [sandbox.policyPackDir()], ...watch }).catch((e: Error) => e);
                assert.ok(refused instanceof Error, "the up is refused");
                guarded();
            } finally {
                placement = { ...placement, opts: undefined };
            }
            const keyWrites = standIn.controlWrites.slice(writesBefore).filter((w) => w.path.startsWith("/v1/keys"));
            assert.deepEqual(keyWrites, [], "no call about the key reached the account");
            assert.deepEqual(standIn.keys.get(keyId), keyBefore, "the key is as it was");
            const stored = (await stack.exportStack()).deployment.resources.find((r: { type: string }) => r.type === "alicloud:kms/key:Key");
            assert.equal(stored?.protect, true, "the stored key is still protected");
            assertNoPlaintextCredentials(`guard: ${change}`);
        });
    }

    it("preview --policy-pack policy of a stack that reads the key with Key.get: the pack cannot see it; externalKeyIds is the way", async () => {
        const { keyId } = await accountKey();
        // A stack that relies on a key managed elsewhere, the way the pack's README once advised: read with Key.get.
        const reader = await sandbox.stack(
            PROJECT,
            "reads-the-key",
            async () => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports -- as the program loads them
                const alicloud = require("@pulumi/alicloud") as typeof import("@pulumi/alicloud");
                // eslint-disable-next-line @typescript-eslint/no-require-imports -- as the program loads them
                const { ClusterEncryption } = require(path.join(REPO_ROOT, "components/providers")) as typeof import("../../components/providers");
                const key = alicloud.kms.Key.get("cluster-key", keyId, undefined, { protect: true });
                new ClusterEncryption("cluster-encryption", { clusterId, kmsKeyId: key.id, regionId: REGION });
            },
            workDir,
        );
        await reader.setAllConfig({
            "alicloud:region": { value: REGION },
            "alicloud:accessKey": { value: STAND_IN_ACCESS_KEY_ID, secret: true },
            "alicloud:secretKey": { value: STAND_IN_ACCESS_KEY_SECRET, secret: true },
        });
        events.length = 0;
        const refused = await reader.preview({ policyPacks: [sandbox.policyPackDir()], ...watch }).catch((e: Error) => e);
        assert.ok(refused instanceof Error, "a key read with Key.get does not satisfy the pack");
        const present = mandatoryVerdicts().find((v) => v.startsWith("kms-key-in-use-present: ")) ?? mandatoryVerdicts().join("\n");
        assert.match(present, new RegExp(`^kms-key-in-use-present: [\\s\\S]*KMS key ${keyId}, but no alicloud:kms/key:Key`));
        assert.match(present, /list its ID in this policy's externalKeyIds config/);
        assert.match(present, /Reading it with alicloud\.kms\.Key\.get\(\.\.\.\) is not enough/);

        const config = path.join(sandbox.dir, "policy-config.json");
        fs.writeFileSync(config, JSON.stringify({ "kms-key-in-use-present": { externalKeyIds: [keyId] } }));
        events.length = 0;
        await reader.preview({ policyPacks: [sandbox.policyPackDir()], policyPackConfigs: [config], ...watch });
        assert.deepEqual(mandatoryVerdicts(), []);
        await reader.workspace.removeStack("reads-the-key", { force: true });
    });

    it("up of a stack that adopts a key that never rotated: the engine imports it, then updates it to the component's settings (needs CLI 3.174)", async () => {
        const adoptedCluster = standIn.addCluster({ clusterId: "c0adopts0key00001", regionId: REGION, endpoints: { internet: cluster.url } });
        // A key that never rotated: turning rotation on needs an interval, which the program must give.
        const existing = standIn.addKey({ deletionProtection: "Disabled", automaticRotation: "Disabled", rotationInterval: "" });
        const adopter = await sandbox.stack(
            PROJECT,
            "adopts-a-key",
            async () => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, as `pulumi up` loads it
                const run = require(path.join(REPO_ROOT, "index.ts")) as () => Promise<Record<string, unknown>>;
                return run();
            },
            workDir,
        );
        await adopter.setAllConfig({
            "alicloud:region": { value: REGION },
            "alicloud:accessKey": { value: STAND_IN_ACCESS_KEY_ID, secret: true },
            "alicloud:secretKey": { value: STAND_IN_ACCESS_KEY_SECRET, secret: true },
            [`${PROJECT}:clusterId`]: { value: adoptedCluster.clusterId },
            [`${PROJECT}:kmsKeyId`]: { value: existing.keyId },
            [`${PROJECT}:securityRole`]: { value: "adopt" },
            [`${PROJECT}:rotation`]: { value: JSON.stringify({ enabled: false }) },
        });
        events.length = 0;
        const up = await adopter.up({ policyPacks: [sandbox.policyPackDir()], ...watch });
        assert.equal(up.summary.result, "succeeded");
        assert.deepEqual(mandatoryVerdicts(), []);
        const keySteps = events.map((e) => e.resOutputsEvent?.metadata).filter((m) => m?.type === "alicloud:kms/key:Key");
        assert.ok(
            keySteps.some((m) => m?.op === "import"),
            `the key was imported: ${keySteps.map((m) => m?.op).join(", ")}`,
        );
        const adopted = standIn.keys.get(existing.keyId);
        assert.deepEqual(
            [adopted?.deletionProtection, adopted?.automaticRotation, adopted?.rotationInterval],
            ["Enabled", "Enabled", "31536000s"],
            "and then updated: deletion protection on, rotating every 365 days",
        );
        const stored = (await adopter.exportStack()).deployment.resources.find((r: { type: string }) => r.type === "alicloud:kms/key:Key");
        assert.equal(stored?.protect, true);
        assert.equal(standIn.clusters.get(adoptedCluster.clusterId)?.encryptionKeyId, existing.keyId);
        await adopter.workspace.removeStack("adopts-a-key", { force: true });
    });

    it("rename and re-parent with aliases: the component moves and nothing is created, replaced or deleted", async () => {
        placement = { name: "platform-secrets", opts: { aliases: [{ name: clusterId }] } };
        const renamed = await stack.preview({ ...watch });
        assert.deepEqual([renamed.changeSummary.create, renamed.changeSummary.delete, renamed.changeSummary.replace], [undefined, undefined, undefined]);
        await stack.up({ ...watch });
        placement = {
            name: "platform-secrets",
            opts: { aliases: [{ parent: pulumi.rootStackResource }] },
            parent: () => new pulumi.ComponentResource("acme:platform:Cluster", "payments"),
        };
        const moved = await stack.preview({ ...watch });
        assert.deepEqual(
            [moved.changeSummary.create, moved.changeSummary.delete, moved.changeSummary.replace],
            [1, undefined, undefined],
            "only the new parent",
        );
        await stack.up({ ...watch });
        const urns = (await stack.exportStack()).deployment.resources.map((r: { urn: string }) => r.urn);
        assert.ok(
            urns.some((u: string) =>
                u.endsWith("acme:platform:Cluster$ask:index:SecretEncryption$pulumi-nodejs:dynamic/ask:ClusterEncryption::platform-secrets-cluster-encryption"),
            ),
        );
        assert.equal(standIn.clusters.get(clusterId)?.encryptionDisabled, false);
    });

    /**
     * The CLI as a user runs it (no NODE_PATH), from `cwd`. `pulumi destroy` previews first, and that preview refuses a
     * protected resource before anything is deleted: `--exclude-protected` destroys the rest and keeps the key and instance.
     */
    async function pulumiCli(cwd: string, args: string[]): Promise<{ status: number; said: string }> {
        const { NODE_PATH: _notAUsersShell, PULUMI_SKIP_CONFIRMATIONS: _asked, ...env } = sandbox.env;
        // Asynchronous: the stand-in serves from this process, so a synchronous spawn would starve it.
        const ran = await promisify(execFile)(toolPath("pulumi", "pulumi"), [...args, "--non-interactive"], {
            cwd,
            env,
            encoding: "utf8",
            timeout: 600_000,
            maxBuffer: 64 * 1024 * 1024,
        }).then(
            ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
            (e: { code?: number; stdout?: string; stderr?: string }) => ({
                status: typeof e.code === "number" ? e.code : -1,
                stdout: e.stdout ?? "",
                stderr: e.stderr ?? "",
            }),
        );
        output.push(ran.stdout, ran.stderr);
        return { status: ran.status, said: `${ran.stdout}${ran.stderr}` };
    }
    const destroyArgs = ["destroy", "--yes", "--exclude-protected", "-s", `organization/${PROJECT}/dev`];
    const storedTypes = async () => (await stack.exportStack()).deployment.resources.map((r: { type: string }) => r.type).sort();

    it("destroy -s from a directory Node cannot find @pulumi/pulumi from: fails before deleting anything", async () => {
        const before = await storedTypes();
        const bare = fs.mkdtempSync(path.join(sandbox.dir, "shell-"));
        const destroyed = await pulumiCli(bare, destroyArgs);
        assert.notEqual(destroyed.status, 0);
        // No provider host starts: the engine's own words, from the host script's failure.
        assert.match(destroyed.said, /Cannot find module '@pulumi\/pulumi\/cmd\/dynamic-provider'/);
        assert.deepEqual(await storedTypes(), before, "nothing was deleted");
    });

    it("destroy -s from another directory (Node finds @pulumi/pulumi, no dist/): fails at once, nothing deleted, naming the project directory", async () => {
        const before = await storedTypes();
        const elsewhere = fs.mkdtempSync(path.join(sandbox.dir, "shell-"));
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(elsewhere, "node_modules"), "dir");
        const destroyed = await pulumiCli(elsewhere, destroyArgs);
        assert.notEqual(destroyed.status, 0);
        // The program ran from this checkout (the inline program loads index.ts from it), so that is the recorded directory.
        assert.ok(destroyed.said.includes(`last ran this program in ${REPO_ROOT}: run the command there (or add \`--cwd ${REPO_ROOT}\`)`), destroyed.said);
        assert.deepEqual(await storedTypes(), before, "nothing was deleted");
        assert.equal(standIn.clusters.get(clusterId)?.encryptionDisabled, false);
    });

    it("destroy --exclude-protected from the project directory, onDelete: keep: the cluster goes on encrypting with the key", async () => {
        const { keyId } = await accountKey();
        const destroyed = await pulumiCli(workDir, destroyArgs);
        assert.equal(destroyed.status, 0, destroyed.said);
        assert.match(destroyed.said, new RegExp(`Secret encryption stays on with key ${keyId} \\(onDelete: keep\\)`));
        const left = await storedTypes();
        assert.ok(left.includes("alicloud:kms/key:Key") && left.includes("alicloud:kms/instance:Instance"), left.join(", "));
        assert.ok(!left.includes("pulumi-nodejs:dynamic/ask:ClusterEncryption"), left.join(", "));
        const encrypted = standIn.clusters.get(clusterId);
        assert.deepEqual([encrypted?.encryptionDisabled, encrypted?.encryptionKeyId], [false, keyId], "the cluster still encrypts its Secrets with the key");
        assertNoPlaintextCredentials("destroy, onDelete: keep");
    });

    it("encryption.onDelete: switch-off, recorded by up, shown by destroy --preview-only --diff; then destroy switches encryption off", async () => {
        await stack.setConfig(`${PROJECT}:encryption`, { value: JSON.stringify({ onDelete: "switch-off" }) });
        events.length = 0;
        // The destroy kept the security role and its policy in the account (retainOnDelete), with this stack's tag:
        // securityRole auto takes them back by import instead of creating them again.
        const up = await stack.up({ ...watch });
        assert.equal(up.summary.result, "succeeded");
        const imported = events
            .map((e) => e.resOutputsEvent?.metadata)
            .filter((m) => m?.op === "import")
            .map((m) => m!.type)
            .sort();
        assert.deepEqual(imported, ["alicloud:ram/role:Role", "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment"]);
        const previewed = await pulumiCli(workDir, ["destroy", "--preview-only", "--diff", "--exclude-protected", "-s", "dev"]);
        assert.equal(previewed.status, 0, previewed.said);
        const shown = previewed.said.slice(previewed.said.indexOf("ask:ClusterEncryption"));
        assert.match(shown, /onDelete\s*:\s*"switch-off"/, "the delete lists the recorded setting");
        assert.equal(standIn.clusters.get(clusterId)?.encryptionDisabled, false, "a preview changes nothing");

        const destroyed = await pulumiCli(workDir, destroyArgs);
        assert.equal(destroyed.status, 0, destroyed.said);
        assert.equal(standIn.clusters.get(clusterId)?.encryptionDisabled, true, "the cluster's Secret encryption is off after destroy");
        const left = await storedTypes();
        assert.ok(left.includes("alicloud:kms/key:Key") && left.includes("alicloud:kms/instance:Instance"), "the protected key and instance stay");
        assertNoPlaintextCredentials("destroy");
    });
});
