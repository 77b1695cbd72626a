// The storage proof, on a real kube-apiserver and etcd with our test KMS plugin, under KMS v2 and
// under KMS v1: after a key rotation, every Secret in etcd is sealed with the new key version and
// its data is unchanged, whoever rewrote it (the guide's kubectl pipeline, the reencrypt-secrets CLI,
// the SecretRotation provider through Pulumi's provider host). What is read is etcd itself.
// The Alibaba KMS and CS APIs are the stand-in (they cannot be real here); Kubernetes is real.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AlibabaStandIn, StandInKey, standInHostEnv, standInStackConfig, startAlibabaStandIn } from "../support/alibabaStandIn";
import { guidePipeline } from "../support/guideConditions";
import { buildReencryptCli, parseSummary, startCli } from "../support/kubeReencryptCli";
import { runShell } from "../support/kubeStandIn/request";
import { ProviderHost, startProviderHost } from "../support/providerHost";
import { KmsApi, RealCluster, Sealing } from "../support/realCluster";
import { registeredDynamicResources, registeredReencryptionIdentity, SECRET_ROTATION_TYPE } from "../support/registered";

const NAMESPACES = ["default", "kube-system", "payments", "web", "batch"];
const PLAINTEXT_SECRETS = 150; // written before encryption was switched on (a stack's first run)
const SEALED_SECRETS = 150; // written under key version 1
const REGION = "cn-hangzhou";

/** What each Secret we wrote must still hold, by "namespace/name" (base64 data as the API returns it). */
type Expected = Map<string, Record<string, string>>;

async function createSecret(cluster: RealCluster, expected: Expected, namespace: string, name: string): Promise<void> {
    const data = { password: Buffer.from(`${namespace}/${name}:${Math.random()}`).toString("base64") };
    const answer = await cluster.request("POST", `/api/v1/namespaces/${namespace}/secrets`, { metadata: { name }, data });
    if (answer.status !== 201) throw new Error(`creating ${namespace}/${name}: HTTP ${answer.status} ${answer.body}`);
    expected.set(`${namespace}/${name}`, data);
}

async function seed(cluster: RealCluster, expected: Expected, prefix: string, count: number): Promise<void> {
    const work = Array.from({ length: count }, (_, i) => () => createSecret(cluster, expected, NAMESPACES[i % NAMESPACES.length], `${prefix}-${i}`));
    for (let i = 0; i < work.length; i += 16) await Promise.all(work.slice(i, i + 16).map((w) => w()));
}

interface Churn {
    /** Creates and data changes the server has accepted so far. */
    done(): { creates: number; changes: number };
    /** Stops, and resolves when the last step is finished. */
    stop(): Promise<void>;
}

/** Another client at work while a run goes on: creates Secrets and changes others' data, one step every 25 ms, at most `maxSteps`. */
function churn(cluster: RealCluster, expected: Expected, tag: string, maxSteps = 120): Churn {
    let stopped = false;
    let steps = 0;
    const done = { creates: 0, changes: 0 };
    const loop = (async () => {
        while (!stopped && steps < maxSteps) {
            steps++;
            if (steps % 2 === 0) {
                await createSecret(cluster, expected, NAMESPACES[steps % NAMESPACES.length], `${tag}-${steps}`);
                done.creates++;
            } else {
                const [key] = [...expected.keys()].filter((k) => !k.startsWith("kms-rotation-probe/")).slice(steps % 50, (steps % 50) + 1);
                const [namespace, name] = key.split("/");
                const got = await cluster.request("GET", `/api/v1/namespaces/${namespace}/secrets/${name}`);
                const secret = got.json<{ data: Record<string, string> }>();
                secret.data = { ...secret.data, changed: Buffer.from(`${tag}-${steps}`).toString("base64") };
                const put = await cluster.request("PUT", `/api/v1/namespaces/${namespace}/secrets/${name}`, secret);
                if (put.status === 200) {
                    expected.set(key, secret.data);
                    done.changes++;
                }
            }
            await new Promise((resolve) => setTimeout(resolve, 25));
        }
    })();
    return {
        done: () => ({ ...done }),
        async stop() {
            stopped = true;
            await loop;
        },
    };
}

