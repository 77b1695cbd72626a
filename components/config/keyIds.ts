// The forms in which KMS names a key (docs/platform-facts.md, "KMS keys and instances"):
// KMS 1.0 keys have UUID IDs, KMS 3.0 instance keys `key-<region><random>`, and an
// ARN `acs:kms:<region>:<uid>:key/<id>` carries either. The policy pack keeps its
// own copy of this rule (policy/keyIds.ts: it is published on its own);
// test/config/keyIds.spec.ts asserts the two agree.

const KEY_ID = /^(key-[0-9a-z]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const ARN = /^acs:kms:[a-z0-9-]+:\d+:key\/(.+)$/;

/** The key ID a reference names: a key ID as it is, an ARN's ID; anything else unchanged. */
export function normalizeKeyReference(reference: string): string {
    const arn = ARN.exec(reference);
    return arn ? arn[1] : reference;
}

/** The key ID of a reference, or why it cannot name a key by ID. */
export function parseKeyReference(reference: string): { keyId: string } | { problem: string } {
    const keyId = normalizeKeyReference(reference.trim());
    if (KEY_ID.test(keyId)) return { keyId };
    if (/^alias\//.test(reference.trim())) {
        return {
            problem:
                `"${reference}" is an alias; the cluster reports its encryption key by ID, so give the key ID ` +
                "(KMS console > Keys, or `aliyun kms DescribeKey --KeyId <alias>` prints KeyMetadata.KeyId)",
        };
    }
    return {
        problem: `"${reference}" is not a KMS key ID: use key-hzz62f1cb66fa42qo5jgx (KMS 3.0), 05754286-3ba2-4fa6-8d41-4323aca6a4c2 (KMS 1.0) or the key's ARN acs:kms:<region>:<uid>:key/<id>`,
    };
}
