// Kubernetes' own answer to "re-seal every Secret" (StorageVersionMigration, KEP-4192: beta and off by
// default in 1.35) against ours, on a real kube-apiserver and etcd with our test KMS plugin, under KMS v2
// and under KMS v1. After a key rotation, a StorageVersionMigration for secrets is created and run by a
// real kube-controller-manager; then etcd says which key version seals each Secret. The migrator writes
// each object back unchanged (a server-side apply with only its UID and resourceVersion), and the storage
// layer stores such a no-op write only when it read the old value as stale. What the server does here:
//   KMS v2: every Secret ends sealed with key version 2. A value sealed under another key ID reads as
//           stale, and so does a plaintext one (read through identity, not the first provider).
//   KMS v1: the plaintext Secrets get sealed (with version 2), but those sealed with version 1 stay so:
//           the rotation inside the KMS is invisible to the apiserver, nothing reads as stale, and the
//           no-op writes are skipped. Our reencrypt-secrets CLI then re-seals them all.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildReencryptCli, parseSummary, startCli } from "../support/kubeReencryptCli";
import { RealCluster } from "../support/realCluster";

const NAMESPACES = ["default", "kube-system", "payments", "web", "batch"];
const PLAINTEXT_SECRETS = 150; // written before encryption was switched on
const SEALED_SECRETS = 150; // written under key version 1
const PROBE_SECRETS = 1; // waitUntilSealingWith's probe, written under the new version
const MIGRATIONS = "/apis/storagemigration.k8s.io/v1beta1/storageversionmigrations";
const MIGRATION_TIMEOUT_MS = 240_000;

/** Secrets in etcd by how they are sealed: plaintext, with key version 1 or 2 (by the KMS API under test), or otherwise. */
interface Counts {
    plaintext: number;
    kv1: number;
    kv2: number;
    other: number;
}

async function countBySealing(cluster: RealCluster, api: "v1" | "v2"): Promise<Counts> {
    const counts: Counts = { plaintext: 0, kv1: 0, kv2: 0, other: 0 };
    for (const sealing of (await cluster.secretSealings()).values()) {
        if (sealing.form === "plaintext") counts.plaintext++;
        else if (sealing.form === `kms-${api}` && sealing.keyVersion === 1) counts.kv1++;
        else if (sealing.form === `kms-${api}` && sealing.keyVersion === 2) counts.kv2++;
        else counts.other++;
    }
    return counts;
}

function inWords(counts: Counts): string {
    return `plaintext ${counts.plaintext} / kv1 ${counts.kv1} / kv2 ${counts.kv2}${counts.other ? ` / other ${counts.other}` : ""}`;
}

async function seed(cluster: RealCluster, prefix: string, count: number): Promise<void> {
    const create = async (i: number) => {
        const [namespace, name] = [NAMESPACES[i % NAMESPACES.length], `${prefix}-${i}`];
        const data = { password: Buffer.from(`${namespace}/${name}`).toString("base64") };
        const answer = await cluster.request("POST", `/api/v1/namespaces/${namespace}/secrets`, { metadata: { name }, data });
        if (answer.status !== 201) throw new Error(`creating ${namespace}/${name}: HTTP ${answer.status} ${answer.body}`);
    };
    for (let i = 0; i < count; i += 16) await Promise.all(Array.from({ length: Math.min(16, count - i) }, (_, j) => create(i + j)));
}

interface Condition {
    type: string;
    status: string;
    lastTransitionTime?: string;
    message?: string;
}

interface Migration {
    outcome: "Succeeded" | "Failed";
    /** From its creation to Succeeded or Failed, as this test saw it. */
    seconds: number;
    /** From its creation to its Running condition (the controller waits for the garbage collector's cache), whole seconds. */
    waitedSeconds: number;
    /** From Running to Succeeded or Failed (the writes themselves), whole seconds. */
    runningSeconds: number;
    conditions: Condition[];
}

