import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../components/cli/reencrypt";
import { createKubernetesSecretsClient, KubernetesSecretsClient, loadKubeConfig } from "../../components/kube";
import { KubernetesApiError, reencryptSecrets } from "../../components/reencrypt";
import { classifyError } from "../../components/reencrypt/errors";
import { KubeStandIn, startKubeStandIn } from "../support/kubeStandIn/index";
import { capture } from "../support/capture";

const KEY = "encryption-key-rotation-time";

describe("reencrypt against the Kubernetes API test server", function () {
    this.timeout(120_000);
    let server: KubeStandIn;
    let tmp: string;
    let kubeconfigPath: string;
    let client: KubernetesSecretsClient | undefined;

    beforeEach(async () => {
        server = await startKubeStandIn({ keyVersion: 1 });
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "reencrypt-kube-"));
        kubeconfigPath = server.writeKubeconfig(path.join(tmp, "kubeconfig"));
    });
    afterEach(async () => {
        client?.close();
        client = undefined;
        await server.close();
        await fs.rm(tmp, { recursive: true, force: true });
    });

    it("lists metadata only, patches with the listed resourceVersion, and leaves every Secret on the new key", async () => {
        server.seed(120, { namespaces: ["a", "b", "c"] });
        server.setKeyVersion(2);
        client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath }), { concurrency: 4 });

        const page = await client.listPage({ limit: 50 });
        assert.equal(page.items.length, 50);
        assert.equal(page.remainingItemCount, 70);
        assert.ok(page.continueToken);
        assert.ok(/^\d+$/.test(page.resourceVersion ?? ""), "list snapshot resourceVersion");
        assert.deepEqual(Object.keys(page.items[0]).sort(), ["annotations", "creationTimestamp", "name", "namespace", "resourceVersion"]);

        const summary = await reencryptSecrets(client, { annotationValue: "20240101-010101", qps: 0, pageSize: 50, concurrency: 4 });
        assert.equal(summary.verified, true);
        assert.equal(summary.rewritten, 120);
        assert.deepEqual(server.secretsNotOnKeyVersion(2), []);
        assert.deepEqual(server.secretsWithChangedContents(), []);
        assert.ok(server.stats().maxWritesPerSecret <= 1);
        assert.ok(server.stats().peakConcurrentRequests <= 4 + 2, "writers plus a prefetched list page");
    });

    it("a stale resourceVersion is a 409 and a deleted Secret a 404, classified as conflict and gone", async () => {
        server.seed(2, { namespaces: ["a"] });
        client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath }));
        const [first, second] = (await client.listPage({ limit: 10 })).items;
        await client.patchAnnotation(first, KEY, "v1");
        const stale = await client.patchAnnotation(first, KEY, "v2").catch((e: unknown) => e);
        assert.equal(classifyError(stale), "conflict");
        const missing = await client.patchAnnotation({ ...second, name: "does-not-exist" }, KEY, "v1").catch((e: unknown) => e);
        assert.equal(classifyError(missing), "gone");
    });

    it("turns a plain-text 429 into a retryable error carrying Retry-After", async () => {
        server.seed(1, { namespaces: ["a"] });
        client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath }));
        const [secret] = (await client.listPage({ limit: 10 })).items;
        server.setRequestHook((req) =>
            req.verb === "patch" ? { status: 429, body: "Too many requests, please try again later.\n", headers: { "Retry-After": "7" } } : undefined,
        );
        const err = await client.patchAnnotation(secret, KEY, "v1").catch((e: unknown) => e);
        assert.ok(err instanceof KubernetesApiError);
        assert.equal(err.status, 429);
        assert.equal(err.retryAfterSeconds, 7);
        assert.match(err.message, /Too many requests/);
        assert.equal(classifyError(err), "retryable");
    });

    it("surfaces the remainder token of a 410 Expired continue", async () => {
        server.seed(30, { namespaces: ["a"] });
        server.setFaults({ expireContinueAfterPages: 1, expiredContinueCarriesRemainder: true });
        client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath }));
        const first = await client.listPage({ limit: 10 });
        const err = await client.listPage({ limit: 10, continueToken: first.continueToken }).catch((e: unknown) => e);
        assert.equal(classifyError(err), "expired");
        assert.ok(err instanceof KubernetesApiError && err.continueToken, "remainder token from the Status's metadata.continue");
        const remainder = await client.listPage({ limit: 10, continueToken: err.continueToken });
        assert.equal(remainder.items.length, 10);
    });

    it("an identity that may list but not patch: every write is recorded as denied with the server's reason, exit 1 naming them", async () => {
        server.seed(3, { namespaces: ["a"] });
        server.addServiceAccount("kube-system", "reader", [{ verbs: ["list", "get"], resources: ["secrets"] }]);
        const readOnly = server.writeKubeconfig(path.join(tmp, "readonly"), { token: server.mintToken("kube-system", "reader") });
        const stdout = capture();
        const stderr = capture();
        const code = await main(["--kubeconfig", readOnly, "--annotation-value", "v1"], { stdout, stderr, env: {} });
        assert.equal(code, 1, stderr.text);
        assert.match(stdout.text, /3 Secret\(s\) still not rewritten/);
        assert.match(stdout.text, /a\/\S+: denied \(HTTP 403\).*cannot patch resource "secrets"/);
        assert.equal(server.stats().apiUpdates, 0);
    });

    it("an identity that may not list: exit 2 naming the missing permission, nothing written", async () => {
        server.seed(3, { namespaces: ["a"] });
        server.addServiceAccount("kube-system", "patcher", [{ verbs: ["patch"], resources: ["secrets"] }]);
        const noList = server.writeKubeconfig(path.join(tmp, "nolist"), { token: server.mintToken("kube-system", "patcher") });
        const stdout = capture();
        const stderr = capture();
        const code = await main(["--kubeconfig", noList, "--annotation-value", "v1"], { stdout, stderr, env: {} });
        assert.equal(code, 2);
        assert.match(stderr.text, /permission denied \(HTTP 403\) trying to list secrets in all namespaces/);
        assert.match(stderr.text, /"list" and "patch" on "secrets"/);
        assert.equal(server.stats().apiUpdates, 0);
    });

    it("the CLI's dry run counts without writing", async () => {
        server.seed(40, { namespaces: ["a", "b"] });
        server.resetCounters();
        const stdout = capture();
        const code = await main(["--kubeconfig", kubeconfigPath, "--annotation-value", "v1", "--dry-run", "--qps", "10"], {
            stdout,
            stderr: capture(),
            env: {},
        });
        assert.equal(code, 0);
        assert.match(stdout.text, /40 would be rewritten/);
        assert.match(stdout.text, /KMS Encrypt calls: 40/);
        assert.match(stdout.text, /about 4s/);
        assert.equal(server.stats().requestsByVerb.patch ?? 0, 0);
    });

    it("picks the context by name and reports an unknown one", async () => {
        const named = server.writeKubeconfig(path.join(tmp, "named"), { context: "prod-east" });
        assert.equal(loadKubeConfig({ kubeconfigPath: named, context: "prod-east" }).getCurrentContext(), "prod-east");
        assert.throws(() => loadKubeConfig({ kubeconfigPath: named, context: "nope" }), /context "nope" is not in the kubeconfig \(contexts: prod-east\)/);
    });
});
