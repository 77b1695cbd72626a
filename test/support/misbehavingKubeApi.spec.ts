// Proves the misbehaving Kubernetes API server behaves as each of its
// modes promises, with raw node HTTP(S) requests on the wire, and that in normal
// mode it speaks enough Kubernetes for the real `kubectl get secrets -A`.

import * as assert from "node:assert";
import { execFile } from "node:child_process";
import * as http from "node:http";
import * as https from "node:https";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as yaml from "js-yaml";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MisbehavingKubeApi, MisbehavingKubeApiOptions, startMisbehavingKubeApi } from "./misbehavingKubeApi/server";

const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const METADATA_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json";

interface Raw {
    status: number;
    headers: http.IncomingHttpHeaders;
    text: string;
    json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- wire JSON, checked field by field
}

interface Call {
    method?: string;
    token?: string | null;
    accept?: string;
    body?: string;
    contentType?: string;
    timeoutMs?: number;
}

/** Starts a request and hands back the live response (for drip), or rejects on error/timeout. */
function open(server: MisbehavingKubeApi, path: string, call: Call = {}): { request: http.ClientRequest; response: Promise<http.IncomingMessage> } {
    const headers: Record<string, string> = { Accept: call.accept ?? METADATA_LIST };
    const token = call.token === undefined ? server.token : call.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (call.body !== undefined) {
        headers["Content-Type"] = call.contentType ?? "application/merge-patch+json";
        headers["Content-Length"] = String(Buffer.byteLength(call.body));
    }
    const url = new URL(path, server.url);
    const options: https.RequestOptions = { method: call.method ?? "GET", headers, agent: false, ...(server.caPem ? { ca: server.caPem } : {}) };
    const transport = url.protocol === "https:" ? https : http;
    const request = transport.request(url, options);
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
        request.on("response", resolve);
        request.on("error", reject);
        request.setTimeout(call.timeoutMs ?? 10_000, () => request.destroy(Object.assign(new Error("client timeout"), { code: "ETIMEDOUT" })));
    });
    request.end(call.body);
    return { request, response };
}

async function send(server: MisbehavingKubeApi, path: string, call: Call = {}): Promise<Raw> {
    const { request, response } = open(server, path, call);
    const message = await response;
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
        message.on("data", (chunk: Buffer) => chunks.push(chunk));
        message.on("end", resolve);
        message.on("error", reject);
        request.on("error", reject);
    });
    const text = Buffer.concat(chunks).toString("utf8");
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status: message.statusCode ?? 0, headers: message.headers, text, json };
}

const list = (server: MisbehavingKubeApi, query: Record<string, string | number>, call: Call = {}) =>
    send(server, `/api/v1/secrets?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`, call);

const patch = (
    server: MisbehavingKubeApi,
    ref: { namespace: string; name: string; resourceVersion?: string },
    annotations: Record<string, string | null>,
    call: Call = {},
) =>
    send(server, `/api/v1/namespaces/${ref.namespace}/secrets/${ref.name}?fieldManager=reencrypt-secrets`, {
        method: "PATCH",
        accept: METADATA_OBJECT,
        body: JSON.stringify({ metadata: { ...(ref.resourceVersion ? { resourceVersion: ref.resourceVersion } : {}), annotations } }),
        ...call,
    });

/** Every Secret through list pages of `limit`, following continue tokens (bounded, in case of a looping server). */
async function walk(server: MisbehavingKubeApi, limit: number): Promise<{ keys: string[]; pages: number }> {
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
        const page = await list(server, token ? { limit, continue: token } : { limit });
        assert.strictEqual(page.status, 200, page.text);
        keys.push(...page.json.items.map((item: { metadata: { namespace: string; name: string } }) => `${item.metadata.namespace}/${item.metadata.name}`));
        token = page.json.metadata.continue;
        pages++;
    } while (token && pages < 100);
    return { keys, pages };
}

