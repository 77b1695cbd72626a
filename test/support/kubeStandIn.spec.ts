// Proves the Kubernetes API test server speaks real Kubernetes: the real kubectl
// and @kubernetes/client-node run against it, and each behaviour other tests
// rely on (no-op writes, 409, 410, metadata-only lists, 429, 401, 403) is checked
// on the wire.

import * as assert from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeStandIn, startKubeStandIn } from "./kubeStandIn/index";
import { Json, kubeRequest, runShell } from "./kubeStandIn/request";

const GUIDE_PIPELINE = (value: string) =>
    `kubectl get secrets --all-namespaces -o json | kubectl annotate --overwrite -f - encryption-key-rotation-time=${value}`;

describe("support/kubeStandIn: the Kubernetes API stand-in", function () {
    let server: KubeStandIn;
    let scratch: string;
    let kubeconfig: string;

    beforeEach(async () => {
        server = await startKubeStandIn({ randomSeed: 7 });
        scratch = mkdtempSync(join(tmpdir(), "kube-server-spec-"));
        kubeconfig = server.writeKubeconfig(join(scratch, "kubeconfig"));
    });

    afterEach(async () => {
        await server.close();
        rmSync(scratch, { recursive: true, force: true });
    });

    const shell = (script: string) => runShell(script, { kubeconfig, home: scratch });

    describe("with the real kubectl", () => {
        it("lists Secrets of every namespace across pages (kubectl get secrets -A)", async () => {
            server.seed(1203, { namespaces: ["alpha", "beta", "gamma"] });
            const result = await shell("kubectl get secrets -A --no-headers");
            assert.strictEqual(result.code, 0, result.stderr);
            const lines = result.stdout.trim().split("\n");
            assert.strictEqual(lines.length, 1203);
            assert.match(lines[0], /^alpha\s+secret-0000\s+Opaque\s+1\s+/);
            // 1203 Secrets at kubectl's default chunk size of 500 = 3 pages.
            assert.strictEqual(server.stats().requestsByVerb.list, 3);
        });

        it("annotates one Secret with kubectl annotate and reseals it with the current key version", async () => {
            server.seed(3, { namespaces: ["apps"] });
            server.setKeyVersion(2);
            const result = await shell("kubectl annotate --overwrite -n apps secret secret-1 encryption-key-rotation-time=20260101-000000");
            assert.strictEqual(result.code, 0, result.stderr);
            assert.match(result.stdout, /secret\/secret-1 annotated/);
            assert.deepStrictEqual(server.secretsNotOnKeyVersion(2), ["apps/secret-0", "apps/secret-2"]);
            const stored = server.store.get("apps", "secret-1");
            assert.strictEqual((stored?.metadata as Json).annotations["encryption-key-rotation-time"], "20260101-000000");
        });

        for (const pipefail of [true, false]) {
            it(`runs the guide's pipeline ${pipefail ? "with" : "without"} pipefail: every Secret resealed, contents unchanged, then a repeat writes nothing`, async () => {
                server.seed(120, { namespaces: ["default", "kube-system", "team-a"], dataBytes: 256 });
                server.setKeyVersion(2);
                const prefix = pipefail ? "set -o pipefail; " : "";
                const first = await shell(prefix + GUIDE_PIPELINE("20260101-010101"));
                assert.strictEqual(first.code, 0, first.stderr);
                assert.deepStrictEqual(server.secretsNotOnKeyVersion(2), []);
                assert.deepStrictEqual(server.secretsWithChangedContents(), []);
                const afterFirst = server.stats();
                assert.strictEqual(afterFirst.apiUpdates, 120);
                assert.strictEqual(afterFirst.maxWritesPerSecret, 1);
                // kubectl annotate -f -: one GET and one PATCH per Secret, serially.
                assert.strictEqual(afterFirst.requestsByVerb.get, 120);
                assert.strictEqual(afterFirst.requestsByVerb.patch, 120);

                // Same value again: kubectl sends an empty patch, kube-apiserver skips the write.
                const versionBefore = server.store.get("team-a", "secret-002")?.metadata;
                server.resetCounters();
                server.setKeyVersion(3);
                const again = await shell(prefix + GUIDE_PIPELINE("20260101-010101"));
                assert.strictEqual(again.code, 0, again.stderr);
                const afterAgain = server.stats();
                assert.strictEqual(afterAgain.apiUpdates, 0);
                assert.strictEqual(afterAgain.noOpWrites, 120);
                assert.strictEqual(server.secretsNotOnKeyVersion(2).length, 0, "a no-op must not reseal with key version 3");
                assert.deepStrictEqual(server.store.get("team-a", "secret-002")?.metadata, versionBefore);
            });
        }

        it("rejects a bad token with 401 (kubectl fails and says Unauthorized)", async () => {
            server.writeKubeconfig(kubeconfig, { token: "not-the-token" });
            const result = await shell("kubectl get secrets -A");
            assert.notStrictEqual(result.code, 0);
            assert.match(result.stderr, /Unauthorized|must be logged in/);
        });

        it("gives a least-privilege TokenRequest identity get/list/patch and 403 for anything else", async () => {
            server.seed(4, { namespaces: ["apps"] });
            server.addServiceAccount("kube-system", "secret-reencrypter", [{ verbs: ["get", "list", "patch"], resources: ["secrets"] }]);
            const tokenResponse = await kubeRequest(server, "POST", "/api/v1/namespaces/kube-system/serviceaccounts/secret-reencrypter/token", {
                body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } },
            });
            assert.strictEqual(tokenResponse.status, 201, tokenResponse.text);
            assert.strictEqual(tokenResponse.json.kind, "TokenRequest");
            const limitedToken: string = tokenResponse.json.status.token;
            assert.ok(Date.parse(tokenResponse.json.status.expirationTimestamp) > Date.now() + 590_000);

            server.writeKubeconfig(kubeconfig, { token: limitedToken });
            const list = await shell("kubectl get secrets -A --no-headers");
            assert.strictEqual(list.code, 0, list.stderr);
            assert.strictEqual(list.stdout.trim().split("\n").length, 4);
            const annotate = await shell("kubectl annotate -n apps secret secret-0 rotated=yes");
            assert.strictEqual(annotate.code, 0, annotate.stderr);
            const remove = await shell("kubectl delete -n apps secret secret-0");
            assert.notStrictEqual(remove.code, 0);
            assert.match(remove.stderr, /forbidden: User "system:serviceaccount:kube-system:secret-reencrypter" cannot delete resource "secrets"/);
            assert.ok(server.store.get("apps", "secret-0"), "the forbidden delete must not delete");

            const create = await kubeRequest(server, "POST", "/api/v1/namespaces/apps/secrets", { token: limitedToken, body: { metadata: { name: "new" } } });
            assert.strictEqual(create.status, 403);
            assert.strictEqual(create.json.reason, "Forbidden");
            const tooShort = await kubeRequest(server, "POST", "/api/v1/namespaces/kube-system/serviceaccounts/secret-reencrypter/token", {
                body: { spec: { expirationSeconds: 60 } },
            });
            assert.strictEqual(tooShort.status, 422);
            const mintAnother = await kubeRequest(server, "POST", "/api/v1/namespaces/kube-system/serviceaccounts/secret-reencrypter/token", {
                token: limitedToken,
                body: { spec: {} },
            });
            assert.strictEqual(mintAnother.status, 403, "the limited identity must not mint tokens");
        });

        it("expires a limited token after its lifetime (401)", async () => {
            server.addServiceAccount("kube-system", "short", [{ verbs: ["list"], resources: ["secrets"] }]);
            const token = server.mintToken("kube-system", "short", 0.2);
            assert.strictEqual((await kubeRequest(server, "GET", "/api/v1/secrets", { token })).status, 200);
            await new Promise((resolve) => setTimeout(resolve, 300));
            assert.strictEqual((await kubeRequest(server, "GET", "/api/v1/secrets", { token })).status, 401);
        });
    });

    describe("with @kubernetes/client-node", () => {
        it("loads the kubeconfig, verifies the CA and lists and patches Secrets", async () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test on purpose
            const k8s = require("@kubernetes/client-node") as typeof import("@kubernetes/client-node");
            server.seed(7, { namespaces: ["one", "two"] });
            const config = new k8s.KubeConfig();
            config.loadFromFile(kubeconfig);
            const core = config.makeApiClient(k8s.CoreV1Api);
            const list = await core.listSecretForAllNamespaces({ limit: 5 });
            assert.strictEqual(list.items.length, 5);
            assert.ok(list.metadata?._continue);
            const rest = await core.listSecretForAllNamespaces({ limit: 5, _continue: list.metadata?._continue });
            assert.strictEqual(rest.items.length, 2);
            assert.strictEqual(rest.metadata?._continue, undefined);
            server.setKeyVersion(5);
            const patched = await core.patchNamespacedSecret(
                { name: "secret-1", namespace: "two", body: { metadata: { annotations: { k: "v" } } } },
                k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
            );
            assert.strictEqual(patched.metadata?.annotations?.k, "v");
            assert.strictEqual(server.store.sealedWith("two", "secret-1"), 5);
        });
    });

    describe("on the wire", () => {
        it("answers 409 Conflict to a patch with a stale resourceVersion and applies it with the current one", async () => {
            server.seed(1, { namespaces: ["apps"] });
            const listed = (server.store.get("apps", "secret-0")?.metadata as Json).resourceVersion as string;
            const edit = await kubeRequest(server, "PATCH", "/api/v1/namespaces/apps/secrets/secret-0", {
                contentType: "application/strategic-merge-patch+json",
                body: { metadata: { labels: { edited: "by-someone-else" } } },
            });
            assert.strictEqual(edit.status, 200);
            assert.notStrictEqual(edit.json.metadata.resourceVersion, listed);
            assert.strictEqual(edit.json.metadata.labels.edited, "by-someone-else");
            assert.strictEqual(edit.json.metadata.labels.app, "seeded", "strategic merge keeps other labels");

            const stale = await kubeRequest(server, "PATCH", "/api/v1/namespaces/apps/secrets/secret-0", {
                contentType: "application/merge-patch+json",
                body: { metadata: { resourceVersion: listed, annotations: { rotated: "1" } } },
            });
            assert.strictEqual(stale.status, 409);
            assert.strictEqual(stale.json.kind, "Status");
            assert.strictEqual(stale.json.reason, "Conflict");
            assert.match(stale.json.message, /the object has been modified/);
            assert.strictEqual((server.store.get("apps", "secret-0")?.metadata as Json).annotations, undefined);

            const fresh = await kubeRequest(server, "PATCH", "/api/v1/namespaces/apps/secrets/secret-0", {
                contentType: "application/merge-patch+json",
                body: { metadata: { resourceVersion: edit.json.metadata.resourceVersion, annotations: { rotated: "1" } } },
            });
            assert.strictEqual(fresh.status, 200, fresh.text);
            assert.strictEqual(fresh.json.metadata.annotations.rotated, "1");
        });

        it("applies JSON patch, skips no-op PUTs, creates (201, 409 AlreadyExists) and deletes", async () => {
            server.seed(1, { namespaces: ["apps"] });
            const jsonPatch = await kubeRequest(server, "PATCH", "/api/v1/namespaces/apps/secrets/secret-0", {
                contentType: "application/json-patch+json",
                body: [
                    { op: "add", path: "/metadata/annotations", value: { a: "1" } },
                    { op: "test", path: "/type", value: "Opaque" },
                ],
            });
            assert.strictEqual(jsonPatch.status, 200, jsonPatch.text);
            assert.deepStrictEqual(jsonPatch.json.metadata.annotations, { a: "1" });

            server.resetCounters();
            const current = server.store.get("apps", "secret-0") as Json;
            const put = await kubeRequest(server, "PUT", "/api/v1/namespaces/apps/secrets/secret-0", { body: current });
            assert.strictEqual(put.status, 200);
            assert.strictEqual(put.json.metadata.resourceVersion, current.metadata.resourceVersion, "an unchanged PUT must not get a new resourceVersion");
            assert.strictEqual(server.stats().apiUpdates, 0);
            assert.strictEqual(server.stats().noOpWrites, 1);

            const created = await kubeRequest(server, "POST", "/api/v1/namespaces/apps/secrets", {
                body: { metadata: { name: "made" }, stringData: { password: "x" } },
            });
            assert.strictEqual(created.status, 201, created.text);
            assert.strictEqual(created.json.data.password, Buffer.from("x").toString("base64"));
            assert.strictEqual(created.json.stringData, undefined);
            const duplicate = await kubeRequest(server, "POST", "/api/v1/namespaces/apps/secrets", { body: { metadata: { name: "made" } } });
            assert.strictEqual(duplicate.status, 409);
            assert.strictEqual(duplicate.json.reason, "AlreadyExists");

            const removed = await kubeRequest(server, "DELETE", "/api/v1/namespaces/apps/secrets/made");
            assert.strictEqual(removed.status, 200);
            const gone = await kubeRequest(server, "GET", "/api/v1/namespaces/apps/secrets/made");
            assert.strictEqual(gone.status, 404);
            assert.strictEqual(gone.json.reason, "NotFound");
            const wrongType = await kubeRequest(server, "PATCH", "/api/v1/namespaces/apps/secrets/secret-0", {
                contentType: "application/apply-patch+yaml",
                body: "{}",
            });
            assert.strictEqual(wrongType.status, 415);
        });

        it("answers 410 Expired to an expired continue token, with a remainder token when configured", async () => {
            server.seed(10, { namespaces: ["apps"] });
            server.setFaults({ expireContinueAfterPages: 2 });
            const page1 = await kubeRequest(server, "GET", "/api/v1/secrets?limit=3");
            const page2 = await kubeRequest(server, "GET", `/api/v1/secrets?limit=3&continue=${page1.json.metadata.continue}`);
            assert.strictEqual(page2.status, 200);
            const expired = await kubeRequest(server, "GET", `/api/v1/secrets?limit=3&continue=${page2.json.metadata.continue}`);
            assert.strictEqual(expired.status, 410);
            assert.strictEqual(expired.json.reason, "Expired");
            assert.strictEqual(expired.json.metadata.continue, undefined);
            // One-shot: the same token works the second time.
            const retried = await kubeRequest(server, "GET", `/api/v1/secrets?limit=3&continue=${page2.json.metadata.continue}`);
            assert.strictEqual(retried.status, 200);
            assert.deepStrictEqual(
                retried.json.items.map((item: Json) => item.metadata.name),
                ["secret-6", "secret-7", "secret-8"],
            );

            server.setFaults({ expireContinueAfterPages: 1, expiredContinueCarriesRemainder: true });
            const first = await kubeRequest(server, "GET", "/api/v1/namespaces/apps/secrets?limit=4");
            const expiredWithRemainder = await kubeRequest(server, "GET", `/api/v1/namespaces/apps/secrets?limit=4&continue=${first.json.metadata.continue}`);
            assert.strictEqual(expiredWithRemainder.status, 410);
            const remainder = expiredWithRemainder.json.metadata.continue;
            assert.ok(remainder, "the 410 Status must carry a remainder token");
            const rest = await kubeRequest(server, "GET", `/api/v1/namespaces/apps/secrets?limit=100&continue=${remainder}`);
            assert.strictEqual(rest.status, 200);
            assert.deepStrictEqual(
                rest.json.items.map((item: Json) => item.metadata.name),
                ["secret-4", "secret-5", "secret-6", "secret-7", "secret-8", "secret-9"],
            );
        });

        it("expires continue tokens by age when a TTL is set", async () => {
            server.seed(4);
            server.setFaults({ continueTokenTtlMs: 50 });
            const page1 = await kubeRequest(server, "GET", "/api/v1/secrets?limit=2");
            await new Promise((resolve) => setTimeout(resolve, 80));
            const expired = await kubeRequest(server, "GET", `/api/v1/secrets?limit=2&continue=${page1.json.metadata.continue}`);
            assert.strictEqual(expired.status, 410);
        });

        it("serves metadata-only lists (PartialObjectMetadataList) that never carry Secret data", async () => {
            server.seed(6, { namespaces: ["a", "b"], dataBytes: 100 });
            const response = await kubeRequest(server, "GET", "/api/v1/secrets?limit=4", {
                accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
            });
            assert.strictEqual(response.status, 200);
            assert.strictEqual(response.headers["content-type"], "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1");
            assert.strictEqual(response.json.kind, "PartialObjectMetadataList");
            assert.strictEqual(response.json.apiVersion, "meta.k8s.io/v1");
            assert.strictEqual(response.json.items.length, 4);
            assert.ok(
                response.json.items.every(
                    (item: Json) => item.kind === "PartialObjectMetadata" && Object.keys(item).sort().join() === "apiVersion,kind,metadata",
                ),
            );
            assert.ok(!response.text.includes('"data"'), "no Secret data in a metadata-only list");
            const value = (server.store.get("a", "secret-0")?.data as Json).value as string;
            assert.ok(!response.text.includes(value));
            assert.ok(response.json.metadata.continue);

            const full = await kubeRequest(server, "GET", "/api/v1/secrets?limit=4");
            assert.ok(full.text.includes(value), "the plain list does carry data (so the check above can fail)");
            const protobufOnly = await kubeRequest(server, "GET", "/api/v1/secrets", { accept: "application/vnd.kubernetes.protobuf" });
            assert.strictEqual(protobufOnly.status, 406);
        });

        it("throttles with 429, a Retry-After header and a plain-text body", async () => {
            server.seed(1);
            server.setFaults({ throttleProbability: 1, retryAfterSeconds: 3 });
            const response = await kubeRequest(server, "GET", "/api/v1/secrets");
            assert.strictEqual(response.status, 429);
            assert.strictEqual(response.headers["retry-after"], "3");
            assert.match(String(response.headers["content-type"]), /^text\/plain/);
            assert.strictEqual(response.text.trim(), "Too many requests, please try again later.");
            assert.strictEqual(response.json, undefined);
        });

        it("injects 5xx, resets and churn deterministically for a given seed", async () => {
            const run = async () => {
                const local = await startKubeStandIn({
                    randomSeed: 42,
                    faults: { serverErrorProbability: 0.3, throttleProbability: 0.2 },
                    churn: { everyRequests: 5, edits: 1, deletes: 1, creates: 1 },
                });
                local.seed(50);
                const statuses: number[] = [];
                for (let i = 0; i < 40; i++) {
                    statuses.push((await kubeRequest(local, "GET", "/api/v1/secrets?limit=10")).status);
                }
                const result = { statuses, stats: local.stats(), keys: [...local.store.keys()] };
                await local.close();
                return result;
            };
            const first = await run();
            const second = await run();
            assert.deepStrictEqual(first.statuses, second.statuses);
            assert.deepStrictEqual(
                first.keys,
                second.keys.map((key) => key),
            );
            assert.ok(
                first.statuses.some((code) => code >= 500),
                "some 5xx expected at p=0.3 over 40 requests",
            );
            assert.ok(first.statuses.includes(429));
            assert.ok(first.statuses.includes(200));
            assert.strictEqual(first.stats.churnWrites, 8 * 3, "one churn step (edit + delete + create) per 5 Secret requests");
            assert.ok(first.keys.some((key) => key.includes("churn-created-")));

            server.seed(1);
            server.setFaults({ resetProbability: 1 });
            await assert.rejects(kubeRequest(server, "GET", "/api/v1/secrets"), /socket hang up|ECONNRESET/);
        });

        it("counts Secrets by key version and changed contents for the inspection API", async () => {
            server.seed(5, { namespaces: ["x"] });
            server.setKeyVersion(9);
            await kubeRequest(server, "PATCH", "/api/v1/namespaces/x/secrets/secret-3", {
                contentType: "application/merge-patch+json",
                body: { data: { value: "AAAA" } },
            });
            assert.deepStrictEqual(server.stats().bySealedVersion, { 1: 4, 9: 1 });
            assert.deepStrictEqual(server.secretsWithChangedContents(), ["x/secret-3"]);
            assert.strictEqual(server.store.apiWritesOf("x", "secret-3"), 1);
        });

        it("pages through 20,000 Secrets in etcd key order, per namespace and across all", async () => {
            server.seed(20_000, { namespaces: ["a", "b", "c", "d"], dataBytes: 32 });
            const names: string[] = [];
            let token: string | undefined;
            do {
                const page = await kubeRequest(server, "GET", `/api/v1/secrets?limit=500${token ? `&continue=${token}` : ""}`, {
                    accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
                });
                assert.strictEqual(page.status, 200);
                names.push(...page.json.items.map((item: Json) => `${item.metadata.namespace}/${item.metadata.name}`));
                token = page.json.metadata.continue;
            } while (token);
            assert.strictEqual(names.length, 20_000);
            assert.strictEqual(new Set(names).size, 20_000);
            assert.deepStrictEqual(names, [...names].sort());
            const inB = await kubeRequest(server, "GET", "/api/v1/namespaces/b/secrets?limit=10000");
            assert.strictEqual(inB.json.items.length, 5_000);
            assert.ok(inB.json.items.every((item: Json) => item.metadata.namespace === "b"));
        });
    });
});
