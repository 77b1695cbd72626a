// The stand-in alicloud resource plugin (test/support/alicloudPlugin), driven as
// the engine drives a resource plugin: started through its launcher, port read
// from stdout, ResourceProvider calls over gRPC. What it creates is checked
// through the Alibaba stand-in's KMS API with the project's own wrappers
// (components/alibaba), so the dynamic providers and the plugin see one account.
// With the Pulumi CLI built (tools/.bin/pulumi/pulumi), it is also installed
// with `pulumi plugin install --file` and driven by the real engine.

import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import { describeKey, isUserKey } from "../../components/alibaba";
import { createKmsClient } from "../../components/alibaba/clients";
import { ADOPTED_KEY_KEPT_AS_IS, ADOPTED_KEY_SETTINGS, adoptedKeyRotationInterval } from "../../components/component/lookups";
import { AlibabaStandIn, startAlibabaStandIn, useAlibabaStandInEnv } from "./alibabaStandIn";
import {
    alicloudPluginEnv,
    installStandInAlicloudPlugin,
    offlinePulumiEnv,
    PluginProcess,
    PULUMI_BIN,
    startPluginProcess,
    writeLauncher,
} from "./alicloudPlugin/index";
import { PluginClient, secret, urnOf } from "./alicloudPlugin/client";
import { Props, SECRET_SIG, SIG_KEY, UNKNOWN } from "./alicloudPlugin/wire";
import { REPO_ROOT } from "./repo";

const REGION = "cn-hangzhou";
const KEY = "alicloud:kms/key:Key";
const INSTANCE = "alicloud:kms/instance:Instance";
const ROLE = "alicloud:ram/role:Role";
const ROLE_ATTACHMENT = "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment";
const USER_ATTACHMENT = "alicloud:ram/userPolicyAttachment:UserPolicyAttachment";
const ctx = { regionId: REGION };

/** The kubeconfig the stand-in hands out here: a CA and a client certificate, public or VPC-internal server. */
function kubeconfig(clusterId: string, _minutes: number, privateIpAddress: boolean): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${clusterId}`,
        "  cluster:",
        `    server: https://${clusterId}.${privateIpAddress ? "intranet" : "public"}.example:6443`,
        `    certificate-authority-data: ${Buffer.from(`CA of ${clusterId}`).toString("base64")}`,
        "contexts: []",
        "users:",
        "- name: admin",
        "  user:",
        `    client-certificate-data: ${Buffer.from("client cert").toString("base64")}`,
        `    client-key-data: ${Buffer.from("client key").toString("base64")}`,
        "",
    ].join("\n");
}

/**
 * The fields @pulumi/alicloud declares for an interface: `interface <name> {` in `file` (inside `namespace`, if
 * given), its top-level members, optional ones apart.
 */
function sdkFields(file: string, name: string, namespace?: string): { required: string[]; optional: string[] } {
    const text = fs.readFileSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "alicloud", file), "utf8");
    const from = namespace ? text.indexOf(`export declare namespace ${namespace} {`) : 0;
    const start = text.indexOf(`interface ${name} {`, from);
    assert.ok(start >= 0, `${file} declares no interface ${name}`);
    const required: string[] = [];
    const optional: string[] = [];
    let depth = 0;
    for (const line of text.slice(start).split("\n")) {
        const member = /^\s*(?:readonly\s+)?(\w+)(\?)?:/.exec(line);
        if (depth === 1 && member) (member[2] ? optional : required).push(member[1]);
        depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
        if (depth === 0 && line.includes("}")) break;
    }
    return { required, optional };
}

/** The value has exactly the SDK interface's shape at the top level: every required field, nothing undeclared. */
function assertShape(value: unknown, file: string, name: string, namespace?: string): void {
    const { required, optional } = sdkFields(file, name, namespace);
    const keys = Object.keys(value as object);
    assert.deepEqual(
        required.filter((field) => !keys.includes(field)),
        [],
        `${name}: required fields missing`,
    );
    assert.deepEqual(
        keys.filter((key) => !required.includes(key) && !optional.includes(key)),
        [],
        `${name}: fields the SDK does not declare`,
    );
}

