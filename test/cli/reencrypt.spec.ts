import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CliIO, ClientSource, EXIT_ERROR, EXIT_OK, EXIT_SECRETS_REMAIN, main, parseCliArgs } from "../../components/cli/reencrypt";
import { EXEC_TIMEOUT, NumberSetting, REENCRYPT_TUNING } from "../../components/config";
import { apiError, FakeSecretsClient } from "../support/fakeSecretsClient";
import { capture } from "../support/capture";
import { REPO_ROOT } from "../support/repo";

function run(argv: string[], fake?: FakeSecretsClient, extra: Partial<CliIO> = {}) {
    const stdout = capture();
    const stderr = capture();
    const sources: ClientSource[] = [];
    const io: CliIO = {
        stdout,
        stderr,
        env: {},
        createClient: fake
            ? (source) => {
                  sources.push(source);
                  return fake;
              }
            : undefined,
        ...extra,
    };
    return main(argv, io).then((code) => ({ code, stdout: stdout.text, stderr: stderr.text, sources }));
}

describe("reencrypt-secrets CLI", () => {
    describe("usage errors exit 2 with a clear message", () => {
        const cases: Array<[string[], RegExp]> = [
            [[], /--annotation-value is required/],
            [["--annotation-value", ""], /--annotation-value: annotation value is empty/],
            [["--annotation-value", "a\nb"], /control characters/],
            [["--annotation-value", "v", "--annotation-key", "Bad Key!"], /--annotation-key: annotation key name "Bad Key!"/],
            [["--annotation-value", "v", "--annotation-key", "UPPER.example/x"], /prefix "UPPER.example" must be a lowercase DNS subdomain/],
            [
                ["--annotation-value", "v", "--concurrency", "0"],
                /--concurrency: "0" must be a whole number from 1 to 1000 \(default 8\): Secret writes in flight at once/,
            ],
            [["--annotation-value", "v", "--concurrency", "eight"], /--concurrency: "eight" must be a whole number/],
            [["--annotation-value", "v", "--page-size", "-5"], /--page-size/],
            [["--annotation-value", "v", "--qps", "fast"], /--qps: "fast" must be 0 \(none\) or a number at least 0\.01 \(default 100\)/],
            [["--annotation-value", "v", "--qps", "0.000001"], /--qps: "0.000001" must be 0 \(none\) or a number at least 0\.01/],
            [["--annotation-value", "v", "--kubeconfig", ""], /--kubeconfig is empty/],
            [["--annotation-value", "v", "--context", ""], /--context is empty/],
            [["--annotation-value", "v", "--state", ""], /--state is empty/],
            [
                ["--annotation-value", "v", "--annotation-key", "kubectl.kubernetes.io/last-applied-configuration"],
                /prefix "kubectl\.kubernetes\.io" is reserved/,
            ],
            [["--annotation-value", "v", "--annotation-key", "kubernetes.io/service-account.name"], /prefix "kubernetes\.io" is reserved/],
            [["--annotation-value", "v", "--annotation-key", "k8s.io/x"], /prefix "k8s\.io" is reserved/],
            [["--annotation-value", "v", "--request-timeout", "0"], /--request-timeout: "0" must be a whole number from 1 to 600 seconds/],
            [["--annotation-value", "v", "--exec-timeout", "1e9"], /--exec-timeout: "1e9" must be a whole number from 1 to 3600 seconds/],
            [["--annotation-value", "v", "--error-budget", "-1"], /--error-budget/],
            [["--annotation-value", "v", "--output", "yaml"], /--output must be text or json, got "yaml"/],
            [["--annotation-value", "v", "--frobnicate"], /Unknown option '--frobnicate'/],
            [["--annotation-value", "v", "extra"], /positional/i],
        ];
        for (const [argv, message] of cases) {
            it(`${JSON.stringify(argv)}`, async () => {
                const fake = FakeSecretsClient.withSecrets(1);
                const result = await run(argv, fake);
                assert.equal(result.code, EXIT_ERROR);
                assert.match(result.stderr, message);
                assert.match(result.stderr, /--help/);
                assert.equal(fake.patchCalls + fake.listCalls.length, 0, "nothing touched the cluster");
            });
        }
    });

    it("--help prints usage and exits 0", async () => {
        const result = await run(["--help"]);
        assert.equal(result.code, EXIT_OK);
        assert.match(result.stdout, /Usage: reencrypt-secrets --annotation-value VALUE/);
        for (const flag of ["--kubeconfig", "--context", "--annotation-key", "--concurrency", "--qps", "--page-size", "--state", "--dry-run", "--output"]) {
            assert.match(result.stdout, new RegExp(flag));
        }
    });

    it("--help shows each tuning flag's default and limits from the settings model, with the CLI's own limits", async () => {
        const { stdout } = await run(["--help"]);
        for (const setting of [...Object.values(REENCRYPT_TUNING), EXEC_TIMEOUT] as NumberSetting[]) {
            const line = stdout.split("\n").find((l) => l.trimStart().startsWith(`${setting.flag} `));
            assert.ok(line, setting.flag);
            assert.ok(line.includes(setting.doc), `${setting.flag} documents itself: ${line}`);
            assert.ok(line.includes(`(default ${setting.default})`), `${setting.flag} shows its default: ${line}`);
            const limits = setting.cli ?? setting;
            if (limits.max < Number.MAX_SAFE_INTEGER)
                assert.ok(line.includes(`from ${limits.min} to ${limits.max}`), `${setting.flag} shows the CLI's limits: ${line}`);
        }
        assert.match(stdout, /--annotation-key KEY .*Default encryption-key-rotation-time/);
    });

    it("keeps the CLI's wider limits valid where the model records why (no user's flags break)", () => {
        const args = parseCliArgs(["--annotation-value", "v", "--concurrency", "1000", "--page-size", "10000", "--qps", "0.5"]);
        assert.deepEqual([args.concurrency, args.pageSize, args.qps], [1000, 10000, 0.5]);
        for (const setting of Object.values(REENCRYPT_TUNING) as NumberSetting[]) {
            if (setting.cli) assert.ok(setting.cli.why.length > 20, `${setting.flag} records why its CLI limits differ`);
        }
    });

    it("defaults: annotation key, concurrency 8, qps 100, page size 500, kubeconfig from $KUBECONFIG", () => {
        const args = parseCliArgs(["--annotation-value", "20220101-010101"], { KUBECONFIG: "/etc/kube/cfg" });
        assert.equal(args.annotationKey, "encryption-key-rotation-time");
        assert.equal(args.concurrency, 8);
        assert.equal(args.qps, 100);
        assert.equal(args.pageSize, 500);
        assert.equal(args.kubeconfigPath, "/etc/kube/cfg");
        assert.equal(parseCliArgs(["--annotation-value", "v", "--kubeconfig", "/x"], { KUBECONFIG: "/y" }).kubeconfigPath, "/x");
        assert.equal(parseCliArgs(["--annotation-value", "v", "--qps", "0"]).qps, 0);
    });

    it("passes kubeconfig and context to the client and exits 0 when everything is rewritten and verified", async () => {
        const fake = FakeSecretsClient.withSecrets(30);
        const result = await run(["--annotation-value", "20220101-010101", "--kubeconfig", "/k/config", "--context", "prod", "--qps", "0"], fake);
        assert.equal(result.code, EXIT_OK, result.stderr);
        assert.deepEqual(
            result.sources.map((source) => ({ ...source })),
            [{ kubeconfigPath: "/k/config", context: "prod", execTimeoutMs: 60_000, signal: undefined }],
        );
        assert.match(result.stderr, /writing to server https:\/\/fake-cluster\.invalid:6443, context fake, user fake-user \(cluster CA sha256:f{16}…\)/);
        assert.match(result.stdout, /^done \(encryption-key-rotation-time=20220101-010101\): 30 listed, 30 rewritten/);
        assert.equal(fake.carrying("encryption-key-rotation-time", "20220101-010101"), 30);
    });

    it("--output json prints exactly one summary object on stdout", async () => {
        const fake = FakeSecretsClient.withSecrets(12);
        const result = await run(["--annotation-value", "v1", "--output", "json", "--qps", "0", "--page-size", "5"], fake);
        assert.equal(result.code, EXIT_OK);
        const lines = result.stdout.trim().split("\n");
        assert.equal(lines.length, 1);
        const summary = JSON.parse(lines[0]);
        assert.equal(summary.rewritten, 12);
        assert.equal(summary.verified, true);
        assert.equal(summary.annotationValue, "v1");
    });

    it("warns when every Secret already carried the value, since then nothing was re-sealed", async () => {
        const fake = FakeSecretsClient.withSecrets(6);
        const first = await run(["--annotation-value", "v1", "--qps", "0"], fake);
        assert.doesNotMatch(first.stderr, /nothing was rewritten/);
        const again = await run(["--annotation-value", "v1", "--qps", "0"], fake);
        assert.equal(again.code, EXIT_OK);
        assert.match(again.stderr, /warning: every Secret already carried encryption-key-rotation-time=v1, so nothing was rewritten/);
    });

    it("exits 1 and lists the Secrets that remain", async () => {
        const fake = FakeSecretsClient.withSecrets(8, {
            patchFault: (ref) => (ref.name === "secret-000003" ? apiError(422, "Invalid", "admission webhook denied the request") : undefined),
        });
        const result = await run(["--annotation-value", "v1", "--qps", "0"], fake);
        assert.equal(result.code, EXIT_SECRETS_REMAIN);
        assert.match(result.stdout, /^incomplete/);
        assert.match(result.stdout, /1 Secret\(s\) still not rewritten after 3 verification round\(s\):\n {4}ns-0\/secret-000003: .*422 Invalid/);
        assert.match(result.stderr, /could not rewrite secret ns-0\/secret-000003/);
    });

    it("exits 2 on a permission error, and in json mode prints an error object", async () => {
        const fake = FakeSecretsClient.withSecrets(3, {
            listFault: () => apiError(403, "Forbidden", 'secrets is forbidden: User "x" cannot list resource "secrets"'),
        });
        const result = await run(["--annotation-value", "v1", "--output", "json"], fake);
        assert.equal(result.code, EXIT_ERROR);
        assert.match(result.stderr, /permission denied \(HTTP 403\) trying to list secrets in all namespaces/);
        assert.match(JSON.parse(result.stdout).error, /"list" and "patch" on "secrets"/);
    });

    it("exits 2 when the kubeconfig cannot be found", async () => {
        const result = await run(["--annotation-value", "v1", "--kubeconfig", "/definitely/not/here"]);
        assert.equal(result.code, EXIT_ERROR);
        assert.match(result.stderr, /kubeconfig \/definitely\/not\/here does not exist/);
    });

    it("dry run exits 0, writes nothing and prints the estimate", async () => {
        const fake = FakeSecretsClient.withSecrets(250);
        const result = await run(["--annotation-value", "v1", "--dry-run", "--qps", "50"], fake);
        assert.equal(result.code, EXIT_OK);
        assert.equal(fake.patchCalls, 0);
        assert.match(result.stdout, /250 would be rewritten/);
        assert.match(result.stdout, /KMS Encrypt calls: 250/);
        assert.match(result.stdout, /time at --qps 50: about 5s/);
    });

    it("prints progress on stderr for long runs only", async () => {
        let clock = 0;
        const fake = FakeSecretsClient.withSecrets(40);
        const slow = await run(["--annotation-value", "v1", "--qps", "0", "--page-size", "10"], fake, { now: () => (clock += 100) });
        assert.match(slow.stderr, /\[rewrite\] \d+\/40 secrets, \d+ rewritten, [\d.]+\/s, ETA \d+s/);
        const quick = await run(["--annotation-value", "v2", "--qps", "0"], FakeSecretsClient.withSecrets(40));
        assert.doesNotMatch(quick.stderr, /\[rewrite\]/);
    });

    it("the interrupted run exits 1 and says how to continue", async () => {
        const controller = new AbortController();
        const fake = FakeSecretsClient.withSecrets(20, { beforePatch: () => controller.abort() });
        const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "reencrypt-cli-"));
        try {
            const result = await run(["--annotation-value", "v1", "--qps", "0", "--state", path.join(tmp, "s.json")], fake, { signal: controller.signal });
            assert.equal(result.code, EXIT_SECRETS_REMAIN);
            assert.match(result.stdout, /^interrupted/);
            assert.match(result.stdout, /run again with the same --state/);
        } finally {
            await fs.rm(tmp, { recursive: true, force: true });
        }
    });

    it("the compiled entry point has the shebang, prints help, and exits 2 on a usage error", async function () {
        this.timeout(120_000);
        const root = REPO_ROOT;
        const outDir = await fs.mkdtemp(path.join(os.tmpdir(), "reencrypt-build-"));
        try {
            await execFileAsync(
                process.execPath,
                [path.join(root, "node_modules/typescript/bin/tsc"), "-p", path.join(root, "tsconfig.build.json"), "--outDir", outDir],
                root,
            );
            const entry = path.join(outDir, "components/cli/reencrypt.js");
            assert.match(await fs.readFile(entry, "utf8"), /^#!\/usr\/bin\/env -S node --max-semi-space-size=4\n/);
            const usage = await execFileAsync(process.execPath, [entry], root).catch((e: { code: number; stderr: string }) => e);
            assert.equal((usage as { code: number }).code, 2);
            assert.match((usage as { stderr: string }).stderr, /--annotation-value is required/);
            const help = await execFileAsync(process.execPath, [entry, "--help"], root);
            assert.match(help.stdout, /Usage: reencrypt-secrets/);
        } finally {
            await fs.rm(outDir, { recursive: true, force: true });
        }
    });
});

function execFileAsync(file: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        execFile(file, args, { cwd }, (error, stdout, stderr) => {
            if (error) reject(Object.assign(error, { stdout, stderr }));
            else resolve({ stdout, stderr });
        });
    });
}
