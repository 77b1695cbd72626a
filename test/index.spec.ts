// An unchanged stack's second `up` plans nothing. The dev stack runs twice under
// mocks, the lookups answering the second time as the first run left the account
// (the security role now exists, tagged by this stack); then each dynamic
// resource is created in Pulumi's provider host from run 1's inputs and diffed
// against run 2's inputs, as the engine would on the second `up`.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT, SECURITY_ROLE_NAME, SECURITY_ROLE_POLICY } from "../components/config";
import { ROLE_MANAGED_BY_TAG } from "../components/config";
import { InvokeAnswer, Plan, planProgram, PlannedResource, readStackConfig } from "../plan/planner";
import { standInHostEnv, standInStackConfig, startAlibabaStandIn } from "./support/alibabaStandIn/index";
import { startKubeStandIn } from "./support/kubeStandIn/index";
import { PROJECT_DIR, startProviderHost } from "./support/providerHost";
import { CLUSTER_ENCRYPTION_TYPE, SECRET_ROTATION_TYPE } from "./support/registered";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, as the plan loads it
const program = require("../index") as () => Promise<unknown>;

/** Inputs that differ between runs by design; none today (the shim text and every planned value are stable). */
const CHANGES_BY_DESIGN: Record<string, string[]> = {};

function run(invokes: Record<string, InvokeAnswer> = {}): Promise<Plan> {
    // As an `up` (IDs known), so the second run sees what the first one left.
    return planProgram({ program, project: PROJECT, stack: "dev", config: readStackConfig(PROJECT_DIR, "dev", PROJECT), invokes, preview: false });
}

function shape(r: PlannedResource) {
    return {
        urn: r.urn,
        parent: r.parent,
        protect: r.protect,
        retainOnDelete: r.retainOnDelete,
        importId: r.importId,
        read: r.read,
        dependencies: [...r.dependencies].sort(),
    };
}

function comparableInputs(r: PlannedResource): Record<string, unknown> {
    const props = { ...r.wireProps };
    for (const name of CHANGES_BY_DESIGN[r.type] ?? []) delete props[name];
    return props;
}

