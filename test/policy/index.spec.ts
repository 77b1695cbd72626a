// Serves the real pack the way the engine does (run-policy-pack, ts-node,
// port on stdout) and judges stacks over the Analyzer gRPC protocol.

import * as assert from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { POLICY_PACK_NAME, policies } from "../../policy/policies";
import { PlannedResource, PolicyPackSession, PolicyViolation, UNKNOWN_VALUE, runPolicyPack, secretValue, startPolicyPack } from "../../plan/policyClient";
import { CLUSTER_TAG, PURPOSE_TAG, PURPOSE_TAG_VALUE } from "../../components/config";
import {
    CLUSTER_ID,
    ENCRYPTION_URN,
    KEY_ID,
    KEY_URN,
    SECOND_CLUSTER_URN,
    compliantStack,
    serverlessCluster,
    urnOf,
    withResource,
} from "../support/policyFixtures";
import { REPO_ROOT } from "../support/repo";

const MANDATORY_POLICIES = [
    "kms-key-in-use-enabled",
    "kms-key-in-use-deletion-protection",
    "kms-key-in-use-protected",
    "kms-key-in-use-spec",
    "kms-key-in-use-present",
    "kms-key-for-cluster-guarded",
];

function nonCompliantStack(idsKnown: boolean): PlannedResource[] {
    const broken = withResource(compliantStack({ idsKnown }), KEY_URN, {
        protect: false,
        // Tagged as SecretEncryption tags its key, so the guard that runs before each step judges it as well.
        props: {
            status: "PendingDeletion",
            deletionProtection: "Disabled",
            keySpec: "Aliyun_SM4",
            tags: { [CLUSTER_TAG]: CLUSTER_ID, [PURPOSE_TAG]: PURPOSE_TAG_VALUE },
        },
    });
    return [...broken, serverlessCluster("key-removed-from-program")];
}

/**
 * A throwaway pack outside the project (so the project's tsc never sees its
 * deliberate errors), resolving @pulumi/* through a link to our node_modules.
 */
function withTempPack(files: Record<string, string>, body: (packDir: string) => Promise<void>): () => Promise<void> {
    return async () => {
        const packDir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-pack-test-"));
        try {
            fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(packDir, "node_modules"), "dir");
            fs.writeFileSync(path.join(packDir, "PulumiPolicy.yaml"), "runtime: nodejs\n");
            for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(packDir, name), text);
            await body(packDir);
        } finally {
            fs.rmSync(packDir, { recursive: true, force: true });
        }
    };
}

const verdicts = (violations: PolicyViolation[], level: string) =>
    violations
        .filter((v) => v.level === level)
        .map((v) => `${v.policy} @ ${v.urn}`)
        .sort();