/** Every Secret in etcd sealed with `version` by the KMS provider, and every Secret we wrote holding its data. */
async function assertAllResealed(cluster: RealCluster, expected: Expected, api: KmsApi, version: number): Promise<void> {
    const sealings = await cluster.secretSealings();
    const wrong: string[] = [];
    for (const [name, sealing] of sealings) {
        if (sealing.form !== `kms-${api}` || sealing.keyVersion !== version) wrong.push(`${name}: ${sealingInWords(sealing)}`);
    }
    assert.deepEqual(wrong, [], `Secrets in etcd not sealed with key version ${version} (${wrong.length} of ${sealings.size})`);
    for (const key of expected.keys()) assert.ok(sealings.has(key), `${key} is missing from etcd`);
    const changed: string[] = [];
    for (const [key, data] of expected) {
        const [namespace, name] = key.split("/");
        const got = (await cluster.request("GET", `/api/v1/namespaces/${namespace}/secrets/${name}`)).json<{ data?: Record<string, string> }>();
        if (!sameData(got.data, data)) changed.push(key);
    }
    assert.deepEqual(changed, [], "every Secret's data is what was last written to it");
}

function sameData(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
    const sorted = (d: Record<string, string>) => JSON.stringify(Object.entries(d).sort(([x], [y]) => x.localeCompare(y)));
    return a !== undefined && sorted(a) === sorted(b);
}

function sealingInWords(sealing: Sealing): string {
    return sealing.form === "plaintext" ? "plaintext" : `${sealing.form} key version ${sealing.keyVersion}`;
}

async function countSealedWith(cluster: RealCluster, version: number): Promise<{ total: number; onVersion: number; plaintext: number }> {
    const sealings = [...(await cluster.secretSealings()).values()];
    return {
        total: sealings.length,
        onVersion: sealings.filter((s) => s.keyVersion === version).length,
        plaintext: sealings.filter((s) => s.form === "plaintext").length,
    };
}

