// How the pack reads a key reference. The pack is published on its own, so this
// rule is a copy of components/config/keyIds.ts; test/config/keyIds.spec.ts asserts they agree.

const ARN = /^acs:kms:[a-z0-9-]+:\d+:key\/(.+)$/;

/** A key reference may be a bare key ID (KMS 3.0 `key-...` or KMS 1.0 UUID) or an ARN `acs:kms:<region>:<uid>:key/<id>`. */
export function normalizeKeyReference(reference: string): string {
    const arn = ARN.exec(reference);
    return arn ? arn[1] : reference;
}
