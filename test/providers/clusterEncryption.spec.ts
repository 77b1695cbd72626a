// ClusterEncryption as `pulumi up` runs it: the `__provider` text the program
// registers, rebuilt and called by Pulumi's own provider host over gRPC, against
// the Alibaba stand-in. Errors are asserted as the engine receives them (gRPC details).
//
// Size: one spec for one provider, its scenario table included; every test drives the provider host.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UNKNOWN_INPUT } from "../../components/providers/kit";
import { AlibabaStandIn, standInHostEnv, standInStackConfig, StandInCluster, StandInKey, startAlibabaStandIn } from "../support/alibabaStandIn/index";
import { Props, ProviderHost, startProviderHost } from "../support/providerHost";
import { CLUSTER_ENCRYPTION_TYPE, RegisteredDynamicResource, registeredDynamicResources } from "../support/registered";

const REGION = "cn-hangzhou";
/** Real settings at their floors: the host runs real timers, so tests stay in seconds. */
const FAST = { pollIntervalSeconds: 1, conflictBackoffSeconds: 1, timeoutMinutes: 0.5 };

describe("ClusterEncryption through Pulumi's provider host", function () {
    this.timeout(60_000);
    let registered: RegisteredDynamicResource;
    let standIn: AlibabaStandIn;
    let host: ProviderHost;
    let home: string;
    let cluster: StandInCluster;
    let key: StandInKey;

    before(async () => {
        registered = (await registeredDynamicResources())[CLUSTER_ENCRYPTION_TYPE];
        standIn = await startAlibabaStandIn({ regionId: REGION });
        home = fs.mkdtempSync(path.join(os.tmpdir(), "host-home-"));
        host = await startProviderHost({ env: standInHostEnv(standIn, home) });
        const { config, secretKeys } = standInStackConfig(standIn);
        await host.configure(config, secretKeys);
    });
    after(async () => {
        await host?.close();
        await standIn?.close();
        fs.rmSync(home, { recursive: true, force: true });
    });
    beforeEach(() => {
        Object.assign(standIn.knobs, { updatingPolls: 0, conflictsBeforeAccept: 0, forbidUpdate: false, failUpdate: false });
        cluster = standIn.addCluster({ name: "payments-ask" });
        key = standIn.addKey();
        standIn.calls.length = 0;
    });

    /** The registered inputs (with `__provider`), aimed at this test's cluster and key. */
    function news(extra: Props = {}): Props {
        return { ...registered.inputs, clusterId: cluster.clusterId, kmsKeyId: key.keyId, regionId: REGION, ...FAST, ...extra };
    }
    function outputsFor(c: StandInCluster, k: StandInKey, enabledAt = "2026-01-01T00:00:00.000Z"): Props {
        return { ...news({ clusterId: c.clusterId, kmsKeyId: k.keyId }), encryptionEnabled: true, clusterName: c.name, enabledAt };
    }
    function encryptWith(c: StandInCluster, k: StandInKey) {
        c.encryptionKeyId = k.keyId;
        c.encryptionDisabled = false;
    }
    const urn = () => registered.urn;
    const actions = () => standIn.calls.map((c) => c.action);

    describe("check (preflight, runs in preview)", () => {
        it("passes a Pro, running cluster in the stack's region with an enabled AES-256 User key", async () => {
            const result = await host.check(urn(), {}, news());
            assert.deepEqual(result.failures, []);
            assert.equal(result.inputs.kmsKeyId, key.keyId);
            assert.equal(result.inputs.__provider, registered.providerText, "the host keeps the registered provider text");
            assert.deepEqual(actions(), ["DescribeClusterDetail", "DescribeKey", "ListKeys"]);
        });

        it("accepts every Pro tier", async () => {
            for (const spec of ["ack.pro.xlarge", "ack.pro.2xlarge", "ack.pro.4xlarge"]) {
                cluster.clusterSpec = spec;
                assert.deepEqual((await host.check(urn(), {}, news())).failures, [], spec);
            }
        });

        it("accepts ASK (profile Serverless) and ACK Pro (profile Default) alike", async () => {
            cluster.profile = "Default";
            assert.deepEqual((await host.check(urn(), {}, news())).failures, []);
        });

        for (const [state, advice] of [
            ["failed", /read its event log/],
            ["unavailable", /control plane is unavailable/],
            ["inactive", /overdue payment/],
            ["stopped", /start it in the Container Service console/],
            ["deleting", /being deleted: point clusterId at another cluster/],
            ["deleted", /was deleted/],
        ] as const) {
            it(`says a "${state}" cluster will not become running by waiting, and what to do`, async () => {
                cluster.state = state;
                const { failures } = await host.check(urn(), {}, news());
                assert.equal(failures.length, 1);
                assert.match(failures[0].reason, new RegExp(`is "${state}" and will not become running by waiting: `));
                assert.match(failures[0].reason, advice);
            });
        }

        it("skips the preflight while an input is unknown (preview before the key exists)", async () => {
            const result = await host.check(urn(), {}, news({ kmsKeyId: UNKNOWN_INPUT }));
            assert.deepEqual(result.failures, []);
            assert.equal(standIn.calls.length, 0);
        });

        it("preflights an unchanged target only when the cluster drifted, so an unrelated update does not fail while the cluster is busy", async () => {
            encryptWith(cluster, key);
            cluster.state = "updating";
            const unchanged = await host.check(urn(), news(), news({ timeoutMinutes: 45 }));
            assert.deepEqual(unchanged.failures, []);
            assert.deepEqual(
                standIn.calls.map((c) => c.action),
                ["DescribeClusterDetail"],
                "one look at the cluster, no preflight",
            );
            cluster.encryptionKeyId = "key-someone-else";
            const drifted = await host.check(urn(), news(), news());
            assert.match(drifted.failures.map((f) => f.reason).join("\n"), /"updating", not "running"/);
            const retargeted = await host.check(urn(), news({ kmsKeyId: "key-other" }), news());
            assert.match(retargeted.failures.map((f) => f.reason).join("\n"), /"updating", not "running"/);
        });

        it("rejects malformed inputs and timing below its floor without calling any API, naming the limits", async () => {
            const result = await host.check(urn(), {}, news({ clusterId: "", pollIntervalSeconds: 0, timeoutMinutes: 0.01 }));
            assert.deepEqual(
                result.failures.map((f) => f.property),
                ["clusterId", "pollIntervalSeconds", "timeoutMinutes"],
            );
            assert.match(result.failures[0].reason, /clusterId is required/);
            assert.match(result.failures[1].reason, /must be a whole number from 1 to 300 \(default 10\)/);
            assert.match(result.failures[2].reason, /must be a number from 0\.1 to 240 \(default 30\)/);
            assert.equal(standIn.calls.length, 0);
        });

        const scenarios: { name: string; arrange: () => Props | void; property: string; reason: RegExp }[] = [
            {
                name: "a cluster that is not Pro",
                arrange: () => standIn.scenario.notProCluster(cluster.clusterId),
                property: "clusterId",
                reason: /cluster spec "ack\.standard", not a Pro spec.*Migrate the cluster to Pro/,
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
                const extra = s.arrange() ?? {};
                const result = await host.check(urn(), {}, news(extra));
                assert.equal(result.failures.length, 1, JSON.stringify(result.failures));
                assert.equal(result.failures[0].property, s.property);
                assert.match(result.failures[0].reason, s.reason);
            });
        }

        it("reports every problem at once", async () => {
            standIn.scenario.notProCluster(cluster.clusterId);
            standIn.scenario.disableKey(key.keyId);
            standIn.scenario.makeServiceKey(key.keyId);
            assert.equal((await host.check(urn(), {}, news())).failures.length, 3);
        });
    });

    describe("diff", () => {
        it("reports no change when the cluster already encrypts with the key, reading only the cluster", async () => {
            encryptWith(cluster, key);
            const result = await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), news());
            assert.deepEqual(result, { changes: "none", replaces: [] });
            assert.deepEqual(actions(), ["DescribeClusterDetail"]);
        });

        it("notices drift when someone switched the cluster to another key, or switched encryption off", async () => {
            encryptWith(cluster, standIn.addKey());
            assert.deepEqual(await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), news()), { changes: "some", replaces: [] });
            cluster.encryptionDisabled = true;
            assert.equal((await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), news())).changes, "some");
        });

        it("updates in place for a new key and replaces for a new cluster", async () => {
            encryptWith(cluster, key);
            const newKey = standIn.addKey();
            assert.deepEqual(await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), news({ kmsKeyId: newKey.keyId })), {
                changes: "some",
                replaces: [],
            });
            const other = standIn.addCluster();
            const clusterChange = await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), news({ clusterId: other.clusterId }));
            assert.deepEqual(clusterChange, { changes: "some", replaces: ["clusterId"] });
        });

        it("reports a change without calling any API while the new key is unknown", async () => {
            const result = await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), news({ kmsKeyId: UNKNOWN_INPUT }));
            assert.equal(result.changes, "some");
            assert.equal(standIn.calls.length, 0);
        });

        it("never fails because of the cloud's state (refresh runs diff): a change to an unusable key is refused by check, in the preflight's words", async () => {
            encryptWith(cluster, key);
            const disabled = standIn.addKey({ keyState: "Disabled" });
            const due = news({ kmsKeyId: disabled.keyId });
            assert.equal((await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), due)).changes, "some");
            const checked = await host.check(urn(), outputsFor(cluster, key), due);
            assert.match(checked.failures.map((f) => f.reason).join("\n"), /KMS key "[^"]+" is "Disabled", not "Enabled": enable it/);
        });

        it("reports a change, without failing, when the cluster is gone or cannot be read", async () => {
            standIn.scenario.removeCluster(cluster.clusterId);
            assert.equal((await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), news())).changes, "some");
        });

        it("a new onDelete is an update that records it and changes nothing in the cloud; a bad one fails check", async () => {
            encryptWith(cluster, key);
            const due = news({ onDelete: "switch-off" });
            assert.deepEqual(await host.diff(cluster.clusterId, urn(), outputsFor(cluster, key), due), { changes: "some", replaces: [] });
            const updated = await host.update(cluster.clusterId, urn(), outputsFor(cluster, key), due);
            assert.equal(updated.outs.onDelete, "switch-off");
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 0);
            const checked = await host.check(urn(), outputsFor(cluster, key), news({ onDelete: "disable" }));
            assert.match(checked.failures.map((f) => f.reason).join("\n"), /onDelete: "disable" must be one of keep, switch-off/);
        });

        it("asks for one update when the stored provider predates the shim, so fixed code reaches the resource", async () => {
            encryptWith(cluster, key);
            const old = { ...outputsFor(cluster, key), __provider: "exports.handler = __f0; /* fully serialized, pre-shim */" };
            assert.equal((await host.diff(cluster.clusterId, urn(), old, news())).changes, "some");
            const updated = await host.update(cluster.clusterId, urn(), old, news());
            assert.equal(updated.outs.__provider, registered.providerText, "the update stores the shim");
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 0, "the cluster already has the key: nothing is changed");
            assert.equal((await host.diff(cluster.clusterId, urn(), updated.outs, news())).changes, "none");
        });
    });

    describe("create / update", () => {
        it("enables encryption, polls while the cluster updates, and returns the outputs", async () => {
            standIn.scenario.stillUpdatingFor(2);
            const before = Date.now();
            const { id, outs } = await host.create(urn(), news());
            assert.equal(id, cluster.clusterId);
            assert.equal(outs.encryptionEnabled, true);
            assert.equal(outs.kmsKeyId, key.keyId);
            assert.equal(outs.clusterName, "payments-ask");
            assert.ok(Date.parse(String(outs.enabledAt)) >= before - 1000);
            assert.equal(outs.__provider, registered.providerText);
            assert.deepEqual([cluster.state, cluster.encryptionKeyId, cluster.encryptionDisabled], ["running", key.keyId, false]);
            const updates = standIn.callsOf("UpdateKMSEncryption");
            assert.equal(updates.length, 1);
            assert.deepEqual(JSON.parse(updates[0].body), { disable_encryption: false, kms_key_id: key.keyId });
            // One read before the change, then 2 polls still "updating" and the one that sees it done.
            assert.equal(standIn.callsOf("DescribeClusterDetail").length, 4);
            assert.match(host.stderr(), /state=updating, encryption off; waiting for encryption with key/);
            assert.match(host.stderr(), /is running with encryption with key/);
        });

        it("does not call UpdateKMSEncryption when the cluster already encrypts with the key", async () => {
            encryptWith(cluster, key);
            const { outs } = await host.create(urn(), news());
            assert.equal(outs.encryptionEnabled, true);
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 0);
        });

        it("retries the 409 'changed within 5 minutes' answer after the configured back-off", async () => {
            standIn.scenario.conflictOnce();
            await host.create(urn(), news());
            assert.deepEqual(
                standIn.callsOf("UpdateKMSEncryption").map((c) => c.status),
                [409, 200],
            );
            assert.match(host.stderr(), /answered Conflict \(HTTP 409\); retrying in 1s \(attempt 1\)/);
            assert.equal(cluster.encryptionKeyId, key.keyId);
        });

        it("gives up at the deadline when the 409 persists, saying what to do", async () => {
            standIn.knobs.conflictsBeforeAccept = 1000;
            await assert.rejects(
                host.create(urn(), news({ timeoutMinutes: 0.1 })),
                /UpdateKMSEncryption for cluster "[^"]+" kept failing for 0\.1 minute\(s\) \(3 attempts\); last answer: CS UpdateKMSEncryption .*Conflict, HTTP 409.*raise encryption\.timeoutMinutes/s,
            );
        });

        it("explains ForbiddenUpdateKMSState and does not retry it", async () => {
            standIn.scenario.forbidUpdates();
            await assert.rejects(host.create(urn(), news()), (e: Error) => {
                assert.match(e.message, /CS UpdateKMSEncryption for cluster "[^"]+" failed: ForbiddenUpdateKMSState, HTTP 403/);
                assert.match(e.message, /RBAC role admin or ops/);
                assert.match(e.message, /AliyunKMSCryptoAdminAccess/);
                return true;
            });
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 1);
        });

        it("names the cluster when it disappeared before create", async () => {
            standIn.scenario.removeCluster(cluster.clusterId);
            await assert.rejects(
                host.create(urn(), news()),
                /CS DescribeClusterDetail for cluster "[^"]+" failed: ErrorClusterNotFound, HTTP 404.*check the clusterId/,
            );
        });

        it("times out with the last seen state when the cluster never finishes", async () => {
            standIn.scenario.stillUpdatingFor(Infinity);
            await assert.rejects(
                host.create(urn(), news({ timeoutMinutes: 0.1 })),
                /Timed out after 0\.1 minute\(s\) waiting for cluster "[^"]+" to reach encryption with key .* \(last seen: state=updating, encryption off\).*raise encryption\.timeoutMinutes/s,
            );
            // Bounded: about one poll per second within the 6 s timeout, plus the first read.
            const polls = standIn.callsOf("DescribeClusterDetail").length;
            assert.ok(polls >= 5 && polls <= 9, `polls=${polls}`);
        });

        it("fails fast when the cluster update fails, or the cluster is unavailable", async () => {
            standIn.knobs.failUpdate = true;
            standIn.scenario.stillUpdatingFor(1);
            await assert.rejects(host.create(urn(), news()), /went to state "updating_failed" while waiting.*event log/);
            const stuck = standIn.addCluster();
            encryptWith(stuck, key);
            stuck.state = "unavailable";
            const started = Date.now();
            await assert.rejects(host.create(urn(), news({ clusterId: stuck.clusterId })), /is "unavailable" and will not become running by waiting/);
            assert.equal(standIn.callsOf("UpdateKMSEncryption").filter((c) => c.path.includes(stuck.clusterId)).length, 0, "no change sent");
            assert.ok(Date.now() - started < 10_000, "must not wait out the timeout");
        });

        it("update switches to a new key and stamps a new enabledAt; an unchanged re-apply keeps it", async () => {
            encryptWith(cluster, key);
            const previous = outputsFor(cluster, key, "2026-01-01T00:00:00.000Z");
            const kept = await host.update(cluster.clusterId, urn(), previous, news());
            assert.equal(kept.outs.enabledAt, "2026-01-01T00:00:00.000Z");
            const newKey = standIn.addKey();
            standIn.scenario.stillUpdatingFor(1);
            const { outs } = await host.update(cluster.clusterId, urn(), previous, news({ kmsKeyId: newKey.keyId }));
            assert.equal(outs.kmsKeyId, newKey.keyId);
            assert.notEqual(outs.enabledAt, "2026-01-01T00:00:00.000Z");
            assert.equal(cluster.encryptionKeyId, newKey.keyId);
        });
    });

    describe("read (refresh)", () => {
        it("reports the cluster's actual key, or encryption off, so drift shows", async () => {
            const other = standIn.addKey();
            encryptWith(cluster, other);
            const result = await host.read(cluster.clusterId, urn(), outputsFor(cluster, key));
            assert.equal(result.id, cluster.clusterId);
            assert.deepEqual([result.props.kmsKeyId, result.props.encryptionEnabled], [other.keyId, true]);
            cluster.encryptionDisabled = true;
            const off = await host.read(cluster.clusterId, urn(), outputsFor(cluster, key));
            assert.deepEqual([off.props.kmsKeyId, off.props.encryptionEnabled], ["", false]);
        });

        it("returns an empty ID when the cluster is gone, so refresh drops the resource", async () => {
            standIn.scenario.removeCluster(cluster.clusterId);
            const result = await host.read(cluster.clusterId, urn(), outputsFor(cluster, key));
            assert.equal(result.id, "");
        });
    });

    describe("delete", () => {
        const switchOff = () => ({ ...outputsFor(cluster, key), onDelete: "switch-off" });

        it("keeps Secret encryption on by default, and for state recorded before onDelete existed: no API call, and says so", async () => {
            encryptWith(cluster, key);
            assert.equal(registered.inputs.onDelete, "keep", "the component records the default");
            const { onDelete: _recorded, ...predating } = outputsFor(cluster, key);
            for (const stored of [outputsFor(cluster, key), predating]) await host.delete(cluster.clusterId, urn(), stored);
            assert.deepEqual(standIn.calls, []);
            assert.deepEqual([cluster.encryptionDisabled, cluster.encryptionKeyId], [false, key.keyId]);
            assert.match(host.stderr(), new RegExp(`Secret encryption stays on with key ${key.keyId} \\(onDelete: keep\\).*encryption.onDelete: switch-off`));
        });

        it("with onDelete switch-off: switches encryption off and waits until the cluster is running with encryption disabled", async () => {
            encryptWith(cluster, key);
            standIn.scenario.stillUpdatingFor(2);
            await host.delete(cluster.clusterId, urn(), switchOff());
            const [update] = standIn.callsOf("UpdateKMSEncryption");
            assert.deepEqual(JSON.parse(update.body), { disable_encryption: true });
            assert.deepEqual([cluster.state, cluster.encryptionDisabled], ["running", true]);
            assert.match(host.stderr(), /switching Secret encryption off/);
            assert.match(host.stderr(), new RegExp(`still sealed by key ${key.keyId}.*Keep that key enabled until they are rewritten`));
        });

        it("retries a 409 while switching off", async () => {
            encryptWith(cluster, key);
            standIn.scenario.conflictOnce();
            await host.delete(cluster.clusterId, urn(), switchOff());
            assert.deepEqual(
                standIn.callsOf("UpdateKMSEncryption").map((c) => c.status),
                [409, 200],
            );
            assert.equal(cluster.encryptionDisabled, true);
        });

        it("with onDelete switch-off: does nothing when the cluster is gone or already unencrypted", async () => {
            await host.delete(cluster.clusterId, urn(), switchOff());
            standIn.scenario.removeCluster(cluster.clusterId);
            await host.delete(cluster.clusterId, urn(), switchOff());
            assert.equal(standIn.callsOf("UpdateKMSEncryption").length, 0);
        });
    });
});

