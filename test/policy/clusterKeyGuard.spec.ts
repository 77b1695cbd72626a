import * as assert from "node:assert/strict";
import { CLUSTER_TAG, PURPOSE_TAG, PURPOSE_TAG_VALUE } from "../../components/config";
import { clusterKeyGuarded } from "../../policy/clusterKeyGuard";
import { PlannedResource, UNKNOWN_VALUE } from "../../plan/policyClient";
import { assertHasViolation, assertNoViolations, runResourcePolicy } from "../support/policyHarness";
import { CLUSTER_ID, urnOf } from "../support/policyFixtures";

const KEY_TYPE = "alicloud:kms/key:Key";
const TAGS = { [CLUSTER_TAG]: CLUSTER_ID, [PURPOSE_TAG]: PURPOSE_TAG_VALUE, team: "platform" };
/** The URN of a key under SecretEncryption, as the engine builds it. */
const COMPONENT_KEY_URN = `urn:pulumi:dev::ask-kms-secret-encryption::ask:index:SecretEncryption$${KEY_TYPE}::${CLUSTER_ID}-key`;

function key(props: Record<string, unknown>, extra: Partial<PlannedResource> = {}): PlannedResource {
    return {
        urn: urnOf(KEY_TYPE, "cluster-key"),
        type: KEY_TYPE,
        name: "cluster-key",
        protect: true,
        props: { status: "Enabled", deletionProtection: "Enabled", tags: TAGS, ...props },
        ...extra,
    };
}

describe("policy/clusterKeyGuard: kms-key-for-cluster-guarded", () => {
    it("passes a tagged key that is Enabled, deletion-protected and protected", async () => {
        assertNoViolations(await runResourcePolicy(clusterKeyGuarded, key({})));
        assertNoViolations(await runResourcePolicy(clusterKeyGuarded, key({ status: undefined })));
    });

    for (const [what, change, expected] of [
        ["disabling it", { status: "Disabled" }, 'its status is "Disabled"'],
        ["lowering its deletion protection", { deletionProtection: "Disabled" }, 'its deletionProtection is "Disabled"'],
        ["dropping its deletion protection", { deletionProtection: undefined }, "not set (KMS default: Disabled)"],
    ] as const) {
        it(`denies ${what}, naming the cluster from the key's tags and the way out`, async () => {
            const violations = await runResourcePolicy(clusterKeyGuarded, key(change));
            assertHasViolation(violations, { message: expected });
            assertHasViolation(violations, { message: `seals the Secrets of cluster ${CLUSTER_ID} (the key's tags ask-cluster-id and purpose say so)` });
            assertHasViolation(violations, { message: "nothing was sent to KMS" });
            assertHasViolation(violations, { message: "set this policy (kms-key-for-cluster-guarded) to advisory" });
        });
    }

    it("denies unprotecting it (the resource option, as the engine sends it before the step)", async () => {
        assertHasViolation(await runResourcePolicy(clusterKeyGuarded, key({}, { protect: false })), { message: "the resource option protect is not set" });
    });

    it("recognizes a key SecretEncryption manages by its URN, whatever its tags (an adopted key keeps its own)", async () => {
        const adopted = key({ tags: { owner: "security" }, status: "Disabled" }, { urn: COMPONENT_KEY_URN, name: `${CLUSTER_ID}-key` });
        assertHasViolation(await runResourcePolicy(clusterKeyGuarded, adopted), {
            message: "seals the Secrets of the cluster of the ask:index:SecretEncryption component that manages it",
        });
    });

    it("leaves alone a key its inputs do not tie to a cluster, the wrong purpose, and values preview does not know", async () => {
        assertNoViolations(await runResourcePolicy(clusterKeyGuarded, key({ tags: { team: "platform" }, status: "Disabled" }, { protect: false })));
        assertNoViolations(await runResourcePolicy(clusterKeyGuarded, key({ tags: { ...TAGS, [PURPOSE_TAG]: "backups" }, status: "Disabled" })));
        assertNoViolations(await runResourcePolicy(clusterKeyGuarded, key({ tags: UNKNOWN_VALUE, status: "Disabled" })));
        assertNoViolations(await runResourcePolicy(clusterKeyGuarded, key({ status: UNKNOWN_VALUE, deletionProtection: UNKNOWN_VALUE })));
    });

    it("guards a tagged key whose cluster ID preview does not know yet, without printing the placeholder", async () => {
        const violations = await runResourcePolicy(clusterKeyGuarded, key({ tags: { ...TAGS, [CLUSTER_TAG]: UNKNOWN_VALUE }, status: "Disabled" }));
        assertHasViolation(violations, { message: "seals the Secrets of the cluster (its ID is known after apply)" });
        assert.ok(!violations.some((v) => v.message.includes(UNKNOWN_VALUE)));
    });

    it("judges only KMS keys", async () => {
        const instance = { ...key({ deletionProtection: false }), type: "alicloud:kms/instance:Instance", urn: urnOf("alicloud:kms/instance:Instance", "i") };
        assert.equal((await runResourcePolicy(clusterKeyGuarded, instance)).length, 0);
    });
});