describe("support: alicloud stand-in plugin over gRPC", function () {
    this.timeout(60_000);
    let standIn: AlibabaStandIn;
    let dir: string;
    let plugin: PluginProcess;
    let client: PluginClient;
    let restoreEnv: () => void;

    before(async () => {
        standIn = await startAlibabaStandIn({ regionId: REGION, kubeconfig });
        restoreEnv = useAlibabaStandInEnv(standIn);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "alicloud-plugin-spec-"));
        const launcher = writeLauncher(path.join(dir, "pulumi-resource-alicloud"));
        plugin = await startPluginProcess(launcher, { PATH: process.env.PATH, HOME: dir, ...alicloudPluginEnv(standIn) }, dir);
        client = new PluginClient(plugin.port);
        await client.configure({ region: REGION, accessKey: standIn.accessKeyId, secretKey: secret(standIn.accessKeySecret), version: "3.108.0" });
    });

    after(async () => {
        client?.close();
        await plugin?.close();
        restoreEnv?.();
        await standIn?.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("answers the engine's start-up calls: version 3.108.0, an empty schema, Configure accepting secrets and resources", async () => {
        assert.ok(plugin.port > 0);
        assert.equal(await client.pluginVersion(), "3.108.0");
        assert.equal(await client.schema(), "{}");
        const configured = await client.configure({ region: REGION, secretKey: secret("x") });
        assert.deepEqual(
            [configured.getAcceptsecrets(), configured.getAcceptresources(), configured.getSupportspreview(), configured.getAcceptoutputs()],
            [true, true, true, false],
        );
    });

    it("uses the SDK's special values on the wire", () => {
        assert.deepEqual([UNKNOWN, SIG_KEY, SECRET_SIG], [rpc.unknownValue, rpc.specialSigKey, rpc.specialSecretSig]);
    });

    it("Key: Check fills protection_level's default and refuses what the provider's validators refuse", async () => {
        const urn = urnOf(KEY, "checked");
        const ok = await client.check(urn, {}, { keySpec: "Aliyun_AES_256", status: "Enabled" });
        assert.deepEqual(ok.failures, []);
        assert.deepEqual([ok.inputs.protectionLevel, ok.inputs.__defaults], ["SOFTWARE", ["protectionLevel"]]);
        const bad = await client.check(urn, {}, { keySpec: "AES_512", status: "On", pendingWindowInDays: 3, keyState: "Enabled" });
        assert.deepEqual(bad.failures.map((f) => f.property).sort(), ["keySpec", "keyState", "pendingWindowInDays", "status"]);
        assert.match(bad.failures.find((f) => f.property === "keySpec")!.reason, /expected key_spec to be one of/);
        assert.match(bad.failures.find((f) => f.property === "keyState")!.reason, /conflicts with status/);
        // Unknown values (a preview's) are not validated.
        assert.deepEqual((await client.check(urn, {}, { keySpec: UNKNOWN })).failures, []);
    });

    it("Key: what it creates is what KMS DescribeKey, ListKeys (User keys) and ListResourceTags report", async () => {
        const instance = standIn.addKmsInstance({ productVersion: "3" });
        const urn = urnOf(KEY, "created");
        const { inputs } = await client.check(
            urn,
            {},
            {
                keySpec: "Aliyun_AES_256",
                keyUsage: "ENCRYPT/DECRYPT",
                origin: "Aliyun_KMS",
                dkmsInstanceId: instance.instanceId,
                automaticRotation: "Enabled",
                rotationInterval: "31536000s",
                pendingWindowInDays: 7,
                status: "Enabled",
                deletionProtection: "Enabled",
                deletionProtectionDescription: "seals Secrets",
                description: "secrets of c1",
                tags: { "ask-kms-secret-encryption/cluster": "c1" },
            },
        );
        const { id, outs } = await client.create(urn, inputs);
        assert.match(id, /^key-hzz[0-9a-z]+$/);
        const described = await describeKey(ctx, id);
        assert.deepEqual(
            {
                keySpec: described.keySpec,
                keyUsage: described.keyUsage,
                keyState: described.keyState,
                automaticRotation: described.automaticRotation,
                rotationInterval: described.rotationInterval,
                deletionProtection: described.deletionProtection,
                description: described.description,
                dkmsInstanceId: described.dkmsInstanceId,
                protectionLevel: described.protectionLevel,
                arn: described.arn,
            },
            {
                keySpec: "Aliyun_AES_256",
                keyUsage: "ENCRYPT/DECRYPT",
                keyState: "Enabled",
                automaticRotation: "Enabled",
                rotationInterval: "31536000s",
                deletionProtection: "Enabled",
                description: "secrets of c1",
                dkmsInstanceId: instance.instanceId,
                protectionLevel: "SOFTWARE",
                arn: outs.arn,
            },
        );
        assert.equal(await isUserKey(ctx, id), true);
        const { client: kms, runtime } = createKmsClient(ctx);
        const tags = await kms.doRequest("ListResourceTags", "HTTPS", "POST", "2016-01-20", "AK", { KeyId: id }, null, runtime);
        assert.deepEqual((tags.Tags as { Tag: unknown[] }).Tag, [{ KeyId: id, TagKey: "ask-kms-secret-encryption/cluster", TagValue: "c1" }]);
        assertShape(outs, "kms/key.d.ts", "KeyState");
        assert.deepEqual([outs.status, outs.isEnabled, outs.pendingWindowInDays, outs.deletionProtectionDescription], ["Enabled", true, 7, "seals Secrets"]);
    });

    it("Key: refresh sees changes made outside; Update disables and unprotects; Delete schedules the deletion and the key is gone", async () => {
        const urn = urnOf(KEY, "lifecycle");
        const { inputs } = await client.check(urn, {}, { description: "v1", status: "Enabled", deletionProtection: "Enabled", pendingWindowInDays: 7 });
        const { id, outs } = await client.create(urn, inputs);
        standIn.keys.get(id)!.description = "edited in the console";
        const refreshed = await client.read(id, urn, outs, inputs);
        assert.deepEqual([refreshed.id, refreshed.props.description, refreshed.inputs.description], [id, "edited in the console", "edited in the console"]);

        const { inputs: news } = await client.check(urn, refreshed.inputs, {
            ...inputs,
            description: "v2",
            status: "Disabled",
            deletionProtection: "Disabled",
        });
        const diff = await client.diff(id, urn, refreshed.props, news);
        assert.deepEqual([diff.changes, diff.diffs.sort(), diff.replaces], ["some", ["deletionProtection", "description", "status"], []]);
        const updated = await client.update(id, urn, refreshed.props, news);
        assert.deepEqual([updated.status, updated.keyState, updated.isEnabled, updated.description], ["Disabled", "Disabled", false, "v2"]);
        const described = await describeKey(ctx, id);
        assert.deepEqual([described.keyState, described.description, described.deletionProtection], ["Disabled", "v2", "Disabled"]);

        await client.delete(id, urn, updated);
        const deleted = await describeKey(ctx, id);
        assert.equal(deleted.keyState, "PendingDeletion");
        const deleteDate = Date.parse(standIn.keys.get(id)!.deleteDate!);
        assert.ok(Math.abs(deleteDate - (Date.now() + 7 * 86400_000)) < 60_000, `DeleteDate ${standIn.keys.get(id)!.deleteDate} is not 7 days out`);
        assert.equal((await client.read(id, urn, updated, news)).id, "", "a key pending deletion reads as gone");
    });

    it("Key: Delete is refused while deletion protection is on, and without a pending window (as the provider refuses)", async () => {
        const urn = urnOf(KEY, "guarded");
        const { inputs } = await client.check(urn, {}, { deletionProtection: "Enabled", pendingWindowInDays: 7 });
        const { id, outs } = await client.create(urn, inputs);
        await assert.rejects(client.delete(id, urn, outs), /deletion protection enabled/);
        await assert.rejects(
            client.delete(id, urn, { ...outs, pendingWindowInDays: undefined }),
            /"pending_window_in_days" or "deletion_window_in_days" must be set/,
        );
        assert.equal((await describeKey(ctx, id)).keyState, "Enabled");
    });

    it("Key: on a hardware instance the key is HSM whatever protectionLevel says, without automatic rotation; the next plan replaces it", async () => {
        const instance = standIn.addKmsInstance({ productVersion: "5" });
        const urn = urnOf(KEY, "hsm");
        const { inputs } = await client.check(urn, {}, { dkmsInstanceId: instance.instanceId, automaticRotation: "Enabled", rotationInterval: "30d" });
        const { id, outs } = await client.create(urn, inputs);
        assert.deepEqual([outs.protectionLevel, outs.automaticRotation], ["HSM", "Disabled"]);
        assert.equal((await describeKey(ctx, id)).protectionLevel, "HSM");
        const diff = await client.diff(id, urn, outs, inputs);
        assert.deepEqual(diff.replaces, ["protectionLevel"]);
        assert.ok(diff.diffs.includes("automaticRotation"));
    });

    it("Key: import reads inputs and state from the ID alone; the adopted-key update then changes status and rotation, nothing replaces", async () => {
        const key = standIn.addKey({
            keyState: "Disabled",
            automaticRotation: "Disabled",
            rotationInterval: "2592000s",
            deletionProtection: "Disabled",
            description: "someone else's",
            tags: { team: "data" },
            dkmsInstanceId: "kst-hzzadopted",
        });
        const urn = urnOf(KEY, "adopted");
        const imported = await client.read(key.keyId, urn);
        assert.equal(imported.id, key.keyId);
        assertShape(imported.props, "kms/key.d.ts", "KeyState");
        assert.deepEqual(
            [imported.inputs.keySpec, imported.inputs.status, imported.inputs.description, imported.inputs.tags, imported.inputs.rotationInterval],
            ["Aliyun_AES_256", "Disabled", "someone else's", { team: "data" }, "2592000s"],
        );
        assert.equal(imported.inputs.protectionLevel, undefined, "a value at the schema default is not an import input");
        // The engine: ignoreChanges copies the imported inputs, Check, Diff against the read state, Update.
        const program: Props = {
            ...ADOPTED_KEY_SETTINGS,
            rotationInterval: adoptedKeyRotationInterval(imported.inputs.rotationInterval as string | undefined),
        };
        for (const name of ADOPTED_KEY_KEPT_AS_IS) if (imported.inputs[name] !== undefined) program[name] = imported.inputs[name];
        const { inputs: news, failures } = await client.check(urn, imported.inputs, program);
        assert.deepEqual(failures, []);
        const diff = await client.diff(key.keyId, urn, imported.props, news, ADOPTED_KEY_KEPT_AS_IS);
        assert.deepEqual([diff.changes, diff.diffs.sort(), diff.replaces], ["some", ["automaticRotation", "deletionProtection", "status"], []]);
        await client.update(key.keyId, urn, imported.props, news);
        const described = await describeKey(ctx, key.keyId);
        assert.deepEqual(
            [described.keyState, described.automaticRotation, described.rotationInterval, described.deletionProtection, described.description],
            ["Enabled", "Enabled", "2592000s", "Enabled", "someone else's"],
        );
        // A key that is not there imports as nothing.
        assert.equal((await client.read("key-hzzdoesnotexist", urn)).id, "");
    });

    it("Key: adopting a key that never rotated: the update turns rotation on with the default interval (KMS wants one)", async () => {
        const key = standIn.addKey({ automaticRotation: "Disabled", rotationInterval: "", deletionProtection: "Disabled" });
        const urn = urnOf(KEY, "never-rotated");
        const imported = await client.read(key.keyId, urn);
        const interval = adoptedKeyRotationInterval(imported.inputs.rotationInterval as string | undefined);
        const withoutInterval: Props = { ...ADOPTED_KEY_SETTINGS };
        for (const name of ADOPTED_KEY_KEPT_AS_IS) if (imported.inputs[name] !== undefined) withoutInterval[name] = imported.inputs[name];
        // What the component sent before it gave an interval: KMS refuses it.
        const refused = await client.check(urn, imported.inputs, withoutInterval);
        await assert.rejects(
            client.update(key.keyId, urn, imported.props, refused.inputs),
            /RotationInterval is required when EnableAutomaticRotation is true/,
        );
        const { inputs: news } = await client.check(urn, imported.inputs, { ...withoutInterval, rotationInterval: interval });
        await client.update(key.keyId, urn, imported.props, news);
        const described = await describeKey(ctx, key.keyId);
        assert.deepEqual([described.automaticRotation, described.rotationInterval, described.deletionProtection], ["Enabled", "31536000s", "Enabled"]);
    });

    it("Diff replaces exactly on the fields terraform-provider-alicloud marks ForceNew", async () => {
        const cases: { type: string; olds: Props; change: Props; replaces: string[] }[] = [
            { type: KEY, olds: { dkmsInstanceId: "kst-a" }, change: { dkmsInstanceId: "kst-b" }, replaces: ["dkmsInstanceId"] },
            { type: KEY, olds: { keySpec: "Aliyun_AES_256" }, change: { keySpec: "Aliyun_SM4" }, replaces: ["keySpec"] },
            { type: KEY, olds: { keyUsage: "ENCRYPT/DECRYPT" }, change: { keyUsage: "SIGN/VERIFY" }, replaces: ["keyUsage"] },
            { type: KEY, olds: { origin: "Aliyun_KMS" }, change: { origin: "EXTERNAL" }, replaces: ["origin"] },
            { type: KEY, olds: { protectionLevel: "SOFTWARE" }, change: { protectionLevel: "HSM" }, replaces: ["protectionLevel"] },
            { type: KEY, olds: { dkmsInstanceId: "kst-a" }, change: { dkmsInstanceId: UNKNOWN }, replaces: ["dkmsInstanceId"] },
            { type: KEY, olds: { description: "a", tags: { a: "1" } }, change: { description: "b", tags: { a: "2" } }, replaces: [] },
            {
                type: KEY,
                olds: { status: "Enabled", automaticRotation: "Enabled" },
                change: { status: "Disabled", automaticRotation: "Disabled" },
                replaces: [],
            },
            { type: INSTANCE, olds: { vpcId: "vpc-a" }, change: { vpcId: "vpc-b" }, replaces: ["vpcId"] },
            { type: INSTANCE, olds: { zoneIds: ["z-a", "z-b"] }, change: { zoneIds: ["z-a", "z-c"] }, replaces: ["zoneIds"] },
            { type: INSTANCE, olds: { vswitchIds: ["vsw-a"] }, change: { vswitchIds: ["vsw-b"] }, replaces: ["vswitchIds"] },
            { type: INSTANCE, olds: { paymentType: "PayAsYouGo" }, change: { paymentType: "Subscription" }, replaces: ["paymentType"] },
            { type: INSTANCE, olds: { instanceName: "a", deletionProtection: true }, change: { instanceName: "b", deletionProtection: false }, replaces: [] },
            { type: ROLE, olds: { roleName: "A" }, change: { roleName: "B" }, replaces: ["roleName"] },
            { type: ROLE, olds: { name: "A" }, change: { name: "B" }, replaces: ["name"] },
            { type: ROLE, olds: { description: "a" }, change: { description: "b" }, replaces: [] },
            { type: ROLE_ATTACHMENT, olds: { roleName: "A", policyName: "P", policyType: "System" }, change: { roleName: "B" }, replaces: ["roleName"] },
            { type: ROLE_ATTACHMENT, olds: { roleName: "A", policyName: "P", policyType: "System" }, change: { policyName: "Q" }, replaces: ["policyName"] },
            {
                type: ROLE_ATTACHMENT,
                olds: { roleName: "A", policyName: "P", policyType: "System" },
                change: { policyType: "Custom" },
                replaces: ["policyType"],
            },
            { type: USER_ATTACHMENT, olds: { userName: "u", policyName: "P", policyType: "System" }, change: { userName: "v" }, replaces: ["userName"] },
            { type: USER_ATTACHMENT, olds: { userName: "u", policyName: "P", policyType: "System" }, change: { policyName: "Q" }, replaces: ["policyName"] },
        ];
        // What state holds after a create: the schema defaults and the instance's required inputs.
        const stateBase: Record<string, Props> = {
            [KEY]: { protectionLevel: "SOFTWARE" },
            [INSTANCE]: { vpcId: "vpc-a", vswitchIds: ["vsw-a"], zoneIds: ["z-a", "z-b"], period: 1 },
            [ROLE]: { version: "1" },
        };
        for (const { type, olds, change, replaces } of cases) {
            const base = { ...stateBase[type], ...olds };
            const diff = await client.diff("id-1", urnOf(type, "diffed"), base, { ...base, ...change });
            const label = `${type} ${JSON.stringify(change)}`;
            assert.equal(diff.changes, "some", label);
            assert.deepEqual(diff.replaces, replaces, label);
            for (const name of replaces) assert.equal(diff.detailedDiff[name], "UPDATE_REPLACE", label);
            const same = await client.diff("id-1", urnOf(type, "diffed"), base, base);
            assert.deepEqual([same.changes, same.replaces], ["none", []], `${type} unchanged`);
        }
    });

    it("Diff follows the schema's set, JSON and PayAsYouGo suppressions, computed inputs left out, and ignoreChanges", async () => {
        const diff = (type: string, olds: Props, news: Props, ignore: string[] = []) => client.diff("id-1", urnOf(type, "d"), olds, news, ignore);
        const instance = { vpcId: "vpc-a", vswitchIds: ["vsw-a", "vsw-b"], zoneIds: ["z-a", "z-b"], paymentType: "PayAsYouGo", spec: 1000, period: 1 };
        assert.equal((await diff(INSTANCE, instance, { ...instance, zoneIds: ["z-b", "z-a"], vswitchIds: ["vsw-b", "vsw-a"] })).changes, "none", "sets");
        assert.equal((await diff(INSTANCE, instance, { ...instance, spec: 2000 })).changes, "none", "PayAsYouGo suppresses spec");
        assert.deepEqual((await diff(INSTANCE, { ...instance, paymentType: "Subscription" }, { ...instance, paymentType: "Subscription", spec: 2000 })).diffs, [
            "spec",
        ]);
        const document = { Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["cs.aliyuncs.com"] } }], Version: "1" };
        const role = { roleName: "R", assumeRolePolicyDocument: JSON.stringify(document, null, 2), version: "1" };
        assert.equal((await diff(ROLE, role, { roleName: "R", assumeRolePolicyDocument: JSON.stringify(document) })).changes, "none", "JSON-equivalent");
        // Optional+Computed inputs left out keep the cloud's value; Optional ones left out clear it.
        const key = { keySpec: "Aliyun_AES_256", status: "Enabled", description: "d", rotationInterval: "31536000s", protectionLevel: "SOFTWARE" };
        assert.deepEqual((await diff(KEY, key, { protectionLevel: "SOFTWARE" })).diffs.sort(), ["description", "rotationInterval"]);
        assert.deepEqual((await diff(KEY, key, { ...key, rotationInterval: "365d" })).diffs, ["rotationInterval"], "KMS reads the interval back in seconds");
        assert.equal((await diff(KEY, key, { ...key, description: "other" }, ["description"])).changes, "none", "ignoreChanges");
    });

    it("Instance: created on the stand-in's vSwitches (ConnectKmsInstance), refused elsewhere; Check validates as the provider does", async () => {
        const a = standIn.addVSwitch({ vpcId: "vpc-kms", zoneId: "cn-hangzhou-h" });
        const b = standIn.addVSwitch({ vpcId: "vpc-kms", zoneId: "cn-hangzhou-i" });
        const other = standIn.addVSwitch({ vpcId: "vpc-other", zoneId: "cn-hangzhou-h" });
        const urn = urnOf(INSTANCE, "kms");
        const args = {
            vpcId: "vpc-kms",
            vswitchIds: [a.vswitchId, b.vswitchId],
            zoneIds: [a.zoneId, b.zoneId],
            paymentType: "PayAsYouGo",
            productVersion: "3",
        };
        const { inputs, failures } = await client.check(urn, {}, { ...args, deletionProtection: true, instanceName: "c1-secrets", tags: { k: "v" } });
        assert.deepEqual(failures, []);
        assert.deepEqual([inputs.period, inputs.__defaults], [1, ["period"]]);
        const { id, outs } = await client.create(urn, inputs);
        assert.match(id, /^kst-hzz/);
        assertShape(outs, "kms/instance.d.ts", "InstanceState");
        assert.deepEqual([outs.status, outs.instanceName, outs.deletionProtection, outs.paymentType], ["Connected", "c1-secrets", true, "PayAsYouGo"]);
        assert.equal(standIn.kmsInstances.get(id)!.vpcId, "vpc-kms");
        const imported = await client.read(id, urn);
        assert.deepEqual([imported.inputs.vpcId, imported.inputs.zoneIds, imported.inputs.instanceName], ["vpc-kms", [a.zoneId, b.zoneId], "c1-secrets"]);
        await assert.rejects(client.create(urn, { ...inputs, vswitchIds: [other.vswitchId] }), /vSwitch .* is in VPC vpc-other/);
        await assert.rejects(client.create(urn, { ...inputs, vswitchIds: ["vsw-nowhere"] }), /does not exist/);
        const bad = await client.check(urn, {}, { ...args, vpcId: undefined, renewStatus: "NotRenewal", spec: 300, period: 5 });
        assert.deepEqual(bad.failures.map((f) => f.property).sort(), ["period", "renewStatus", "spec", "vpcId"]);
        await client.delete(id, urn, outs);
        assert.equal(standIn.kmsInstances.has(id), false);
    });

    it("Role and policy attachments: live in the stand-in's roles; getRoles lists them; RAM's conflicts hold", async () => {
        const urn = urnOf(ROLE, "security-role");
        const document = JSON.stringify({
            Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["cs.aliyuncs.com"] } }],
            Version: "1",
        });
        const { inputs } = await client.check(
            urn,
            {},
            { roleName: "AliyunCSManagedSecurityRole", assumeRolePolicyDocument: document, description: "d", tags: { owner: "s" } },
        );
        const { id, outs } = await client.create(urn, inputs);
        assert.equal(id, "AliyunCSManagedSecurityRole");
        assertShape(outs, "ram/role.d.ts", "RoleState");
        assert.deepEqual(
            [outs.arn, outs.services, outs.version, outs.maxSessionDuration],
            ["acs:ram::1234567890123456:role/aliyuncsmanagedsecurityrole", ["cs.aliyuncs.com"], "1", 3600],
        );
        assert.ok(standIn.roles.has(outs.arn as string));
        await assert.rejects(client.create(urn, inputs), /EntityAlreadyExists.Role/);
        await assert.rejects(
            client.create(urnOf(ROLE, "no-trust"), { roleName: "NoTrust" }),
            /At least one of 'assume_role_policy_document', 'document', 'ram_users' or 'services' must be set/,
        );

        const attachmentUrn = urnOf(ROLE_ATTACHMENT, "policy");
        const attached = await client.create(attachmentUrn, { roleName: id, policyName: "AliyunCSManagedSecurityRolePolicy", policyType: "System" });
        assert.equal(attached.id, "role:AliyunCSManagedSecurityRolePolicy:System:AliyunCSManagedSecurityRole");
        assertShape(attached.outs, "ram/rolePolicyAttachment.d.ts", "RolePolicyAttachmentState");
        assert.deepEqual((await client.read(attached.id, attachmentUrn)).inputs, { ...attached.outs, __defaults: [] });
        await assert.rejects(
            client.create(urnOf(ROLE_ATTACHMENT, "missing"), { roleName: "Nobody", policyName: "P", policyType: "System" }),
            /EntityNotExist.Role/,
        );
        const operator = { userName: "ops", policyName: "AliyunKMSCryptoAdminAccess", policyType: "System" };
        await assert.rejects(client.create(urnOf(USER_ATTACHMENT, "operator"), operator), /EntityNotExist.User/);
        standIn.addRamUser("ops");
        const user = await client.create(urnOf(USER_ATTACHMENT, "operator"), operator);
        assert.equal(user.id, "user:AliyunKMSCryptoAdminAccess:System:ops");
        assert.deepEqual([...standIn.policyAttachments.keys()].sort(), [attached.id, user.id]);

        const roles = await client.invoke("alicloud:ram/getRoles:getRoles", { nameRegex: "^AliyunCSManagedSecurityRole$" });
        assert.deepEqual(roles.failures, []);
        assertShape(roles.result, "ram/getRoles.d.ts", "GetRolesResult");
        const [listed] = roles.result.roles as Props[];
        assertShape(listed, "types/output.d.ts", "GetRolesRole", "ram");
        assert.deepEqual([listed.name, listed.description, listed.tags], ["AliyunCSManagedSecurityRole", "d", { owner: "s" }]);
        const byPolicy = await client.invoke("alicloud:ram/getRoles:getRoles", { policyName: "AliyunCSManagedSecurityRolePolicy" });
        assert.deepEqual(byPolicy.result.names, ["AliyunCSManagedSecurityRole"]);

        await assert.rejects(client.delete(id, urn, outs), /DeleteConflict.Role.Policy/);
        await client.delete(attached.id, attachmentUrn, attached.outs);
        await client.delete(id, urn, outs);
        assert.equal((await client.read(id, urn, outs, inputs)).id, "");
        assert.equal((await client.read(attached.id, attachmentUrn, attached.outs, attached.outs)).id, "");
    });

    it("data sources answer from the stand-in's state in the SDK's result shapes", async () => {
        const key = standIn.addKey({ description: "for the lookup" });
        const keys = await client.invoke("alicloud:kms/getKeys:getKeys", { ids: [key.keyId], enableDetails: true });
        assertShape(keys.result, "kms/getKeys.d.ts", "GetKeysResult");
        const [found] = keys.result.keys as Props[];
        assertShape(found, "types/output.d.ts", "GetKeysKey", "kms");
        assert.deepEqual([found.id, found.keySpec, found.status, found.description], [key.keyId, "Aliyun_AES_256", "Enabled", "for the lookup"]);
        assert.deepEqual(
            (await client.invoke("alicloud:kms/getKeys:getKeys", { status: "Gone" })).failures.map((f) => f.property),
            ["status"],
        );

        const vswitch = standIn.addVSwitch({ zoneId: "cn-hangzhou-k" });
        const switches = await client.invoke("alicloud:vpc/getSwitches:getSwitches", { ids: [vswitch.vswitchId, "vsw-missing"] });
        assertShape(switches.result, "vpc/getSwitches.d.ts", "GetSwitchesResult");
        const [sw] = switches.result.vswitches as Props[];
        assertShape(sw, "types/output.d.ts", "GetSwitchesVswitch", "vpc");
        assert.deepEqual([switches.result.ids, sw.zoneId], [[vswitch.vswitchId], "cn-hangzhou-k"]);

        const ask = standIn.addCluster({ name: "ask-pro" });
        const privateOnly = standIn.addCluster({ name: "private", endpoints: { intranet: "https://10.0.0.1:6443" } });
        const serverless = await client.invoke("alicloud:cs/getServerlessKubernetesClusters:getServerlessKubernetesClusters", {
            ids: [ask.clusterId, privateOnly.clusterId],
            enableDetails: true,
        });
        assertShape(serverless.result, "cs/getServerlessKubernetesClusters.d.ts", "GetServerlessKubernetesClustersResult");
        const [askListed, privateListed] = serverless.result.clusters as Props[];
        assertShape(askListed, "types/output.d.ts", "GetServerlessKubernetesClustersCluster", "cs");
        assert.deepEqual(askListed.connections, {
            apiServerInternet: `https://${ask.clusterId}.public.example:6443`,
            apiServerIntranet: `https://${ask.clusterId}.intranet.example:6443`,
            masterPublicIp: `${ask.clusterId}.public.example`,
        });
        assert.deepEqual(privateListed.connections, { apiServerIntranet: "https://10.0.0.1:6443" });
        const managed = await client.invoke("alicloud:cs/getManagedKubernetesClusters:getManagedKubernetesClusters", {
            ids: [ask.clusterId],
            enableDetails: true,
        });
        assertShape(managed.result, "cs/getManagedKubernetesClusters.d.ts", "GetManagedKubernetesClustersResult");
        const [managedListed] = managed.result.clusters as Props[];
        assertShape(managedListed, "types/output.d.ts", "GetManagedKubernetesClustersCluster", "cs");
        assert.equal((managedListed.connections as Props).serviceDomain, `*.${ask.clusterId}.${REGION}.alicontainer.com`);

        const credential = await client.invoke("alicloud:cs/getClusterCredential:getClusterCredential", {
            clusterId: ask.clusterId,
            temporaryDurationMinutes: 15,
        });
        assertShape(credential.result, "cs/getClusterCredential.d.ts", "GetClusterCredentialResult");
        assert.equal(credential.result.kubeConfig, kubeconfig(ask.clusterId, 15, false));
        assert.deepEqual(credential.result.certificateAuthority, {
            clusterCert: Buffer.from(`CA of ${ask.clusterId}`).toString("base64"),
            clientCert: Buffer.from("client cert").toString("base64"),
            clientKey: Buffer.from("client key").toString("base64"),
        });
        assert.ok(!JSON.stringify(credential.result).includes(SIG_KEY), "the bridge returns invoke results without secrets");
        await assert.rejects(client.invoke("alicloud:cs/getClusterCredential:getClusterCredential", { clusterId: "c-none" }), /ErrorClusterNotFound/);
    });

    it("sees none of the stand-in's regional resources when configured for another region", async () => {
        const key = standIn.addKey();
        try {
            await client.configure({ region: "cn-beijing" });
            assert.deepEqual((await client.invoke("alicloud:kms/getKeys:getKeys", { ids: [key.keyId] })).result.ids, []);
            assert.equal((await client.read(key.keyId, urnOf(KEY, "elsewhere"))).id, "");
            await assert.rejects(client.create(urnOf(KEY, "elsewhere"), {}), /serves region cn-hangzhou only/);
        } finally {
            await client.configure({ region: REGION });
        }
    });

    it("previews without touching the account, and keeps secret inputs secret", async () => {
        const before = standIn.keys.size;
        const urn = urnOf(KEY, "previewed");
        const preview = await client.create(urn, { description: "d", protectionLevel: "SOFTWARE" }, true);
        assert.deepEqual([preview.id, preview.outs.arn, preview.outs.description, standIn.keys.size], ["", UNKNOWN, "d", before]);
        const { inputs } = await client.check(urn, {}, { description: secret("classified"), pendingWindowInDays: 7 });
        const created = await client.create(urn, inputs);
        const refreshed = await client.read(created.id, urn, created.outs, inputs);
        assert.deepEqual(refreshed.raw.description, { [SIG_KEY]: SECRET_SIG, value: "classified" });
        assert.equal(typeof refreshed.raw.arn, "string");
    });
});

