import { strict as assert } from "node:assert";
import * as http from "node:http";
import * as path from "node:path";
import { tcpReachable } from "../../components/kube/reachability";
import { resolveClusterAccess } from "../../components/component/lookups";
import * as pulumi from "@pulumi/pulumi";
import { InvokeAnswer, planProgram, Plan, PlannedResource, readStackConfig, StackConfig } from "../../plan/planner";
import { ENCRYPTION_TIMING, NumberSetting, PROJECT, REENCRYPT_TUNING } from "../../components/config";
import * as fs from "node:fs";
import * as ts from "typescript";
import { REPO_ROOT } from "../support/repo";

const ROOT = REPO_ROOT;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, loaded the way the plan loads it
const program = require(path.join(ROOT, "index.ts")) as () => Promise<unknown>;
const CLUSTER = "c8f2a1b3c4d5e6f708192a3b4c5d6e7f8";

function stackConfig(settings: Record<string, unknown>): StackConfig {
    const config: Record<string, string> = { "alicloud:region": "cn-hangzhou" };
    for (const [k, v] of Object.entries(settings)) {
        const full = k.includes(":") ? k : `${PROJECT}:${k}`;
        if (v !== undefined) config[full] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return { config, secretKeys: [] };
}

const INSTANCE = { vpcId: "vpc-bp1a", vswitchIds: ["vsw-bp1a", "vsw-bp1b"], zoneIds: ["cn-hangzhou-k", "cn-hangzhou-j"] };

function plan(settings: Record<string, unknown>, invokes?: Record<string, InvokeAnswer>, sink?: PlannedResource[]): Promise<Plan> {
    return planProgram({ program, project: PROJECT, stack: "test", config: stackConfig(settings), invokes, sink });
}

function only(p: Plan, type: string): PlannedResource {
    const found = p.resources.filter((r) => r.type === type);
    assert.equal(found.length, 1, `expected one ${type}, found ${found.length}: ${p.resources.map((r) => r.type).join(", ")}`);
    return found[0];
}

function none(p: Plan, type: string) {
    assert.deepEqual(
        p.resources.filter((r) => r.type === type).map((r) => r.name),
        [],
        `expected no ${type}`,
    );
}

describe("SecretEncryption component (under Pulumi mocks)", () => {
    describe("the dev stack (full create path)", () => {
        let p: Plan;
        before(async () => {
            p = await planProgram({ program, project: PROJECT, stack: "dev", config: readStackConfig(ROOT, "dev", PROJECT) });
        });

        it("parents every resource to the component", () => {
            const component = only(p, "ask:index:SecretEncryption");
            const children = p.resources.filter((r) => !["pulumi:pulumi:Stack", "ask:index:SecretEncryption"].includes(r.type));
            assert.ok(children.length >= 10, `only ${children.length} children`);
            for (const r of children) assert.equal(r.parent, component.urn, `${r.type} ${r.name} is not parented to the component`);
        });

        it("creates a protected, deletion-protected KMS instance", () => {
            const instance = only(p, "alicloud:kms/instance:Instance");
            assert.equal(instance.protect, true);
            assert.equal(instance.props.deletionProtection, true);
            assert.equal(instance.props.paymentType, "PayAsYouGo");
            assert.equal(instance.props.productVersion, "3");
            assert.deepEqual(instance.props.vswitchIds, ["vsw-bp1example0vsw0k0000000", "vsw-bp1example0vsw0j0000000"]);
        });

        it("creates the key as the guide requires, rotating, deletion-protected and protected", () => {
            const key = only(p, "alicloud:kms/key:Key");
            assert.equal(key.protect, true);
            assert.equal(key.read, undefined);
            const expected = {
                keySpec: "Aliyun_AES_256",
                keyUsage: "ENCRYPT/DECRYPT",
                origin: "Aliyun_KMS",
                protectionLevel: "SOFTWARE",
                automaticRotation: "Enabled",
                rotationInterval: "7776000s",
                deletionProtection: "Enabled",
                status: "Enabled",
                pendingWindowInDays: 30,
            };
            for (const [k, v] of Object.entries(expected)) assert.equal(key.props[k], v, `key.${k}`);
            const instance = only(p, "alicloud:kms/instance:Instance");
            // A preview: the instance does not exist yet, so its ID is unknown.
            assert.equal(key.props.dkmsInstanceId, "[unknown]");
            assert.ok(key.propertyDependencies.dkmsInstanceId?.includes(instance.urn), "dkmsInstanceId does not come from the instance");
            assert.match(String(key.props.deletionProtectionDescription), new RegExp(CLUSTER));
            assert.deepEqual(key.props.tags, { "ask-cluster-id": CLUSTER, purpose: "k8s-secret-encryption", team: "platform" });
        });

        it("creates the security role trusting cs.aliyuncs.com with its system policy, kept on stack deletion", () => {
            const role = only(p, "alicloud:ram/role:Role");
            assert.equal(role.props.roleName, "AliyunCSManagedSecurityRole");
            const trust = JSON.parse(String(role.props.assumeRolePolicyDocument));
            assert.deepEqual(trust.Statement[0].Principal.Service, ["cs.aliyuncs.com"]);
            assert.equal(trust.Statement[0].Action, "sts:AssumeRole");
            assert.equal(role.retainOnDelete, true);
            const attachments = p.resources.filter((r) => r.type === "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment");
            const policy = attachments.find((a) => a.props.policyName === "AliyunCSManagedSecurityRolePolicy");
            assert.ok(policy, "AliyunCSManagedSecurityRolePolicy is not attached");
            assert.equal(policy.props.policyType, "System");
            assert.equal(policy.props.roleName, "AliyunCSManagedSecurityRole");
            assert.equal(policy.retainOnDelete, true);
        });

        it("grants AliyunKMSCryptoAdminAccess to the operating RAM user", () => {
            const grant = only(p, "alicloud:ram/userPolicyAttachment:UserPolicyAttachment");
            assert.deepEqual(
                { policyName: grant.props.policyName, policyType: grant.props.policyType, userName: grant.props.userName },
                { policyName: "AliyunKMSCryptoAdminAccess", policyType: "System", userName: "platform-deployer" },
            );
        });

        it("switches encryption on after the key, role and grants exist", () => {
            const enc = only(p, "pulumi-nodejs:dynamic/ask:ClusterEncryption");
            assert.equal(enc.props.clusterId, CLUSTER);
            assert.equal(enc.props.regionId, "cn-hangzhou");
            const key = only(p, "alicloud:kms/key:Key");
            assert.ok(enc.propertyDependencies.kmsKeyId?.includes(key.urn), "kmsKeyId is not the key's ID");
            for (const needed of [
                key,
                only(p, "alicloud:ram/role:Role"),
                only(p, "alicloud:ram/userPolicyAttachment:UserPolicyAttachment"),
                only(p, "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment"),
            ]) {
                assert.ok(enc.dependencies.includes(needed.urn), `cluster encryption does not wait for ${needed.type}`);
            }
        });

        it("re-encrypts with a least-privilege identity after encryption is on", () => {
            const rotation = only(p, "pulumi-nodejs:dynamic/ask:SecretRotation");
            const enc = only(p, "pulumi-nodejs:dynamic/ask:ClusterEncryption");
            assert.ok(rotation.dependencies.includes(enc.urn), "rotation does not wait for cluster encryption");
            assert.equal(rotation.props.annotationKey, "encryption-key-rotation-time");
            assert.equal(rotation.props.concurrency, 8);
            assert.equal(rotation.props.qps, 100);
            const clusterRole = only(p, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
            assert.deepEqual(clusterRole.props.rules, [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "patch"] }]);
            const account = only(p, "kubernetes:core/v1:ServiceAccount");
            assert.deepEqual((account.props.metadata as Record<string, unknown>).name, "ask-secret-reencryptor");
            const binding = only(p, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
            assert.equal((binding.props.subjects as Array<Record<string, unknown>>)[0].name, "ask-secret-reencryptor");
            const provider = only(p, "pulumi:providers:kubernetes");
            const kubeconfig = JSON.parse(String(provider.props.kubeconfig));
            assert.deepEqual(kubeconfig.users[0].user.exec.args.slice(0, 7), [
                "dist/components/cli/clusterCredential.js",
                "--cluster-id",
                CLUSTER,
                "--region",
                "cn-hangzhou",
                "--endpoint",
                "public",
            ]);
            assert.equal(kubeconfig.clusters[0].cluster.server, `https://${CLUSTER}.public.offline:6443`);
        });

        it("registers no credential anywhere: no token, client certificate or key in any input (the kubeconfig is an exec plugin)", () => {
            for (const r of p.resources) {
                const text = JSON.stringify(r.wireProps);
                assert.doesNotMatch(text, /"token"|client-key-data|client-certificate-data|BEGIN (RSA |EC )?PRIVATE KEY|accessKeySecret/, r.urn);
            }
        });

        it("never puts a credential into a dynamic resource's inputs", () => {
            for (const r of p.resources.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic"))) {
                const text = JSON.stringify(r.props);
                assert.doesNotMatch(text, /accessKey|AccessKey|secret_key|token/i, `${r.name} carries a credential-like input`);
            }
        });
    });

    it("adopts an existing key: imports and protects it, creates no instance", async () => {
        const p = await plan({ clusterId: CLUSTER, kmsKeyId: "key-hzz62f1cb66fa42qo5jgx", securityRole: "create" });
        none(p, "alicloud:kms/instance:Instance");
        const key = only(p, "alicloud:kms/key:Key");
        assert.equal(key.read, undefined);
        assert.equal(key.protect, true);
        assert.equal(key.importId, "key-hzz62f1cb66fa42qo5jgx");
        assert.equal(key.props.deletionProtection, "Enabled");
        assert.equal(key.props.automaticRotation, "Enabled");
        const enc = only(p, "pulumi-nodejs:dynamic/ask:ClusterEncryption");
        assert.equal(enc.props.kmsKeyId, "key-hzz62f1cb66fa42qo5jgx");
    });

    it("names every setting the import-then-update would change on an adopted key, before anything happens", async () => {
        const id = "key-hzz62f1cb66fa42qo5jgx";
        const live = { id, keyId: id, keySpec: "Aliyun_AES_256", keyUsage: "ENCRYPT/DECRYPT", automaticRotation: "Disabled", status: "Enabled" };
        const p = await plan({ clusterId: CLUSTER, kmsKeyId: id, securityRole: "create" }, { "alicloud:kms/getKeys:getKeys": { ids: [id], keys: [live] } });
        assert.deepEqual(p.warnings, [
            "adopting key key-hzz62f1cb66fa42qo5jgx: the import is followed by an update that sets automaticRotation from Disabled to Enabled",
            "adopting key key-hzz62f1cb66fa42qo5jgx: its deletionProtection is not visible to the lookup; the import is followed by an update that sets it to Enabled",
            "adopting key key-hzz62f1cb66fa42qo5jgx: it has no rotationInterval; the update sets 31536000s (365 days), which turning rotation on needs",
        ]);
        assert.equal(only(p, "alicloud:kms/key:Key").props.rotationInterval, "31536000s");
    });

    it("adopts a KMS 1.0 key (a UUID ID) the same way", async () => {
        const id = "05754286-3ba2-4fa6-8d41-4323aca6a4c2";
        const live = {
            id,
            keyId: id,
            keySpec: "Aliyun_AES_256",
            keyUsage: "ENCRYPT/DECRYPT",
            automaticRotation: "Enabled",
            rotationInterval: "7776000s",
            status: "Enabled",
        };
        const p = await plan({ clusterId: CLUSTER, kmsKeyId: id, securityRole: "create" }, { "alicloud:kms/getKeys:getKeys": { ids: [id], keys: [live] } });
        none(p, "alicloud:kms/instance:Instance");
        assert.equal(only(p, "alicloud:kms/key:Key").importId, id);
        assert.equal(only(p, "alicloud:kms/key:Key").props.rotationInterval, "7776000s", "a key that rotates keeps its own interval");
        assert.equal(only(p, "pulumi-nodejs:dynamic/ask:ClusterEncryption").props.kmsKeyId, id);
        assert.deepEqual(p.warnings, [
            `adopting key ${id}: its deletionProtection is not visible to the lookup; the import is followed by an update that sets it to Enabled`,
        ]);
    });

    it("refuses to adopt a key whose spec or usage differs (a replacement protect would block), registering nothing", async () => {
        const registered: PlannedResource[] = [];
        const id = "key-hzz62f1cb66fa42qo5jgx";
        const lookup = {
            "alicloud:kms/getKeys:getKeys": {
                ids: [id],
                keys: [{ id, keyId: id, keySpec: "Aliyun_SM4", keyUsage: "SIGN/VERIFY", automaticRotation: "Enabled", status: "Enabled" }],
            },
        };
        await assert.rejects(plan({ clusterId: CLUSTER, kmsKeyId: id, securityRole: "create" }, lookup, registered), (e: Error) => {
            assert.ok(pulumi.RunError.isInstance(e));
            assert.match(
                e.message,
                new RegExp(
                    `${PROJECT}:kmsKeyId: key ${id} has keySpec Aliyun_SM4, Secret encryption needs Aliyun_AES_256; adopting it would need a replacement`,
                ),
            );
            assert.match(e.message, /has keyUsage SIGN\/VERIFY/);
            return true;
        });
        assert.deepEqual(
            registered.map((r) => r.type).filter((t) => t !== "pulumi:pulumi:Stack"),
            [],
        );
        const missing = { "alicloud:kms/getKeys:getKeys": { ids: [], keys: [] } };
        await assert.rejects(
            plan({ clusterId: CLUSTER, kmsKeyId: id, securityRole: "create" }, missing),
            /key key-hzz62f1cb66fa42qo5jgx was not found in the stack's region/,
        );
    });

    it("checks each vSwitch's zone against zoneIds by position, from the vSwitch lookup, before registering anything", async () => {
        const registered: PlannedResource[] = [];
        const switches = {
            ids: INSTANCE.vswitchIds,
            vswitches: [
                { id: "vsw-bp1a", zoneId: "cn-hangzhou-j" },
                { id: "vsw-bp1b", zoneId: "cn-hangzhou-k" },
            ],
        };
        await assert.rejects(
            plan({ clusterId: CLUSTER, kmsInstance: INSTANCE }, { "alicloud:vpc/getSwitches:getSwitches": switches }, registered),
            (e: Error) => {
                assert.ok(pulumi.RunError.isInstance(e));
                assert.match(
                    e.message,
                    new RegExp(
                        `${PROJECT}:kmsInstance.vswitchIds: vSwitch vsw-bp1a is in zone cn-hangzhou-j, but it is paired with zoneIds\\[0\\] = cn-hangzhou-k`,
                    ),
                );
                return true;
            },
        );
        assert.deepEqual(
            registered.map((r) => r.type).filter((t) => t !== "pulumi:pulumi:Stack"),
            [],
        );
        const paired = {
            ids: INSTANCE.vswitchIds,
            vswitches: [
                { id: "vsw-bp1a", zoneId: "cn-hangzhou-k" },
                { id: "vsw-bp1b", zoneId: "cn-hangzhou-j" },
            ],
        };
        const p = await plan({ clusterId: CLUSTER, kmsInstance: INSTANCE }, { "alicloud:vpc/getSwitches:getSwitches": paired });
        only(p, "alicloud:kms/instance:Instance");
    });

    it("creates an HSM key on a hardware instance (productVersion 5)", async () => {
        const p = await plan({ clusterId: CLUSTER, kmsInstance: { ...INSTANCE, productVersion: "5" } });
        assert.equal(only(p, "alicloud:kms/instance:Instance").props.productVersion, "5");
        assert.equal(only(p, "alicloud:kms/key:Key").props.protectionLevel, "HSM");
    });

    describe("clusterEndpoint: the API endpoint the cluster actually has (from the cluster lookup)", () => {
        const lookup = (connections: Record<string, string>) => ({
            "alicloud:cs/getServerlessKubernetesClusters:getServerlessKubernetesClusters": { ids: [CLUSTER], clusters: [{ id: CLUSTER, connections }] },
        });
        const execArgs = (p: Plan) => JSON.parse(String(only(p, "pulumi:providers:kubernetes").props.kubeconfig)).users[0].user.exec.args as string[];
        const serverOf = (p: Plan) => JSON.parse(String(only(p, "pulumi:providers:kubernetes").props.kubeconfig)).clusters[0].cluster.server;

        it("auto uses the intranet endpoint of a cluster without a public one, for the RBAC identity and the rotation", async () => {
            const p = await plan(
                { clusterId: CLUSTER, kmsInstance: INSTANCE },
                lookup({ apiServerIntranet: "https://192.168.0.10:6443", apiServerInternet: "" }),
            );
            assert.equal(serverOf(p), "https://192.168.0.10:6443");
            assert.equal(execArgs(p)[execArgs(p).indexOf("--endpoint") + 1], "private");
            assert.equal(only(p, "pulumi-nodejs:dynamic/ask:SecretRotation").props.clusterEndpoint, "private");
        });

        it("auto prefers the public endpoint when there is one; private can be chosen", async () => {
            const both = lookup({ apiServerIntranet: "https://192.168.0.10:6443", apiServerInternet: "https://47.1.2.3:6443" });
            assert.equal(serverOf(await plan({ clusterId: CLUSTER, kmsInstance: INSTANCE }, both)), "https://47.1.2.3:6443");
            const chosen = await plan({ clusterId: CLUSTER, kmsInstance: INSTANCE, clusterEndpoint: "private" }, both);
            assert.equal(serverOf(chosen), "https://192.168.0.10:6443");
        });

        it("refuses an endpoint the cluster does not have, naming the other choice, before registering anything", async () => {
            const registered: PlannedResource[] = [];
            const privateOnly = lookup({ apiServerIntranet: "https://192.168.0.10:6443", apiServerInternet: "" });
            await assert.rejects(
                plan({ clusterId: CLUSTER, kmsInstance: INSTANCE, clusterEndpoint: "public" }, privateOnly, registered),
                new RegExp(
                    `${PROJECT}:clusterEndpoint: cluster ${CLUSTER} has no public API endpoint; set clusterEndpoint: private and run \`pulumi up\` where the VPC is reachable`,
                ),
            );
            assert.deepEqual(
                registered.map((r) => r.type).filter((t) => t !== "pulumi:pulumi:Stack"),
                [],
            );
        });

        it("refuses an endpoint that cannot be reached from here, naming what to do (probed against a real engine only)", async () => {
            const answers = (connections: Record<string, string>) => ({
                newResource: (a: pulumi.runtime.MockResourceArgs) => ({ id: undefined, state: a.inputs }),
                call: (a: pulumi.runtime.MockCallArgs) =>
                    a.token.includes("getServerlessKubernetesClusters")
                        ? { ids: [CLUSTER], clusters: [{ id: CLUSTER, connections }] }
                        : a.token.includes("getManagedKubernetesClusters")
                          ? { ids: [], clusters: [] }
                          : { certificateAuthority: { clusterCert: "Q0E=" } },
            });
            await pulumi.runtime.setMocks(answers({ apiServerIntranet: "https://127.0.0.1:1", apiServerInternet: "" }), PROJECT, "test", true, "organization");
            await assert.rejects(
                resolveClusterAccess("auto", CLUSTER, PROJECT, tcpReachable),
                /clusterEndpoint: the cluster's private API endpoint https:\/\/127\.0\.0\.1:1 cannot be reached from here \(ECONNREFUSED\); run `pulumi up` where the cluster's VPC is reachable/,
            );
            const listening = http.createServer().listen(0, "127.0.0.1");
            await new Promise((resolve) => listening.once("listening", resolve));
            try {
                const url = `https://127.0.0.1:${(listening.address() as { port: number }).port}`;
                await pulumi.runtime.setMocks(answers({ apiServerIntranet: url, apiServerInternet: "" }), PROJECT, "test", true, "organization");
                const access = await resolveClusterAccess("auto", CLUSTER, PROJECT, tcpReachable);
                assert.deepEqual([access.endpoint, access.server], ["private", url]);
            } finally {
                listening.close();
            }
        });

        it("passes only non-secret identity hints to the credential helper (profile name, role ARN)", async () => {
            const p = await plan({
                clusterId: CLUSTER,
                kmsInstance: INSTANCE,
                "alicloud:profile": "platform",
                "alicloud:assumeRole": { roleArn: "acs:ram::1:role/deployer" },
                "alicloud:secretKey": "never-in-a-kubeconfig",
            });
            const args = execArgs(p);
            assert.deepEqual(args.slice(7), ["--profile", "platform", "--role-arn", "acs:ram::1:role/deployer"]);
            assert.doesNotMatch(JSON.stringify(p.resources.map((r) => r.wireProps)), /never-in-a-kubeconfig/);
        });
    });

    it("reports every problem the account lookups find at once", async () => {
        const id = "key-hzz62f1cb66fa42qo5jgx";
        const lookups = {
            "alicloud:kms/getKeys:getKeys": { ids: [id], keys: [{ id, keyId: id, keySpec: "Aliyun_SM4", keyUsage: "ENCRYPT/DECRYPT" }] },
            "alicloud:cs/getServerlessKubernetesClusters:getServerlessKubernetesClusters": {
                ids: [CLUSTER],
                clusters: [{ id: CLUSTER, connections: { apiServerIntranet: "https://192.168.0.10:6443", apiServerInternet: "" } }],
            },
        };
        await assert.rejects(plan({ clusterId: CLUSTER, kmsKeyId: id, securityRole: "create", clusterEndpoint: "public" }, lookups), (e: Error) => {
            assert.match(e.message, /2 problems/);
            assert.match(e.message, /kmsKeyId: key key-hzz62f1cb66fa42qo5jgx has keySpec Aliyun_SM4/);
            assert.match(e.message, /clusterEndpoint: cluster \S+ has no public API endpoint/);
            return true;
        });
    });

    it("adopts an existing instance for a new key", async () => {
        const p = await plan({ clusterId: CLUSTER, kmsInstanceId: "kst-hzz634e67d126hgv9mhrm" });
        none(p, "alicloud:kms/instance:Instance");
        assert.equal(only(p, "alicloud:kms/key:Key").props.dkmsInstanceId, "kst-hzz634e67d126hgv9mhrm");
    });

    it("adopts the security role when the account already has it (auto)", async () => {
        const p = await plan(
            { clusterId: CLUSTER, kmsInstance: INSTANCE },
            {
                "alicloud:ram/getRoles:getRoles": {
                    names: ["AliyunCSManagedSecurityRole"],
                    roles: [{ name: "AliyunCSManagedSecurityRole", description: "made by hand", tags: {} }],
                    ids: [],
                },
            },
        );
        none(p, "alicloud:ram/role:Role");
        none(p, "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment");
        only(p, "pulumi-nodejs:dynamic/ask:ClusterEncryption");
        assert.deepEqual(p.warnings, []);
    });

    it("warns, with the migration, when auto finds an untagged role an earlier version of this project made", async () => {
        const role = {
            name: "AliyunCSManagedSecurityRole",
            description: "Container Service uses this role to call KMS for Secret encryption at rest.",
            tags: {},
        };
        const p = await plan(
            { clusterId: CLUSTER, kmsInstance: INSTANCE },
            { "alicloud:ram/getRoles:getRoles": { names: [role.name], roles: [role], ids: [] } },
        );
        none(p, "alicloud:ram/role:Role");
        assert.equal(p.warnings.length, 1);
        assert.match(p.warnings[0], /exists without the ask-kms-secret-encryption-stack tag.*run one `pulumi up` with securityRole: create/);
    });

    it("refuses auto when the role lookup reports no tags, asking for an explicit mode", async () => {
        const lookup = {
            "alicloud:ram/getRoles:getRoles": { names: ["AliyunCSManagedSecurityRole"], roles: [{ name: "AliyunCSManagedSecurityRole" }], ids: [] },
        };
        await assert.rejects(
            plan({ clusterId: CLUSTER, kmsInstance: INSTANCE }, lookup),
            /securityRole: auto cannot tell whether this stack manages AliyunCSManagedSecurityRole.*Set securityRole to create .* or adopt/,
        );
    });

    it("creates the role when the account lacks it (auto)", async () => {
        const p = await plan({ clusterId: CLUSTER, kmsInstance: INSTANCE });
        only(p, "alicloud:ram/role:Role");
    });

    it("grants the operator policy to a RAM role", async () => {
        const p = await plan({ clusterId: CLUSTER, kmsInstance: INSTANCE, securityRole: "adopt", operator: { ramRoleName: "ci-deployer" } });
        const grant = only(p, "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment");
        assert.equal(grant.props.roleName, "ci-deployer");
        assert.equal(grant.props.policyName, "AliyunKMSCryptoAdminAccess");
        none(p, "alicloud:ram/userPolicyAttachment:UserPolicyAttachment");
    });

    it("leaves out the rotation and its identity when rotation is off", async () => {
        const p = await plan({ clusterId: CLUSTER, kmsInstance: INSTANCE, rotation: { enabled: false } });
        none(p, "pulumi-nodejs:dynamic/ask:SecretRotation");
        none(p, "kubernetes:core/v1:ServiceAccount");
        none(p, "pulumi:providers:kubernetes");
    });

    it("uses a configured kubeconfig file instead of fetching one", async () => {
        const p = await plan({ clusterId: CLUSTER, kmsInstance: INSTANCE, rotation: { kubeconfigPath: "/home/me/.kube/ask" } });
        assert.equal(only(p, "pulumi:providers:kubernetes").props.kubeconfig, "/home/me/.kube/ask");
        assert.equal(only(p, "pulumi-nodejs:dynamic/ask:SecretRotation").props.kubeconfigPath, "/home/me/.kube/ask");
    });

    it("registers nothing for an invalid config and says which key is wrong", async () => {
        let error: unknown;
        const registered: PlannedResource[] = [];
        try {
            await plan({ clusterId: "nope", kmsInstance: INSTANCE }, undefined, registered);
        } catch (e) {
            error = e;
        }
        assert.deepEqual(
            registered.map((r) => r.type).filter((t) => t !== "pulumi:pulumi:Stack"),
            [],
        );
        assert.ok(pulumi.RunError.isInstance(error), `expected a RunError, got ${error}`);
        assert.match((error as Error).message, new RegExp(`${PROJECT}:clusterId: "nope" is not valid`));
    });
});

describe("component/secretEncryption: the args' doc comments agree with the settings model", () => {
    // Editors show these comments on hover; each names the default and the limits, which must be the model's.
    const source = ts.createSourceFile(
        "secretEncryption.ts",
        fs.readFileSync(path.join(ROOT, "components/component/secretEncryption.ts"), "utf8"),
        ts.ScriptTarget.ES2022,
        true,
    );
    function docsOf(interfaceName: string): Map<string, string> {
        const docs = new Map<string, string>();
        source.forEachChild((node) => {
            if (!ts.isInterfaceDeclaration(node) || node.name.text !== interfaceName) return;
            for (const member of node.members) {
                const comment = ts
                    .getJSDocCommentsAndTags(member)
                    .map((d) => d.getText(source))
                    .join(" ");
                if (member.name && ts.isIdentifier(member.name)) docs.set(member.name.text, comment);
            }
        });
        return docs;
    }
    const cases: [string, Record<string, NumberSetting>][] = [
        ["RotationArgs", REENCRYPT_TUNING],
        ["EncryptionArgs", ENCRYPTION_TIMING],
    ];
    for (const [interfaceName, settings] of cases) {
        it(`${interfaceName}: every setting spelled out with its default and limits`, () => {
            const docs = docsOf(interfaceName);
            for (const [name, setting] of Object.entries(settings)) {
                assert.ok(docs.has(name), `${interfaceName}.${name} is missing`);
                assert.ok(docs.get(name)!.includes(`Default ${setting.default}; ${setting.min}-${setting.max}`), `${interfaceName}.${name}: ${docs.get(name)}`);
            }
        });
    }
});
