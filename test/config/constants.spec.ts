// The policy pack is published on its own, so it keeps its own copies of the names it checks; they must
// be the program's (components/config/constants.ts), or the pack would guard a key the program never makes.
import * as assert from "node:assert/strict";
import { CLUSTER_TAG, KEY_SPEC, KEY_USAGE, PURPOSE_TAG, PURPOSE_TAG_VALUE, SECURITY_ROLE_NAME, SECURITY_ROLE_POLICY } from "../../components/config";
import { SECRET_ENCRYPTION_TYPE } from "../../components/component";
import * as pack from "../../policy/clusterKeyGuard";
import { REQUIRED_KEY_SPEC, REQUIRED_KEY_USAGE } from "../../policy/keySpec";
import { SECURITY_ROLE_NAME as PACK_ROLE_NAME, SECURITY_ROLE_POLICY_NAME as PACK_ROLE_POLICY } from "../../policy/securityRole";

describe("config/constants: the pack's copies agree with the program's", () => {
    it("key spec and usage", () => {
        assert.equal(REQUIRED_KEY_SPEC, KEY_SPEC);
        assert.equal(REQUIRED_KEY_USAGE, KEY_USAGE);
    });
    it("security role and its policy", () => {
        assert.equal(PACK_ROLE_NAME, SECURITY_ROLE_NAME);
        assert.equal(PACK_ROLE_POLICY, SECURITY_ROLE_POLICY);
    });
    it("the tags on the key and the component's type, by which the guard knows a cluster's key", () => {
        assert.deepEqual(
            [pack.CLUSTER_TAG, pack.PURPOSE_TAG, pack.PURPOSE_TAG_VALUE, pack.SECRET_ENCRYPTION_TYPE],
            [CLUSTER_TAG, PURPOSE_TAG, PURPOSE_TAG_VALUE, SECRET_ENCRYPTION_TYPE],
        );
    });
});