describe("ClusterEncryption errors that are not about the inputs, through the host", function () {
    this.timeout(60_000);
    let registered: RegisteredDynamicResource;
    let standIn: AlibabaStandIn;
    let home: string;
    const hosts: ProviderHost[] = [];

    before(async () => {
        registered = (await registeredDynamicResources())[CLUSTER_ENCRYPTION_TYPE];
        standIn = await startAlibabaStandIn({ regionId: REGION });
        home = fs.mkdtempSync(path.join(os.tmpdir(), "host-home-"));
    });
    after(async () => {
        await Promise.all(hosts.map((h) => h.close()));
        await standIn?.close();
        fs.rmSync(home, { recursive: true, force: true });
    });
    async function hostWith(env: NodeJS.ProcessEnv, config: Record<string, string>, secretKeys: string[] = []) {
        const host = await startProviderHost({ env });
        hosts.push(host);
        await host.configure(config, secretKeys);
        return host;
    }
    function news(): Props {
        const cluster = standIn.addCluster();
        const key = standIn.addKey();
        return { ...registered.inputs, clusterId: cluster.clusterId, kmsKeyId: key.keyId, regionId: REGION, ...FAST };
    }

    it("missing credentials: says so and names every way to provide them", async () => {
        const host = await hostWith(standInHostEnv(standIn, home), { "alicloud:region": REGION });
        await assert.rejects(host.create(registered.urn, news()), (e: Error) => {
            assert.match(e.message, /The stack has no Alibaba Cloud credential/);
            assert.match(e.message, /alicloud:accessKey/);
            assert.match(e.message, /alicloud:profile/);
            return true;
        });
    });

    it("a wrong secret: the service's code and what to check, never the secret", async () => {
        const config = { "alicloud:region": REGION, "alicloud:accessKey": standIn.accessKeyId, "alicloud:secretKey": "wrong-secret-000" };
        const host = await hostWith(standInHostEnv(standIn, home), config, ["alicloud:secretKey"]);
        await assert.rejects(host.check(registered.urn, {}, news()), (e: Error) => {
            assert.match(e.message, /CS DescribeClusterDetail .* failed: SignatureDoesNotMatch, HTTP 400/);
            assert.doesNotMatch(e.message, /wrong-secret-000/);
            return true;
        });
    });

    it("an unreachable endpoint: names it and what to check", async () => {
        const env = standInHostEnv(standIn, home, { ALIBABA_CLOUD_CS_ENDPOINT: "http://127.0.0.1:1" });
        const { config, secretKeys } = standInStackConfig(standIn);
        const host = await hostWith(env, config, secretKeys);
        await assert.rejects(
            host.create(registered.urn, news()),
            /CS DescribeClusterDetail for cluster "[^"]+" failed: ECONNREFUSED\. Could not reach the CS endpoint 127\.0\.0\.1:1.*ALIBABA_CLOUD_CS_ENDPOINT/,
        );
    });
});
