import * as assert from "node:assert";
import { findKeyUsage, knownKeyIds, normalizeKeyReference } from "../../policy/inUse";
import { UNKNOWN_VALUE } from "../../plan/policyClient";
import { toPolicyResources } from "../support/policyHarness";
import { ENCRYPTION_URN, KEY_ID, KEY_URN, SECOND_CLUSTER_URN, compliantStack, serverlessCluster, withResource, without } from "../support/policyFixtures";

const usage = (stack: Parameters<typeof toPolicyResources>[0]) => findKeyUsage(toPolicyResources(stack));

describe("policy/inUse: which keys seal a cluster's Secrets", () => {
    it("matches the ClusterEncryption consumer to the key by known ID", () => {
        const { inUse, missing, undetermined } = usage(compliantStack({ idsKnown: true }));
        assert.deepStrictEqual(
            inUse.map((u) => u.key.urn),
            [KEY_URN],
        );
        assert.deepStrictEqual(
            inUse[0].consumers.map((c) => c.resource.urn),
            [ENCRYPTION_URN],
        );
        assert.match(inUse[0].consumers[0].cluster, /cluster c8a1b2/);
        assert.deepStrictEqual([missing.length, undetermined.length], [0, 0]);
    });

    it("does not count SecretRotation as a consumer", () => {
        const { inUse } = usage(without(compliantStack({ idsKnown: true }), ENCRYPTION_URN));
        assert.deepStrictEqual(inUse, []);
    });

    it("matches by property dependency when IDs are unknown in preview", () => {
        const { inUse, missing } = usage(compliantStack({ idsKnown: false }));
        assert.deepStrictEqual(
            inUse.map((u) => u.key.urn),
            [KEY_URN],
        );
        assert.strictEqual(missing.length, 0);
    });

    it("falls back to plain dependencies when the reference has no property dependency", () => {
        const stack = compliantStack({ idsKnown: false }).map((r) => (r.urn === ENCRYPTION_URN ? { ...r, propertyDependencies: {} } : r));
        assert.deepStrictEqual(
            usage(stack).inUse.map((u) => u.key.urn),
            [KEY_URN],
        );
    });

    it("leaves a consumer with an unknown reference and no key dependency undetermined, not missing", () => {
        const stack = without(compliantStack({ idsKnown: false }), KEY_URN);
        const { inUse, missing, undetermined } = usage(stack);
        assert.deepStrictEqual([inUse.length, missing.length], [0, 0]);
        assert.deepStrictEqual(
            undetermined.map((c) => c.resource.urn),
            [ENCRYPTION_URN],
        );
    });

    it("matches a cluster's encryptionProviderKey by the key's ARN suffix alone", () => {
        const stack = [...withResource(without(compliantStack({ idsKnown: true }), ENCRYPTION_URN), KEY_URN, { drop: ["id"] }), serverlessCluster(KEY_ID)];
        const { inUse } = usage(stack);
        assert.deepStrictEqual(
            inUse[0].consumers.map((c) => c.resource.urn),
            [SECOND_CLUSTER_URN],
        );
        assert.match(inUse[0].consumers[0].cluster, /cluster "other-ask"/);
    });

    it("reports a known key ID that no key in the stack has as missing", () => {
        const stack = [...compliantStack({ idsKnown: true }), serverlessCluster("key-elsewhere")];
        const { missing } = usage(stack);
        assert.deepStrictEqual(
            missing.map((m) => [m.consumer.resource.urn, m.keyId]),
            [[SECOND_CLUSTER_URN, "key-elsewhere"]],
        );
    });

    it("ignores clusters with encryption switched off or no key set", () => {
        const off = { ...serverlessCluster(KEY_ID, { disableEncryption: true }), urn: SECOND_CLUSTER_URN };
        const none = { ...serverlessCluster("", {}), urn: `${SECOND_CLUSTER_URN}-2` };
        const { inUse, missing } = usage([...without(compliantStack({ idsKnown: true }), ENCRYPTION_URN), off, none]);
        assert.deepStrictEqual([inUse.length, missing.length], [0, 0]);
    });

    it("still counts a cluster whose disableEncryption is unknown as encrypting", () => {
        const cluster = serverlessCluster(KEY_ID, { disableEncryption: UNKNOWN_VALUE });
        const { inUse } = usage([...without(compliantStack({ idsKnown: true }), ENCRYPTION_URN), cluster]);
        assert.deepStrictEqual(
            inUse[0].consumers.map((c) => c.resource.urn),
            [SECOND_CLUSTER_URN],
        );
    });

    it("does not call a known reference missing while a depended-on key's ID is unknown (replacement)", () => {
        const stack = withResource(compliantStack({ idsKnown: true }), KEY_URN, { props: { id: UNKNOWN_VALUE, arn: UNKNOWN_VALUE } });
        const { inUse, missing } = usage(stack);
        assert.deepStrictEqual([inUse.map((u) => u.key.urn), missing.length], [[KEY_URN], 0]);
    });

    it("reads key IDs from id, keyId and the ARN, and normalizes ARN references", () => {
        const [key] = toPolicyResources([
            {
                urn: KEY_URN,
                type: "alicloud:kms/key:Key",
                name: "k",
                protect: true,
                props: { id: "key-a", keyId: "key-b", arn: "acs:kms:cn-hangzhou:1:key/key-c" },
            },
        ]);
        assert.deepStrictEqual(knownKeyIds(key).sort(), ["key-a", "key-b", "key-c"]);
        assert.strictEqual(normalizeKeyReference("acs:kms:cn-hangzhou:1:key/key-c"), "key-c");
        assert.strictEqual(normalizeKeyReference("key-c"), "key-c");
    });

    for (const [form, id] of [
        ["KMS 3.0 key-...", "key-hzz62f1cb66fa42qo1a2b"],
        ["KMS 1.0 UUID", "05754286-3ba2-4fa6-8d41-4323aca6a4c2"],
    ] as const) {
        it(`matches a consumer to a key whose ID is a ${form}, by ID or by ARN`, () => {
            const withId = (stack: ReturnType<typeof compliantStack>, reference: string) =>
                stack.map((r) => {
                    if (r.urn === KEY_URN) return { ...r, props: { ...r.props, id, arn: `acs:kms:cn-hangzhou:1234567890:key/${id}` } };
                    if (r.urn === ENCRYPTION_URN) return { ...r, props: { ...r.props, kmsKeyId: reference }, propertyDependencies: {}, dependencies: [] };
                    return r;
                });
            for (const reference of [id, `acs:kms:cn-hangzhou:1234567890:key/${id}`]) {
                const { inUse, missing } = usage(withId(compliantStack({ idsKnown: true }), reference));
                assert.deepStrictEqual(
                    inUse.map((u) => u.key.urn),
                    [KEY_URN],
                    `${form} referenced as ${reference}`,
                );
                assert.strictEqual(missing.length, 0);
            }
        });
    }
});
