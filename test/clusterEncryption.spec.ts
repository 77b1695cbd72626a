import * as assert from "node:assert/strict";
import Module from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
    applyEncryption,
    checkInputs,
    ClusterEncryption,
    ClusterEncryptionInputs,
    ClusterEncryptionOutputs,
    clusterEncryptionProvider,
    diffEncryption,
    ProviderDeps,
    readEncryption,
    removeEncryption,
    UNKNOWN_INPUT,
} from "../components/clusterEncryption";
import { AlibabaStandIn, StandInCluster, StandInKey, startAlibabaStandIn, useAlibabaStandInEnv } from "./support/alibabaStandIn";

const REGION = "cn-hangzhou";

/** Deterministic deps: a fake clock that sleeping advances, and captured progress lines. */
function fakeDeps(overrides: Partial<ProviderDeps> = {}) {
    let clock = Date.UTC(2026, 5, 1, 12, 0, 0);
    const sleeps: number[] = [];
    const progress: string[] = [];
    const deps: ProviderDeps = {
        alibaba: (regionId) => ({ regionId }),
        sleep: async (ms) => {
            sleeps.push(ms);
            clock += ms;
        },
        now: () => clock,
        progress: (line) => progress.push(line),
        pollIntervalMs: 10_000,
        timeoutMs: 5 * 60_000,
        conflictInitialBackoffMs: 15_000,
        conflictMaxBackoffMs: 60_000,
        ...overrides,
    };
    return { deps, sleeps, progress, now: () => clock };
}

