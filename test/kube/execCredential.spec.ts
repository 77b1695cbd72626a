// Size: one spec for the exec credential plugin runner: the ExecCredential contract, its bounds (time, output, abort),
// errors that never echo plugin output, and the per-user cache.
import * as assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    DEFAULT_EXEC_TIMEOUT_MS,
    EXEC_STDOUT_LIMIT_BYTES,
    ExecConfig,
    ExecCredentialError,
    ExecCredentialProvider,
    parseExecConfig,
    runExecCredentialPlugin,
} from "../../components/kube/execCredential";

const V1 = "client.authentication.k8s.io/v1";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";
const HOUR = 3600_000;

/** True while the process exists and is not a zombie (a reparented zombie may never be reaped in a container). */
function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return true; // no /proc: trust kill(0)
    }
}

async function waitUntilDead(pid: number, withinMs: number): Promise<boolean> {
    const until = Date.now() + withinMs;
    while (Date.now() < until) {
        if (!isAlive(pid)) return true;
        await new Promise((r) => setTimeout(r, 50));
    }
    return !isAlive(pid);
}

async function waitForFile(file: string, withinMs = 5000): Promise<string> {
    const until = Date.now() + withinMs;
    while (Date.now() < until) {
        if (existsSync(file)) {
            const text = await fs.readFile(file, "utf8");
            if (text) return text;
        }
        await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${file} was not written`);
}

describe("exec credential plugin runner", function () {
    this.timeout(30_000);
    let tmp: string;
    let runs: string;

    beforeEach(async () => {
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "exec-credential-"));
        runs = path.join(tmp, "runs");
    });
    afterEach(async () => {
        await fs.rm(tmp, { recursive: true, force: true });
    });

    /** A node plugin: `body` runs after it records the run (one "x" per run in `runs`). */
    const plugin = async (body: string, extra: Partial<ExecConfig> = {}): Promise<ExecConfig> => {
        const file = path.join(tmp, `plugin-${Math.random().toString(36).slice(2)}.js`);
        await fs.writeFile(file, [`require("node:fs").appendFileSync(${JSON.stringify(runs)}, "x");`, body].join("\n"));
        return { command: process.execPath, args: [file], env: [], apiVersion: V1, interactiveMode: "Never", provideClusterInfo: false, ...extra };
    };
    const credential = (status: string, apiVersion = V1) =>
        `process.stdout.write(JSON.stringify({ apiVersion: ${JSON.stringify(apiVersion)}, kind: "ExecCredential", status: ${status} }));`;
    const runCount = () => (existsSync(runs) ? readFileSync(runs, "utf8").length : 0);
    const rejectsWith = async (promise: Promise<unknown>, reason: string, check: (message: string) => void = () => {}) => {
        await assert.rejects(promise, (err: unknown) => {
            assert.ok(err instanceof ExecCredentialError, `not an ExecCredentialError: ${String(err)}`);
            assert.equal(err.reason, reason, err.message);
            check(err.message);
            return true;
        });
    };

    it("passes args, the kubeconfig's env over ours, and KUBERNETES_EXEC_INFO (interactive: false); returns the token", async () => {
        const seen = path.join(tmp, "seen.json");
        const config = await plugin(
            [
                `require("node:fs").writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ argv: process.argv.slice(2), info: process.env.KUBERNETES_EXEC_INFO,`,
                "  mine: process.env.PLUGIN_SETTING, path: Boolean(process.env.PATH) }));",
                credential('{ token: "tok-1", expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() }'),
            ].join("\n"),
            { env: [{ name: "PLUGIN_SETTING", value: "from-kubeconfig" }] },
        );
        config.args.push("--flag", "value with spaces");
        process.env.PLUGIN_SETTING = "from-process";
        try {
            const status = await runExecCredentialPlugin("alice", config);
            assert.equal(status.token, "tok-1");
            assert.ok(status.expirationTimestamp);
        } finally {
            delete process.env.PLUGIN_SETTING;
        }
        const recorded = JSON.parse(await fs.readFile(seen, "utf8"));
        assert.deepEqual(recorded.argv, ["--flag", "value with spaces"]);
        assert.equal(recorded.mine, "from-kubeconfig");
        assert.equal(recorded.path, true, "the process environment is inherited");
        assert.deepEqual(JSON.parse(recorded.info), { apiVersion: V1, kind: "ExecCredential", spec: { interactive: false } });
    });

    it("speaks v1beta1 too, and sends the cluster when provideClusterInfo is set", async () => {
        const seen = path.join(tmp, "info.json");
        const config = await plugin(
            [`require("node:fs").writeFileSync(${JSON.stringify(seen)}, process.env.KUBERNETES_EXEC_INFO);`, credential('{ token: "beta" }', V1BETA1)].join(
                "\n",
            ),
            { apiVersion: V1BETA1, interactiveMode: "IfAvailable", provideClusterInfo: true },
        );
        const cluster = { server: "https://10.0.0.1:6443", "certificate-authority-data": "Q0E=" };
        assert.equal((await runExecCredentialPlugin("bob", config, { cluster })).token, "beta");
        assert.deepEqual(JSON.parse(await fs.readFile(seen, "utf8")), { apiVersion: V1BETA1, kind: "ExecCredential", spec: { interactive: false, cluster } });
    });

    it("returns a client certificate and key", async () => {
        const config = await plugin(credential('{ clientCertificateData: "CERT-PEM", clientKeyData: "KEY-PEM" }'));
        assert.deepEqual(await runExecCredentialPlugin("carol", config), { clientCertificateData: "CERT-PEM", clientKeyData: "KEY-PEM" });
    });

    it("stops a hanging plugin at the timeout: SIGTERM, then SIGKILL, and the processes it started", async () => {
        assert.equal(DEFAULT_EXEC_TIMEOUT_MS, 60_000);
        const pids = path.join(tmp, "pids");
        // Ignores SIGTERM, and starts a grandchild that holds stdout open: only a group kill and closed pipes end both.
        const config = await plugin(
            [
                'process.on("SIGTERM", () => {});',
                'const child = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: ["ignore", "inherit", "inherit"] });',
                `require("node:fs").writeFileSync(${JSON.stringify(pids)}, JSON.stringify([process.pid, child.pid]));`,
                "setInterval(() => {}, 1000);",
            ].join("\n"),
        );
        const started = Date.now();
        await rejectsWith(runExecCredentialPlugin("dave", config, { timeoutMs: 500, killGraceMs: 300 }), "timeout", (message) => {
            assert.match(message, /exec credential plugin ".*node[^"]*" of user "dave" did not finish within 500 ms and was stopped/);
            assert.match(message, /run the command by hand/);
        });
        assert.ok(Date.now() - started < 3000, `rejected after ${Date.now() - started} ms`);
        const [pluginPid, grandchildPid] = JSON.parse(await waitForFile(pids)) as number[];
        assert.ok(await waitUntilDead(pluginPid, 5000), "the plugin (ignoring SIGTERM) was SIGKILLed");
        assert.ok(await waitUntilDead(grandchildPid, 5000), "the process the plugin started was killed with it");
    });

    it("kills the plugin when the abort signal fires, and does not start one once aborted", async () => {
        const pidFile = path.join(tmp, "pid");
        const config = await plugin(
            [`require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));`, "setInterval(() => {}, 1000);"].join("\n"),
        );
        const controller = new AbortController();
        const running = runExecCredentialPlugin("erin", config, { signal: controller.signal });
        const pid = Number(await waitForFile(pidFile));
        const abortedAt = Date.now();
        controller.abort();
        await rejectsWith(running, "aborted", (message) => assert.match(message, /of user "erin" was stopped: the run was cancelled/));
        assert.ok(Date.now() - abortedAt < 1000);
        assert.ok(await waitUntilDead(pid, 5000), "the plugin was killed");

        const before = runCount();
        await rejectsWith(runExecCredentialPlugin("erin", config, { signal: controller.signal }), "aborted");
        assert.equal(runCount(), before, "no run after the abort");
    });

    it("never echoes output that is not JSON, even when it holds a token", async () => {
        const truncated = await plugin(`process.stdout.write('{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"sk-live-SECRET-abcdef0123');`);
        const plain = await plugin('process.stdout.write("token=sk-live-SECRET-abcdef0123\\n");');
        for (const config of [truncated, plain]) {
            await rejectsWith(runExecCredentialPlugin("frank", config), "invalid-output", (message) => {
                assert.match(message, /of user "frank" printed \d+ bytes on stdout that are not JSON/);
                assert.doesNotMatch(message, /SECRET|sk-live|abcdef|token=/);
            });
        }
    });

    it("says plainly what is wrong with a well-formed but unusable ExecCredential", async () => {
        const cases: Array<[string, RegExp]> = [
            [`process.stdout.write(JSON.stringify({ apiVersion: "${V1}", kind: "ExecCredential" }));`, /without a status object/],
            [`process.stdout.write(JSON.stringify({ apiVersion: "${V1}", kind: "ExecCredential", status: "tok-in-a-string" }));`, /without a status object/],
            ["process.stdout.write(JSON.stringify(['tok-in-an-array']));", /JSON that is not an object/],
            [credential('{ token: "tok-v1beta1" }', V1BETA1), /apiVersion is not client\.authentication\.k8s\.io\/v1, the one the kubeconfig/],
            [`process.stdout.write(JSON.stringify({ apiVersion: "${V1}", kind: "Secret", status: { token: "tok-kind" } }));`, /kind is not "ExecCredential"/],
            [credential("{ token: 12345678 }"), /status\.token is not a string/],
            [credential("{}"), /neither a token nor clientCertificateData and clientKeyData/],
            [credential('{ clientCertificateData: "CERT-ONLY" }'), /only one of status\.clientCertificateData and status\.clientKeyData/],
            [credential('{ token: "tok-when", expirationTimestamp: "tomorrow-ish" }'), /expirationTimestamp is not an RFC 3339 time/],
            ["", /printed nothing on stdout/],
        ];
        for (const [body, expected] of cases) {
            await rejectsWith(runExecCredentialPlugin("gina", await plugin(body)), "invalid-output", (message) => {
                assert.match(message, expected);
                assert.doesNotMatch(message, /TypeError|Cannot read|tok-|CERT-ONLY|12345678|tomorrow/);
                assert.match(message, /run the command by hand/);
            });
        }
    });

    it("reports a failed plugin without its stderr", async () => {
        const config = await plugin('process.stderr.write("refresh failed for token sk-live-SECRET-999\\n"); process.exit(3);');
        await rejectsWith(runExecCredentialPlugin("hank", config), "exit", (message) => {
            assert.match(
                message,
                /of user "hank" exited with code 3; its stderr \(\d+ bytes\) is not shown, as it may hold credentials: run the command by hand/,
            );
            assert.doesNotMatch(message, /SECRET|refresh failed|sk-live/);
        });
    });

    it("refuses more stdout than the cap and stops the plugin", async () => {
        const config = await plugin(`process.stdout.write("x".repeat(${EXEC_STDOUT_LIMIT_BYTES + 1024})); setInterval(() => {}, 1000);`);
        await rejectsWith(runExecCredentialPlugin("ivy", config), "output-too-large", (message) => {
            assert.match(message, new RegExp(`printed more than ${EXEC_STDOUT_LIMIT_BYTES} bytes on stdout`));
            assert.doesNotMatch(message, /xxx/);
        });
        await rejectsWith(
            runExecCredentialPlugin("ivy", await plugin('process.stdout.write("y".repeat(4096));'), { stdoutLimitBytes: 100 }),
            "output-too-large",
        );
    });

    it("names a command that is not on PATH, and refuses interactiveMode: Always without starting it", async () => {
        const missing: ExecConfig = {
            command: "no-such-credential-plugin-xyz",
            args: [],
            env: [],
            apiVersion: V1,
            interactiveMode: "Never",
            provideClusterInfo: false,
        };
        await rejectsWith(runExecCredentialPlugin("jill", missing), "not-found", (message) =>
            assert.match(message, /of user "jill" could not run: command no-such-credential-plugin-xyz not found on PATH; install it/),
        );
        await rejectsWith(runExecCredentialPlugin("jill", { ...missing, installHint: "brew install the-plugin" }), "not-found", (message) =>
            assert.match(message, /not found on PATH; brew install the-plugin$/),
        );
        const always = await plugin(credential('{ token: "t" }'), { interactiveMode: "Always" });
        await rejectsWith(runExecCredentialPlugin("jill", always), "interactive", (message) =>
            assert.match(message, /needs an interactive terminal \(interactiveMode: Always\), which this tool never provides; log in by hand first/),
        );
        assert.equal(runCount(), 0);
    });

    it("validates the kubeconfig's exec section without echoing it", () => {
        const where = "kubeconfig /k/config";
        const ok = parseExecConfig({ command: "aws", args: ["eks", "get-token"], apiVersion: V1BETA1 }, "u", where);
        assert.equal(ok.interactiveMode, "IfAvailable", "v1beta1 defaults to IfAvailable");
        assert.deepEqual(ok.env, []);
        const bad: Array<[unknown, RegExp]> = [
            [{ command: "aws", apiVersion: V1 }, /has no interactiveMode, which apiVersion v1 requires; add interactiveMode: Never/],
            [{ command: "aws", apiVersion: "client.authentication.k8s.io/v1alpha1", interactiveMode: "Never" }, /apiVersion this tool does not support/],
            [{ apiVersion: V1, interactiveMode: "Never" }, /has no command/],
            [{ command: "aws", apiVersion: V1, interactiveMode: "Never", env: [{ name: "K", value: 42 }] }, /env that is not a list/],
            [{ command: "aws", apiVersion: V1, interactiveMode: "Never", args: "secret-arg" }, /args that are not a list/],
            [{ command: "aws", apiVersion: V1, interactiveMode: "Sometimes" }, /interactiveMode other than/],
        ];
        for (const [raw, expected] of bad) {
            assert.throws(
                () => parseExecConfig(raw, "u", where),
                (err: Error) =>
                    expected.test(err.message) && err.message.includes('user "u" in kubeconfig /k/config') && !/secret-arg|42|Sometimes/.test(err.message),
            );
        }
    });

    it("caches the credential until its expirationTimestamp, shares a run between concurrent callers, and invalidate() runs it again", async () => {
        let now = Date.now();
        const provider = new ExecCredentialProvider({ now: () => now, expiryMarginMs: 10_000 });
        const config = await plugin(credential(`{ token: "tok-" + Date.now(), expirationTimestamp: new Date(${now} + ${HOUR}).toISOString() }`));
        const [a, b] = await Promise.all([provider.getCredential("kim", config), provider.getCredential("kim", config)]);
        assert.equal(runCount(), 1, "concurrent callers share one run");
        assert.equal(a, b);
        assert.equal(await provider.getCredential("kim", config), a, "cached");
        assert.equal(runCount(), 1);

        provider.invalidate();
        await provider.getCredential("kim", config);
        assert.equal(runCount(), 2, "invalidate() re-runs the plugin although the credential had not expired");

        now += HOUR - 5_000; // inside the margin before expiry
        await provider.getCredential("kim", config);
        assert.equal(runCount(), 3, "renewed before expiry");

        // The plugin now prints a credential that expires inside the margin: used, never cached.
        await provider.getCredential("kim", config);
        await provider.getCredential("kim", config);
        assert.equal(runCount(), 5);
    });

    it("keeps a credential without expirationTimestamp until invalidate(), per user", async () => {
        const provider = new ExecCredentialProvider();
        const config = await plugin(credential('{ token: "forever" }'));
        await provider.getCredential("lee", config);
        await provider.getCredential("lee", config);
        await provider.getCredential("max", config);
        assert.equal(runCount(), 2, "one run per user");
        provider.invalidate("lee");
        await provider.getCredential("lee", config);
        await provider.getCredential("max", config);
        assert.equal(runCount(), 3);
    });

    it("does not cache a failed run", async () => {
        const provider = new ExecCredentialProvider();
        const flag = path.join(tmp, "ok");
        const config = await plugin(
            `if (!require("node:fs").existsSync(${JSON.stringify(flag)})) { process.stderr.write("not logged in"); process.exit(1); }\n${credential('{ token: "t" }')}`,
        );
        await rejectsWith(provider.getCredential("mo", config), "exit");
        await fs.writeFile(flag, "1");
        assert.equal((await provider.getCredential("mo", config)).token, "t");
        assert.equal(runCount(), 2);
    });
});
