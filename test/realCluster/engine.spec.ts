// The engine and its transport against a real kube-apiserver (v1.35.4, KMS v2 through our test plugin),
// for what a real server does on its own: content negotiation of metadata-only lists, a patch
// precondition's 409, an expired continue token's 410, a bound token's 401, and denials by admission
// (422) and by RBAC (403). The fault-injecting stand-ins (test/support/kubeStandIn, misbehavingKubeApi)
// stay for what a real server cannot be made to do on cue (429s, dropped connections, dripping bodies).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createKubernetesSecretsClient, KubernetesSecretsClient, loadKubeConfig } from "../../components/kube";
import { reencryptSecrets, SecretsClient } from "../../components/reencrypt";
import { classifyError } from "../../components/reencrypt/errors";
import { buildReencryptCli, parseSummary, startCli } from "../support/kubeReencryptCli";
import { Credential, RealCluster } from "../support/realCluster";

const KEY = "encryption-key-rotation-time";
const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

async function seed(cluster: RealCluster, namespace: string, count: number, prefix = "s"): Promise<void> {
    await cluster.ensureNamespace(namespace);
    for (let i = 0; i < count; i += 10) {
        await Promise.all(
            Array.from({ length: Math.min(10, count - i) }, async (_, j) => {
                const name = `${prefix}-${i + j}`;
                const answer = await cluster.request("POST", `/api/v1/namespaces/${namespace}/secrets`, {
                    metadata: { name },
                    stringData: { password: `${namespace}/${name}` },
                });
                if (answer.status !== 201) throw new Error(`creating ${namespace}/${name}: HTTP ${answer.status} ${answer.body}`);
            }),
        );
    }
}

/** A ServiceAccount with `rules` cluster-wide, plus `patch` on Secrets only in `patchNamespaces` when given. */
async function serviceAccount(cluster: RealCluster, name: string, clusterVerbs: string[], patchNamespaces?: string[]): Promise<void> {
    const ok = (a: { status: number; body: string }) => {
        if (a.status !== 201 && a.status !== 409) throw new Error(`HTTP ${a.status} ${a.body}`);
    };
    ok(await cluster.request("POST", "/api/v1/namespaces/kube-system/serviceaccounts", { metadata: { name } }));
    ok(
        await cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
            metadata: { name },
            rules: [{ apiGroups: [""], resources: ["secrets"], verbs: clusterVerbs }],
        }),
    );
    ok(
        await cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            metadata: { name },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ kind: "ServiceAccount", name, namespace: "kube-system" }],
        }),
    );
    for (const namespace of patchNamespaces ?? []) {
        ok(
            await cluster.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
                metadata: { name },
                rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["patch"] }],
            }),
        );
        ok(
            await cluster.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
                metadata: { name },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
                subjects: [{ kind: "ServiceAccount", name, namespace: "kube-system" }],
            }),
        );
    }
}

/** A TokenRequest token for kube-system/`name`, bound to a Secret when `boundTo` is given (deleting it revokes the token). */
async function token(cluster: RealCluster, name: string, boundTo?: { namespace: string; name: string }): Promise<string> {
    let boundObjectRef: object | undefined;
    if (boundTo) {
        const secret = (await cluster.request("GET", `/api/v1/namespaces/${boundTo.namespace}/secrets/${boundTo.name}`)).json<{ metadata: { uid: string } }>();
        boundObjectRef = { kind: "Secret", apiVersion: "v1", name: boundTo.name, uid: secret.metadata.uid };
    }
    const answer = await cluster.request("POST", `/api/v1/namespaces/kube-system/serviceaccounts/${name}/token`, {
        spec: { expirationSeconds: 600, boundObjectRef },
    });
    if (answer.status !== 201) throw new Error(`TokenRequest: HTTP ${answer.status} ${answer.body}`);
    return answer.json<{ status: { token: string } }>().status.token;
}