describe("ClusterEncryption provider against the Alibaba stand-in", () => {
    let standIn: AlibabaStandIn;
    let restoreEnv: () => void;
    let cluster: StandInCluster;
    let key: StandInKey;

    function inputs(extra: Partial<ClusterEncryptionInputs> = {}): ClusterEncryptionInputs {
        return { clusterId: cluster.clusterId, kmsKeyId: key.keyId, regionId: REGION, ...extra };
    }

    function outputsFor(c: StandInCluster, k: StandInKey, enabledAt = "2026-01-01T00:00:00.000Z"): ClusterEncryptionOutputs {
        return { clusterId: c.clusterId, kmsKeyId: k.keyId, regionId: REGION, encryptionEnabled: true, clusterName: c.name, enabledAt };
    }

    function encryptWith(c: StandInCluster, k: StandInKey) {
        c.encryptionKeyId = k.keyId;
        c.encryptionDisabled = false;
    }

    beforeEach(async () => {
        standIn = await startAlibabaStandIn({ regionId: REGION });
        restoreEnv = useAlibabaStandInEnv(standIn);
        cluster = standIn.addCluster({ name: "payments-ask" });
        key = standIn.addKey();
    });
    afterEach(async () => {
        restoreEnv();
        await standIn.close();
    });

    describe("check (preflight, runs in preview)", () => {
        it("passes a Pro, running cluster in the stack's region with an enabled AES-256 User key", async () => {
            const { deps } = fakeDeps();
            const result = await checkInputs({}, inputs(), deps);
            assert.deepEqual(result.failures, []);
            assert.deepEqual(result.inputs, inputs());
            assert.deepEqual(standIn.calls.map((c) => c.action), ["DescribeClusterDetail", "DescribeKey", "ListKeys"]);
        });

        it("skips preflight while an input is unknown (preview before the key exists)", async () => {
            const { deps } = fakeDeps();
            const result = await checkInputs({}, inputs({ kmsKeyId: UNKNOWN_INPUT }), deps);
            assert.equal(result.failures, undefined);
            assert.equal(standIn.calls.length, 0);
        });

        it("leaves an unchanged target to diff, so an unrelated update does not fail while the cluster is busy", async () => {
            const { deps } = fakeDeps();
            standIn.clusters.get(inputs().clusterId)!.state = "updating";
            try {
                const result = await checkInputs(inputs(), inputs({ timeoutMinutes: 45 }), deps);
                assert.equal(result.failures, undefined);
                assert.equal(standIn.calls.length, 0);
                // A new target is still checked, and the busy cluster is reported.
                const retargeted = await checkInputs(inputs({ kmsKeyId: "key-other" }), inputs(), deps);
                assert.match(retargeted.failures?.map((f) => f.reason).join("\n") ?? "", /updating/);
            } finally {
                standIn.clusters.get(inputs().clusterId)!.state = "running";
            }
        });

        it("rejects malformed inputs without calling any API", async () => {
            const { deps } = fakeDeps();
            const result = await checkInputs({}, { clusterId: "", kmsKeyId: key.keyId, regionId: REGION, pollIntervalSeconds: -1 }, deps);
            assert.deepEqual(result.failures?.map((f) => f.property), ["clusterId", "pollIntervalSeconds"]);
            assert.match(result.failures?.[0].reason ?? "", /clusterId is required/);
            assert.equal(standIn.calls.length, 0);
        });

        const scenarios: { name: string; arrange: () => Partial<ClusterEncryptionInputs> | void; property: string; reason: RegExp }[] = [
            {
                name: "a cluster that is not Pro",
                arrange: () => standIn.scenario.notProCluster(cluster.clusterId),
                property: "clusterId",
                reason: /cluster spec "ack\.standard", not "ack\.pro\.small".*Migrate the cluster to Pro/,
            },
            {
                name: "a missing cluster",
                arrange: () => standIn.scenario.removeCluster(cluster.clusterId),
                property: "clusterId",
                reason: /was not found in region cn-hangzhou \(ErrorClusterNotFound, HTTP 404, request ID [0-9A-F-]+\)\. Check the clusterId/,
            },
            {
                name: "a cluster that is not running",
                arrange: () => void (cluster.state = "upgrading"),
                property: "clusterId",
                reason: /is "upgrading", not "running": wait until the cluster is running/,
            },
            {
                name: "a cluster in another region",
                arrange: () => void (cluster.regionId = "cn-shanghai"),
                property: "regionId",
                reason: /is in region cn-shanghai, but the stack's region \(alicloud:region\) is cn-hangzhou.*Set alicloud:region to cn-shanghai/,
            },
            {
                name: "a disabled key",
                arrange: () => standIn.scenario.disableKey(key.keyId),
                property: "kmsKeyId",
                reason: /is "Disabled", not "Enabled": enable it/,
            },
            {
                name: "a service key",
                arrange: () => standIn.scenario.makeServiceKey(key.keyId),
                property: "kmsKeyId",
                reason: /is a service key .* not a User key.*Create a key yourself/,
            },
            {
                name: "a key with the wrong spec",
                arrange: () => standIn.scenario.setKeySpec(key.keyId, "Aliyun_SM4"),
                property: "kmsKeyId",
                reason: /has key spec "Aliyun_SM4"; Secret encryption needs a symmetric "Aliyun_AES_256" key/,
            },
            {
                name: "a signing key",
                arrange: () => void (key.keyUsage = "SIGN/VERIFY"),
                property: "kmsKeyId",
                reason: /has key usage "SIGN\/VERIFY"; Secret encryption needs "ENCRYPT\/DECRYPT"/,
            },
            {
                name: "a missing key",
                arrange: () => ({ kmsKeyId: "key-does-not-exist" }),
                property: "kmsKeyId",
                reason: /KMS key "key-does-not-exist" was not found in region cn-hangzhou \(Forbidden\.KeyNotFound/,
            },
            {
                name: "a key named by ARN instead of ID",
                arrange: () => ({ kmsKeyId: key.arn }),
                property: "kmsKeyId",
                reason: /names key [0-9a-f-]+ indirectly \(alias or ARN\): use the key ID/,
            },
        ];
        for (const s of scenarios) {
            it(`fails with one clear error for ${s.name}`, async () => {
                const { deps } = fakeDeps();
                const extra = s.arrange() ?? {};
                const result = await checkInputs({}, inputs(extra), deps);
                assert.equal(result.failures?.length, 1, JSON.stringify(result.failures));
                assert.equal(result.failures?.[0].property, s.property);
                assert.match(result.failures?.[0].reason ?? "", s.reason);
            });
        }

        it("reports every problem at once", async () => {
            const { deps } = fakeDeps();
            standIn.scenario.notProCluster(cluster.clusterId);
            standIn.scenario.disableKey(key.keyId);
            standIn.scenario.makeServiceKey(key.keyId);
            const result = await checkInputs({}, inputs(), deps);
            assert.equal(result.failures?.length, 3);
        });

        it("throws, rather than blaming the inputs, when the credentials are wrong", async () => {
            const { deps } = fakeDeps();
            restoreEnv();
            restoreEnv = useAlibabaStandInEnv(standIn, { accessKeySecret: "wrong-secret-000" });
            await assert.rejects(checkInputs({}, inputs(), deps), /DescribeClusterDetail .* failed: SignatureDoesNotMatch, HTTP 400/);
        });
    });

    describe("diff", () => {
        it("reports no change when the cluster already encrypts with the key, reading only the cluster", async () => {
            const { deps } = fakeDeps();
            encryptWith(cluster, key);
            const result = await diffEncryption(cluster.clusterId, outputsFor(cluster, key), inputs(), deps);
            assert.equal(result.changes, false);
            assert.deepEqual(standIn.calls.map((c) => c.action), ["DescribeClusterDetail"]);
        });

        it("notices drift when someone switched the cluster to another key", async () => {
            const { deps } = fakeDeps();
            const other = standIn.addKey();
            encryptWith(cluster, other);
            const result = await diffEncryption(cluster.clusterId, outputsFor(cluster, key), inputs(), deps);
            assert.equal(result.changes, true);
            assert.deepEqual(result.replaces, []);
            assert.match(result.reasons.join("\n"), new RegExp(`drifted: it has encryption with key ${other.keyId}`));
        });

        it("notices drift when encryption was switched off outside Pulumi", async () => {
            const { deps } = fakeDeps();
            const result = await diffEncryption(cluster.clusterId, outputsFor(cluster, key), inputs(), deps);
            assert.equal(result.changes, true);
            assert.match(result.reasons.join("\n"), /drifted: it has encryption off/);
        });

        it("updates in place for a new key and replaces for a new cluster", async () => {
            const { deps } = fakeDeps();
            encryptWith(cluster, key);
            const newKey = standIn.addKey();
            const keyChange = await diffEncryption(cluster.clusterId, outputsFor(cluster, key), inputs({ kmsKeyId: newKey.keyId }), deps);
            assert.deepEqual([keyChange.changes, keyChange.replaces], [true, []]);
            const other = standIn.addCluster();
            const clusterChange = await diffEncryption(cluster.clusterId, outputsFor(cluster, key), inputs({ clusterId: other.clusterId }), deps);
            assert.deepEqual([clusterChange.changes, clusterChange.replaces], [true, ["clusterId"]]);
        });

        it("reports a change without calling any API while the new key is unknown", async () => {
            const { deps } = fakeDeps();
            const result = await diffEncryption(cluster.clusterId, outputsFor(cluster, key), inputs({ kmsKeyId: UNKNOWN_INPUT }), deps);
            assert.equal(result.changes, true);
            assert.equal(standIn.calls.length, 0);
        });

        it("fails the preview when a change is due and the preflight fails", async () => {
            const { deps } = fakeDeps();
            encryptWith(cluster, key);
            const disabled = standIn.addKey({ keyState: "Disabled" });
            await assert.rejects(
                diffEncryption(cluster.clusterId, outputsFor(cluster, key), inputs({ kmsKeyId: disabled.keyId }), deps),
                /preflight found 1 problem\(s\):\n- kmsKeyId: KMS key "[^"]+" is "Disabled", not "Enabled": enable it/,
            );
        });

        it("tells the user to refresh when the cluster is gone", async () => {
            const { deps } = fakeDeps();
            standIn.scenario.removeCluster(cluster.clusterId);
            await assert.rejects(diffEncryption(cluster.clusterId, outputsFor(cluster, key), inputs(), deps), /no longer exists .*Run `pulumi refresh`/);
        });
    });

    describe("create / update", () => {
        it("enables encryption, polls while the cluster updates, and returns the outputs", async () => {
            const { deps, progress, sleeps, now } = fakeDeps();
            standIn.scenario.stillUpdatingFor(3);
            const outs = await applyEncryption(inputs(), deps);
            assert.deepEqual(outs, {
                clusterId: cluster.clusterId,
                kmsKeyId: key.keyId,
                regionId: REGION,
                encryptionEnabled: true,
                clusterName: "payments-ask",
                enabledAt: new Date(now()).toISOString(),
            });
            assert.deepEqual([cluster.state, cluster.encryptionKeyId, cluster.encryptionDisabled], ["running", key.keyId, false]);
            const updates = standIn.callsOf("UpdateKMSEncryption");
            assert.equal(updates.length, 1);
            assert.deepEqual(JSON.parse(updates[0].body), { disable_encryption: false, kms_key_id: key.keyId });
            // One read before the change, then 3 polls still "updating" and the one that sees it done.
            assert.equal(standIn.callsOf("DescribeClusterDetail").length, 5);
            assert.deepEqual(sleeps, [10_000, 10_000, 10_000]);
            assert.ok(progress.some((l) => /state=updating.*waiting for encryption with key/.test(l)), progress.join("\n"));
            assert.ok(progress.some((l) => /is running with encryption with key/.test(l)));
        });

        it("does not call UpdateKMSEncryption when the cluster already encrypts with the key", async () => {
            const { deps } = fakeDeps();
            encryptWith(cluster, key);
            const outs = await applyEncryption(inputs(), deps);
            assert.equal(outs.encryptionEnabled, true);
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 0);
        });

        it("only waits when the key is already set but the cluster is still updating (a re-run after a timeout)", async () => {
            const { deps } = fakeDeps({
                sleep: async () => {
                    cluster.state = "running";
                },
            });
            encryptWith(cluster, key);
            cluster.state = "updating";
            const outs = await applyEncryption(inputs(), deps);
            assert.equal(outs.encryptionEnabled, true);
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 0);
            assert.equal(standIn.callsOf("DescribeClusterDetail").length, 3);
        });

        it("retries the 409 'changed within 5 minutes' answer with backoff", async () => {
            const { deps, progress, sleeps } = fakeDeps();
            standIn.scenario.conflictOnce();
            await applyEncryption(inputs(), deps);
            assert.deepEqual(standIn.callsOf("UpdateKMSEncryption").map((c) => c.status), [409, 200]);
            assert.equal(sleeps[0], 15_000);
            assert.ok(progress.some((l) => /answered Conflict \(HTTP 409\); retrying in 15s \(attempt 1\)/.test(l)), progress.join("\n"));
            assert.equal(cluster.encryptionKeyId, key.keyId);
        });

        it("caps the backoff and gives up at the deadline when the 409 persists", async () => {
            const { deps, sleeps } = fakeDeps({ timeoutMs: 4 * 60_000 });
            standIn.knobs.conflictsBeforeAccept = 1000;
            await assert.rejects(applyEncryption(inputs(), deps), /UpdateKMSEncryption for cluster "[^"]+" kept failing for 4 minute\(s\) \(\d+ attempts\); last answer: .*Conflict, HTTP 409/);
            assert.deepEqual(sleeps.slice(0, 4), [15_000, 30_000, 60_000, 60_000]);
            assert.ok(sleeps.reduce((a, b) => a + b, 0) <= 4 * 60_000);
        });

        it("explains ForbiddenUpdateKMSState and does not retry it", async () => {
            const { deps } = fakeDeps();
            standIn.scenario.forbidUpdates();
            await assert.rejects(applyEncryption(inputs(), deps), (e: Error) => {
                assert.match(e.message, /ForbiddenUpdateKMSState, HTTP 403/);
                assert.match(e.message, /RBAC role admin or ops/);
                assert.match(e.message, /AliyunKMSCryptoAdminAccess/);
                return true;
            });
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 1);
        });

        it("times out with the last seen state when the cluster never finishes", async () => {
            const { deps } = fakeDeps({ timeoutMs: 60_000 });
            standIn.scenario.stillUpdatingFor(Infinity);
            await assert.rejects(
                applyEncryption(inputs(), deps),
                /Timed out after 1 minute\(s\) waiting for cluster "[^"]+" to reach encryption with key .* \(last seen: state=updating, encryption off\).*raise timeoutMinutes/s,
            );
            // Bounded: about one poll per interval within the timeout.
            const polls = standIn.callsOf("DescribeClusterDetail").length;
            assert.ok(polls >= 6 && polls <= 8, `polls=${polls}`);
        });

        it("fails fast when the cluster update fails", async () => {
            const { deps } = fakeDeps();
            standIn.knobs.failUpdate = true;
            standIn.scenario.stillUpdatingFor(1);
            await assert.rejects(applyEncryption(inputs(), deps), /went to state "updating_failed" while waiting.*event log/);
        });

        it("update switches to a new key and stamps a new enabledAt; an unchanged re-apply keeps it", async () => {
            const { deps, now } = fakeDeps();
            encryptWith(cluster, key);
            const previous = outputsFor(cluster, key, "2026-01-01T00:00:00.000Z");
            const kept = await applyEncryption(inputs(), deps, previous);
            assert.equal(kept.enabledAt, "2026-01-01T00:00:00.000Z");
            const newKey = standIn.addKey();
            standIn.scenario.stillUpdatingFor(1);
            const outs = await applyEncryption(inputs({ kmsKeyId: newKey.keyId }), deps, previous);
            assert.equal(outs.kmsKeyId, newKey.keyId);
            assert.equal(outs.enabledAt, new Date(now()).toISOString());
            assert.equal(cluster.encryptionKeyId, newKey.keyId);
        });
    });

    describe("read (refresh)", () => {
        it("reports the cluster's actual key, so drift shows", async () => {
            const { deps } = fakeDeps();
            const other = standIn.addKey();
            encryptWith(cluster, other);
            const result = await readEncryption(cluster.clusterId, outputsFor(cluster, key), deps);
            assert.equal(result.id, cluster.clusterId);
            assert.equal(result.props?.kmsKeyId, other.keyId);
            assert.equal(result.props?.encryptionEnabled, true);
        });

        it("reports encryption off", async () => {
            const { deps } = fakeDeps();
            const result = await readEncryption(cluster.clusterId, outputsFor(cluster, key), deps);
            assert.deepEqual([result.props?.kmsKeyId, result.props?.encryptionEnabled], ["", false]);
        });

        it("returns no ID when the cluster is gone, so refresh drops the resource", async () => {
            const { deps } = fakeDeps();
            standIn.scenario.removeCluster(cluster.clusterId);
            const result = await readEncryption(cluster.clusterId, outputsFor(cluster, key), deps);
            assert.equal(result.id, undefined);
        });
    });

    describe("delete", () => {
        it("switches encryption off and waits until the cluster is running with encryption disabled", async () => {
            const { deps, progress } = fakeDeps();
            encryptWith(cluster, key);
            standIn.scenario.stillUpdatingFor(2);
            await removeEncryption(cluster.clusterId, outputsFor(cluster, key), deps);
            const [update] = standIn.callsOf("UpdateKMSEncryption");
            assert.deepEqual(JSON.parse(update.body), { disable_encryption: true });
            assert.deepEqual([cluster.state, cluster.encryptionDisabled], ["running", true]);
            assert.ok(progress.some((l) => /switching Secret encryption off/.test(l)));
            assert.match(progress[progress.length - 1], new RegExp(`still sealed by key ${key.keyId}.*Keep that key enabled until they are rewritten`));
        });

        it("retries a 409 while switching off", async () => {
            const { deps } = fakeDeps();
            encryptWith(cluster, key);
            standIn.scenario.conflictOnce();
            await removeEncryption(cluster.clusterId, outputsFor(cluster, key), deps);
            assert.deepEqual(standIn.callsOf("UpdateKMSEncryption").map((c) => c.status), [409, 200]);
            assert.equal(cluster.encryptionDisabled, true);
        });

        it("does nothing when the cluster is gone or already unencrypted", async () => {
            const { deps } = fakeDeps();
            await removeEncryption(cluster.clusterId, outputsFor(cluster, key), deps);
            standIn.scenario.removeCluster(cluster.clusterId);
            await removeEncryption(cluster.clusterId, outputsFor(cluster, key), deps);
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 0);
        });
    });

    describe("the provider object (what the engine calls)", () => {
        it("runs check, create, read and delete with production wiring and real timers", async () => {
            standIn.scenario.stillUpdatingFor(1);
            const news = inputs({ pollIntervalSeconds: 0.05, timeoutMinutes: 1 });
            const checked = await clusterEncryptionProvider.check!({} as ClusterEncryptionInputs, news);
            assert.deepEqual(checked.failures, []);
            const created = await clusterEncryptionProvider.create(news);
            assert.equal(created.id, cluster.clusterId);
            assert.equal(created.outs?.encryptionEnabled, true);
            assert.equal(created.outs?.pollIntervalSeconds, 0.05);
            const read = await clusterEncryptionProvider.read!(created.id, created.outs);
            assert.equal(read.props?.kmsKeyId, key.keyId);
            await clusterEncryptionProvider.delete!(created.id, created.outs!);
            assert.equal(cluster.encryptionDisabled, true);
        });

        it("serializes by closure without capturing any credential, and the serialized provider works", async () => {
            const serialized = await pulumi.runtime.serializeFunction(() => clusterEncryptionProvider, { allowSecrets: true });
            assert.equal(serialized.containsSecrets, false);
            assert.doesNotMatch(serialized.text, new RegExp(standIn.accessKeySecret));
            assert.doesNotMatch(serialized.text, new RegExp(standIn.accessKeyId));
            // Endpoint overrides are read from the environment at run time, not frozen into the provider.
            for (const endpoint of [standIn.csEndpoint, standIn.kmsEndpoint]) assert.ok(!serialized.text.includes(new URL(endpoint).host));
            // SDKs are loaded by name at run time, never serialized by value.
            assert.match(serialized.text, /require\("@alicloud\/cs20151215"\)/);

            // Load the text the way the dynamic provider host does and drive it.
            const filename = path.join(process.cwd(), "__serialized_cluster_encryption_provider__.js");
            const loaded = new Module(filename) as Module & { _compile(code: string, file: string): void };
            loaded.filename = filename;
            loaded.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(process.cwd());
            loaded._compile(serialized.text, filename);
            const provider = (loaded.exports as Record<string, () => pulumi.dynamic.ResourceProvider>)[serialized.exportName]();
            const checked = await provider.check!({}, inputs());
            assert.deepEqual(checked.failures, []);
            standIn.scenario.disableKey(key.keyId);
            const failing = await provider.check!({}, inputs());
            assert.match(failing.failures?.[0].reason ?? "", /is "Disabled", not "Enabled"/);
        });
    });
});

describe("ClusterEncryption resource registration", () => {
    it("registers as pulumi-nodejs:dynamic/ask:ClusterEncryption with its inputs and no credential", async () => {
        const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: (args) => args.inputs,
            },
            "project",
            "stack",
            false,
        );
        const resource = new ClusterEncryption("enc", { clusterId: "c-1", kmsKeyId: "key-1", regionId: REGION, timeoutMinutes: 45 });
        const clusterId = await new Promise<string>((resolve) => resource.clusterId.apply(resolve));
        assert.equal(clusterId, "c-1");
        const entry = registered.find((r) => r.name === "enc");
        assert.ok(entry, JSON.stringify(registered.map((r) => r.name)));
        assert.equal(entry.type, "pulumi-nodejs:dynamic/ask:ClusterEncryption");
        assert.equal(entry.inputs.clusterId, "c-1");
        assert.equal(entry.inputs.kmsKeyId, "key-1");
        assert.equal(entry.inputs.timeoutMinutes, 45);
        const inputKeys = Object.keys(entry.inputs).filter((k) => k !== "__provider");
        assert.ok(!inputKeys.some((k) => /secret|accesskey|token/i.test(k)), inputKeys.join(","));
    });
});
