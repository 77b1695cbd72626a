import { strict as assert } from "node:assert";
import { ConfigError, parseStackConfig, PROJECT, rotationIntervalSeconds } from "../../components/config";

const ns = (key: string) => `${PROJECT}:${key}`;

/** A valid create-path stack, as Pulumi hands config to a program (objects as JSON text). */
function createPath(overrides: Record<string, string | undefined> = {}): Record<string, string> {
    const raw: Record<string, string | undefined> = {
        "alicloud:region": "cn-hangzhou",
        [ns("clusterId")]: "c8f2a1b3c4d5e6f708192a3b4c5d6e7f8",
        [ns("kmsInstance")]: JSON.stringify({
            vpcId: "vpc-bp1a",
            vswitchIds: ["vsw-bp1a", "vsw-bp1b"],
            zoneIds: ["cn-hangzhou-k", "cn-hangzhou-j"],
        }),
        ...overrides,
    };
    return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

function problemsOf(raw: Record<string, string>): string[] {
    try {
        parseStackConfig(raw);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("expected the config to be rejected");
}

function assertOneProblem(raw: Record<string, string>, key: string, fragment: RegExp) {
    const problems = problemsOf(raw);
    assert.equal(problems.length, 1, `expected one problem, got:\n${problems.join("\n")}`);
    assert.ok(problems[0].startsWith(`${key}:`), `problem should name ${key}: ${problems[0]}`);
    assert.match(problems[0], fragment);
}

describe("stack config", () => {
    it("applies safe defaults to a minimal create-path stack", () => {
        const s = parseStackConfig(createPath());
        assert.equal(s.clusterId, "c8f2a1b3c4d5e6f708192a3b4c5d6e7f8");
        assert.equal(s.region, "cn-hangzhou");
        assert.equal(s.kmsInstance?.paymentType, "PayAsYouGo");
        assert.equal(s.kmsInstance?.productVersion, "3");
        assert.equal(s.kmsInstance?.deletionProtection, true);
        assert.equal(s.key.rotationInterval, "31536000s");
        assert.equal(s.key.pendingWindowInDays, 30);
        assert.match(s.key.description, /c8f2a1b3c4d5e6f708192a3b4c5d6e7f8/);
        assert.equal(s.securityRole, "auto");
        assert.deepEqual(s.rotation, {
            enabled: true,
            concurrency: 8,
            qps: 100,
            pageSize: 500,
            requestTimeoutSeconds: 60,
            errorBudget: 30,
            stallTimeoutSeconds: 600,
            maxPageMiB: 64,
            annotationKey: "encryption-key-rotation-time",
            kubeconfigPath: undefined,
            serviceAccountNamespace: "kube-system",
            serviceAccountName: "ask-secret-reencryptor",
        });
        assert.deepEqual(s.encryption, { pollIntervalSeconds: 10, timeoutMinutes: 30, conflictBackoffSeconds: 15, onDelete: "keep" });
    });

    it("normalizes the rotation interval to the seconds form the API reads back", () => {
        assert.equal(parseStackConfig(createPath({ [ns("key")]: JSON.stringify({ rotationInterval: "90d" }) })).key.rotationInterval, "7776000s");
        assert.equal(parseStackConfig(createPath({ [ns("key")]: JSON.stringify({ rotationInterval: "604800s" }) })).key.rotationInterval, "604800s");
        assert.equal(rotationIntervalSeconds("365d"), 31536000);
        assert.equal(rotationIntervalSeconds("soon"), undefined);
    });

    it("adopts an existing key without an instance", () => {
        const s = parseStackConfig(createPath({ [ns("kmsInstance")]: undefined, [ns("kmsKeyId")]: "key-hzz62f1cb66fa42qo5jgx" }));
        assert.equal(s.kmsKeyId, "key-hzz62f1cb66fa42qo5jgx");
        assert.equal(s.kmsInstance, undefined);
        assert.equal(s.kmsInstanceId, undefined);
        const kms1 = parseStackConfig(createPath({ [ns("kmsInstance")]: undefined, [ns("kmsKeyId")]: "05754286-3ba2-4fa6-8d41-4323aca6a4c2" }));
        assert.equal(kms1.kmsKeyId, "05754286-3ba2-4fa6-8d41-4323aca6a4c2", "a KMS 1.0 key ID (a UUID) needs no dedicated instance");
        const byArn = parseStackConfig(
            createPath({ [ns("kmsInstance")]: undefined, [ns("kmsKeyId")]: "acs:kms:cn-hangzhou:1234567890:key/key-hzz62f1cb66fa42qo5jgx" }),
        );
        assert.equal(byArn.kmsKeyId, "key-hzz62f1cb66fa42qo5jgx", "an ARN is normalized to the key ID");
        assertOneProblem(createPath({ [ns("kmsKeyId")]: "alias/secrets" }), ns("kmsKeyId"), /is an alias; .*give the key ID/);
        assertOneProblem(createPath({ [ns("kmsKeyId")]: "my-key" }), ns("kmsKeyId"), /KMS 3\.0.*KMS 1\.0.*ARN/);
    });

    it("adopts an existing instance for a new key", () => {
        const s = parseStackConfig(createPath({ [ns("kmsInstance")]: undefined, [ns("kmsInstanceId")]: "kst-hzz634e67d126hgv9mhrm" }));
        assert.equal(s.kmsInstanceId, "kst-hzz634e67d126hgv9mhrm");
        assert.equal(s.kmsInstance, undefined);
    });

    it("reads the operator as a RAM user or a RAM role", () => {
        assert.deepEqual(parseStackConfig(createPath({ [ns("operator")]: JSON.stringify({ ramUserName: "deployer" }) })).operator, { ramUserName: "deployer" });
        assert.deepEqual(parseStackConfig(createPath({ [ns("operator")]: JSON.stringify({ ramRoleName: "ci" }) })).operator, { ramRoleName: "ci" });
    });

    describe("rejects, naming the key and the fix", () => {
        it("a missing clusterId", () => assertOneProblem(createPath({ [ns("clusterId")]: undefined }), ns("clusterId"), /required/));
        it("a malformed clusterId", () =>
            assertOneProblem(createPath({ [ns("clusterId")]: "my-cluster" }), ns("clusterId"), /not valid; expected an ACK\/ASK cluster ID/));
        it("a missing region", () => assertOneProblem(createPath({ "alicloud:region": undefined }), "alicloud:region", /pulumi config set alicloud:region/));
        it("a region that is not one", () =>
            assertOneProblem(createPath({ "alicloud:region": "Hangzhou" }), "alicloud:region", /not an Alibaba Cloud region ID/));
        it("no key source at all", () => assertOneProblem(createPath({ [ns("kmsInstance")]: undefined }), ns("kmsInstance"), /kmsInstanceId .* kmsKeyId/));
        it("an instance both adopted and created", () => assertOneProblem(createPath({ [ns("kmsInstanceId")]: "kst-abc" }), ns("kmsInstance"), /not both/));
        it("an adopted key with an instance", () =>
            assertOneProblem(createPath({ [ns("kmsKeyId")]: "key-abc" }), ns("kmsKeyId"), /already lives on its KMS instance/));
        it("a rotation interval over 365 days", () =>
            assertOneProblem(createPath({ [ns("key")]: JSON.stringify({ rotationInterval: "400d" }) }), ns("key.rotationInterval"), /between 7d and 365d/));
        it("a pending window under 7 days", () =>
            assertOneProblem(createPath({ [ns("key")]: JSON.stringify({ pendingWindowInDays: 3 }) }), ns("key.pendingWindowInDays"), /from 7 to 366/));
        it("an empty vSwitch list", () =>
            assertOneProblem(
                createPath({ [ns("kmsInstance")]: JSON.stringify({ vpcId: "vpc-a", vswitchIds: [], zoneIds: ["cn-hangzhou-k", "cn-hangzhou-j"] }) }),
                ns("kmsInstance.vswitchIds"),
                /non-empty list/,
            ));
        it("a Subscription-only setting on a pay-as-you-go instance", () =>
            assertOneProblem(
                createPath({
                    [ns("kmsInstance")]: JSON.stringify({ vpcId: "vpc-a", vswitchIds: ["vsw-a"], zoneIds: ["cn-hangzhou-k", "cn-hangzhou-j"], spec: 1000 }),
                }),
                ns("kmsInstance.spec"),
                /only applies to paymentType Subscription/,
            ));
        it("a Subscription instance without spec", () =>
            assertOneProblem(
                createPath({
                    [ns("kmsInstance")]: JSON.stringify({
                        vpcId: "vpc-a",
                        vswitchIds: ["vsw-a"],
                        zoneIds: ["cn-hangzhou-k", "cn-hangzhou-j"],
                        paymentType: "Subscription",
                    }),
                }),
                ns("kmsInstance.spec"),
                /required for a Subscription instance/,
            ));
        it("an unknown securityRole mode", () =>
            assertOneProblem(createPath({ [ns("securityRole")]: "maybe" }), ns("securityRole"), /one of auto, create, adopt/));
        it("an operator with both a user and a role", () =>
            assertOneProblem(createPath({ [ns("operator")]: JSON.stringify({ ramUserName: "a", ramRoleName: "b" }) }), ns("operator"), /exactly one/));
        it("a rotation concurrency out of range", () =>
            assertOneProblem(createPath({ [ns("rotation")]: JSON.stringify({ concurrency: 0 }) }), ns("rotation.concurrency"), /from 1 to 64/));
        it("a bad annotation key", () =>
            assertOneProblem(createPath({ [ns("rotation")]: JSON.stringify({ annotationKey: "bad key!" }) }), ns("rotation.annotationKey"), /annotation key/));
        it("a typo in a top-level key, with a suggestion", () =>
            assertOneProblem(createPath({ [ns("clusterID")]: "c1" }), ns("clusterID"), /did you mean .*:clusterId\?/));
        it("a typo in a nested setting, with a suggestion", () =>
            assertOneProblem(
                createPath({ [ns("rotation")]: JSON.stringify({ concurency: 4 }) }),
                ns("rotation.concurency"),
                /did you mean rotation.concurrency\?/,
            ));
        it("a settings block that is not a map", () => assertOneProblem(createPath({ [ns("rotation")]: "fast" }), ns("rotation"), /must be a map/));
        it("an encryption poll interval below its floor, with the model's limits and default", () =>
            assertOneProblem(
                createPath({ [ns("encryption")]: JSON.stringify({ pollIntervalSeconds: 0 }) }),
                ns("encryption.pollIntervalSeconds"),
                /0 must be a whole number from 1 to 300 \(default 10\): Seconds between/,
            ));
        it("a 409 back-off that is not a whole number", () =>
            assertOneProblem(
                createPath({ [ns("encryption")]: JSON.stringify({ conflictBackoffSeconds: 1.5 }) }),
                ns("encryption.conflictBackoffSeconds"),
                /from 1 to 300 \(default 15\)/,
            ));
    });

    describe("refuses what alicloud.kms.Instance's validators refuse (resource_alicloud_kms_instance.go)", () => {
        const instance = (extra: Record<string, unknown>) =>
            createPath({
                [ns("kmsInstance")]: JSON.stringify({
                    vpcId: "vpc-bp1a",
                    vswitchIds: ["vsw-bp1a", "vsw-bp1b"],
                    zoneIds: ["cn-hangzhou-k", "cn-hangzhou-j"],
                    ...extra,
                }),
            });
        const subscription = { paymentType: "Subscription", spec: 1000 };
        const cases: [string, Record<string, unknown>, string, RegExp][] = [
            ["renewStatus NotRenewal", { renewStatus: "NotRenewal" }, "kmsInstance.renewStatus", /must be one of AutoRenewal, ManualRenewal/],
            ["keyNum under 100", { ...subscription, keyNum: 50 }, "kmsInstance.keyNum", /from 100 to 100000/],
            ["period 5", { ...subscription, period: 5 }, "kmsInstance.period", /must be one of 0, 1, 2, 3, 6, 12, 24, 36/],
            ["productVersion 4", { productVersion: "4" }, "kmsInstance.productVersion", /must be one of 3, 5/],
            ["paymentType Prepaid", { paymentType: "Prepaid" }, "kmsInstance.paymentType", /must be one of PayAsYouGo, Subscription/],
            ["spec 500", { ...subscription, spec: 500 }, "kmsInstance.spec", /must be one of 0, 200, 1000, 2000, 4000/],
            ["secretNum over 100000", { ...subscription, secretNum: 100001 }, "kmsInstance.secretNum", /from 0 to 100000/],
            ["vpcNum over 10000", { ...subscription, vpcNum: 10001 }, "kmsInstance.vpcNum", /from 0 to 10000/],
            ["a single zone", { zoneIds: ["cn-hangzhou-k"], vswitchIds: ["vsw-bp1a"] }, "kmsInstance.zoneIds", /exactly two different zones/],
            ["three vSwitches", { vswitchIds: ["vsw-a", "vsw-b", "vsw-c"] }, "kmsInstance.vswitchIds", /one vSwitch .* or two/],
        ];
        for (const [name, extra, key, reason] of cases) it(name, () => assertOneProblem(instance(extra), ns(key), reason));

        it("accepts one vSwitch for two zones (1:2) and keeps a software key on a software instance", () => {
            const settings = parseStackConfig(instance({ vswitchIds: ["vsw-bp1a"] }));
            assert.deepEqual(settings.kmsInstance?.vswitchIds, ["vsw-bp1a"]);
            assert.equal(settings.key.protectionLevel, "SOFTWARE");
        });

        it("gives a hardware instance (productVersion 5) an HSM key, and refuses a SOFTWARE key there", () => {
            assert.equal(parseStackConfig(instance({ productVersion: "5" })).key.protectionLevel, "HSM");
            const mismatched = { ...instance({ productVersion: "5" }), [ns("key")]: JSON.stringify({ protectionLevel: "SOFTWARE" }) };
            assertOneProblem(
                mismatched,
                ns("key.protectionLevel"),
                /SOFTWARE does not fit kmsInstance.productVersion "5" \(a hardware instance holds HSM keys\)/,
            );
        });
    });

    describe("refuses tags Alibaba Cloud refuses (Tag API reference)", () => {
        const tagged = (tags: Record<string, unknown>) => createPath({ [ns("tags")]: JSON.stringify(tags) });
        it("a reserved aliyun/acs: key prefix", () => assertOneProblem(tagged({ "aliyun-team": "x" }), ns("tags.aliyun-team"), /reserved by Alibaba Cloud/));
        it("an acs: value", () => assertOneProblem(tagged({ team: "acs:platform" }), ns("tags.team"), /values starting with "acs:"/));
        it("a key over 128 characters", () => assertOneProblem(tagged({ ["k".repeat(129)]: "x" }), ns(`tags.${"k".repeat(129)}`), /1 to 128/));
        it("a value over 128 characters", () => assertOneProblem(tagged({ team: "v".repeat(129) }), ns("tags.team"), /at most 128/));
        it("a URL in a key or value", () => assertOneProblem(tagged({ docs: "https://example.com" }), ns("tags.docs"), /http:\/\/" or "https:\/\/"/));
        it("a key with a character KMS refuses (a space)", () =>
            assertOneProblem(tagged({ "cost center": "x" }), ns("tags.cost center"), /letters, digits and/));
        it("a tag the stack sets itself", () => assertOneProblem(tagged({ purpose: "x" }), ns("tags.purpose"), /the stack sets this tag itself/));
        it("more than 18 tags (20 per resource, 2 are the stack's)", () => {
            const many = Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`t${i}`, "v"]));
            assertOneProblem(tagged(many), ns("tags"), /19 tags; a resource takes at most 20, and the stack adds 2/);
        });
    });

    it("takes encryption.onDelete (keep or switch-off) and refuses anything else, naming the choices", () => {
        const s = parseStackConfig(createPath({ [ns("encryption")]: JSON.stringify({ onDelete: "switch-off" }) }));
        assert.equal(s.encryption.onDelete, "switch-off");
        assert.throws(
            () => parseStackConfig(createPath({ [ns("encryption")]: JSON.stringify({ onDelete: "disable" }) })),
            /encryption\.onDelete: "disable" must be one of keep, switch-off/,
        );
    });

    it("takes fractional timeouts and the 409 back-off from the encryption settings", () => {
        const s = parseStackConfig(createPath({ [ns("encryption")]: JSON.stringify({ timeoutMinutes: 0.5, conflictBackoffSeconds: "5" }) }));
        assert.deepEqual(s.encryption, { pollIntervalSeconds: 10, timeoutMinutes: 0.5, conflictBackoffSeconds: 5, onDelete: "keep" });
    });

    it("reads the keys of the project the program runs as, not a constant", () => {
        const renamed = Object.fromEntries(Object.entries(createPath()).map(([k, v]) => [k.replace(`${PROJECT}:`, "my-clusters:"), v]));
        assert.equal(parseStackConfig(renamed, "my-clusters").clusterId, "c8f2a1b3c4d5e6f708192a3b4c5d6e7f8");
        assert.throws(() => parseStackConfig({ ...renamed, "my-clusters:clusterId": "nope" }, "my-clusters"), /my-clusters:clusterId: "nope" is not valid/);
    });

    it("reports every problem at once", () => {
        const problems = problemsOf({ [ns("clusterId")]: "x", [ns("securityRole")]: "maybe" });
        const keys = problems.map((p) => p.split(": ")[0]);
        assert.deepEqual(keys.sort(), ["alicloud:region", ns("clusterId"), ns("kmsInstance"), ns("securityRole")].sort());
    });

    it("ignores other namespaces' keys", () => {
        assert.doesNotThrow(() => parseStackConfig(createPath({ "alicloud:profile": "prod", "kubernetes:context": "x" })));
    });
});