describe("realCluster: the engine and its transport against kube-apiserver", function () {
    this.timeout(300_000);
    let cluster: RealCluster;
    let scratch: string;
    let client: KubernetesSecretsClient | undefined;

    before(async () => {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "real-engine-"));
        // Continue requests are served from watch-cache snapshots since 1.34 (ListFromCacheSnapshot), and those
        // follow only the apiserver's own compactions: with the gate off, a continue goes to etcd, and an etcd
        // compaction expires its token at once, as the apiserver's 5-minute compactor does in production.
        cluster = await RealCluster.start({ kms: "v2", featureGates: ["ListFromCacheSnapshot=false"] });
    });
    after(async () => {
        await cluster?.stop();
        fs.rmSync(scratch, { recursive: true, force: true });
    });
    afterEach(() => {
        client?.close();
        client = undefined;
    });

    function clientAs(credential?: Credential): KubernetesSecretsClient {
        const file = cluster.writeKubeconfig(path.join(scratch, `kubeconfig-${Math.random().toString(36).slice(2)}`), credential);
        client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: file }));
        return client;
    }

    it("lists metadata only, through real content negotiation: no Secret data reaches the client", async () => {
        await seed(cluster, "lists", 25);
        const raw = await cluster.request("GET", "/api/v1/namespaces/lists/secrets?limit=10", undefined, cluster.admin, "application/json", METADATA_LIST);
        assert.equal(raw.status, 200);
        const list = raw.json<{ kind: string; items: Record<string, unknown>[]; metadata: { continue?: string; remainingItemCount?: number } }>();
        assert.equal(list.kind, "PartialObjectMetadataList");
        assert.ok(list.items.every((item) => item.data === undefined && item.stringData === undefined));
        assert.doesNotMatch(raw.body, /bGlzdHMv/, "no base64 Secret value in the answer");
        const page = await clientAs().listPage({ limit: 10, annotationKey: KEY });
        assert.equal(page.items.length, 10);
        assert.ok(page.continueToken, "a continue token for the next page");
        assert.ok(/^\d+$/.test(page.resourceVersion ?? ""), "the list snapshot's resourceVersion");
        assert.ok(page.remainingItemCount !== undefined && page.remainingItemCount > 0);
    });

    it("a patch with a stale resourceVersion meets a real 409 (conflict); a deleted Secret a real 404 (gone)", async () => {
        await seed(cluster, "conflicts", 2);
        const kube = clientAs();
        const [first, second] = (await kube.listPage({ limit: 500, annotationKey: KEY })).items.filter((i) => i.namespace === "conflicts");
        await kube.patchAnnotation(first, KEY, "v1");
        const stale = await kube.patchAnnotation(first, KEY, "v2").catch((e: unknown) => e);
        assert.equal(classifyError(stale), "conflict", String(stale));
        await cluster.request("DELETE", `/api/v1/namespaces/conflicts/secrets/${second.name}`);
        const gone = await kube.patchAnnotation(second, KEY, "v1").catch((e: unknown) => e);
        assert.equal(classifyError(gone), "gone", String(gone));
    });

    it("a continue token expired by an etcd compaction is a real 410; the run restarts its list and finishes, each Secret written once", async () => {
        await seed(cluster, "expiry", 60);
        const kube = clientAs();
        const first = await kube.listPage({ limit: 10, annotationKey: KEY });
        await seed(cluster, "expiry-bump", 1); // a write, so compaction moves past the list's revision
        await cluster.etcd.compact();
        const expired = await kube.listPage({ limit: 10, continueToken: first.continueToken, annotationKey: KEY }).catch((e: unknown) => e);
        assert.equal(classifyError(expired), "expired", String(expired));

        // The same mid-run: compact etcd just before the run asks for its third page.
        let lists = 0;
        const compactingClient: SecretsClient = {
            target: kube.target,
            listPage: async (req) => {
                if (++lists === 3) {
                    await cluster.request("POST", "/api/v1/namespaces/expiry-bump/secrets", { metadata: { generateName: "bump-" } });
                    await cluster.etcd.compact();
                }
                return kube.listPage(req);
            },
            patchAnnotation: (ref, key, value, signal) => kube.patchAnnotation(ref, key, value, signal),
        };
        const before = await cluster.requestCount(/resource="secrets"/, /verb="LIST"/, /code="410"/);
        const summary = await reencryptSecrets(compactingClient, { annotationValue: "expiry-run", pageSize: 10, qps: 0, retryBaseDelayMs: 10 });
        assert.equal(summary.outcome, "verified", summary.stopReason);
        assert.ok(summary.listRestarts >= 1, "the 410 was met");
        assert.ok((await cluster.requestCount(/resource="secrets"/, /verb="LIST"/, /code="410"/)) > before, "the server itself answered 410");
        assert.equal(summary.writes, summary.rewritten, "each Secret written once: no write repeated");
    });

    it("a token bound to a Secret stops working when that Secret is deleted (a real 401): the CLI renews once and finishes", async () => {
        await seed(cluster, "renewal", 200);
        await seed(cluster, "kube-system", 1, "anchor");
        await serviceAccount(cluster, "renewer", ["get", "list", "patch"]);
        const tokenFile = path.join(scratch, "token");
        const runs = path.join(scratch, "plugin-runs");
        fs.writeFileSync(tokenFile, await token(cluster, "renewer", { namespace: "kube-system", name: "anchor-0" }));
        const plugin = path.join(scratch, "plugin.js");
        fs.writeFileSync(
            plugin,
            [
                'const fs = require("fs");',
                `fs.appendFileSync(${JSON.stringify(runs)}, "run\\n");`,
                // Claims a long validity: only the 401 can make the CLI ask again.
                `process.stdout.write(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: fs.readFileSync(${JSON.stringify(tokenFile)}, "utf8"), expirationTimestamp: "2999-01-01T00:00:00Z" } }));`,
            ].join("\n"),
        );
        const kubeconfig = path.join(scratch, "exec-kubeconfig");
        const admin = JSON.parse(fs.readFileSync(cluster.writeKubeconfig(path.join(scratch, "admin-for-exec")), "utf8"));
        admin.users = [
            {
                name: "real",
                user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: process.execPath, args: [plugin], interactiveMode: "Never" } },
            },
        ];
        fs.writeFileSync(kubeconfig, JSON.stringify(admin));

        const unauthorizedBefore = await cluster.metricSum("authentication_attempts", /result="(failure|error)"/);
        const run = startCli(
            await buildReencryptCli(),
            ["--kubeconfig", kubeconfig, "--annotation-value", "renewal-run", "--output", "json", "--qps", "10", "--concurrency", "1"],
            {
                HOME: scratch,
            },
        );
        // Once the run is writing: revoke the token (delete the Secret it is bound to) and hand the plugin a new one.
        // The apiserver caches a token's authentication for 10 s, so the run (200 writes at 10/s) outlasts that.
        const writes = () => cluster.requestCount(/resource="secrets"/, /verb="PATCH"/);
        const writesBefore = await writes();
        await waitUntil("the run to have written 10 Secrets", async () => (await writes()) >= writesBefore + 10);
        fs.writeFileSync(tokenFile, await token(cluster, "renewer"));
        await cluster.request("DELETE", "/api/v1/namespaces/kube-system/secrets/anchor-0");
        const result = await run.done;
        assert.equal(result.code, 0, result.stderr);
        const summary = parseSummary(result.stdout);
        assert.equal(summary.outcome, "verified");
        assert.equal(summary.failedCount, 0, "the 401 cost no Secret a failure: the write was renewed and retried");
        assert.equal(fs.readFileSync(runs, "utf8").trim().split("\n").length, 2, "the plugin ran once more after the 401");
        assert.ok(
            (await cluster.metricSum("authentication_attempts", /result="(failure|error)"/)) > unauthorizedBefore,
            "the server itself refused the revoked token",
        );
    });
});

