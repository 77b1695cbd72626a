import { inUseKeySpec } from "../../policy/keySpec";
import { UNKNOWN_VALUE } from "../../plan/policyClient";
import { assertHasViolation, assertNoViolations, runStackPolicy } from "../support/policyHarness";
import { ENCRYPTION_URN, KEY_URN, compliantStack, withResource, without } from "../support/policyFixtures";

describe("policy/keySpec: kms-key-in-use-spec", () => {
    const stack = () => compliantStack({ idsKnown: true });

    it("passes Aliyun_AES_256 + ENCRYPT/DECRYPT, and the provider defaults", async () => {
        assertNoViolations(await runStackPolicy(inUseKeySpec, stack()));
        assertNoViolations(await runStackPolicy(inUseKeySpec, withResource(stack(), KEY_URN, { drop: ["keySpec", "keyUsage"] })));
    });

    it("denies another spec or usage on an in-use key, both named in one message", async () => {
        const violations = await runStackPolicy(inUseKeySpec, withResource(stack(), KEY_URN, { props: { keySpec: "Aliyun_SM4", keyUsage: "SIGN/VERIFY" } }));
        assertHasViolation(violations, { message: 'its keySpec is "Aliyun_SM4" and its keyUsage is "SIGN/VERIFY"', urn: KEY_URN });
        assertHasViolation(violations, { message: "Changing either replaces the key" });
    });

    it("denies a wrong spec when IDs are unknown (matched by dependency)", async () => {
        assertHasViolation(await runStackPolicy(inUseKeySpec, withResource(compliantStack({ idsKnown: false }), KEY_URN, { props: { keySpec: "RSA_2048" } })), {
            message: 'its keySpec is "RSA_2048"',
            urn: KEY_URN,
        });
    });

    it("ignores unknown values and unused keys", async () => {
        assertNoViolations(await runStackPolicy(inUseKeySpec, withResource(stack(), KEY_URN, { props: { keySpec: UNKNOWN_VALUE, keyUsage: UNKNOWN_VALUE } })));
        assertNoViolations(await runStackPolicy(inUseKeySpec, withResource(without(stack(), ENCRYPTION_URN), KEY_URN, { props: { keySpec: "RSA_2048" } })));
    });
});
