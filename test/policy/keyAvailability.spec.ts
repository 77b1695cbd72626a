import { inUseKeyDeletionProtection, inUseKeyEnabled, inUseKeyPresent, inUseKeyProtected } from "../../policy/keyAvailability";
import { UNKNOWN_VALUE } from "../../plan/policyClient";
import { assertHasViolation, assertNoViolations, runStackPolicy } from "../support/policyHarness";
import { ENCRYPTION_URN, KEY_ID, KEY_URN, SECOND_CLUSTER_URN, compliantStack, serverlessCluster, withResource, without } from "../support/policyFixtures";

const unused = (idsKnown: boolean) => without(compliantStack({ idsKnown }), ENCRYPTION_URN);

for (const idsKnown of [true, false]) {
    describe(`policy/keyAvailability (IDs ${idsKnown ? "known" : "unknown"})`, () => {
        const stack = () => compliantStack({ idsKnown });

        describe("kms-key-in-use-enabled", () => {
            it("passes an Enabled key, and one whose status is left to the provider default", async () => {
                assertNoViolations(await runStackPolicy(inUseKeyEnabled, stack()));
                assertNoViolations(await runStackPolicy(inUseKeyEnabled, withResource(stack(), KEY_URN, { drop: ["status"] })));
            });
            for (const status of ["Disabled", "PendingDeletion"]) {
                it(`denies an in-use key that is ${status}, naming the cluster and the safe way out`, async () => {
                    const violations = await runStackPolicy(inUseKeyEnabled, withResource(stack(), KEY_URN, { props: { status } }));
                    assertHasViolation(violations, { message: `its status is "${status}"`, urn: KEY_URN });
                    assertHasViolation(violations, { message: "seals the Secrets of cluster c8a1b2c3d4e5f60718293a4b5c6d7e8f9" });
                    assertHasViolation(violations, { message: "first switch the cluster's Secret encryption off" });
                });
            }
            it("lets an unused key be disabled", async () => {
                assertNoViolations(await runStackPolicy(inUseKeyEnabled, withResource(unused(idsKnown), KEY_URN, { props: { status: "Disabled" } })));
            });
            it("does not treat an unknown status as disabled", async () => {
                assertNoViolations(await runStackPolicy(inUseKeyEnabled, withResource(stack(), KEY_URN, { props: { status: UNKNOWN_VALUE } })));
            });
        });

        describe("kms-key-in-use-deletion-protection", () => {
            it("passes deletionProtection Enabled", async () => {
                assertNoViolations(await runStackPolicy(inUseKeyDeletionProtection, stack()));
            });
            it("denies Disabled and absent (the KMS default is Disabled)", async () => {
                assertHasViolation(
                    await runStackPolicy(inUseKeyDeletionProtection, withResource(stack(), KEY_URN, { props: { deletionProtection: "Disabled" } })),
                    { message: 'its deletionProtection is "Disabled"', urn: KEY_URN },
                );
                assertHasViolation(await runStackPolicy(inUseKeyDeletionProtection, withResource(stack(), KEY_URN, { drop: ["deletionProtection"] })), {
                    message: "not set (KMS default: Disabled)",
                    urn: KEY_URN,
                });
            });
            it("skips an unknown value and an unused key", async () => {
                assertNoViolations(
                    await runStackPolicy(inUseKeyDeletionProtection, withResource(stack(), KEY_URN, { props: { deletionProtection: UNKNOWN_VALUE } })),
                );
                assertNoViolations(
                    await runStackPolicy(inUseKeyDeletionProtection, withResource(unused(idsKnown), KEY_URN, { props: { deletionProtection: "Disabled" } })),
                );
            });
        });

        describe("kms-key-in-use-protected", () => {
            it("passes protect: true and denies its absence on an in-use key only", async () => {
                assertNoViolations(await runStackPolicy(inUseKeyProtected, stack()));
                assertHasViolation(await runStackPolicy(inUseKeyProtected, withResource(stack(), KEY_URN, { protect: false })), {
                    message: "the resource option protect is not set",
                    urn: KEY_URN,
                });
                assertNoViolations(await runStackPolicy(inUseKeyProtected, withResource(unused(idsKnown), KEY_URN, { protect: false })));
            });
        });
    });
}

describe("policy/keyAvailability: kms-key-in-use-present", () => {
    it("passes when every consumer's key is in the stack", async () => {
        assertNoViolations(await runStackPolicy(inUseKeyPresent, compliantStack({ idsKnown: true })));
        assertNoViolations(await runStackPolicy(inUseKeyPresent, compliantStack({ idsKnown: false })));
    });

    it("catches a key removed from the program while the cluster still uses it", async () => {
        const violations = await runStackPolicy(inUseKeyPresent, without(compliantStack({ idsKnown: true }), KEY_URN));
        assertHasViolation(violations, { message: `encrypts its Secrets with KMS key ${KEY_ID}, but no alicloud:kms/key:Key`, urn: ENCRYPTION_URN });
        assertHasViolation(violations, { message: "externalKeyIds" });
    });

    it("accepts a key listed in externalKeyIds, by ID or ARN", async () => {
        const stack = [...compliantStack({ idsKnown: true }), serverlessCluster("key-shared")];
        assertHasViolation(await runStackPolicy(inUseKeyPresent, stack), { message: "KMS key key-shared", urn: SECOND_CLUSTER_URN });
        assertNoViolations(await runStackPolicy(inUseKeyPresent, stack, { externalKeyIds: ["key-shared"] }));
        assertNoViolations(await runStackPolicy(inUseKeyPresent, stack, { externalKeyIds: ["acs:kms:cn-hangzhou:1:key/key-shared"] }));
    });

    it("cannot judge (and does not deny) a consumer whose key reference is unknown and depends on no key", async () => {
        assertNoViolations(await runStackPolicy(inUseKeyPresent, without(compliantStack({ idsKnown: false }), KEY_URN)));
    });
});