/** Creates a StorageVersionMigration for secrets and waits (bounded) until its Succeeded or Failed condition is true. */
async function migrateSecrets(cluster: RealCluster, name: string): Promise<Migration> {
    const startedAt = Date.now();
    const created = await cluster.request("POST", MIGRATIONS, {
        apiVersion: "storagemigration.k8s.io/v1beta1",
        kind: "StorageVersionMigration",
        metadata: { name },
        spec: { resource: { group: "", resource: "secrets" } },
    });
    assert.equal(created.status, 201, created.body);
    while (Date.now() - startedAt < MIGRATION_TIMEOUT_MS) {
        const got = await cluster.request("GET", `${MIGRATIONS}/${name}`);
        const migration = got.json<{ metadata: { creationTimestamp: string }; status?: { conditions?: Condition[] } }>();
        const conditions = migration.status?.conditions ?? [];
        const done = conditions.find((c) => (c.type === "Succeeded" || c.type === "Failed") && c.status === "True");
        if (done) {
            const at = (time?: string) => Date.parse(time ?? "") / 1000;
            const running = at(conditions.find((c) => c.type === "Running")?.lastTransitionTime);
            return {
                outcome: done.type as "Succeeded" | "Failed",
                seconds: (Date.now() - startedAt) / 1000,
                waitedSeconds: running - at(migration.metadata.creationTimestamp),
                runningSeconds: at(done.lastTransitionTime) - running,
                conditions,
            };
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(
        `the StorageVersionMigration ${name} neither succeeded nor failed within ${MIGRATION_TIMEOUT_MS / 1000} s; kube-controller-manager:\n${cluster.controllerManagerOutput().slice(-4000)}`,
    );
}

for (const api of ["v2", "v1"] as const) {
    describe(`realCluster: Kubernetes' own StorageVersionMigration after a key rotation (KMS ${api}, etcd read directly)`, function () {
        this.timeout(600_000);
        let cluster: RealCluster;
        let scratch: string;

        before(async () => {
            scratch = fs.mkdtempSync(path.join(os.tmpdir(), `svm-${api}-`));
            cluster = await RealCluster.start({
                featureGates: ["StorageVersionMigrator=true"],
                apiserverFlags: ["--runtime-config=storagemigration.k8s.io/v1beta1=true"],
            });
            for (const namespace of NAMESPACES.filter((n) => n !== "default" && n !== "kube-system")) await cluster.ensureNamespace(namespace);
            await seed(cluster, "before-encryption", PLAINTEXT_SECRETS);
            await cluster.enableEncryption(api);
            await seed(cluster, "sealed-v1", SEALED_SECRETS);
            // The migrator reads the objects from the garbage collector's informers (its dependency graph),
            // which exist only when the garbage collector runs too.
            await cluster.startControllerManager(["garbage-collector-controller", "storage-version-migrator-controller"], ["StorageVersionMigrator=true"]);
            assert.deepEqual(await countBySealing(cluster, api), { plaintext: PLAINTEXT_SECRETS, kv1: SEALED_SECRETS, kv2: 0, other: 0 });
        });
        after(async () => {
            await cluster?.stop();
            fs.rmSync(scratch, { recursive: true, force: true });
        });

        it("a StorageVersionMigration for secrets after a rotation: what it re-seals", async () => {
            cluster.rotateKey(2);
            await cluster.waitUntilSealingWith(2);
            const before = await countBySealing(cluster, api);
            assert.deepEqual(before, { plaintext: PLAINTEXT_SECRETS, kv1: SEALED_SECRETS, kv2: PROBE_SECRETS, other: 0 });

            const migration = await migrateSecrets(cluster, `secrets-kms-${api}`);
            const after = await countBySealing(cluster, api);
            console.log(
                `      KMS ${api}: StorageVersionMigration ${migration.outcome} in ${migration.seconds.toFixed(1)} s ` +
                    `(waiting ${migration.waitedSeconds} s, running ${migration.runningSeconds} s); before: ${inWords(before)}; after: ${inWords(after)}`,
            );
            assert.equal(migration.outcome, "Succeeded", `${JSON.stringify(migration.conditions)}\n${cluster.controllerManagerOutput().slice(-4000)}`);

            const total = PLAINTEXT_SECRETS + SEALED_SECRETS + PROBE_SECRETS;
            if (api === "v2") {
                // A new key ID makes every value sealed under the old one stale, and plaintext is stale too: all re-sealed.
                assert.deepEqual(after, { plaintext: 0, kv1: 0, kv2: total, other: 0 });
            } else {
                // The plaintext Secrets are sealed (with the current version); the kv1 ones do not read as stale and stay.
                assert.deepEqual(after, { plaintext: 0, kv1: SEALED_SECRETS, kv2: PLAINTEXT_SECRETS + PROBE_SECRETS, other: 0 });
            }
        });

        if (api === "v1") {
            it("then the reencrypt-secrets CLI re-seals what the migrator left on key version 1", async () => {
                const entry = await buildReencryptCli();
                const adminKubeconfig = cluster.writeKubeconfig(path.join(scratch, "admin.kubeconfig"));
                const startedAt = Date.now();
                const result = await startCli(
                    entry,
                    ["--kubeconfig", adminKubeconfig, "--annotation-value", "svm-v1-2", "--output", "json", "--page-size", "50", "--qps", "0"],
                    {
                        HOME: scratch,
                    },
                ).done;
                assert.equal(result.code, 0, result.stderr);
                assert.equal(parseSummary(result.stdout).outcome, "verified");
                const after = await countBySealing(cluster, api);
                console.log(`      KMS ${api}: reencrypt-secrets CLI in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; after: ${inWords(after)}`);
                assert.deepEqual(after, { plaintext: 0, kv1: 0, kv2: PLAINTEXT_SECRETS + SEALED_SECRETS + PROBE_SECRETS, other: 0 });
            });
        }
    });
}