const cliAvailable = fs.existsSync(PULUMI_BIN);

(cliAvailable ? describe : describe.skip)("support: alicloud stand-in plugin under the Pulumi CLI", function () {
    this.timeout(60_000);
    let standIn: AlibabaStandIn;
    let root: string;

    before(async () => {
        standIn = await startAlibabaStandIn({ regionId: REGION });
        root = fs.mkdtempSync(path.join(os.tmpdir(), "alicloud-plugin-cli-"));
    });
    after(async () => {
        await standIn?.close();
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it("installs with `pulumi plugin install --file`, is listed, and the engine drives it (refresh, destroy)", async () => {
        const home = path.join(root, "home");
        const installed = await installStandInAlicloudPlugin(home, PULUMI_BIN);
        assert.ok(fs.statSync(installed).mode & 0o100, "the installed plugin is executable");
        const env = { ...offlinePulumiEnv(home), ...alicloudPluginEnv(standIn), PULUMI_CONFIG_PASSPHRASE: "test", PULUMI_BACKEND_URL: `file://${root}/state` };
        const project = path.join(root, "project");
        fs.mkdirSync(project);
        fs.mkdirSync(path.join(root, "state"));
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: plugin-smoke\nruntime: nodejs\n");
        // Async: the stand-in the plugin calls lives in this process.
        const pulumi = async (...args: string[]) => (await promisify(execFile)(PULUMI_BIN, args, { cwd: project, env, timeout: 50_000 })).stdout;

        const listed = await pulumi("plugin", "ls");
        assert.match(listed, /alicloud\s+resource\s+3\.108\.0/);
        const started = await startPluginProcess(installed, { PATH: process.env.PATH, ...alicloudPluginEnv(standIn) }, project);
        await started.close();

        // A stack holding a key (imported state: no language host needed), refreshed and destroyed by the engine.
        const key = standIn.addKey({ deletionProtection: "Disabled", description: "changed outside" });
        await pulumi("stack", "init", "dev");
        const stack = "urn:pulumi:dev::plugin-smoke::pulumi:pulumi:Stack::plugin-smoke-dev";
        const providerUrn = "urn:pulumi:dev::plugin-smoke::pulumi:providers:alicloud::default_3_108_0";
        const providerId = crypto.randomUUID();
        const keyUrn = "urn:pulumi:dev::plugin-smoke::alicloud:kms/key:Key::k";
        const deployment = {
            version: 3,
            deployment: {
                manifest: { time: new Date().toISOString(), magic: crypto.createHash("sha256").update("v3.248.0").digest("hex"), version: "v3.248.0" },
                resources: [
                    { urn: stack, custom: false, type: "pulumi:pulumi:Stack" },
                    {
                        urn: providerUrn,
                        custom: true,
                        id: providerId,
                        type: "pulumi:providers:alicloud",
                        inputs: { region: REGION, version: "3.108.0" },
                        outputs: { region: REGION, version: "3.108.0" },
                        parent: stack,
                    },
                    {
                        urn: keyUrn,
                        custom: true,
                        id: key.keyId,
                        type: KEY,
                        inputs: { __defaults: [], description: "mine", pendingWindowInDays: 7 },
                        outputs: { description: "mine", pendingWindowInDays: 7 },
                        parent: stack,
                        provider: `${providerUrn}::${providerId}`,
                    },
                ],
            },
        };
        fs.writeFileSync(path.join(root, "deployment.json"), JSON.stringify(deployment));
        await pulumi("stack", "import", "--file", path.join(root, "deployment.json"));
        await pulumi("refresh", "--yes", "--skip-preview");
        const exported = JSON.parse(await pulumi("stack", "export")) as { deployment: { resources: { urn: string; outputs?: Props; inputs?: Props }[] } };
        const refreshed = exported.deployment.resources.find((r) => r.urn === keyUrn)!;
        assert.deepEqual(
            [refreshed.outputs?.description, refreshed.outputs?.arn, refreshed.inputs?.description],
            ["changed outside", key.arn, "changed outside"],
        );
        await pulumi("destroy", "--yes", "--skip-preview");
        assert.equal(standIn.keys.get(key.keyId)!.keyState, "PendingDeletion");
    });
});
