// Size: one spec for the kubeconfig loader: every auth form kubectl accepts, each proved against the TLS test server.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { createKubernetesSecretsClient, KubernetesSecretsClient } from "../../components/kube";
import { LightKubeConfig, loadKubeConfig } from "../../components/kube/kubeconfig";
import { KubernetesApiError } from "../../components/reencrypt";
import { KubeStandIn, startKubeStandIn } from "../support/kubeStandIn/index";
import { REPO_ROOT } from "../support/repo";

const q = JSON.stringify;

interface ConfigParts {
    server: string;
    cluster?: Record<string, unknown>;
    user?: Record<string, unknown>;
    context?: string;
    currentContext?: string | null;
}

/** A one-context kubeconfig; values are JSON-quoted, which is valid YAML. */
function kubeconfigYaml(parts: ConfigParts): string {
    const name = parts.context ?? "test";
    const fields = (obj: Record<string, unknown> = {}) => Object.entries(obj).map(([k, v]) => `    ${k}: ${q(v)}`);
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${q(name)}`,
        "  cluster:",
        `    server: ${q(parts.server)}`,
        ...fields(parts.cluster),
        "users:",
        `- name: ${q(name)}`,
        "  user:",
        ...fields(parts.user),
        "contexts:",
        `- name: ${q(name)}`,
        "  context:",
        `    cluster: ${q(name)}`,
        `    user: ${q(name)}`,
        ...(parts.currentContext === null ? [] : [`current-context: ${q(parts.currentContext ?? name)}`]),
        "",
    ].join("\n");
}

interface SeenRequest {
    clientCommonName?: string;
    servername?: string;
    headers: http.IncomingHttpHeaders;
}

/** An API endpoint that demands a client certificate and records what each request presented. */
async function startMutualTlsServer(pem: { cert: string; key: string }) {
    const seen: SeenRequest[] = [];
    const server = https.createServer({ cert: pem.cert, key: pem.key, ca: pem.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
        const socket = req.socket as import("node:tls").TLSSocket;
        const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
        seen.push({
            clientCommonName: peer?.subject?.CN as string | undefined,
            servername: (socket as unknown as { servername?: string }).servername,
            headers: req.headers,
        });
        if (!peer) {
            res.writeHead(401, { "Content-Type": "application/json" });
            res.end(q({ kind: "Status", reason: "Unauthorized", message: "no valid client certificate" }));
            return;
        }
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(q({ kind: "PartialObjectMetadataList", metadata: { resourceVersion: "7" }, items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** One certificate usable as server certificate, client certificate and CA: enough for mutual TLS in tests. */
function generateCertificate(commonName: string): Promise<{ cert: string; key: string }> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- selfsigned has no ES module entry; loaded only by this test
    const selfsigned = require("selfsigned") as typeof import("selfsigned");
    return new Promise((resolve, reject) =>
        selfsigned.generate(
            [{ name: "commonName", value: commonName }],
            {
                keySize: 2048,
                days: 1,
                algorithm: "sha256",
                extensions: [
                    { name: "basicConstraints", cA: true },
                    { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
                    { name: "extKeyUsage", serverAuth: true, clientAuth: true },
                    {
                        name: "subjectAltName",
                        altNames: [
                            { type: 7, ip: "127.0.0.1" },
                            { type: 2, value: "api.internal.example" },
                        ],
                    },
                ],
            },
            (error, result) => (error ? reject(error) : resolve({ cert: result.cert, key: result.private })),
        ),
    );
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("light kubeconfig loader", function () {
    this.timeout(60_000);
    let server: KubeStandIn;
    let tmp: string;
    let client: KubernetesSecretsClient | undefined;
    let caData: string;

    before(async () => {
        server = await startKubeStandIn();
        server.seed(5, { namespaces: ["a"] });
        caData = b64(server.caPem);
    });
    after(async () => {
        await server.close();
    });
    beforeEach(async () => {
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "reencrypt-kubeconfig-"));
    });
    afterEach(async () => {
        client?.close();
        client = undefined;
        await fs.rm(tmp, { recursive: true, force: true });
    });

    const write = async (name: string, text: string) => {
        const file = path.join(tmp, name);
        await fs.writeFile(file, text, { mode: 0o600 });
        return file;
    };

    it("authenticates with a token and trusts certificate-authority-data, without client-node's KubeConfig", async () => {
        const file = await write(
            "config",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority-data": caData }, user: { token: server.token } }),
        );
        const kc = loadKubeConfig({ kubeconfigPath: file });
        assert.ok(kc instanceof LightKubeConfig);
        assert.ok(!(kc instanceof KubeConfig));
        client = createKubernetesSecretsClient(kc);
        const page = await client.listPage({ limit: 10 });
        assert.equal(page.items.length, 5);
    });

    it("sends the configured token: a wrong one is refused with 401", async () => {
        const file = await write(
            "config",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority-data": caData }, user: { token: "not-a-valid-token" } }),
        );
        client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: file }));
        await assert.rejects(client.listPage({ limit: 10 }), (err: unknown) => err instanceof KubernetesApiError && err.status === 401);
    });

    it("rejects an API server whose certificate the configured CA did not sign", async () => {
        const other = await generateCertificate("some-other-ca");
        const file = await write(
            "config",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority-data": b64(other.cert) }, user: { token: server.token } }),
        );
        client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: file }));
        await assert.rejects(client.listPage({ limit: 10 }), /self[- ]signed|unable to verify|certificate/i);
    });

    it("resolves certificate-authority and token-file relative to the kubeconfig's directory", async () => {
        await fs.mkdir(path.join(tmp, "conf"));
        await fs.writeFile(path.join(tmp, "conf", "ca.pem"), server.caPem);
        await fs.writeFile(path.join(tmp, "conf", "token"), server.token);
        const file = await write(
            "conf/config",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority": "ca.pem" }, user: { "token-file": "token" } }),
        );
        client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: file }));
        assert.equal((await client.listPage({ limit: 10 })).items.length, 5);
    });

    it("presents a client certificate from files or from -data fields", async () => {
        const pem = await generateCertificate("reencrypt-operator");
        const mtls = await startMutualTlsServer(pem);
        try {
            await fs.writeFile(path.join(tmp, "client.crt"), pem.cert);
            await fs.writeFile(path.join(tmp, "client.key"), pem.key);
            const fromFiles = await write(
                "files",
                kubeconfigYaml({
                    server: mtls.url,
                    cluster: { "certificate-authority-data": b64(pem.cert) },
                    user: { "client-certificate": "client.crt", "client-key": "client.key" },
                }),
            );
            const fromData = await write(
                "data",
                kubeconfigYaml({
                    server: mtls.url,
                    cluster: { "certificate-authority-data": b64(pem.cert) },
                    user: { "client-certificate-data": b64(pem.cert), "client-key-data": b64(pem.key) },
                }),
            );
            const withoutCert = await write(
                "none",
                kubeconfigYaml({ server: mtls.url, cluster: { "certificate-authority-data": b64(pem.cert) }, user: { token: "t" } }),
            );
            for (const file of [fromFiles, fromData]) {
                const c = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: file }));
                try {
                    assert.equal((await c.listPage({ limit: 1 })).resourceVersion, "7");
                } finally {
                    c.close();
                }
            }
            assert.deepEqual(
                mtls.seen.map((s) => s.clientCommonName),
                ["reencrypt-operator", "reencrypt-operator"],
            );
            client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: withoutCert }));
            await assert.rejects(client.listPage({ limit: 1 }), (err: unknown) => err instanceof KubernetesApiError && err.status === 401);
        } finally {
            await mtls.close();
        }
    });

    it("applies basic auth, impersonation, tls-server-name and insecure-skip-tls-verify", async () => {
        const pem = await generateCertificate("apiserver");
        const mtls = await startMutualTlsServer(pem);
        try {
            const named = await write(
                "named",
                kubeconfigYaml({
                    server: mtls.url,
                    cluster: { "certificate-authority-data": b64(pem.cert), "tls-server-name": "api.internal.example" },
                    user: { "client-certificate-data": b64(pem.cert), "client-key-data": b64(pem.key), username: "ops", password: "pw", as: "system:admin" },
                }),
            );
            const c = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: named }));
            try {
                await c.listPage({ limit: 1 });
            } finally {
                c.close();
            }
            const seen = mtls.seen[0];
            assert.equal(seen.servername, "api.internal.example");
            assert.equal(seen.headers.authorization, `Basic ${b64("ops:pw")}`);
            assert.equal(seen.headers["impersonate-user"], "system:admin");

            // No CA configured: only insecure-skip-tls-verify lets the self-signed server through.
            const noCa = { "client-certificate-data": b64(pem.cert), "client-key-data": b64(pem.key) };
            const strict = await write("strict", kubeconfigYaml({ server: mtls.url, user: noCa }));
            const insecure = await write("insecure", kubeconfigYaml({ server: mtls.url, cluster: { "insecure-skip-tls-verify": true }, user: noCa }));
            const strictClient = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: strict }));
            try {
                await assert.rejects(strictClient.listPage({ limit: 1 }), /self[- ]signed|unable to verify|certificate/i);
            } finally {
                strictClient.close();
            }
            client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: insecure }));
            assert.equal((await client.listPage({ limit: 1 })).resourceVersion, "7");
        } finally {
            await mtls.close();
        }
    });

    it("runs an exec credential plugin and uses the token it prints", async () => {
        const counter = path.join(tmp, "plugin-runs");
        const plugin = await write(
            "plugin.js",
            [
                "const fs = require('node:fs');",
                `fs.appendFileSync(${q(counter)}, 'x');`,
                "if (process.env.PLUGIN_MODE === 'fail') { process.stderr.write('login expired: run sso login'); process.exit(1); }",
                "process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',",
                "  status: { token: process.env.PLUGIN_TOKEN, expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() } }));",
            ].join("\n"),
        );
        const execConfig = (mode: string) => ({
            apiVersion: "client.authentication.k8s.io/v1",
            command: process.execPath,
            args: [plugin],
            env: [
                { name: "PLUGIN_TOKEN", value: server.token },
                { name: "PLUGIN_MODE", value: mode },
            ],
            interactiveMode: "Never",
        });
        const ok = await write(
            "exec",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority-data": caData }, user: { exec: execConfig("ok") } }),
        );
        const kc = loadKubeConfig({ kubeconfigPath: ok });
        assert.ok(kc instanceof LightKubeConfig);
        client = createKubernetesSecretsClient(kc);
        assert.equal((await client.listPage({ limit: 10 })).items.length, 5);
        assert.equal(await fs.readFile(counter, "utf8"), "x");

        const failing = await write(
            "exec-fail",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority-data": caData }, user: { exec: execConfig("fail") } }),
        );
        const failingClient = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: failing }));
        try {
            // The plugin's stderr may hold credentials: it is never echoed, only pointed at.
            await assert.rejects(failingClient.listPage({ limit: 1 }), (err: Error) => {
                assert.match(err.message, /exec credential plugin ".*node[^"]*" of user "test" exited with code 1/);
                assert.match(err.message, /run the command by hand/);
                assert.doesNotMatch(err.message, /login expired|sso login/);
                return true;
            });
        } finally {
            failingClient.close();
        }
    });

    it("names the file and the missing context, cluster or user", async () => {
        const file = await write("config", kubeconfigYaml({ server: server.url, user: { token: "t" }, context: "prod" }));
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: file, context: "staging" }),
            (err: Error) => err.message.includes('context "staging" is not in the kubeconfig (contexts: prod)') && err.message.includes(file),
        );
        const dangling = await write("dangling", kubeconfigYaml({ server: server.url, user: { token: "t" }, currentContext: "gone" }));
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: dangling }),
            new RegExp(`context "gone" is not in the kubeconfig .* at ${dangling}; fix current-context`),
        );
        const none = await write("none", kubeconfigYaml({ server: server.url, user: { token: "t" }, currentContext: null }));
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: none }),
            new RegExp(`kubeconfig ${none} sets no current-context \\(contexts: test\\); pass --context NAME`),
        );
        const noUser = await write(
            "no-user",
            kubeconfigYaml({ server: server.url, user: { token: "t" } }).replace(/^users:\n- name: "test"/m, 'users:\n- name: "someone-else"'),
        );
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: noUser }),
            new RegExp(`context "test" names user "test", which kubeconfig ${noUser} does not define`),
        );
        const noCluster = await write(
            "no-cluster",
            kubeconfigYaml({ server: server.url, user: { token: "t" } }).replace(/^clusters:\n- name: "test"/m, 'clusters:\n- name: "x"'),
        );
        assert.throws(() => loadKubeConfig({ kubeconfigPath: noCluster }), new RegExp(`names cluster "test", which kubeconfig ${noCluster} does not define`));
        const broken = await write("broken", "clusters:\n- cluster:\n    server: https://x\n");
        assert.throws(() => loadKubeConfig({ kubeconfigPath: broken }), new RegExp(`cannot load kubeconfig ${broken}: clusters\\[0\\]\\.name is missing`));
    });

    it("merges a $KUBECONFIG list: the first current-context wins, a name defined twice is an error", async () => {
        const first = await write(
            "first",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority-data": caData }, user: { token: server.token }, context: "one" }),
        );
        const second = await write("second", kubeconfigYaml({ server: "https://127.0.0.1:1", user: { token: "t" }, context: "two" }));
        const unset = await write("unset", kubeconfigYaml({ server: "https://127.0.0.1:2", user: { token: "t" }, context: "three", currentContext: null }));
        assert.equal(loadKubeConfig({ kubeconfigPath: [second, first].join(path.delimiter) }).getCurrentContext(), "two");
        assert.equal(loadKubeConfig({ kubeconfigPath: [unset, second].join(path.delimiter) }).getCurrentContext(), "two");
        assert.equal(loadKubeConfig({ kubeconfigPath: [second, first].join(path.delimiter), context: "one" }).getCurrentContext(), "one");
        const kc = loadKubeConfig({ kubeconfigPath: [first, second].join(path.delimiter) });
        assert.equal(kc.getCurrentCluster()?.server, server.url);
        client = createKubernetesSecretsClient(kc);
        assert.equal((await client.listPage({ limit: 10 })).items.length, 5);
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: [first, first].join(path.delimiter) }),
            new RegExp(`cluster "one" is defined in both kubeconfig ${first} and ${first}`),
        );
    });

    it("hands auth-provider and proxy-url configurations to client-node's full KubeConfig", async () => {
        const oidc = await write(
            "oidc",
            kubeconfigYaml({
                server: server.url,
                cluster: { "certificate-authority-data": caData },
                user: { "auth-provider": { name: "oidc", config: { "id-token": "header.payload.sig", "client-id": "k" } } },
                context: "sso",
            }),
        );
        const full = loadKubeConfig({ kubeconfigPath: oidc });
        assert.ok(full instanceof KubeConfig, "oidc needs the library's authenticator");
        assert.equal(full.getCurrentContext(), "sso");
        const proxied = await write("proxied", kubeconfigYaml({ server: server.url, cluster: { "proxy-url": "http://127.0.0.1:3128" }, user: { token: "t" } }));
        const viaProxy = loadKubeConfig({ kubeconfigPath: proxied });
        assert.ok(viaProxy instanceof KubeConfig);
        assert.equal(viaProxy.getCurrentCluster()?.proxyUrl, "http://127.0.0.1:3128");
        const yamlOidc = loadKubeConfig({ kubeconfigYaml: await fs.readFile(oidc, "utf8") });
        assert.ok(yamlOidc instanceof KubeConfig);
    });

    it("refuses an exec plugin the full library would run (behind proxy-url): no deadline and leaked output are not an option", async () => {
        const proxiedExec = await write(
            "proxied-exec",
            kubeconfigYaml({
                server: server.url,
                cluster: { "proxy-url": "http://127.0.0.1:3128" },
                user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "plugin-that-is-never-run", interactiveMode: "Never" } },
            }),
        );
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: proxiedExec }),
            /uses an exec credential plugin and cluster "[^"]+" sets proxy-url; this tool runs exec plugins itself/,
        );
    });

    it("never repeats a malformed kubeconfig's secrets: the error names the file and the line", async () => {
        const nearSyntaxError = await write(
            "syntax",
            [
                "apiVersion: v1",
                "users:",
                "- name: test",
                "  user:",
                "    password: hunter2-secret",
                "    token: tok-secret-123",
                "   username: misindented",
                "",
            ].join("\n"),
        );
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: nearSyntaxError }),
            (err: Error) =>
                err.message.startsWith(`kubeconfig ${nearSyntaxError} is not valid YAML: `) &&
                /\(line 7, column \d+\)/.test(err.message) &&
                !/hunter2|tok-secret|misindented/.test(err.message),
        );
        // js-yaml quotes alias and tag names in its reasons; an unquoted password can be one.
        const alias = await write("alias", "users:\n- name: test\n  user:\n    password: *hunter2-secret\n");
        const tag = await write("tag", "users:\n- name: test\n  user:\n    token: !tok-secret-123 x\n");
        for (const file of [alias, tag]) {
            assert.throws(
                () => loadKubeConfig({ kubeconfigPath: file }),
                (err: Error) => err.message.includes(file) && /\(line 4, column \d+\)/.test(err.message) && !/hunter2|tok-secret/.test(err.message),
            );
        }
        // A value of the wrong type is named by its field, not shown.
        const wrongType = await write("wrong-type", kubeconfigYaml({ server: server.url, user: { token: 123456789, password: ["hunter2-secret"] } }));
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: wrongType }),
            (err: Error) => err.message === `cannot load kubeconfig ${wrongType}: users[0].user.token must be a string (quote it)`,
        );
        assert.throws(
            () => loadKubeConfig({ kubeconfigYaml: "users: [\n  {name: test, user: {token: tok-secret-123}\n" }),
            (err: Error) => err.message.startsWith("the given kubeconfig content is not valid YAML: ") && !err.message.includes("tok-secret"),
        );
    });

    it("turns a bad client key, a key of another certificate or a bad CA into a plain sentence, without key material", async () => {
        const pem = await generateCertificate("reencrypt-operator");
        const other = await generateCertificate("someone-else");
        const keyBody = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LWlzLW5vdC1hLWtleQ==";
        const garbageKey = `-----BEGIN PRIVATE KEY-----\n${keyBody}\n-----END PRIVATE KEY-----\n`;
        const noKeyMaterial = (message: string) =>
            !/ERR_OSSL|error:0|DECODER|PRIVATE KEY|BEGIN/.test(message) &&
            !message.includes(keyBody) &&
            !message.includes(other.key.split("\n")[1]) &&
            !message.includes(b64(other.key).slice(0, 40));
        const badKey = await write(
            "bad-key",
            kubeconfigYaml({ server: server.url, user: { "client-certificate-data": b64(pem.cert), "client-key-data": b64(garbageKey) } }),
        );
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: badKey }),
            (err: Error) =>
                err.message.startsWith(`the client-key of user "test" in kubeconfig ${badKey} is not a valid PEM private key`) && noKeyMaterial(err.message),
        );
        await fs.writeFile(path.join(tmp, "other.key"), other.key);
        const mismatched = await write(
            "mismatched",
            kubeconfigYaml({ server: server.url, user: { "client-certificate-data": b64(pem.cert), "client-key": "other.key" } }),
        );
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: mismatched }),
            (err: Error) =>
                err.message.startsWith(
                    `the client-key file ${path.join(tmp, "other.key")} of user "test" in kubeconfig ${mismatched} does not match its client-certificate`,
                ) && noKeyMaterial(err.message),
        );
        const badCa = await write(
            "bad-ca",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority-data": b64("not a certificate") }, user: { token: "t" } }),
        );
        assert.throws(
            () => loadKubeConfig({ kubeconfigPath: badCa }),
            new RegExp(`Error: the certificate-authority of cluster "test" in kubeconfig ${badCa} is not a valid PEM certificate bundle`),
        );
        const keyless = await write("keyless", kubeconfigYaml({ server: server.url, user: { "client-certificate-data": b64(pem.cert) } }));
        assert.throws(() => loadKubeConfig({ kubeconfigPath: keyless }), /user "test" in kubeconfig .* has a client-certificate but no client-key/);

        // The same check for a certificate and key an exec plugin prints.
        const plugin = await write(
            "tls-plugin.js",
            `process.stdout.write(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { clientCertificateData: ${q(pem.cert)}, clientKeyData: ${q(garbageKey)} } }));`,
        );
        const execTls = await write(
            "exec-tls",
            kubeconfigYaml({
                server: server.url,
                user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: process.execPath, args: [plugin], interactiveMode: "Never" } },
            }),
        );
        await assert.rejects(
            loadKubeConfig({ kubeconfigPath: execTls }).applyToHTTPSOptions({}),
            (err: Error) =>
                /^the clientKeyData printed by exec credential plugin ".*" of user "test" .* is not a valid PEM private key/.test(err.message) &&
                noKeyMaterial(err.message),
        );
    });

    it("names the current user, and fetches fresh credentials after invalidateCredentials()", async () => {
        const tokenSource = path.join(tmp, "token-source");
        await fs.writeFile(tokenSource, "expired-token");
        const counter = path.join(tmp, "runs");
        const plugin = await write(
            "plugin.js",
            [
                "const fs = require('node:fs');",
                `fs.appendFileSync(${q(counter)}, 'x');`,
                "process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',",
                `  status: { token: fs.readFileSync(${q(tokenSource)}, 'utf8'), expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() } }));`,
            ].join("\n"),
        );
        const file = await write(
            "exec",
            kubeconfigYaml({
                server: server.url,
                cluster: { "certificate-authority-data": caData },
                user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: process.execPath, args: [plugin], interactiveMode: "Never" } },
                context: "prod",
            }),
        );
        const kc = loadKubeConfig({ kubeconfigPath: file });
        assert.deepEqual(kc.getCurrentUser(), { name: "prod" });
        const authorization = async () => {
            const opts: https.RequestOptions = {};
            await kc.applyToHTTPSOptions(opts);
            return (opts.headers as http.OutgoingHttpHeaders).Authorization;
        };
        assert.equal(await authorization(), "Bearer expired-token");
        await fs.writeFile(tokenSource, server.token);
        assert.equal(await authorization(), "Bearer expired-token", "cached until its expirationTimestamp");
        assert.equal(await fs.readFile(counter, "utf8"), "x");
        assert.ok(kc.invalidateCredentials, "the light loader can drop its credentials");
        kc.invalidateCredentials();
        assert.equal(await authorization(), `Bearer ${server.token}`, "re-run although the cached credential had not expired");
        assert.equal(await fs.readFile(counter, "utf8"), "xx");

        // A token-file is re-read after invalidateCredentials() too.
        const tokenFile = path.join(tmp, "token");
        await fs.writeFile(tokenFile, "old-token\n");
        const fromFile = loadKubeConfig({
            kubeconfigPath: await write("token-file", kubeconfigYaml({ server: server.url, user: { "token-file": tokenFile } })),
        });
        const header = async () => {
            const opts: https.RequestOptions = {};
            await fromFile.applyToHTTPSOptions(opts);
            return (opts.headers as http.OutgoingHttpHeaders).Authorization;
        };
        assert.equal(await header(), "Bearer old-token", "trimmed like client-go");
        await fs.writeFile(tokenFile, "new-token");
        assert.equal(await header(), "Bearer old-token");
        fromFile.invalidateCredentials?.();
        assert.equal(await header(), "Bearer new-token");

        // The full library's KubeConfig answers getCurrentUser() too.
        const proxied = await write(
            "proxied",
            kubeconfigYaml({ server: server.url, cluster: { "proxy-url": "http://127.0.0.1:3128" }, user: { token: "t" }, context: "via" }),
        );
        assert.equal(loadKubeConfig({ kubeconfigPath: proxied }).getCurrentUser()?.name, "via");
    });

    it("stops a hanging exec plugin at the timeout given to loadKubeConfig, and on abort", async () => {
        const pidFile = path.join(tmp, "pid");
        const plugin = await write("hang.js", `require("node:fs").writeFileSync(${q(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`);
        const file = await write(
            "hang",
            kubeconfigYaml({
                server: server.url,
                user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: process.execPath, args: [plugin], interactiveMode: "Never" } },
            }),
        );
        const started = Date.now();
        await assert.rejects(
            loadKubeConfig({ kubeconfigPath: file }, { execTimeoutMs: 500 }).applyToHTTPSOptions({}),
            /exec credential plugin ".*" of user "test" did not finish within 500 ms and was stopped/,
        );
        assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
        const controller = new AbortController();
        const pending = loadKubeConfig({ kubeconfigPath: file }, { signal: controller.signal }).applyToHTTPSOptions({});
        setTimeout(() => controller.abort(), 300);
        await assert.rejects(pending, /was stopped: the run was cancelled/);
    });

    it("loads neither client-node's index nor its KubeConfig module on the light path", async () => {
        const file = await write(
            "config",
            kubeconfigYaml({ server: server.url, cluster: { "certificate-authority-data": caData }, user: { token: server.token } }),
        );
        const script = [
            `const { loadKubeConfig } = require(${q(path.join(REPO_ROOT, "components/kube/kubeconfig"))});`,
            `const kc = loadKubeConfig({ kubeconfigPath: ${q(file)} });`,
            "kc.applyToHTTPSOptions({}).then(() => {",
            "  console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('@kubernetes/client-node')).map((k) => k.split('client-node/')[1])));",
            "});",
        ].join("\n");
        const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
            cwd: REPO_ROOT,
            encoding: "utf8",
        });
        const loaded = JSON.parse(out.trim().split("\n").pop() as string) as string[];
        assert.deepEqual(loaded, ["dist/config_types.js"]);
    });
});
