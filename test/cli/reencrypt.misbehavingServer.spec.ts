// Nothing unbounded: the compiled reencrypt-secrets CLI, run as a user runs it,
// against the misbehaving Kubernetes API server (test/support/misbehavingKubeApi/). Every test has a hard
// time bound (the child is killed past it) and asserts the exit code, the message and what
// reached the cluster and the disk. Bounds are generous: two busy cores must not flake.
import * as assert from "node:assert/strict";
import { promises as fs, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createKubernetesSecretsClient, loadKubeConfig } from "../../components/kube";
import { parseMetadataList } from "../../components/kube/secretsClient";
import { parseRetryAfter, reencryptSecrets } from "../../components/reencrypt";
import { MisbehavingKubeApi, MisbehavingKubeApiOptions, startMisbehavingKubeApi } from "../support/misbehavingKubeApi/server";
import { buildReencryptCli, CliRun, parseSummary, startCli } from "../support/kubeReencryptCli";

const VALUE = "20240101-010101";
const KEY = "encryption-key-rotation-time";

describe("cli/reencrypt: nothing unbounded against a misbehaving API server", function () {
    this.timeout(120_000);
    let entry: string;
    let tmp: string;
    const servers: MisbehavingKubeApi[] = [];
    const children: CliRun[] = [];

    before(async () => {
        entry = await buildReencryptCli();
    });
    beforeEach(async () => {
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "unbounded-"));
    });
    afterEach(async () => {
        for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill("SIGKILL");
        for (const s of servers.splice(0)) await s.close();
        await fs.rm(tmp, { recursive: true, force: true });
    });

    async function misbehaving(options: MisbehavingKubeApiOptions): Promise<{ server: MisbehavingKubeApi; kubeconfig: string }> {
        const server = await startMisbehavingKubeApi(options);
        servers.push(server);
        return { server, kubeconfig: server.writeKubeconfig(path.join(tmp, "kubeconfig")) };
    }

    /** Runs the CLI; kills it and fails the test if it outlives `boundMs`. */
    async function runCli(args: string[], boundMs: number, during?: (run: CliRun) => void) {
        const run = startCli(entry, ["--annotation-value", VALUE, "--output", "json", ...args]);
        children.push(run);
        const started = Date.now();
        const timer = setTimeout(() => run.child.kill("SIGKILL"), boundMs);
        during?.(run);
        const result = await run.done;
        clearTimeout(timer);
        const elapsedMs = Date.now() - started;
        assert.notEqual(result.signal, "SIGKILL", `the CLI outlived its ${boundMs} ms bound; stderr:\n${result.stderr}`);
        return { ...result, elapsedMs };
    }

    describe("1-2. deadlines", () => {
        it("a server dripping a byte every second: each request ends at the total deadline, the error budget stops the run (exit 2, summary)", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 5, mode: { kind: "drip", dripMs: 1000 } });
            const result = await runCli(["--kubeconfig", kubeconfig, "--request-timeout", "2", "--error-budget", "2"], 30_000);
            assert.equal(result.code, 2, result.stderr);
            const summary = parseSummary(result.stdout);
            assert.equal(summary.outcome, "stopped");
            assert.match(String(summary.stopReason), /2 requests in a row failed .*no complete answer within 2 s \(the request deadline\)/);
            assert.equal(server.stats().patchesApplied, 0);
            assert.ok(result.elapsedMs < 20_000, `ended in ${result.elapsedMs} ms`);
        });

        it("the first SIGINT during a hung request cancels it and exits 1 with the summary and the checkpoint", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 30, mode: { kind: "hang", on: "patch" } });
            const state = path.join(tmp, "state.json");
            let stderrAtSignal = "";
            const result = await runCli(["--kubeconfig", kubeconfig, "--state", state, "--page-size", "10"], 30_000, (run) => {
                const poll = setInterval(() => {
                    // Signal once the run is writing (its patches hang).
                    if (server.stats().byKind.patch > 0) {
                        clearInterval(poll);
                        stderrAtSignal = "sent";
                        run.child.kill("SIGINT");
                    }
                }, 50);
                run.child.on("close", () => clearInterval(poll));
            });
            assert.equal(stderrAtSignal, "sent");
            assert.equal(result.code, 1, result.stderr);
            assert.match(result.stderr, /SIGINT: cancelling requests, saving the checkpoint and the summary/);
            const summary = parseSummary(result.stdout);
            assert.equal(summary.outcome, "interrupted");
            const saved = JSON.parse(await fs.readFile(state, "utf8"));
            assert.equal(saved.annotationValue, VALUE);
            assert.ok(result.elapsedMs < 15_000, `exited ${result.elapsedMs} ms after start`);
        });

        it("a second signal quits at once: exit 130 and, in JSON mode, one JSON object saying so", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 30, mode: { kind: "hang", on: "patch" } });
            const result = await runCli(["--kubeconfig", kubeconfig, "--state", path.join(tmp, "state.json")], 30_000, (run) => {
                const poll = setInterval(() => {
                    if (server.stats().byKind.patch > 0) {
                        clearInterval(poll);
                        // Two different signals: the same one sent twice at once may be merged by the kernel.
                        run.child.kill("SIGINT");
                        run.child.kill("SIGTERM");
                    }
                }, 50);
                run.child.on("close", () => clearInterval(poll));
            });
            assert.equal(result.code, 130, result.stderr);
            const out = JSON.parse(result.stdout.trim());
            assert.equal(out.exitCode, 130);
            assert.match(out.error, /SIG(INT|TERM) again: quitting at once; the checkpoint is the last one saved/);
        });

        it("SIGTERM while every write waits out a Retry-After of an hour: the timers are cleared, exit 1 within seconds", async () => {
            const { kubeconfig } = await misbehaving({ secrets: 20, mode: { kind: "retryAfter", status: 429, retryAfter: "3600", on: "patch" } });
            const state = path.join(tmp, "state.json");
            let signalledAt = 0;
            const result = await runCli(["--kubeconfig", kubeconfig, "--state", state], 30_000, (run) => {
                setTimeout(() => {
                    signalledAt = Date.now();
                    run.child.kill("SIGTERM");
                }, 2000);
            });
            assert.equal(result.code, 1, result.stderr);
            assert.equal(parseSummary(result.stdout).outcome, "interrupted");
            const afterSignal = Date.now() - signalledAt;
            assert.ok(afterSignal < 8000, `exited ${afterSignal} ms after SIGTERM`);
            await fs.access(state);
        });
    });

    describe("exec credential plugins: a deadline, plain errors, and a renewal after a 401", () => {
        /** A kubeconfig whose user is an exec plugin (a node script written here). */
        async function execKubeconfig(server: MisbehavingKubeApi, pluginSource: string): Promise<string> {
            const plugin = path.join(tmp, "plugin.js");
            await fs.writeFile(plugin, pluginSource);
            const file = path.join(tmp, "exec.kubeconfig");
            const ca = Buffer.from(server.caPem).toString("base64");
            await fs.writeFile(
                file,
                [
                    "apiVersion: v1",
                    "kind: Config",
                    `clusters: [{name: c, cluster: {server: "${server.url}", certificate-authority-data: ${ca}}}]`,
                    `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "${process.execPath}", args: ["${plugin}"], interactiveMode: Never}}}]`,
                    "contexts: [{name: c, context: {cluster: c, user: u}}]",
                    "current-context: c",
                    "",
                ].join("\n"),
            );
            return file;
        }

        it("a plugin that hangs is stopped at --exec-timeout: exit 2, one sentence, nothing written", async () => {
            const server = await startMisbehavingKubeApi({ secrets: 3 });
            servers.push(server);
            const kubeconfig = await execKubeconfig(server, "setInterval(() => {}, 1000);\n");
            const result = await runCli(["--kubeconfig", kubeconfig, "--exec-timeout", "1"], 30_000);
            assert.equal(result.code, 2, result.stderr);
            assert.match(result.stderr, /exec credential plugin .* of user "u" .*(did not finish|timed out|within 1 s)/);
            assert.equal(server.stats().patchesApplied, 0);
            assert.ok(result.elapsedMs < 15_000, `ended in ${result.elapsedMs} ms`);
        });

        it("a plugin whose answer has no status: a plain sentence, no TypeError, no plugin output", async () => {
            const server = await startMisbehavingKubeApi({ secrets: 3 });
            servers.push(server);
            const kubeconfig = await execKubeconfig(
                server,
                'process.stdout.write(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", leaked: "tok-zzz-123" }));\n',
            );
            const result = await runCli(["--kubeconfig", kubeconfig], 30_000);
            assert.equal(result.code, 2, result.stderr);
            assert.match(result.stderr, /exec credential plugin .* of user "u"/);
            assert.doesNotMatch(result.stderr + result.stdout, /TypeError|tok-zzz-123/);
        });

        for (const revoked of [false, true]) {
            it(
                revoked
                    ? "a 401 again right after the plugin ran again stops the run: exit 2, summary, checkpoint"
                    : "a 401 mid-run runs the plugin again once and the run goes on: exit 0, each Secret written once",
                async () => {
                    const tokenFile = path.join(tmp, "token");
                    const runs = path.join(tmp, "runs");
                    await fs.writeFile(tokenFile, "first-token");
                    const server = await startMisbehavingKubeApi({ secrets: 30, token: "first-token" });
                    servers.push(server);
                    server.setMode({
                        kind: "unauthorizedAfter",
                        requests: 12,
                        rejectNewTokens: revoked,
                        onExhausted: () => {
                            // The credential behind the plugin rotates: the old token dies, a new one is issued.
                            writeFileSync(tokenFile, "second-token");
                            server.setToken("second-token");
                        },
                    });
                    const kubeconfig = await execKubeconfig(
                        server,
                        [
                            'const fs = require("node:fs");',
                            `fs.appendFileSync(${JSON.stringify(runs)}, "run\\n");`,
                            `const token = fs.readFileSync(${JSON.stringify(tokenFile)}, "utf8");`,
                            // Claims a long validity: only the 401 can make the CLI ask again.
                            'process.stdout.write(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token, expirationTimestamp: "2999-01-01T00:00:00Z" } }));',
                        ].join("\n"),
                    );
                    const state = path.join(tmp, "state.json");
                    const result = await runCli(["--kubeconfig", kubeconfig, "--state", state, "--page-size", "10", "--concurrency", "1"], 60_000);
                    const pluginRuns = (await fs.readFile(runs, "utf8")).trim().split("\n").length;
                    assert.equal(pluginRuns, 2, "the plugin ran once more after the 401, not once per request");
                    const summary = parseSummary(result.stdout);
                    if (!revoked) {
                        assert.equal(result.code, 0, result.stderr);
                        assert.equal(summary.outcome, "verified");
                        assert.ok(Object.values(server.stats().patchesPerSecret).every((n) => n === 1));
                        assert.equal(Object.keys(server.stats().patchesPerSecret).length, 30);
                    } else {
                        assert.equal(result.code, 2, result.stderr);
                        assert.equal(summary.outcome, "stopped");
                        assert.match(String(summary.stopReason), /HTTP 401.*rejected again right after the credentials were renewed/);
                        const saved = JSON.parse(await fs.readFile(state, "utf8"));
                        assert.equal(saved.annotationValue, VALUE, "the checkpoint is there to resume");
                        assert.ok(server.stats().patchesApplied < 30);
                    }
                },
            );
        }
    });

    describe("3-4. loops with caps", () => {
        it("a continue token that repeats stops the run: each Secret of the page written once, exit 2 naming the fault", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 6, namespaces: 2, mode: { kind: "repeatContinue" } });
            const result = await runCli(["--kubeconfig", kubeconfig, "--page-size", "2"], 30_000);
            assert.equal(result.code, 2, result.stderr);
            assert.match(String(parseSummary(result.stdout).stopReason), /continue token it had already given in this list/);
            const perSecret = Object.values(server.stats().patchesPerSecret);
            assert.ok(
                perSecret.every((n) => n === 1),
                `no Secret written twice: ${JSON.stringify(server.stats().patchesPerSecret)}`,
            );
            assert.ok(server.stats().listsServed <= 3, `lists: ${server.stats().listsServed}`);
        });

        it("410 Expired forever, with a remainder token each time: capped restarts with back-off, then a clear stop", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 10, mode: { kind: "expiredForever", everyList: true } });
            // In-process with the real transport and fast back-off: the cap, not the clock, is what is tested.
            const client = createKubernetesSecretsClient(loadKubeConfig({ kubeconfigPath: kubeconfig }));
            const sleeps: number[] = [];
            try {
                const summary = await reencryptSecrets(client, { annotationValue: VALUE, qps: 0, sleep: async (ms) => void sleeps.push(ms) });
                assert.equal(summary.outcome, "stopped");
                assert.match(summary.stopReason ?? "", /continue token expired 21 times; giving up/);
            } finally {
                client.close();
            }
            assert.equal(server.stats().byKind.list, 21, "the cap (20 restarts) holds");
            assert.equal(sleeps.length, 20, "a back-off before every retry");
            assert.ok(sleeps[10] > sleeps[0], "growing");
        });
    });

    describe("6. the error budget", () => {
        it("every write answers 5xx: stops after --error-budget failures in a row, checkpoint and summary, exit 2", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 24, mode: { kind: "serverErrors", status: 503, on: "patch" } });
            const state = path.join(tmp, "state.json");
            const result = await runCli(["--kubeconfig", kubeconfig, "--state", state, "--error-budget", "6", "--concurrency", "2"], 60_000);
            assert.equal(result.code, 2, result.stderr);
            const summary = parseSummary(result.stdout);
            assert.equal(summary.outcome, "stopped");
            assert.match(String(summary.stopReason), /6 requests in a row failed with transient errors \(the error budget\)/);
            assert.ok(server.stats().byKind.patch <= 8, `bounded writes: ${server.stats().byKind.patch}`);
            assert.ok(JSON.parse(await fs.readFile(state, "utf8")).format, "the checkpoint is there to resume");
            assert.ok(result.elapsedMs < 30_000);
        });

        it("a Retry-After of an hour is capped and the stall timeout ends the run on time", async () => {
            const { kubeconfig } = await misbehaving({ secrets: 4, mode: { kind: "retryAfter", status: 429, retryAfter: "3600", on: "patch" } });
            const result = await runCli(["--kubeconfig", kubeconfig, "--stall-timeout", "10", "--error-budget", "1000"], 60_000);
            assert.equal(result.code, 2, result.stderr);
            assert.match(String(parseSummary(result.stdout).stopReason), /no request succeeded for 1\d s \(the stall timeout\)/);
            assert.ok(result.elapsedMs < 30_000, `ended in ${result.elapsedMs} ms`);
        });
    });

    describe("7. a page size cap that adapts", () => {
        it("an oversized page is asked again at half the size until it fits; the run completes", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 40, mode: { kind: "oversizedPage", bytesPerItem: 60_000 } });
            const result = await runCli(["--kubeconfig", kubeconfig, "--max-page-mib", "1", "--page-size", "40"], 60_000);
            assert.equal(result.code, 0, result.stderr);
            const summary = parseSummary(result.stdout);
            assert.equal(summary.pageSize, 10, "40 -> 20 -> 10 Secrets per page");
            assert.match(result.stderr, /a list page of 40 Secrets was too large .*asking again with 20 per page/);
            assert.equal(Object.keys(server.stats().patchesPerSecret).length, 40);
        });

        for (const chunked of [false, true]) {
            it(`a page too large even at the floor stops with a clear message (${chunked ? "chunked: read up to the cap, then hung up" : "refused by its Content-Length"})`, async () => {
                const { server, kubeconfig } = await misbehaving({ secrets: 40, mode: { kind: "oversizedPage", bytesPerItem: 2_000_000, chunked } });
                const result = await runCli(["--kubeconfig", kubeconfig, "--max-page-mib", "1", "--page-size", "40"], 60_000);
                assert.equal(result.code, 2, result.stderr);
                assert.match(result.stderr, /larger than the 1 MiB page cap.*even at 10 Secrets per page: raise the page size cap/);
                assert.equal(server.stats().patchesApplied, 0);
                // Three pages of 80, 40 and 20 MB were offered; the client stopped each near the cap (socket buffers aside).
                if (chunked) assert.ok(server.stats().bytesSent < 3 * 8 * 1024 * 1024, `sent ${server.stats().bytesSent} bytes`);
            });
        }

        it("keeps only the run's own annotation from a page: last-applied-configuration never reaches the engine", () => {
            const body = Buffer.from(
                JSON.stringify({
                    kind: "PartialObjectMetadataList",
                    metadata: { resourceVersion: "5" },
                    items: [
                        {
                            metadata: {
                                namespace: "a",
                                name: "s",
                                resourceVersion: "4",
                                annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"c2VjcmV0"}}', [KEY]: "old" },
                            },
                        },
                    ],
                }),
            );
            const page = parseMetadataList(body, KEY);
            assert.deepEqual(page.items[0].annotations, { [KEY]: "old" });
            assert.doesNotMatch(JSON.stringify(page), /c2VjcmV0/);
        });
    });

    describe("review findings: hostile kubeconfigs and a dry run cut short", () => {
        it("a kubeconfig that is /dev/zero or a sparse 1.5 GB file is refused at once from its type and size (exit 2)", async () => {
            const big = path.join(tmp, "big.yaml");
            await (await fs.open(big, "w")).truncate(1500 * 1024 * 1024);
            for (const file of ["/dev/zero", big]) {
                const result = await runCli(["--kubeconfig", file], 20_000);
                assert.equal(result.code, 2, result.stderr);
                assert.match(
                    result.stderr,
                    file === big
                        ? /kubeconfig .*big\.yaml is 1572864000 bytes, more than the 4194304 accepted/
                        : /kubeconfig \/dev\/zero is not a regular file/,
                );
                assert.ok(result.elapsedMs < 10_000, `${file}: ${result.elapsedMs} ms`);
            }
        });

        it("a certificate-authority with insecure-skip-tls-verify is refused (the CA would name a cluster TLS never checked)", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 3 });
            const text = (await fs.readFile(kubeconfig, "utf8")).replace(
                /certificate-authority-data: (\S+)/,
                "certificate-authority-data: $1\n    insecure-skip-tls-verify: true",
            );
            await fs.writeFile(kubeconfig, text);
            const result = await runCli(["--kubeconfig", kubeconfig], 20_000);
            assert.equal(result.code, 2, result.stderr);
            assert.match(result.stderr, /sets both a certificate-authority and insecure-skip-tls-verify; remove insecure-skip-tls-verify/);
            assert.equal(server.stats().requests, 0);
        });

        it("credentials in the server URL are never printed; a token holding a newline ends at once in plain words", async () => {
            const { server, kubeconfig } = await misbehaving({ secrets: 3 });
            const withCreds = (await fs.readFile(kubeconfig, "utf8")).replace(
                server.url,
                `${server.url.replace("https://", "https://admin:hunter2@")}/?token=SECRETQ`,
            );
            await fs.writeFile(kubeconfig, withCreds);
            const shown = await runCli(["--kubeconfig", kubeconfig, "--dry-run"], 20_000);
            assert.doesNotMatch(shown.stderr + shown.stdout, /hunter2|SECRETQ/);
            assert.match(shown.stderr, /dry run against server https:\/\/\*\*\*@127\.0\.0\.1/);

            const { kubeconfig: second } = await misbehaving({ secrets: 3 });
            const badToken = (await fs.readFile(second, "utf8")).replace(/token: "([^"]*)"/, 'token: "$1\\r"');
            await fs.writeFile(second, badToken);
            const result = await runCli(["--kubeconfig", second, "--request-timeout", "30"], 20_000);
            assert.equal(result.code, 2, result.stderr);
            assert.match(result.stderr, /holds characters an HTTP header cannot carry/);
            assert.doesNotMatch(result.stderr, /ReferenceError|at .*\.js:\d+/);
            assert.ok(result.elapsedMs < 10_000, `ended in ${result.elapsedMs} ms, not at the request deadline`);
        });

        it("a dry run that is stopped exits 2, not 0 with partial counts", async () => {
            const { kubeconfig } = await misbehaving({ secrets: 6, mode: { kind: "repeatContinue" } });
            const result = await runCli(["--kubeconfig", kubeconfig, "--dry-run", "--page-size", "2"], 20_000);
            assert.equal(result.code, 2, result.stderr);
            assert.equal(parseSummary(result.stdout).outcome, "stopped");
        });
    });

    describe("8-10. sane parsing and plain-language errors", () => {
        it("Retry-After: delta-seconds or an HTTP date only; -5, 1.5 and junk fall back to our own back-off", () => {
            const now = Date.parse("2024-01-01T00:00:00Z");
            assert.equal(parseRetryAfter("7", now), 7);
            assert.equal(parseRetryAfter("Mon, 01 Jan 2024 00:00:30 GMT", now), 30);
            for (const bad of ["-5", "1.5", "soon", "", "+3", "99999999999", "Tue, 01 Jan 2024"]) assert.equal(parseRetryAfter(bad, now), undefined, bad);
        });

        it("https against a plain-HTTP server says so in one sentence (no OpenSSL jargon)", async () => {
            const server = await startMisbehavingKubeApi({ secrets: 2, tls: false });
            servers.push(server);
            const kubeconfig = server.writeKubeconfig(path.join(tmp, "kubeconfig"));
            const text = (await fs.readFile(kubeconfig, "utf8"))
                .replace("http://", "https://")
                .replace(/insecure-skip-tls-verify: true/, "insecure-skip-tls-verify: true");
            await fs.writeFile(kubeconfig, text);
            const result = await runCli(["--kubeconfig", kubeconfig], 30_000);
            assert.equal(result.code, 2, result.stderr);
            assert.match(result.stderr, /did not answer with TLS; it may speak plain HTTP: check the scheme and port of the server URL/);
            assert.doesNotMatch(result.stderr, /wrong version number|ERR_SSL|at .*\.js:\d+/);
            assert.equal(JSON.parse(result.stdout.trim()).exitCode, 2);
        });

        it("usage errors stay JSON on stdout with --output json", async () => {
            const result = await runCli(["--frobnicate"], 20_000);
            assert.equal(result.code, 2);
            const out = JSON.parse(result.stdout.trim());
            assert.match(out.error, /Unknown option '--frobnicate'/);
            assert.equal(out.exitCode, 2);
        });
    });
});