for (const api of ["v2", "v1"] as const) {
    describe(`realCluster: every Secret re-sealed with the new key version (KMS ${api}, etcd read directly)`, function () {
        this.timeout(600_000);
        const expected: Expected = new Map();
        let cluster: RealCluster;
        let scratch: string;
        let adminKubeconfig: string;
        let keyVersion = 1;

        before(async () => {
            scratch = fs.mkdtempSync(path.join(os.tmpdir(), `storage-proof-${api}-`));
            cluster = await RealCluster.start();
            for (const namespace of NAMESPACES.filter((n) => n !== "default" && n !== "kube-system")) await cluster.ensureNamespace(namespace);
            await seed(cluster, expected, "before-encryption", PLAINTEXT_SECRETS);
            await cluster.enableEncryption(api);
            await seed(cluster, expected, "sealed-v1", SEALED_SECRETS);
            adminKubeconfig = cluster.writeKubeconfig(path.join(scratch, "admin.kubeconfig"));
            const start = await countSealedWith(cluster, 1);
            assert.equal(start.plaintext, PLAINTEXT_SECRETS, "the first Secrets were stored before encryption was on");
            assert.equal(start.onVersion, SEALED_SECRETS);
        });
        after(async () => {
            await cluster?.stop();
            fs.rmSync(scratch, { recursive: true, force: true });
        });

        async function rotate(): Promise<number> {
            keyVersion++;
            cluster.rotateKey(keyVersion);
            await cluster.waitUntilSealingWith(keyVersion);
            return keyVersion;
        }

        it("a no-op write (kubectl replace of an unchanged Secret) after a rotation: what the server does", async () => {
            const version = await rotate();
            const target = "payments/sealed-v1-2";
            const before = await cluster.etcd.get(`/registry/secrets/${target}`);
            const replaced = await runShell(`kubectl get secret -n payments sealed-v1-2 -o json | kubectl replace -f -`, {
                kubeconfig: adminKubeconfig,
                home: scratch,
            });
            assert.equal(replaced.code, 0, replaced.stderr);
            const after = await cluster.etcd.get(`/registry/secrets/${target}`);
            const resealed = after!.modRevision !== before!.modRevision;
            // KMS v2: a Secret sealed under another key ID reads as stale, so even an unchanged write is stored,
            // sealed anew. KMS v1: the plugin's rotation is invisible to the apiserver; an unchanged write is skipped.
            assert.equal(resealed, api === "v2", `kubectl replace of an unchanged Secret ${resealed ? "was" : "was not"} written to etcd under KMS ${api}`);
            assert.equal(
                sealingInWords((await cluster.secretSealings()).get(target)!),
                resealed ? `kms-${api} key version ${version}` : `kms-${api} key version 1`,
            );
        });

        it("the guide's kubectl pipeline (the baseline) on a quiet cluster: the same etcd check", async () => {
            const version = keyVersion;
            const result = await runShell(guidePipeline(`guide-${api}-${version}`), { kubeconfig: adminKubeconfig, home: scratch }, 300_000);
            assert.equal(result.code, 0, result.stderr);
            await assertAllResealed(cluster, expected, api, version);
        });

        it("the reencrypt-secrets CLI, while another client creates and changes Secrets", async () => {
            const version = await rotate();
            const entry = await buildReencryptCli();
            const other = churn(cluster, expected, `cli-churn-${api}`);
            const run = startCli(
                entry,
                ["--kubeconfig", adminKubeconfig, "--annotation-value", `cli-${api}-${version}`, "--output", "json", "--page-size", "50", "--qps", "0"],
                {
                    HOME: scratch,
                },
            );
            const result = await run.done;
            const during = other.done();
            await other.stop();
            assert.equal(result.code, 0, result.stderr);
            const summary = parseSummary(result.stdout);
            assert.equal(summary.outcome, "verified");
            assert.ok(during.creates > 0 && during.changes > 0, `the other client created and changed Secrets during the run: ${JSON.stringify(during)}`);
            await assertAllResealed(cluster, expected, api, version);
        });

        it("the SecretRotation provider through Pulumi's provider host, as the program's ServiceAccount and ClusterRole (TokenRequest)", async () => {
            const version = await rotate();
            // The identity exactly as the program registers it; the ClusterRole's generated name is ours to pick.
            const identity = await registeredReencryptionIdentity();
            const serviceAccount = identity.serviceAccount as { metadata: { name: string; namespace: string } };
            const clusterRoleName = `reencryptor-${api}`;
            const created = [
                await cluster.request("POST", `/api/v1/namespaces/${serviceAccount.metadata.namespace}/serviceaccounts`, identity.serviceAccount),
                await cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
                    ...identity.clusterRole,
                    metadata: { name: clusterRoleName },
                }),
                await cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
                    ...identity.binding,
                    metadata: { name: clusterRoleName },
                    roleRef: { ...(identity.binding.roleRef as object), name: clusterRoleName },
                }),
            ];
            assert.deepEqual(
                created.map((c) => c.status),
                [201, 201, 201],
                created.map((c) => c.body).join("\n"),
            );

            const operatorKubeconfig = fs.readFileSync(cluster.writeKubeconfig(path.join(scratch, "operator.kubeconfig")), "utf8");
            const standIn: AlibabaStandIn = await startAlibabaStandIn({ regionId: REGION, kubeconfig: () => operatorKubeconfig });
            let host: ProviderHost | undefined;
            let other: Churn | undefined;
            try {
                const clusterId = standIn.addCluster({ regionId: REGION }).clusterId;
                const key: StandInKey = standIn.addKey();
                standIn.rotateKey(key.keyId, new Date());
                host = await startProviderHost({
                    env: standInHostEnv(standIn, path.join(scratch, "home"), { ASK_REENCRYPT_STATE_DIR: path.join(scratch, "checkpoints") }),
                });
                const { config, secretKeys } = standInStackConfig(standIn);
                await host.configure(config, secretKeys);
                const registered = (await registeredDynamicResources())[SECRET_ROTATION_TYPE];
                const inputs = {
                    ...registered.inputs,
                    clusterId,
                    regionId: REGION,
                    kmsKeyId: key.keyId,
                    encryptionEnabledAt: new Date().toISOString(),
                    clusterEndpoint: "public",
                    pageSize: 50,
                    qps: 0,
                };
                const tokenRequests = () => cluster.requestCount(/resource="serviceaccounts"/, /subresource="token"/, /verb="POST"/, /code="201"/);
                const tokensBefore = await tokenRequests();
                other = churn(cluster, expected, `provider-churn-${api}`);
                const { outs } = await host.create(registered.urn, inputs);
                assert.equal(outs.verified, true, host.stderr());
                assert.ok(Number(outs.rewritten) > 0);
                assert.equal(await tokenRequests(), tokensBefore + 1, "the run asked for one ServiceAccount token (TokenRequest)");
                const during = other.done();
                assert.ok(during.creates > 0 && during.changes > 0, `the other client created and changed Secrets during the run: ${JSON.stringify(during)}`);
            } finally {
                await other?.stop();
                await host?.close();
                await standIn.close();
            }
            await assertAllResealed(cluster, expected, api, version);
        });
    });
}
