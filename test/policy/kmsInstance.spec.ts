import { kmsInstanceDeletionProtection } from "../../policy/kmsInstance";
import { UNKNOWN_VALUE } from "../../plan/policyClient";
import { assertHasViolation, assertNoViolations, runStackPolicy } from "../support/policyHarness";
import { ENCRYPTION_URN, INSTANCE_URN, KEY_URN, compliantStack, withResource, without } from "../support/policyFixtures";

for (const idsKnown of [true, false]) {
    describe(`policy/kmsInstance: kms-instance-deletion-protection (IDs ${idsKnown ? "known" : "unknown"})`, () => {
        const stack = () => compliantStack({ idsKnown });

        it("passes an instance with deletion protection", async () => {
            assertNoViolations(await runStackPolicy(kmsInstanceDeletionProtection, stack()));
        });

        it("flags the instance hosting an in-use key when protection is off or unset", async () => {
            const off = await runStackPolicy(kmsInstanceDeletionProtection, withResource(stack(), INSTANCE_URN, { props: { deletionProtection: false } }));
            assertHasViolation(off, { message: 'KMS instance "kms-instance" hosts KMS key "cluster-secrets-key"', urn: INSTANCE_URN });
            const unset = await runStackPolicy(kmsInstanceDeletionProtection, withResource(stack(), INSTANCE_URN, { drop: ["deletionProtection"] }));
            assertHasViolation(unset, { message: "deletionProtection is not set", urn: INSTANCE_URN });
        });

        it("ignores an unknown setting, and an instance whose keys no cluster uses", async () => {
            assertNoViolations(
                await runStackPolicy(kmsInstanceDeletionProtection, withResource(stack(), INSTANCE_URN, { props: { deletionProtection: UNKNOWN_VALUE } })),
            );
            assertNoViolations(
                await runStackPolicy(
                    kmsInstanceDeletionProtection,
                    withResource(without(stack(), ENCRYPTION_URN), INSTANCE_URN, { props: { deletionProtection: false } }),
                ),
            );
        });
    });
}

describe("policy/kmsInstance: a key in an instance outside the stack", () => {
    it("does not blame an unrelated instance in the stack", async () => {
        const stack = withResource(withResource(compliantStack({ idsKnown: true }), INSTANCE_URN, { props: { deletionProtection: false } }), KEY_URN, {
            props: { dkmsInstanceId: "kst-elsewhere" },
        });
        assertNoViolations(await runStackPolicy(kmsInstanceDeletionProtection, stack));
    });
});