/** Polls `probe` every 200 ms; fails the test, naming `what`, when it is still false after 20 s. */
async function waitUntil(what: string, probe: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
        if (await probe()) return;
        await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out after 20 s waiting for ${what}`);
}

/** A merge patch the admission chain judges but nothing stores (dryRun=All): evidence that a policy is (no longer) enforced. */
function dryRunPatch(cluster: RealCluster, value: string) {
    return cluster.request(
        "PATCH",
        "/api/v1/namespaces/admission/secrets/s-0?dryRun=All",
        { metadata: { annotations: { probe: value } } },
        cluster.admin,
        "application/merge-patch+json",
    );
}

describe("realCluster: denials are recorded per Secret, the run exits 1, and a rerun retries only those", function () {
    this.timeout(300_000);
    // A cluster of its own: the limited identity below may patch only where it is told to.
    let cluster: RealCluster;
    let scratch: string;
    before(async () => {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "real-denials-"));
        cluster = await RealCluster.start({ kms: "v2" });
    });
    after(async () => {
        await cluster?.stop();
        fs.rmSync(scratch, { recursive: true, force: true });
    });

    it("a write refused by admission (ValidatingAdmissionPolicy, 422) and one refused by RBAC in one namespace (403)", async () => {
        await seed(cluster, "open", 20);
        await seed(cluster, "admission", 5);
        await seed(cluster, "rbac", 5);
        // RBAC: may list everywhere, patch only in "open" and "admission".
        await serviceAccount(cluster, "limited", ["get", "list"], ["open", "admission"]);
        // Admission: no annotation change on Secrets in "admission" (answered 422 Invalid).
        const policy = {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicy",
            metadata: { name: "frozen-secrets" },
            spec: {
                failurePolicy: "Fail",
                matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["secrets"] }] },
                validations: [{ expression: `object.metadata.namespace != "admission"`, reason: "Invalid", message: "Secrets in admission are frozen" }],
            },
        };
        const binding = {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicyBinding",
            metadata: { name: "frozen-secrets" },
            spec: { policyName: "frozen-secrets", validationActions: ["Deny"] },
        };
        assert.equal((await cluster.request("POST", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", policy)).status, 201);
        assert.equal((await cluster.request("POST", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", binding)).status, 201);
        // The policy is enforced once the apiserver has loaded it: wait on evidence.
        let round = 0;
        await waitUntil("the admission policy to be enforced", async () => (await dryRunPatch(cluster, `probe-${round++}`)).status === 422);

        const limited = path.join(scratch, "limited-kubeconfig");
        cluster.writeKubeconfig(limited, { token: await token(cluster, "limited") });
        const state = path.join(scratch, "denials-state.json");
        const entry = await buildReencryptCli();
        const cli = () =>
            startCli(entry, ["--kubeconfig", limited, "--annotation-value", "denials-run", "--output", "json", "--qps", "0", "--state", state], {
                HOME: scratch,
            }).done;
        const first = await cli();
        assert.equal(first.code, 1, first.stderr);
        const summary = parseSummary(first.stdout) as { outcome: string; failedCount: number; failed: { namespace: string; reason: string }[] };
        assert.equal(summary.outcome, "secretsRemain");
        const byNamespace = (ns: string) => summary.failed.filter((f) => f.namespace === ns);
        assert.equal(byNamespace("admission").length, 5);
        assert.ok(
            byNamespace("admission").every((f) => /HTTP 422|Invalid|frozen/.test(f.reason)),
            JSON.stringify(byNamespace("admission")[0]),
        );
        assert.equal(byNamespace("rbac").length, 5);
        assert.ok(
            byNamespace("rbac").every((f) => /denied \(HTTP 403\)/.test(f.reason)),
            JSON.stringify(byNamespace("rbac")[0]),
        );
        assert.equal(summary.failedCount, 10);

        // Lift both denials; the rerun writes only the ten that were refused.
        await cluster.request("DELETE", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/frozen-secrets");
        await serviceAccount(cluster, "limited", ["get", "list"], ["rbac"]);
        await waitUntil("the admission policy to be lifted", async () => (await dryRunPatch(cluster, `lifted-${round++}`)).status === 200);
        // RBAC sees the new RoleBinding through an informer: wait until the limited identity may patch in "rbac".
        const limitedToken = { token: await token(cluster, "limited") };
        await waitUntil(
            "the limited identity to be allowed to patch in rbac",
            async () =>
                (
                    await cluster.request(
                        "PATCH",
                        "/api/v1/namespaces/rbac/secrets/s-0?dryRun=All",
                        { metadata: { annotations: { probe: "rbac" } } },
                        limitedToken,
                        "application/merge-patch+json",
                    )
                ).status === 200,
        );
        const patchesBefore = await cluster.requestCount(/resource="secrets"/, /verb="PATCH"/, /code="200"/);
        const second = await cli();
        assert.equal(second.code, 0, second.stderr);
        assert.equal(parseSummary(second.stdout).outcome, "verified");
        const patched = (await cluster.requestCount(/resource="secrets"/, /verb="PATCH"/, /code="200"/)) - patchesBefore;
        assert.equal(patched, 10, `the rerun wrote only the Secrets that were refused; stderr:\n${second.stderr}`);
    });
});
