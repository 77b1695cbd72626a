// The guide's re-encryption pipeline against our reencrypt-secrets CLI, end to
// end on the Kubernetes API test server with the real kubectl and the compiled
// CLI: the pipeline leaves Secrets on the old key when a continue token expires
// (and without pipefail still exits 0); ours leaves none through the same
// faults, and survives being killed mid-run.

import * as assert from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeStandIn, startKubeStandIn } from "../support/kubeStandIn/index";
import { guidePipeline, HOSTILE_CHURN, HOSTILE_FAULTS } from "../support/guideConditions";
import { runShell } from "../support/kubeStandIn/request";
import { buildReencryptCli, parseSummary, startCli } from "../support/kubeReencryptCli";

const GUIDE_PIPELINE = guidePipeline("20260101-010101");
const NAMESPACES = ["default", "kube-system", "payments", "web"];
const SECRETS = 1200;
const OLD_KEY = 1;
const NEW_KEY = 2;

describe("the guide's kubectl pipeline vs reencrypt-secrets", function () {
    this.timeout(180_000);
    let server: KubeStandIn;
    let scratch: string;
    let kubeconfig: string;
    let cliEntry: string;

    before(async () => {
        cliEntry = await buildReencryptCli();
    });

    beforeEach(async () => {
        server = await startKubeStandIn({ randomSeed: 2024, keyVersion: OLD_KEY });
        server.seed(SECRETS, { namespaces: NAMESPACES, dataBytes: 200 });
        // KMS rotated the key: every write from now on seals with the new version.
        server.setKeyVersion(NEW_KEY);
        scratch = mkdtempSync(join(tmpdir(), "guide-pipeline-spec-"));
        kubeconfig = server.writeKubeconfig(join(scratch, "kubeconfig"));
    });

    afterEach(async () => {
        await server.close();
        rmSync(scratch, { recursive: true, force: true });
    });

    const cli = (args: string[]) =>
        startCli(cliEntry, ["--kubeconfig", kubeconfig, "--annotation-value", "20260101-010101", "--output", "json", ...args], { HOME: scratch });

    it("the guide's pipeline without pipefail exits 0 yet leaves Secrets on the old key when the continue token expires", async () => {
        server.setFaults({ expireContinueAfterPages: 1 });
        const result = await runShell(GUIDE_PIPELINE, { kubeconfig, home: scratch });
        assert.strictEqual(result.code, 0, "without pipefail the pipe reports success");
        assert.match(result.stderr, /Expired/);
        const left = server.secretsNotOnKeyVersion(NEW_KEY);
        // kubectl got one page of 500 before the token expired: the other 700 were never annotated.
        assert.strictEqual(left.length, SECRETS - 500);
        assert.strictEqual(server.stats().apiUpdates, 500);
    });

    it("with pipefail the pipeline fails, but the Secrets it skipped stay on the old key all the same", async () => {
        server.setFaults({ expireContinueAfterPages: 1 });
        const result = await runShell("set -o pipefail; " + GUIDE_PIPELINE, { kubeconfig, home: scratch });
        assert.notStrictEqual(result.code, 0);
        assert.strictEqual(server.secretsNotOnKeyVersion(NEW_KEY).length, SECRETS - 500);
    });

    it("through 429s, 5xx, resets, an expired continue token and churn, the guide's pipeline leaves Secrets behind", async () => {
        server.setFaults(HOSTILE_FAULTS);
        server.setChurn(HOSTILE_CHURN);
        const result = await runShell("set -o pipefail; " + GUIDE_PIPELINE, { kubeconfig, home: scratch });
        assert.notStrictEqual(result.code, 0);
        const left = server.secretsNotOnKeyVersion(NEW_KEY);
        assert.ok(left.length >= SECRETS / 4, `expected many Secrets left on the old key, got ${left.length}`);
    });

    it("through the same faults, reencrypt-secrets leaves none: 0 on the old key, 0 contents changed, <= 1.05 writes per Secret, exit 0", async () => {
        server.setFaults(HOSTILE_FAULTS);
        server.setChurn(HOSTILE_CHURN);
        const run = cli(["--concurrency", "8", "--qps", "0"]);
        const result = await run.done;
        assert.strictEqual(result.code, 0, `exit ${result.code}\nstderr:\n${result.stderr.slice(-3000)}`);
        const summary = parseSummary(result.stdout);
        assert.strictEqual(summary.remainingCount, 0);
        assert.strictEqual(summary.verified, true);

        assert.deepStrictEqual(server.secretsNotOnKeyVersion(NEW_KEY), []);
        assert.deepStrictEqual(server.secretsWithChangedContents(), []);
        const stats = server.stats();
        assert.ok(stats.apiUpdates / SECRETS <= 1.05, `${stats.apiUpdates} writes for ${SECRETS} Secrets`);
        assert.ok(stats.maxWritesPerSecret <= 2);
        // The run really was hostile.
        assert.strictEqual(stats.faultsInjected.expiredContinues, 1);
        assert.ok(stats.faultsInjected.throttled > 0 && stats.faultsInjected.serverErrors > 0 && stats.faultsInjected.resets > 0);
        assert.ok(stats.churnWrites > 0);
        // Churn deletes Secrets at random: check against one that is still there.
        const [namespace, name] = server.store.keyAt(0)!.split("/");
        const value = (server.store.get(namespace, name)?.data as Record<string, string>).value;
        assert.ok(value && !result.stdout.includes(value), "no Secret value in the output");
    });

    it("killed with SIGKILL mid-run and started again with the same state file, it completes with <= 1.05 writes per Secret", async () => {
        server.setLatency({ writeLatencyMs: 15 });
        server.setFaults({ throttleProbability: 0.01, serverErrorProbability: 0.01 });
        const state = join(scratch, "reencrypt-state.json");
        const first = cli(["--concurrency", "4", "--qps", "0", "--page-size", "100", "--state", state]);
        const killedAfter = await new Promise<number>((resolve, reject) => {
            const poll = setInterval(() => {
                const writes = server.stats().apiUpdates;
                if (writes >= SECRETS / 3) {
                    clearInterval(poll);
                    first.child.kill("SIGKILL");
                    resolve(writes);
                }
            }, 10);
            void first.done.then((result) => {
                clearInterval(poll);
                if (result.signal !== "SIGKILL")
                    reject(new Error(`the first run ended before it could be killed (exit ${result.code}): ${result.stderr.slice(-2000)}`));
            });
        });
        const killed = await first.done;
        assert.strictEqual(killed.signal, "SIGKILL");
        assert.ok(killedAfter < SECRETS, "killed mid-run");
        assert.ok(server.secretsNotOnKeyVersion(NEW_KEY).length > 0, "work remained after the kill");

        const second = await cli(["--concurrency", "4", "--qps", "0", "--page-size", "100", "--state", state]).done;
        assert.strictEqual(second.code, 0, `exit ${second.code}\nstderr:\n${second.stderr.slice(-3000)}`);
        const summary = parseSummary(second.stdout);
        assert.strictEqual(summary.resumed, true);
        assert.deepStrictEqual(server.secretsNotOnKeyVersion(NEW_KEY), []);
        assert.deepStrictEqual(server.secretsWithChangedContents(), []);
        const stats = server.stats();
        assert.ok(stats.apiUpdates / SECRETS <= 1.05, `${stats.apiUpdates} writes for ${SECRETS} Secrets`);
    });
});
