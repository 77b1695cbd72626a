// The pack is published on its own and keeps its own copy of the key-ID rule:
// both copies must read every reference the same way.
import * as assert from "node:assert/strict";
import { normalizeKeyReference as programReads, parseKeyReference } from "../../components/config";
import { normalizeKeyReference as packReads } from "../../policy/keyIds";

const REFERENCES = [
    "key-hzz62f1cb66fa42qo5jgx",
    "05754286-3ba2-4fa6-8d41-4323aca6a4c2",
    "acs:kms:cn-hangzhou:1234567890123456:key/key-hzz62f1cb66fa42qo5jgx",
    "acs:kms:ap-southeast-1:1234567890123456:key/05754286-3ba2-4fa6-8d41-4323aca6a4c2",
    "alias/secrets",
    "acs:kms:cn-hangzhou:1234567890123456:alias/secrets",
    "not-a-key",
    "",
];

describe("key ID forms: the program's rule and the pack's copy", () => {
    it("normalize every reference identically", () => {
        for (const reference of REFERENCES) assert.equal(packReads(reference), programReads(reference), reference);
    });

    it("accept both ID forms and ARNs of either, and refuse aliases with a way to find the ID", () => {
        assert.deepEqual(parseKeyReference(REFERENCES[0]), { keyId: "key-hzz62f1cb66fa42qo5jgx" });
        assert.deepEqual(parseKeyReference(REFERENCES[1]), { keyId: "05754286-3ba2-4fa6-8d41-4323aca6a4c2" });
        assert.deepEqual(parseKeyReference(REFERENCES[2]), { keyId: "key-hzz62f1cb66fa42qo5jgx" });
        assert.deepEqual(parseKeyReference(REFERENCES[3]), { keyId: "05754286-3ba2-4fa6-8d41-4323aca6a4c2" });
        assert.match((parseKeyReference("alias/secrets") as { problem: string }).problem, /is an alias.*DescribeKey/);
        assert.match((parseKeyReference("not-a-key") as { problem: string }).problem, /is not a KMS key ID/);
    });
});
