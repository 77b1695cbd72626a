// One identity: the dynamic providers act as the identity the stack's alicloud
// provider would use, from the stack config the engine sends to the provider
// host's `configure` (one host per identity: config is read once per process).
// The stand-in records which AccessKeyId signed each call.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveStackIdentity, StackIdentity } from "../../components/alibaba/identity";
import { PROJECT } from "../../components/config";
import { planProgram, readStackConfig } from "../../plan/planner";
import { AlibabaStandIn, standInHostEnv, startAlibabaStandIn } from "../support/alibabaStandIn/index";
import { Props, PROJECT_DIR, ProviderHost, startProviderHost } from "../support/providerHost";
import { CLUSTER_ENCRYPTION_TYPE, RegisteredDynamicResource, registeredDynamicResources, SECRET_ROTATION_TYPE } from "../support/registered";

const REGION = "cn-hangzhou";

function reader(config: Record<string, string>) {
    return { get: (key: string) => config[key] };
}

describe("stack identity: the alicloud provider's order of precedence (plain functions)", () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "identity-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function profileFile(profiles: object[]): string {
        const file = path.join(dir, `config-${Math.random().toString(16).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify({ current: "x", profiles }));
        return file;
    }
    const keyOf = (identity: StackIdentity | undefined) => (identity?.base.kind === "accessKey" ? identity.base : undefined);

    it("explicit config beats every environment variable; ALICLOUD_* beats ALIBABA_CLOUD_*", () => {
        const env = {
            ALICLOUD_ACCESS_KEY: "ak-alicloud-env",
            ALICLOUD_SECRET_KEY: "s1",
            ALIBABA_CLOUD_ACCESS_KEY_ID: "ak-alibaba-env",
            ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s2",
        };
        const fromConfig = resolveStackIdentity(reader({ "alicloud:accessKey": "ak-config", "alicloud:secretKey": "s0" }), env);
        assert.deepEqual(
            [keyOf(fromConfig)?.accessKeyId, keyOf(fromConfig)?.accessKeySecret, fromConfig?.source],
            ["ak-config", "s0", "stack config alicloud:accessKey"],
        );
        const fromEnv = resolveStackIdentity(reader({}), env);
        assert.deepEqual([keyOf(fromEnv)?.accessKeyId, keyOf(fromEnv)?.accessKeySecret], ["ak-alicloud-env", "s1"]);
        const alibabaOnly = resolveStackIdentity(reader({}), { ALIBABA_CLOUD_ACCESS_KEY_ID: "ak-alibaba-env", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s2" });
        assert.equal(keyOf(alibabaOnly)?.accessKeyId, "ak-alibaba-env");
    });

    it("reads a named profile only, per mode; ignores a missing file, a missing name and a profile without a mode", () => {
        const file = profileFile([
            { name: "ak", mode: "AK", access_key_id: "ak-profile", access_key_secret: "sp", region_id: "cn-beijing" },
            { name: "sts", mode: "StsToken", access_key_id: "STS.p", access_key_secret: "sp", sts_token: "tok" },
            { name: "role", mode: "RamRoleArn", access_key_id: "ak-base", access_key_secret: "sb", ram_role_arn: "acs:ram::1:role/ops", ram_session_name: "s" },
            { name: "ecs", mode: "EcsRamRole", ram_role_name: "node-role" },
            { name: "sso", mode: "CloudSSO" },
            { name: "modeless", access_key_id: "ak-ignored", access_key_secret: "x" },
        ]);
        const config = (profile: string, extra: Record<string, string> = {}) =>
            reader({ "alicloud:profile": profile, "alicloud:sharedCredentialsFile": file, ...extra });
        assert.equal(resolveStackIdentity(reader({ "alicloud:sharedCredentialsFile": file }), {}), undefined, "an unnamed profile is not read");
        const ak = resolveStackIdentity(config("ak"), {});
        assert.deepEqual([keyOf(ak)?.accessKeyId, ak?.region, ak?.source], ["ak-profile", "cn-beijing", 'profile "ak"']);
        assert.equal(keyOf(resolveStackIdentity(config("sts"), {}))?.securityToken, "tok");
        const role = resolveStackIdentity(config("role", { "alicloud:region": REGION }), {});
        assert.deepEqual(
            [keyOf(role)?.accessKeyId, role?.assumeRole?.roleArn, role?.assumeRole?.stsEndpoint],
            ["ak-base", "acs:ram::1:role/ops", "sts.cn-hangzhou.aliyuncs.com"],
        );
        const overridden = resolveStackIdentity(config("role", { "alicloud:assumeRole": JSON.stringify({ roleArn: "acs:ram::1:role/other" }) }), {});
        assert.equal(overridden?.assumeRole?.roleArn, "acs:ram::1:role/other", "alicloud:assumeRole overrides the profile's role");
        assert.equal(keyOf(resolveStackIdentity(config("ak", { "alicloud:accessKey": "ak-config", "alicloud:secretKey": "s" }), {}))?.accessKeyId, "ak-config");
        assert.deepEqual(resolveStackIdentity(config("ecs"), {})?.base, { kind: "ecsRole", roleName: "node-role" });
        assert.deepEqual(resolveStackIdentity(config("sso"), {})?.base, { kind: "cliProfile", profileName: "sso" });
        assert.equal(resolveStackIdentity(config("modeless"), {}), undefined);
        assert.equal(resolveStackIdentity(config("nobody"), {}), undefined);
        assert.equal(
            resolveStackIdentity(reader({ "alicloud:profile": "p", "alicloud:sharedCredentialsFile": path.join(dir, "missing.json") }), {}),
            undefined,
        );
        // A leftover profile name does not matter once keys come from elsewhere.
        assert.equal(
            keyOf(resolveStackIdentity(reader({ "alicloud:accessKey": "a", "alicloud:secretKey": "b" }), { ALICLOUD_PROFILE: "gone" }))?.accessKeyId,
            "a",
        );
    });

    it("without keys: a credentials URI, then an ECS RAM role, then OIDC", () => {
        assert.deepEqual(resolveStackIdentity(reader({ "alicloud:credentialsUri": "http://127.0.0.1:9/creds", "alicloud:ecsRoleName": "r" }), {})?.base, {
            kind: "credentialsUri",
            uri: "http://127.0.0.1:9/creds",
        });
        assert.deepEqual(resolveStackIdentity(reader({}), { ALICLOUD_ECS_ROLE_NAME: "node-role" })?.base, { kind: "ecsRole", roleName: "node-role" });
        const oidc = resolveStackIdentity(
            reader({
                "alicloud:region": REGION,
                "alicloud:assumeRoleWithOidc": JSON.stringify({
                    roleArn: "acs:ram::1:role/o",
                    oidcProviderArn: "acs:ram::1:oidc-provider/p",
                    oidcTokenFile: "/var/run/token",
                }),
            }),
            {},
        );
        assert.equal(oidc?.base.kind, "oidc");
        assert.throws(
            () => resolveStackIdentity(reader({ "alicloud:assumeRoleWithOidc": JSON.stringify({ roleArn: "r" }) }), {}),
            /needs roleArn, oidcProviderArn and oidcTokenFile/,
        );
    });

    it("layers assumeRole on the base credential, with the configured STS endpoint, and refuses it without a base", () => {
        const config = {
            "alicloud:accessKey": "ak",
            "alicloud:secretKey": "s",
            "alicloud:region": "ap-southeast-1",
            "alicloud:assumeRole": JSON.stringify({ roleArn: "acs:ram::1:role/deployer", sessionExpiration: 1800, externalId: "x-1" }),
            "alicloud:endpoints": JSON.stringify([{ sts: "https://sts-vpc.example.internal", cs: "cs-vpc.example.internal", kms: "http://127.0.0.1:9" }]),
        };
        const identity = resolveStackIdentity(reader(config), {});
        assert.deepEqual(identity?.assumeRole, {
            roleArn: "acs:ram::1:role/deployer",
            sessionName: "terraform",
            policy: undefined,
            externalId: "x-1",
            sessionExpiration: 1800,
            stsEndpoint: "sts-vpc.example.internal",
        });
        assert.deepEqual(identity?.endpoints, { cs: "cs-vpc.example.internal", kms: "http://127.0.0.1:9" });
        const onEcsRole = resolveStackIdentity(
            reader({ "alicloud:ecsRoleName": "node", "alicloud:assumeRole": JSON.stringify({ roleArn: "acs:ram::1:role/r" }) }),
            {},
        );
        assert.deepEqual([onEcsRole?.base.kind, onEcsRole?.assumeRole?.roleArn], ["ecsRole", "acs:ram::1:role/r"]);
        assert.throws(
            () => resolveStackIdentity(reader({ "alicloud:assumeRole": JSON.stringify({ roleArn: "acs:ram::1:role/r" }) }), {}),
            /needs a base credential/,
        );
        assert.throws(
            () => resolveStackIdentity(reader({ ...config, "alicloud:assumeRole": JSON.stringify({ roleArn: "r", sessionExpiration: 60 }) }), {}),
            /sessionExpiration must be a whole number of seconds from 900 to 43200/,
        );
        assert.throws(() => resolveStackIdentity(reader({ "alicloud:accessKey": "ak" }), {}), /no secret for it: set alicloud:secretKey/);
    });

    it("names no credential when nothing does (configure then refuses, as the alicloud provider would)", () => {
        assert.equal(resolveStackIdentity(reader({ "alicloud:region": REGION }), {}), undefined);
    });
});

describe("stack identity through Pulumi's provider host", function () {
    this.timeout(60_000);
    let encryption: RegisteredDynamicResource;
    let rotation: RegisteredDynamicResource;
    let standIn: AlibabaStandIn;
    let dir: string;
    const hosts: ProviderHost[] = [];

    before(async () => {
        const registered = await registeredDynamicResources();
        encryption = registered[CLUSTER_ENCRYPTION_TYPE];
        rotation = registered[SECRET_ROTATION_TYPE];
        standIn = await startAlibabaStandIn({ regionId: REGION, sts: true });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "identity-host-"));
        standIn.addAccessKey("LTAIconfigKey000001", "config-secret-0001");
        standIn.addAccessKey("LTAIprofileKey00001", "profile-secret-001");
        standIn.addAccessKey("LTAIalicloudEnv0001", "env-secret-00001");
        standIn.addRole({ roleArn: "acs:ram::1234567890:role/ask-deployer", trustedAccessKeyIds: ["LTAIconfigKey000001"] });
    });
    after(async () => {
        await Promise.all(hosts.map((h) => h.close()));
        await standIn?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** The default chain's variables, set to the stand-in's own key: a call that ignores the stack's identity shows up. */
    const defaultChain = () => ({ ALIBABA_CLOUD_ACCESS_KEY_ID: standIn.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: standIn.accessKeySecret });
    async function hostWith(config: Record<string, string>, secretKeys: string[], env: NodeJS.ProcessEnv = defaultChain()): Promise<ProviderHost> {
        const home = fs.mkdtempSync(path.join(dir, "home-"));
        const host = await startProviderHost({ env: standInHostEnv(standIn, home, env) });
        hosts.push(host);
        await host.configure(config, secretKeys);
        return host;
    }
    function encryptionInputs(): Props {
        const cluster = standIn.addCluster();
        const key = standIn.addKey();
        return { ...encryption.inputs, clusterId: cluster.clusterId, kmsKeyId: key.keyId, regionId: REGION, pollIntervalSeconds: 1, conflictBackoffSeconds: 1 };
    }
    /** Runs a preflight and a rotation diff; returns who signed each CS/KMS call they made. */
    async function signersOf(host: ProviderHost): Promise<string[]> {
        const from = standIn.calls.length;
        const inputs = encryptionInputs();
        assert.deepEqual((await host.check(encryption.urn, {}, inputs)).failures, []);
        const rotationInputs = { ...rotation.inputs, clusterId: inputs.clusterId, kmsKeyId: inputs.kmsKeyId, regionId: REGION };
        await host.diff("id", rotation.urn, { ...rotationInputs, keyVersion: "old", verified: true }, rotationInputs);
        const made = standIn.calls.slice(from).filter((c) => c.service !== "sts");
        assert.deepEqual(
            made.map((c) => c.status),
            made.map(() => 200),
            JSON.stringify(made.map((c) => [c.action, c.status])),
        );
        return [...new Set(made.map((c) => c.accessKeyId ?? "?"))];
    }

    it("explicit keys in the stack config (the secret key marked secret) sign every call of both providers", async () => {
        const host = await hostWith({ "alicloud:region": REGION, "alicloud:accessKey": "LTAIconfigKey000001", "alicloud:secretKey": "config-secret-0001" }, [
            "alicloud:secretKey",
        ]);
        assert.deepEqual(await signersOf(host), ["LTAIconfigKey000001"]);
        assert.doesNotMatch(host.stderr(), /config-secret-0001/);
    });

    it("a named profile from alicloud:sharedCredentialsFile (keys in the environment would win over it, as in the alicloud provider)", async () => {
        const file = path.join(dir, "aliyun-config.json");
        fs.writeFileSync(
            file,
            JSON.stringify({
                current: "default",
                profiles: [{ name: "platform", mode: "AK", access_key_id: "LTAIprofileKey00001", access_key_secret: "profile-secret-001", region_id: REGION }],
            }),
        );
        const host = await hostWith({ "alicloud:region": REGION, "alicloud:profile": "platform", "alicloud:sharedCredentialsFile": file }, [], {});
        assert.deepEqual(await signersOf(host), ["LTAIprofileKey00001"]);
    });

    it("the alicloud provider's own environment variables (ALICLOUD_ACCESS_KEY) before ALIBABA_CLOUD_*", async () => {
        const host = await hostWith({ "alicloud:region": REGION }, [], {
            ...defaultChain(),
            ALICLOUD_ACCESS_KEY: "LTAIalicloudEnv0001",
            ALICLOUD_SECRET_KEY: "env-secret-00001",
        });
        assert.deepEqual(await signersOf(host), ["LTAIalicloudEnv0001"]);
    });

    it("assumeRole layered on the base keys: STS over TLS is signed by the base key, every other call by the role's temporary key", async () => {
        const host = await hostWith(
            {
                "alicloud:region": REGION,
                "alicloud:accessKey": "LTAIconfigKey000001",
                "alicloud:secretKey": "config-secret-0001",
                "alicloud:assumeRole": JSON.stringify({ roleArn: "acs:ram::1234567890:role/ask-deployer", sessionName: "ask-kms" }),
                "alicloud:endpoints": JSON.stringify([{ sts: standIn.stsEndpoint }]),
            },
            ["alicloud:secretKey"],
            { ...defaultChain(), NODE_EXTRA_CA_CERTS: standIn.stsCaFile },
        );
        const from = standIn.calls.length;
        const signers = await signersOf(host);
        assert.equal(signers.length, 1, JSON.stringify(standIn.calls.slice(from).map((c) => [c.service, c.action, c.accessKeyId])));
        assert.match(signers[0], /^STS\./);
        const sts = standIn.calls.slice(from).filter((c) => c.service === "sts");
        assert.equal(sts.length, 1, "one AssumeRole, its token reused");
        assert.deepEqual(
            [sts[0].accessKeyId, sts[0].query.RoleArn, sts[0].query.RoleSessionName],
            ["LTAIconfigKey000001", "acs:ram::1234567890:role/ask-deployer", "ask-kms"],
        );
        const signed = standIn.calls.slice(from).filter((c) => c.service !== "sts");
        assert.ok(
            signed.every((c) => typeof c.securityToken === "string" && c.securityToken.startsWith("CAIS")),
            "calls carry the role's security token",
        );
    });

    it("alicloud:endpoints' cs and kms entries, with no environment override", async () => {
        const home = fs.mkdtempSync(path.join(dir, "home-"));
        const host = await startProviderHost({ env: { HOME: home, ALIBABA_CLOUD_ECS_METADATA_DISABLED: "true" } });
        hosts.push(host);
        await host.configure(
            {
                "alicloud:region": REGION,
                "alicloud:accessKey": "LTAIconfigKey000001",
                "alicloud:secretKey": "config-secret-0001",
                "alicloud:endpoints": JSON.stringify([{ cs: standIn.csEndpoint, kms: standIn.kmsEndpoint }]),
            },
            ["alicloud:secretKey"],
        );
        assert.deepEqual(await signersOf(host), ["LTAIconfigKey000001"]);
    });

    it("assumeRole layered on a base that is not a key (a credentials URI)", async () => {
        standIn.addRole({ roleArn: "acs:ram::1234567890:role/from-uri", trustedAccessKeyIds: ["*"] });
        const host = await hostWith(
            {
                "alicloud:region": REGION,
                "alicloud:credentialsUri": standIn.credentialsUri,
                "alicloud:assumeRole": JSON.stringify({ roleArn: "acs:ram::1234567890:role/from-uri" }),
                "alicloud:endpoints": JSON.stringify([{ sts: standIn.stsEndpoint }]),
            },
            [],
            // No keys in the environment: they would win over the URI, as in the alicloud provider.
            { NODE_EXTRA_CA_CERTS: standIn.stsCaFile },
        );
        const from = standIn.calls.length;
        const signers = await signersOf(host);
        const sts = standIn.calls.slice(from).filter((c) => c.service === "sts");
        assert.deepEqual(
            sts.map((c) => c.action),
            ["CredentialsURI", "AssumeRole"],
        );
        assert.equal(sts[1].accessKeyId, sts[0].accessKeyId, "AssumeRole is signed by the key the URI handed out");
        assert.equal(signers.length, 1);
        assert.notEqual(signers[0], sts[0].accessKeyId, "calls run as the role, not as the base");
    });

    it("a stack config with no credential anywhere: every call says so, naming the settings (no other identity)", async () => {
        const host = await hostWith({ "alicloud:region": REGION }, [], {});
        for (let attempt = 0; attempt < 2; attempt++) {
            await assert.rejects(
                host.check(encryption.urn, {}, encryptionInputs()),
                /The stack has no Alibaba Cloud credential, so its alicloud provider could not run either\. Set alicloud:accessKey/,
            );
        }
    });

    it("an older CLI that sends no stack config: one warning naming 3.139.0, then the default credential chain", async () => {
        const host = await hostWith({}, []);
        assert.deepEqual(await signersOf(host), [standIn.accessKeyId]);
        const warnings = host.stderr().match(/sent no stack config to the dynamic providers \(it does from 3\.139\.0 on\)/g) ?? [];
        assert.equal(warnings.length, 1, host.stderr());
    });

    it("a broken identity config fails every call with the reason, never falls back to another identity", async () => {
        const host = await startProviderHost({ env: standInHostEnv(standIn, fs.mkdtempSync(path.join(dir, "home-")), defaultChain()) });
        hosts.push(host);
        await host.configure({ "alicloud:region": REGION, "alicloud:accessKey": "a", "alicloud:secretKey": "b", "alicloud:assumeRole": "not json" }, []);
        const inputs = encryptionInputs();
        for (let attempt = 0; attempt < 2; attempt++) {
            await assert.rejects(host.check(encryption.urn, {}, inputs), /alicloud:assumeRole is not an object/);
        }
    });

    it("no credential reaches `__provider`, any registered input, or the outputs", async () => {
        const credentials = {
            "alicloud:accessKey": "LTAIconfigKey000001",
            "alicloud:secretKey": "config-secret-0001",
            "alicloud:securityToken": "CAIStoken-in-config",
        };
        // The program run with the credentials in its stack config, as `pulumi up` would run it.
        const stack = readStackConfig(PROJECT_DIR, "dev", PROJECT);
        const config = { config: { ...stack.config, ...credentials }, secretKeys: [...stack.secretKeys, "alicloud:secretKey", "alicloud:securityToken"] };
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, loaded the way the plan loads it
        const planned = await planProgram({ program: require("../../index"), project: PROJECT, stack: "dev", config });
        const host = await hostWith({ "alicloud:region": REGION, ...credentials }, ["alicloud:secretKey", "alicloud:securityToken"], {});
        standIn.addAccessKey("LTAIconfigKey000001", "config-secret-0001", "CAIStoken-in-config");
        const created = await host.create(encryption.urn, encryptionInputs());
        const everything = JSON.stringify([planned.resources.map((r) => r.wireProps), created.outs, host.stderr()]);
        for (const secret of Object.values(credentials)) assert.ok(!everything.includes(secret), secret);
        assert.ok(
            planned.resources.some((r) => String(r.wireProps.__provider ?? "").length > 0),
            "the plan registered the providers",
        );
    });
});
