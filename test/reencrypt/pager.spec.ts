// The pager's list recoveries (expired continue tokens, restarts, repeated tokens), in two layers:
// the engine against the in-memory fake, and the reencrypt-secrets CLI as a user runs it (compiled,
// its own process) against the Kubernetes API stand-in. The stand-in, not a real kube-apiserver,
// because a real one cannot be made to expire a token on cue nor to hand out position-only tokens.
import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ReencryptOptions, reencryptSecrets } from "../../components/reencrypt";
import { apiError, FakeSecretsClient } from "../support/fakeSecretsClient";
import { buildReencryptCli, parseSummary, startCli } from "../support/kubeReencryptCli";
import { KubeStandIn, startKubeStandIn } from "../support/kubeStandIn";

const VALUE = "20240101-010101";

function fastOptions(extra: Partial<ReencryptOptions> = {}): ReencryptOptions {
    return { annotationValue: VALUE, qps: 0, retryBaseDelayMs: 1, retryMaxDelayMs: 4, log: () => undefined, ...extra };
}

function writesPerSecret(fake: FakeSecretsClient): number[] {
    return [...fake.secrets.values()].map((s) => s.writes);
}

describe("reencrypt/pager: expired continue tokens (engine, in-memory fake)", () => {
    it("continues with the remainder token when a continue token expires (410)", async () => {
        const logs: string[] = [];
        const fake = FakeSecretsClient.withSecrets(25, {
            listFault: (call, i) => (i === 2 ? apiError(410, "Expired", "too old", { continueToken: call.continueToken }) : undefined),
        });
        const summary = await reencryptSecrets(fake, fastOptions({ pageSize: 10, log: (l) => logs.push(l) }));
        assert.equal(summary.rewritten, 25);
        assert.equal(summary.listRestarts, 1, "every 410 counts towards the cap, remainder or not");
        assert.equal(summary.verified, true);
        assert.ok(logs.some((l) => /remainder token/.test(l)));
        assert.ok(writesPerSecret(fake).every((w) => w === 1));
    });

    it("restarts the list when a continue token expires without remainder, skipping what is done", async () => {
        const fake = FakeSecretsClient.withSecrets(25, {
            listFault: (_call, i) => (i === 2 ? apiError(410, "Expired", "too old") : undefined),
        });
        const summary = await reencryptSecrets(fake, fastOptions({ pageSize: 10 }));
        assert.equal(summary.listRestarts, 1);
        assert.equal(summary.rewritten, 25);
        assert.equal(summary.alreadyCurrent, 20, "the 20 from the first two pages are listed again and skipped");
        assert.equal(summary.verified, true);
        assert.ok(writesPerSecret(fake).every((w) => w === 1));
    });
});

describe("reencrypt/pager: list restarts through the CLI (Kubernetes API stand-in)", function () {
    this.timeout(180_000);
    let entry: string;
    let server: KubeStandIn;
    let tmp: string;

    before(async () => {
        entry = await buildReencryptCli();
    });
    beforeEach(async () => {
        server = await startKubeStandIn({ keyVersion: 1 });
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "pager-"));
    });
    afterEach(async () => {
        await server.close();
        await fs.rm(tmp, { recursive: true, force: true });
    });

    const tokenKinds = [
        // Tokens that carry the list's resourceVersion and issue time (as kube-apiserver's do).
        { kind: "tokens with a resourceVersion", positionOnlyContinueTokens: false },
        // Opaque tokens that name only a position: the restarted list hands out the first attempt's tokens again.
        { kind: "position-only tokens", positionOnlyContinueTokens: true },
    ];
    for (const { kind, positionOnlyContinueTokens } of tokenKinds) {
        it(`${kind}: through 429s, 5xx, resets, churn and a 410 without a remainder, the restarted list finishes: 0 left, each Secret written about once`, async () => {
            await restartedRunFinishes(positionOnlyContinueTokens);
        });
    }

    async function restartedRunFinishes(positionOnlyContinueTokens: boolean): Promise<void> {
        const secrets = 3000;
        server.seed(secrets, { namespaces: ["a", "b", "c", "d", "e"] });
        server.setKeyVersion(2);
        server.setFaults({
            positionOnlyContinueTokens,
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
    }
});