describe("an unchanged stack's second run (idempotent stacks)", function () {
    this.timeout(120_000);
    let first: Plan;
    let second: Plan;

    before(async () => {
        first = await run();
        const role = first.resources.find((r) => r.type === "alicloud:ram/role:Role");
        assert.ok(role, "a fresh account: the default securityRole (auto) creates the role");
        // The account as run 1 left it: the role exists, with the tags run 1 gave it.
        const roleNow = { name: SECURITY_ROLE_NAME, description: role.props.description, tags: role.props.tags };
        second = await run({ "alicloud:ram/getRoles:getRoles": { names: [SECURITY_ROLE_NAME], ids: [SECURITY_ROLE_NAME], roles: [roleNow] } });
    });

    // Registration order depends on when each Output resolves: compare by URN.
    const byUrn = (p: Plan) => [...p.resources].sort((a, b) => a.urn.localeCompare(b.urn));

    it("registers the same resources, with the same URNs and options", () => {
        // One difference by design: the role now exists with this stack's tag, so run 2 names it (and its policy) for
        // import, by the IDs the provider gave them; the engine treats an import ID equal to the stored ID as no import
        // (the CLI-driven suite's `preview --expect-no-changes` checks that against the real engine).
        const securityRole = (r: PlannedResource) => /-security-role(-policy)?$/.test(r.name);
        const importIds = byUrn(second)
            .filter(securityRole)
            .map((r) => [r.type, r.importId]);
        assert.deepEqual(importIds, [
            ["alicloud:ram/role:Role", SECURITY_ROLE_NAME],
            ["alicloud:ram/rolePolicyAttachment:RolePolicyAttachment", `role:${SECURITY_ROLE_POLICY}:System:${SECURITY_ROLE_NAME}`],
        ]);
        const withoutRoleImport = (r: PlannedResource) => ({ ...shape(r), importId: securityRole(r) ? undefined : r.importId });
        assert.deepEqual(byUrn(second).map(withoutRoleImport), byUrn(first).map(withoutRoleImport));
        assert.ok(first.resources.length >= 12, `${first.resources.length} resources`);
    });

    it("registers the same inputs", () => {
        const later = new Map(second.resources.map((r) => [r.urn, r]));
        for (const r of first.resources) assert.deepEqual(comparableInputs(later.get(r.urn)!), comparableInputs(r), r.urn);
    });

    it("keeps managing the role it created, and adopts one another stack created", async () => {
        const role = first.resources.find((r) => r.type === "alicloud:ram/role:Role")!;
        const tags = role.props.tags as Record<string, string>;
        assert.match(tags[ROLE_MANAGED_BY_TAG], new RegExp(`^[^/]+/${PROJECT}/dev$`), "organization/project/stack");
        const othersRole = { name: SECURITY_ROLE_NAME, tags: { [ROLE_MANAGED_BY_TAG]: tags[ROLE_MANAGED_BY_TAG].replace(/dev$/, "another-cluster") } };
        const other = await run({ "alicloud:ram/getRoles:getRoles": { names: [SECURITY_ROLE_NAME], ids: [SECURITY_ROLE_NAME], roles: [othersRole] } });
        assert.deepEqual(
            other.resources.filter((r) => r.type.startsWith("alicloud:ram/role")).map((r) => r.name),
            [],
        );
    });

    it("each dynamic resource's diff, fed run 1's outputs from the provider host, reports no change", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "idempotent-"));
        const kube = await startKubeStandIn({ keyVersion: 1 });
        const operator = fs.readFileSync(kube.writeKubeconfig(path.join(dir, "operator.yaml")), "utf8");
        const standIn = await startAlibabaStandIn({ regionId: "cn-hangzhou", kubeconfig: () => operator });
        const host = await startProviderHost({ env: standInHostEnv(standIn, dir, { ASK_REENCRYPT_STATE_DIR: path.join(dir, "checkpoints") }) });
        try {
            const { config, secretKeys } = standInStackConfig(standIn);
            await host.configure(config, secretKeys);
            const one = (p: Plan, type: string) => p.resources.find((r) => r.type === type)!;
            const encryption = one(first, CLUSTER_ENCRYPTION_TYPE);
            const rotation = one(first, SECRET_ROTATION_TYPE);
            // The account holds what run 1 names: the cluster and the key it created.
            standIn.addCluster({ clusterId: String(encryption.wireProps.clusterId) });
            standIn.addKey({ keyId: String(encryption.wireProps.kmsKeyId) });
            kube.addServiceAccount("kube-system", "ask-secret-reencryptor", [{ verbs: ["get", "list", "patch"], resources: ["secrets"] }]);
            kube.seed(10);

            const encryptionNews = { ...encryption.wireProps, pollIntervalSeconds: 1 };
            const created = await host.create(encryption.urn, encryptionNews);
            const secondEncryption = { ...one(second, CLUSTER_ENCRYPTION_TYPE).wireProps, pollIntervalSeconds: 1 };
            assert.deepEqual(await host.diff(created.id, encryption.urn, created.outs, secondEncryption), { changes: "none", replaces: [] });

            // SecretRotation's encryptionEnabledAt comes from ClusterEncryption's output: feed it what create returned.
            const rotationNews = { ...rotation.wireProps, encryptionEnabledAt: created.outs.enabledAt };
            const rotated = await host.create(rotation.urn, rotationNews);
            assert.equal(rotated.outs.verified, true);
            const secondRotation = { ...one(second, SECRET_ROTATION_TYPE).wireProps, encryptionEnabledAt: created.outs.enabledAt };
            assert.deepEqual(await host.diff(rotated.id, rotation.urn, rotated.outs, secondRotation), { changes: "none", replaces: [] });
        } finally {
            await host.close();
            await standIn.close();
            await kube.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