describe("policy pack over the Analyzer gRPC protocol", function () {
    // ts-node compiles and type-checks the pack at start-up (the CLI's way): seconds, more on a busy machine.
    this.timeout(240_000);
    let session: PolicyPackSession;

    before(async () => {
        session = await startPolicyPack();
    });
    after(async () => {
        await session?.close();
    });

    it("GetAnalyzerInfo names the pack and every policy with its default level", () => {
        assert.strictEqual(session.pack, POLICY_PACK_NAME);
        assert.deepStrictEqual(
            session.policies.map((p) => p.name),
            policies.map((p) => p.name),
        );
        assert.deepStrictEqual(
            session.policies
                .filter((p) => p.enforcementLevel === "mandatory")
                .map((p) => p.name)
                .sort(),
            [...MANDATORY_POLICIES].sort(),
        );
        const present = session.policies.find((p) => p.name === "kms-key-in-use-present");
        assert.deepStrictEqual(present?.configProperties.externalKeyIds?.type, "array");
    });

    for (const idsKnown of [true, false]) {
        describe(`IDs ${idsKnown ? "known (after up)" : "unknown (first preview)"}`, () => {
            it("a compliant stack gets no violation at all", async () => {
                const result = await session.evaluate(compliantStack({ idsKnown }));
                assert.deepStrictEqual(result, { pack: POLICY_PACK_NAME, violations: [] });
            });

            it("a non-compliant stack gets exactly one violation per mandatory stack policy, and the guard one per finding, each on the right resource", async () => {
                const { violations } = await session.evaluate(nonCompliantStack(idsKnown));
                assert.deepStrictEqual(verdicts(violations, "mandatory"), [
                    `kms-key-for-cluster-guarded @ ${KEY_URN}`,
                    `kms-key-for-cluster-guarded @ ${KEY_URN}`,
                    `kms-key-for-cluster-guarded @ ${KEY_URN}`,
                    `kms-key-in-use-deletion-protection @ ${KEY_URN}`,
                    `kms-key-in-use-enabled @ ${KEY_URN}`,
                    `kms-key-in-use-present @ ${SECOND_CLUSTER_URN}`,
                    `kms-key-in-use-protected @ ${KEY_URN}`,
                    `kms-key-in-use-spec @ ${KEY_URN}`,
                ]);
                const enabled = violations.find((v) => v.policy === "kms-key-in-use-enabled");
                assert.match(enabled?.message ?? "", /seals the Secrets of cluster c8a1b2c3d4e5f60718293a4b5c6d7e8f9/);
                assert.match(enabled?.message ?? "", /first switch the cluster's Secret encryption off/);
            });

            it("unknown key settings give neither a violation nor a 'can't run during preview' note", async () => {
                const stack = withResource(compliantStack({ idsKnown }), KEY_URN, {
                    props: { status: UNKNOWN_VALUE, deletionProtection: UNKNOWN_VALUE, keySpec: UNKNOWN_VALUE, automaticRotation: UNKNOWN_VALUE },
                });
                assert.deepStrictEqual((await session.evaluate(stack)).violations, []);
            });
        });
    }

    it("Analyze judges a resource on its own: the security policy on a user is advisory, on that resource", async () => {
        const type = "alicloud:ram/userPolicyAttachment:UserPolicyAttachment";
        const attachment: PlannedResource = {
            urn: urnOf(type, "ops-kms"),
            type,
            name: "ops-kms",
            protect: false,
            props: { userName: "ops", policyName: "AliyunCSManagedSecurityRolePolicy", policyType: "System" },
        };
        const { violations } = await session.evaluate([...compliantStack({ idsKnown: true }), attachment]);
        assert.deepStrictEqual(
            violations.map((v) => [v.policy, v.level, v.urn]),
            [["cs-security-role-policy-scope", "advisory", attachment.urn]],
        );
    });

    it("secret values reach the policies as plain values (a secret key reference still matches)", async () => {
        const stack = withResource(compliantStack({ idsKnown: true }), ENCRYPTION_URN, { props: { kmsKeyId: secretValue(KEY_ID) } });
        assert.deepStrictEqual((await session.evaluate(stack)).violations, []);
        const disabled = withResource(stack, KEY_URN, { props: { status: "Disabled" } });
        assert.deepStrictEqual(verdicts((await session.evaluate(disabled)).violations, "mandatory"), [`kms-key-in-use-enabled @ ${KEY_URN}`]);
    });

    it("Configure changes levels and settings, and a later call without config restores the defaults", async () => {
        const stack = [
            ...withResource(compliantStack({ idsKnown: true }), KEY_URN, { props: { automaticRotation: "Disabled" } }),
            serverlessCluster("key-shared"),
        ];
        const configured = await session.evaluate(stack, {
            "kms-key-in-use-rotation": "mandatory",
            "kms-key-in-use-present": { externalKeyIds: ["key-shared"] },
        });
        assert.deepStrictEqual(verdicts(configured.violations, "mandatory"), [`kms-key-in-use-rotation @ ${KEY_URN}`]);
        const defaults = await session.evaluate(stack);
        assert.deepStrictEqual(verdicts(defaults.violations, "mandatory"), [`kms-key-in-use-present @ ${SECOND_CLUSTER_URN}`]);
        assert.deepStrictEqual(verdicts(defaults.violations, "advisory"), [`kms-key-in-use-rotation @ ${KEY_URN}`]);
    });

    it("Configure refuses names the pack does not have, before sending anything", async () => {
        await assert.rejects(session.evaluate([], { "kms-key-in-use-presnt": "disabled" }), /not a policy of pack "ask-kms-key-guard"/);
        await assert.rejects(session.evaluate([], { "kms-key-in-use-present": { externalKeyId: ["k"] } }), /its settings are: externalKeyIds/);
        await assert.rejects(session.evaluate([], { "kms-key-in-use-present": { externalKeyIds: "k" } }), /must be of type array/);
    });
});

describe("runPolicyPack (one shot) and start-up failures", function () {
    this.timeout(240_000);

    it("serves, configures, judges and stops the pack in one call", async () => {
        const result = await runPolicyPack(nonCompliantStack(true), { config: { "kms-key-in-use-protected": "disabled" } });
        assert.strictEqual(result.pack, POLICY_PACK_NAME);
        assert.deepStrictEqual(
            [...new Set(verdicts(result.violations, "mandatory").map((v) => v.split(" @ ")[0]))],
            MANDATORY_POLICIES.filter((p) => p !== "kms-key-in-use-protected").sort(),
        );
    });

    it(
        "type-checks the pack like the CLI by default, and only transpiles with typeCheck: false",
        withTempPack(
            {
                "package.json": JSON.stringify({ name: "typed", version: "0.0.1", main: "index.ts" }),
                "index.ts": [
                    'import { PolicyPack } from "@pulumi/policy";',
                    'const wrongOnPurpose: number = "not a number";',
                    'new PolicyPack("typed-pack", { policies: [] });',
                ].join("\n"),
            },
            async (packDir) => {
                assert.deepStrictEqual(await runPolicyPack([], { packDir, typeCheck: false }), { pack: "typed-pack", violations: [] });
                await assert.rejects(runPolicyPack([], { packDir }), /failed to start: it exited[\s\S]*TS2322/);
            },
        ),
    );

    it("says clearly when a directory is not a policy pack", async () => {
        await assert.rejects(runPolicyPack([], { packDir: __dirname }), /is not a policy pack: PulumiPolicy.yaml is missing/);
    });

    it(
        "reports a pack that dies before printing its port, with its own error output",
        withTempPack(
            {
                "package.json": JSON.stringify({ name: "broken", version: "0.0.1", main: "index.js" }),
                "index.js": 'throw new Error("entry exploded on purpose");\n',
            },
            async (packDir) => {
                await assert.rejects(
                    runPolicyPack([], { packDir }),
                    (err: Error) => /failed to start: it exited/.test(err.message) && /entry exploded on purpose/.test(err.message),
                );
            },
        ),
    );
});