function assertStatus(raw: Raw, code: number, reason: string): void {
    assert.strictEqual(raw.status, code, raw.text);
    assert.strictEqual(raw.json?.kind, "Status", raw.text);
    assert.strictEqual(raw.json.apiVersion, "v1");
    assert.strictEqual(raw.json.status, "Failure");
    assert.strictEqual(raw.json.reason, reason);
    assert.strictEqual(raw.json.code, code);
    assert.strictEqual(typeof raw.json.message, "string");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("support/misbehavingKubeApi", function () {
    this.timeout(30_000);
    let server: MisbehavingKubeApi | undefined;
    let scratch: string;

    const start = async (options: MisbehavingKubeApiOptions = {}) => {
        server = await startMisbehavingKubeApi(options);
        return server;
    };

    beforeEach(() => {
        scratch = mkdtempSync(join(tmpdir(), "hostile-spec-"));
    });

    afterEach(async () => {
        await server?.close();
        server = undefined;
        rmSync(scratch, { recursive: true, force: true });
    });

    describe("normal mode", () => {
        it("lists metadata-only pages in a stable order with continue tokens, remainingItemCount and a resourceVersion", async () => {
            const s = await start({ secrets: 10, namespaces: 3 });
            const first = await list(s, { limit: 4 });
            assert.strictEqual(first.status, 200);
            assert.strictEqual(first.headers["content-type"], METADATA_LIST);
            assert.strictEqual(first.json.kind, "PartialObjectMetadataList");
            assert.strictEqual(first.json.apiVersion, "meta.k8s.io/v1");
            assert.match(first.json.metadata.resourceVersion, /^\d+$/);
            assert.strictEqual(first.json.metadata.remainingItemCount, 6);
            assert.strictEqual(typeof first.json.metadata.continue, "string");
            assert.deepStrictEqual(first.json.items[0], {
                kind: "PartialObjectMetadata",
                apiVersion: "meta.k8s.io/v1",
                metadata: first.json.items[0].metadata,
            });
            assert.deepStrictEqual(
                Object.keys(first.json.items[0].metadata).filter((k) => ["name", "namespace", "resourceVersion"].includes(k)),
                ["name", "namespace", "resourceVersion"],
            );
            assert.deepStrictEqual(first.json.items[0].metadata.name, "s-00000");
            assert.deepStrictEqual(first.json.items[0].metadata.namespace, "ns-0");

            const one = await walk(s, 4);
            const two = await walk(s, 3);
            assert.strictEqual(one.pages, 3);
            assert.strictEqual(two.pages, 4);
            assert.deepStrictEqual(one.keys, s.secretKeys());
            assert.deepStrictEqual(two.keys, one.keys);
            assert.strictEqual(new Set(one.keys).size, 10);
            assert.deepStrictEqual(one.keys.slice(0, 4), ["ns-0/s-00000", "ns-0/s-00003", "ns-0/s-00006", "ns-0/s-00009"]);
            const last = await list(s, { limit: 500 });
            assert.strictEqual(last.json.metadata.continue, undefined);
            assert.strictEqual(last.json.metadata.remainingItemCount, undefined);
            assert.strictEqual(s.stats().listsServed, 1 + 3 + 4 + 1);
            assert.strictEqual(s.stats().byKind.list, 9);
        });

        it("applies a preconditioned merge patch once, bumps the resourceVersion, answers 409 for a stale one and 404 for a missing Secret", async () => {
            const s = await start({ secrets: 4, namespaces: 2 });
            const before = s.resourceVersion("ns-1", "s-00001") as string;
            const ok = await patch(s, { namespace: "ns-1", name: "s-00001", resourceVersion: before }, { "encryption-key-rotation-time": "t1" });
            assert.strictEqual(ok.status, 200, ok.text);
            assert.strictEqual(ok.json.kind, "PartialObjectMetadata");
            assert.ok(ok.text.length < 1000, "a small JSON object");
            const after = s.resourceVersion("ns-1", "s-00001") as string;
            assert.ok(Number(after) > Number(before));
            assert.strictEqual(ok.json.metadata.resourceVersion, after);
            assert.deepStrictEqual(s.annotations("ns-1", "s-00001"), { "encryption-key-rotation-time": "t1" });

            const stale = await patch(s, { namespace: "ns-1", name: "s-00001", resourceVersion: before }, { "encryption-key-rotation-time": "t2" });
            assertStatus(stale, 409, "Conflict");
            assert.match(stale.json.message, /the object has been modified/);
            assertStatus(await patch(s, { namespace: "ns-1", name: "nope" }, { a: "b" }), 404, "NotFound");
            assertStatus(
                await patch(s, { namespace: "ns-1", name: "s-00001" }, { a: "b" }, { contentType: "application/json-patch+json" }),
                415,
                "UnsupportedMediaType",
            );

            // The same value again is a no-op write, as in kube-apiserver; a plain-JSON Accept gets a Secret back.
            const again = await patch(
                s,
                { namespace: "ns-1", name: "s-00001", resourceVersion: after },
                { "encryption-key-rotation-time": "t1" },
                { accept: "application/json" },
            );
            assert.strictEqual(again.status, 200);
            assert.strictEqual(again.json.kind, "Secret");
            assert.strictEqual(s.resourceVersion("ns-1", "s-00001"), after);

            // The list shows the annotation and the new resourceVersion.
            const page = await list(s, {});
            const item = page.json.items.find((i: { metadata: { name: string } }) => i.metadata.name === "s-00001");
            assert.deepStrictEqual(item.metadata.annotations, { "encryption-key-rotation-time": "t1" });
            assert.strictEqual(item.metadata.resourceVersion, after);

            const stats = s.stats();
            assert.strictEqual(stats.patchesApplied, 1);
            assert.strictEqual(stats.noOpPatches, 1);
            assert.deepStrictEqual(stats.patchesPerSecret, { "ns-1/s-00001": 1 });
            assert.strictEqual(stats.byKind.patch, 5);
            assert.strictEqual(stats.byMethod.PATCH, 5);
            assert.deepStrictEqual(stats.byStatus, { 200: 3, 409: 1, 404: 1, 415: 1 });
            assert.ok(stats.bytesSent > 0);
            assert.ok(stats.connectionsAccepted >= 6);
        });

        it("answers 401 Status without the right bearer token, and any token with acceptAnyToken", async () => {
            const s = await start({ token: "right" });
            assertStatus(await list(s, {}, { token: null }), 401, "Unauthorized");
            assertStatus(await list(s, {}, { token: "wrong" }), 401, "Unauthorized");
            assert.strictEqual((await list(s, {}, { token: "right" })).status, 200);
            await s.close();
            const any = await start({ acceptAnyToken: true });
            assert.strictEqual((await list(any, {}, { token: "whatever" })).status, 200);
            assertStatus(await list(any, {}, { token: null }), 401, "Unauthorized");
        });

        it("writes a kubeconfig with the token and certificate-authority-data (HTTPS) or insecure-skip-tls-verify (plain HTTP)", async () => {
            const s = await start({ token: "tok" });
            // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, checked field by field
            const config = yaml.load(readFileSync(s.writeKubeconfig(join(scratch, "kc")), "utf8")) as any;
            assert.strictEqual(config.clusters[0].cluster.server, s.url);
            assert.strictEqual(Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString(), s.caPem);
            assert.match(s.caPem, /^-----BEGIN CERTIFICATE-----/);
            assert.strictEqual(config.users[0].user.token, "tok");
            await s.close();

            const plain = await start({ tls: false, token: "tok" });
            assert.match(plain.url, /^http:\/\/127\.0\.0\.1:\d+$/);
            assert.strictEqual(plain.caPem, "");
            // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, checked field by field
            const plainConfig = yaml.load(readFileSync(plain.writeKubeconfig(join(scratch, "kc2"), { tokenFile: "/t" }), "utf8")) as any;
            assert.strictEqual(plainConfig.clusters[0].cluster["insecure-skip-tls-verify"], true);
            assert.strictEqual(plainConfig.users[0].user["token-file"], "/t");
            assert.strictEqual((await list(plain, { limit: 2 })).json.items.length, 2);
        });

        it("is enough Kubernetes for the real `kubectl get secrets -A` (discovery, Table, chunked lists)", async () => {
            const s = await start({ secrets: 7, namespaces: 2 });
            const kubeconfig = s.writeKubeconfig(join(scratch, "kubeconfig"));
            const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
                execFile(
                    "kubectl",
                    ["--kubeconfig", kubeconfig, "get", "secrets", "-A", "--chunk-size", "3", "--request-timeout", "20s"],
                    { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch }, timeout: 25_000 },
                    (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
                );
            });
            assert.strictEqual(result.code, 0, result.stderr);
            const lines = result.stdout.trim().split("\n");
            assert.match(lines[0], /^NAMESPACE\s+NAME\s+TYPE\s+DATA\s+AGE$/);
            assert.strictEqual(lines.length, 8);
            assert.match(lines[1], /^ns-0\s+s-00000\s+Opaque\s+1\s+\d+s$/);
            assert.strictEqual(s.stats().listsServed, 3, "7 Secrets in chunks of 3");
        });
    });

    describe("misbehaviour modes", () => {
        it("drip: sends headers, then one byte every dripMs and never finishes", async () => {
            const s = await start({ mode: { kind: "drip", dripMs: 50 } });
            const started = Date.now();
            const { response } = open(s, "/api/v1/secrets?limit=2");
            const message = await response;
            assert.ok(Date.now() - started < 1000, "headers come at once");
            assert.strictEqual(message.statusCode, 200);
            let received = "";
            let ended = false;
            message.on("data", (chunk: Buffer) => (received += chunk.toString()));
            message.on("end", () => (ended = true));
            message.on("error", () => undefined);
            await sleep(600);
            assert.ok(received.length >= 5 && received.length <= 13, `about one byte per 50 ms, got ${received.length}`);
            assert.ok('{"kind":"PartialObjectMetadataList"'.startsWith(received), received);
            assert.strictEqual(ended, false);
            assert.strictEqual(s.stats().misbehaved.drip, 1);
            assert.strictEqual(s.stats().listsServed, 0);
            // A PATCH drips too and, by default, writes nothing.
            const dripPatch = open(s, "/api/v1/namespaces/ns-0/secrets/s-00000", { method: "PATCH", body: '{"metadata":{"annotations":{"a":"b"}}}' });
            assert.strictEqual((await dripPatch.response).statusCode, 200);
            assert.deepStrictEqual(s.annotations("ns-0", "s-00000"), {});
            dripPatch.request.destroy();
        });

        it("drip with the default dripMs waits ~2 s per byte; a runtime setMode back to normal serves new requests", async () => {
            const s = await start({ mode: "drip" });
            const { request, response } = open(s, "/api/v1/secrets");
            const message = await response;
            let received = 0;
            message.on("data", (chunk: Buffer) => (received += chunk.length));
            message.on("error", () => undefined);
            await sleep(1500);
            assert.strictEqual(received, 0);
            await sleep(1500);
            assert.strictEqual(received, 1, "the first byte at ~2 s, the second not before ~4 s");
            request.destroy();
            s.setMode("normal");
            assert.strictEqual((await list(s, {})).status, 200);
        });

        it("hang: accepts the request and never answers (the patch is written only with applyPatches)", async () => {
            const s = await start({ mode: "hang" });
            await assert.rejects(list(s, {}, { timeoutMs: 300 }), /client timeout/);
            await assert.rejects(patch(s, { namespace: "ns-0", name: "s-00000" }, { a: "b" }, { timeoutMs: 300 }), /client timeout/);
            assert.deepStrictEqual(s.annotations("ns-0", "s-00000"), {});
            s.setMode({ kind: "hang", on: "patch", applyPatches: true });
            assert.strictEqual((await list(s, {})).status, 200, "lists are served: the mode is on patch only");
            await assert.rejects(patch(s, { namespace: "ns-0", name: "s-00000" }, { a: "b" }, { timeoutMs: 300 }), /client timeout/);
            assert.deepStrictEqual(s.annotations("ns-0", "s-00000"), { a: "b" }, "a lost response: written, never answered");
            assert.deepStrictEqual(s.stats().patchesPerSecret, { "ns-0/s-00000": 1 });
            assert.strictEqual(s.stats().misbehaved.hang, 3);
        });

        it("expiredForever: every list with a continue token answers 410 Expired with a fresh remainder token, forever", async () => {
            const s = await start({ mode: "expiredForever" });
            const first = await list(s, { limit: 3 });
            assert.strictEqual(first.status, 200);
            let token: string = first.json.metadata.continue;
            const seen = new Set<string>([token]);
            for (let i = 0; i < 5; i++) {
                const expired = await list(s, { limit: 3, continue: token });
                assertStatus(expired, 410, "Expired");
                assert.match(expired.json.message, /too old to display a consistent list result/);
                token = expired.json.metadata.continue;
                assert.strictEqual(typeof token, "string");
                assert.ok(!seen.has(token), "a fresh token each time");
                seen.add(token);
            }
            s.setMode({ kind: "expiredForever", everyList: true });
            const firstPage = await list(s, { limit: 3 });
            assertStatus(firstPage, 410, "Expired");
            assert.strictEqual(typeof firstPage.json.metadata.continue, "string");
            assert.strictEqual(s.stats().misbehaved.expiredForever, 6);
        });

        it("repeatContinue: every page carries the same continue token and the same items", async () => {
            const s = await start({ mode: "repeatContinue", secrets: 10 });
            const first = await list(s, { limit: 3 });
            const token = first.json.metadata.continue;
            assert.strictEqual(typeof token, "string");
            for (let i = 0; i < 5; i++) {
                const next = await list(s, { limit: 3, continue: token });
                assert.strictEqual(next.status, 200);
                assert.strictEqual(next.json.metadata.continue, token);
                assert.deepStrictEqual(next.json.items, first.json.items);
            }
            // Even a page that holds everything says there is more.
            assert.strictEqual((await list(s, { limit: 500 })).json.metadata.continue, token);
        });

        it("retryAfter: 429 or 503 with the Retry-After header verbatim, optionally only the first N times or on one call", async () => {
            const s = await start({ mode: { kind: "retryAfter", retryAfter: "-5" } });
            const throttled = await list(s, {});
            assertStatus(throttled, 429, "TooManyRequests");
            assert.strictEqual(throttled.headers["retry-after"], "-5");
            assertStatus(await patch(s, { namespace: "ns-0", name: "s-00000" }, { a: "b" }), 429, "TooManyRequests");

            const date = new Date(Date.now() + 3_600_000).toUTCString();
            for (const raw of ["3600", date, "abc"]) {
                s.setMode({ kind: "retryAfter", status: 503, retryAfter: raw, on: "patch" });
                assert.strictEqual((await list(s, {})).status, 200);
                const unavailable = await patch(s, { namespace: "ns-0", name: "s-00000" }, { a: "b" });
                assertStatus(unavailable, 503, "ServiceUnavailable");
                assert.strictEqual(unavailable.headers["retry-after"], raw);
            }

            s.setMode({ kind: "retryAfter", retryAfter: "1", times: 2, on: "list" });
            assert.deepStrictEqual([(await list(s, {})).status, (await list(s, {})).status, (await list(s, {})).status], [429, 429, 200]);

            s.setMode({ kind: "retryAfter", plainText: true });
            const plain = await list(s, {});
            assert.strictEqual(plain.status, 429);
            assert.strictEqual(plain.headers["retry-after"], undefined);
            assert.match(plain.text, /^Too many requests, please try again later\./);
            assert.deepStrictEqual(s.annotations("ns-0", "s-00000"), {}, "nothing written");
        });

        it("serverErrors: PATCH answers 500 by default; lists 503 when configured", async () => {
            const s = await start({ mode: "serverErrors" });
            assert.strictEqual((await list(s, {})).status, 200);
            assertStatus(await patch(s, { namespace: "ns-0", name: "s-00000" }, { a: "b" }), 500, "InternalError");
            s.setMode({ kind: "serverErrors", status: 503, on: "list", times: 1 });
            assertStatus(await list(s, {}), 503, "ServiceUnavailable");
            assert.strictEqual((await list(s, {})).status, 200);
            assert.strictEqual((await patch(s, { namespace: "ns-0", name: "s-00000" }, { a: "b" })).status, 200);
            assert.strictEqual(s.stats().patchesApplied, 1);
        });

        it("oversizedPage: each item carries a huge annotation, so page size scales with limit (and the store is untouched)", async () => {
            const s = await start({ secrets: 40, mode: { kind: "oversizedPage", bytesPerItem: 100_000 } });
            const big = await list(s, { limit: 20 });
            const half = await list(s, { limit: 10 });
            const quarter = await list(s, { limit: 5 });
            const value = big.json.items[0].metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"];
            assert.strictEqual(value.length, 100_000);
            assert.ok(big.text.length >= 20 * 100_000 && big.text.length < 20 * 100_000 * 1.05, String(big.text.length));
            assert.ok(Math.abs(half.text.length / big.text.length - 0.5) < 0.02);
            assert.ok(Math.abs(quarter.text.length / big.text.length - 0.25) < 0.02);
            assert.deepStrictEqual(s.annotations("ns-0", "s-00000"), {});
            assert.ok(s.stats().bytesSent >= 35 * 100_000);
        });

        it("denyPatch: 403 from an admission webhook in given namespaces, 422 Invalid for given names, nothing written", async () => {
            const s = await start({ mode: { kind: "denyPatch", namespaces: ["ns-1"], names: ["s-00002", "ns-0/s-00003"] } });
            const forbidden = await patch(s, { namespace: "ns-1", name: "s-00001" }, { a: "b" });
            assertStatus(forbidden, 403, "Forbidden");
            assert.match(forbidden.json.message, /^admission webhook "deny\.example\.com" denied the request: /);
            assertStatus(await patch(s, { namespace: "ns-2", name: "s-00002" }, { a: "b" }), 422, "Invalid");
            assertStatus(await patch(s, { namespace: "ns-0", name: "s-00003" }, { a: "b" }), 422, "Invalid");
            assert.strictEqual((await patch(s, { namespace: "ns-0", name: "s-00000" }, { a: "b" })).status, 200);
            assert.strictEqual((await list(s, {})).status, 200);
            assert.deepStrictEqual(s.stats().patchesPerSecret, { "ns-0/s-00000": 1 });
            assert.strictEqual(s.stats().misbehaved.denyPatch, 3);
        });

        it("unauthorizedAfter: N requests succeed, then 401 until the token changes (or forever with rejectNewTokens)", async () => {
            let exhausted = 0;
            const s = await start({ token: "old", mode: { kind: "unauthorizedAfter", requests: 3, onExhausted: () => exhausted++ } });
            for (let i = 0; i < 3; i++) assert.strictEqual((await list(s, {})).status, 200);
            assertStatus(await list(s, {}), 401, "Unauthorized");
            assertStatus(await patch(s, { namespace: "ns-0", name: "s-00000" }, { a: "b" }), 401, "Unauthorized");
            assert.strictEqual(exhausted, 1);
            s.setToken("new");
            assertStatus(await list(s, {}, { token: "old" }), 401, "Unauthorized");
            for (let i = 0; i < 5; i++) assert.strictEqual((await list(s, {}, { token: "new" })).status, 200);

            s.setMode({ kind: "unauthorizedAfter", requests: 1, rejectNewTokens: true });
            assert.strictEqual((await list(s, {})).status, 200);
            assertStatus(await list(s, {}), 401, "Unauthorized");
            s.setToken("newer");
            assertStatus(await list(s, {}, { token: "newer" }), 401, "Unauthorized");
            // The old token after setToken is plainly wrong (an ordinary 401), not the mode's doing.
            assert.strictEqual(s.stats().misbehaved.unauthorizedAfter, 4);
        });
    });

    it("counts open connections, and close() ends hanging and dripping requests at once", async () => {
        const s = await start({
            mode: [
                { kind: "hang", on: "patch" },
                { kind: "drip", dripMs: 10_000 },
            ],
        });
        const hanging = open(s, "/api/v1/namespaces/ns-0/secrets/s-00000", { method: "PATCH", body: "{}", timeoutMs: 30_000 });
        const dripping = open(s, "/api/v1/secrets", { timeoutMs: 30_000 });
        const message = await dripping.response;
        message.on("error", () => undefined);
        const dripEnded = new Promise<void>((resolve) => message.on("close", resolve));
        await sleep(100);
        assert.strictEqual(s.stats().openConnections, 2);
        const hangingOutcome = hanging.response.then(
            () => "answered",
            (error: Error) => error.message,
        );
        const started = Date.now();
        await s.close();
        const closedMs = Date.now() - started;
        assert.match(await hangingOutcome, /socket hang up|ECONNRESET/);
        await dripEnded;
        assert.ok(closedMs < 500, `closed in ${closedMs} ms`);
        assert.strictEqual(s.stats().openConnections, 0);
        server = undefined;
    });
});
