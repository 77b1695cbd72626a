// The pager's list recoveries, through the reencrypt-secrets CLI as a user runs it (compiled, its own
// process) against the Kubernetes API test server: a fault-injecting stand-in, because a real
// kube-apiserver cannot be made to hand out continue tokens without a resourceVersion.
import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildReencryptCli, parseSummary, startCli } from "../support/kubeReencryptCli";
import { KubeTestServer, startKubeServer } from "../support/kubeStandIn/index";

const VALUE = "20240101-010101";

describe("reencrypt/pager: list restarts", function () {
    this.timeout(180_000);
    let entry: string;
    let server: KubeTestServer;
    let tmp: string;

    before(async () => {
        entry = await buildReencryptCli();
    });
    beforeEach(async () => {
        server = await startKubeServer({ keyVersion: 1 });
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "pager-"));
    });
    afterEach(async () => {
        await server.close();
        await fs.rm(tmp, { recursive: true, force: true });
    });

    it("a restart after a 410 without a remainder begins a new list: tokens that repeat those of the first attempt do not stop the run", async () => {
        const secrets = 3000;
        server.seed(secrets, { namespaces: ["a", "b", "c", "d", "e"] });
        server.setKeyVersion(2);
        server.setFaults({
            positionOnlyContinueTokens: true,
            expireContinueAfterPages: 2,
            expiredContinueCarriesRemainder: false,
            throttleProbability: 0.02,
            retryAfterSeconds: 1,
            serverErrorProbability: 0.02,
            resetProbability: 0.005,
        });
        server.setChurn({ everyRequests: 100, edits: 1, deletes: 1, creates: 1 });
        const kubeconfig = server.writeKubeconfig(path.join(tmp, "kubeconfig"));
        const run = startCli(entry, [
            "--kubeconfig",
            kubeconfig,
            "--annotation-value",
            VALUE,
            "--output",
            "json",
            "--qps",
            "0",
            "--concurrency",
            "16",
            "--page-size",
            "500",
            "--state",
            path.join(tmp, "state.json"),
        ]);
        const result = await run.done;
        server.setChurn(undefined);

        const summary = parseSummary(result.stdout);
        assert.equal(result.code, 0, `exit 0 expected; stop reason: ${String(summary.stopReason)}; stderr:\n${result.stderr}`);
        assert.equal(summary.outcome, "verified");
        assert.doesNotMatch(result.stderr, /Warning/, "no runtime warnings (the concurrent requests' abort listeners are expected)");
        assert.equal(summary.listRestarts, 1, "the one 410 was met and the list restarted");
        assert.ok(server.stats().faultsInjected.throttled + server.stats().faultsInjected.serverErrors > 0, "faults were met around it");
        assert.deepEqual(server.secretsNotOnKeyVersion(2), [], "0 Secrets left on the old key version");
        assert.deepEqual(server.secretsWithChangedContents(), [], "no Secret's data changed");
        const writesPerSecret = server.stats().apiUpdates / server.stats().secrets;
        assert.ok(writesPerSecret <= 1.05, `each Secret written about once: ${writesPerSecret.toFixed(3)} writes per Secret`);
    });
});
