// The engine against the in-memory fake: every failure class, resume and verification (listing recoveries: ./pager.spec.ts).
import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KubernetesApiError, parseRetryAfter, PermissionDeniedError, ReencryptOptions, ReencryptProgress, reencryptSecrets } from "../../components/reencrypt";
import { classifyError } from "../../components/reencrypt/errors";
import { WriteRateLimiter } from "../../components/reencrypt/rateLimiter";
import { apiError, FakeSecretsClient, networkError } from "../support/fakeSecretsClient";

const KEY = "encryption-key-rotation-time";
const VALUE = "20240101-010101";

/** Fast retries so failure tests run in milliseconds; qps 0 unless a test is about the cap. */
function fastOptions(extra: Partial<ReencryptOptions> = {}): ReencryptOptions {
    return { annotationValue: VALUE, qps: 0, retryBaseDelayMs: 1, retryMaxDelayMs: 4, log: () => undefined, ...extra };
}

function writesPerSecret(fake: FakeSecretsClient): number[] {
    return [...fake.secrets.values()].map((s) => s.writes);
}

describe("reencrypt engine", () => {
    let tmp: string;
    beforeEach(async () => {
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "reencrypt-spec-"));
    });
    afterEach(async () => {
        await fs.rm(tmp, { recursive: true, force: true });
    });

    describe("classifyError", () => {
        const cases: Array<[unknown, string]> = [
            [apiError(401), "unauthorized"],
            [apiError(403), "forbidden"],
            [apiError(404), "gone"],
            [apiError(409), "conflict"],
            [apiError(410, "Expired"), "expired"],
            [apiError(429), "retryable"],
            [apiError(500), "retryable"],
            [apiError(503), "retryable"],
            [apiError(504), "retryable"],
            [apiError(501), "fatal"],
            [apiError(422, "Invalid"), "fatal"],
            [apiError(400), "fatal"],
            [networkError("ECONNRESET"), "retryable"],
            [networkError("ETIMEDOUT"), "retryable"],
            [networkError("ECONNREFUSED"), "retryable"],
            [networkError("DEPTH_ZERO_SELF_SIGNED_CERT"), "fatal"],
            [{ code: 429 }, "retryable"], // @kubernetes/client-node's ApiException keeps the status in `code`
            [new Error("plain"), "fatal"],
            ["a string", "fatal"],
        ];
        for (const [err, expected] of cases) {
            it(`classifies ${err instanceof Error ? err.message : JSON.stringify(err)} as ${expected}`, () => {
                assert.equal(classifyError(err), expected);
            });
        }

        it("parses Retry-After as seconds or an HTTP date", () => {
            assert.equal(parseRetryAfter("3"), 3);
            assert.equal(parseRetryAfter(undefined), undefined);
            assert.equal(parseRetryAfter("soon"), undefined);
            const now = Date.parse("2024-01-01T00:00:00Z");
            assert.equal(parseRetryAfter("Mon, 01 Jan 2024 00:00:05 GMT", now), 5);
        });
    });

    it("rewrites every Secret lacking the value once, skips those carrying it, and verifies", async () => {
        const fake = FakeSecretsClient.withSecrets(1234);
        fake.get("ns-1", "secret-000001").annotations[KEY] = VALUE;
        fake.get("ns-2", "secret-000002").annotations[KEY] = "an-older-rotation";
        const summary = await reencryptSecrets(fake, fastOptions());
        assert.equal(summary.listed, 1234);
        assert.equal(summary.alreadyCurrent, 1);
        assert.equal(summary.rewritten, 1233);
        assert.equal(summary.writes, 1233);
        assert.equal(summary.kmsEncryptCalls, 1233);
        assert.equal(summary.verified, true);
        assert.equal(summary.remainingCount, 0);
        assert.equal(fake.carrying(KEY, VALUE), 1234);
        assert.deepEqual(fake.get("ns-1", "secret-000001").writes, 0);
        assert.ok(writesPerSecret(fake).every((w) => w <= 1));
        // Pages of the default 500, then one verification list of 3 pages.
        assert.deepEqual(
            fake.listCalls.map((c) => c.limit),
            [500, 500, 500, 500, 500, 500],
        );
        assert.equal(fake.listCalls[0].continueToken, undefined);
        assert.ok(fake.listCalls[1].continueToken);
    });

    it("retries 429 honouring Retry-After and slows the shared rate down", async () => {
        const delays: number[] = [];
        let throttledOnce = false;
        const fake = FakeSecretsClient.withSecrets(20, {
            patchFault: (_ref, i) => {
                if (i === 3 && !throttledOnce) {
                    throttledOnce = true;
                    return apiError(429, undefined, "Too many requests, please try again later.", { retryAfterSeconds: 2 });
                }
                return undefined;
            },
        });
        const summary = await reencryptSecrets(fake, fastOptions({ sleep: async (ms) => void delays.push(ms) }));
        assert.equal(summary.throttled, 1);
        assert.equal(summary.rewritten, 20);
        assert.equal(summary.writes, 21);
        assert.ok(delays.includes(2000), `expected a 2000 ms wait for Retry-After: 2, saw ${delays.join(",")}`);
        assert.equal(summary.verified, true);
    });

    it("retries 5xx, timeouts and connection resets with backoff, then succeeds", async () => {
        const failures = [apiError(500), apiError(503), networkError("ECONNRESET"), networkError("ETIMEDOUT"), apiError(502)];
        const fake = FakeSecretsClient.withSecrets(10, { patchFault: (_ref, i) => (i < failures.length ? failures[i] : undefined) });
        const summary = await reencryptSecrets(fake, fastOptions({ concurrency: 1 }));
        assert.equal(summary.retries, 5);
        assert.equal(summary.rewritten, 10);
        assert.equal(summary.failedCount, 0);
        assert.equal(summary.writes, 15);
        assert.ok(writesPerSecret(fake).every((w) => w === 1));
    });

    it("gives up on a Secret after maxAttempts retryable failures, records it, and goes on", async () => {
        const fake = FakeSecretsClient.withSecrets(5, { patchFault: (ref) => (ref.name === "secret-000002" ? apiError(503) : undefined) });
        const summary = await reencryptSecrets(fake, fastOptions({ maxAttempts: 3, verifyRounds: 1 }));
        assert.equal(summary.rewritten, 4);
        assert.equal(summary.failedCount, 1);
        assert.equal(summary.failed[0].name, "secret-000002");
        assert.match(summary.failed[0].reason, /gave up after 3 attempts.*503/);
        assert.equal(summary.verified, false);
        assert.deepEqual(
            summary.remaining.map((r) => `${r.namespace}/${r.name}`),
            ["ns-2/secret-000002"],
        );
    });

    it("records a 403 or 422 on a write for that Secret with the server's reason and goes on; only a denied list is fatal", async () => {
        const denied = FakeSecretsClient.withSecrets(30, {
            patchFault: (ref) =>
                ref.namespace === "ns-1"
                    ? apiError(403, "Forbidden", 'admission webhook "deny.example.com" denied the request: frozen namespace')
                    : ref.name === "secret-000002"
                      ? apiError(422, "Invalid", "metadata.annotations: Invalid value")
                      : undefined,
        });
        const summary = await reencryptSecrets(denied, fastOptions({ pageSize: 7 }));
        assert.equal(summary.outcome, "secretsRemain");
        assert.equal(summary.rewritten, 19, "every Secret outside ns-1 but secret-000002 was written");
        assert.equal(summary.failedCount, 11);
        assert.ok(summary.failed.some((f) => f.namespace === "ns-1" && /denied \(HTTP 403\).*deny\.example\.com/.test(f.reason)));
        assert.ok(summary.failed.some((f) => f.name === "secret-000002" && /422/.test(f.reason)));
        assert.equal(summary.remainingCount, 11, "verification names them");
        assert.equal(denied.carrying(KEY, VALUE), 19);

        const cannotList = FakeSecretsClient.withSecrets(3, { listFault: () => apiError(403, "Forbidden") });
        await assert.rejects(reencryptSecrets(cannotList, fastOptions()), (err: unknown) => {
            assert.ok(err instanceof PermissionDeniedError);
            assert.match(err.message, /403.*list secrets in all namespaces/);
            assert.match(err.message, /"list" and "patch" on "secrets" in all namespaces/);
            return true;
        });
        assert.equal(cannotList.patchCalls, 0);

        const badToken = FakeSecretsClient.withSecrets(3, { listFault: () => apiError(401, "Unauthorized") });
        await assert.rejects(reencryptSecrets(badToken, fastOptions()), /rejected the credentials \(HTTP 401\).*token or client certificate/);
    });

    it("a 401 mid-run renews the credentials once and goes on; a 401 again right after the renewal stops the run with a checkpoint", async () => {
        const statePath = path.join(tmp, "state.json");
        let expired = false;
        const renewing = FakeSecretsClient.withSecrets(40, {
            renew: async () => void (expired = false),
            patchFault: (ref, i) => {
                if (i === 12) expired = true; // the token expires mid-run
                return expired ? apiError(401, "Unauthorized") : undefined;
            },
        });
        const summary = await reencryptSecrets(renewing, fastOptions({ pageSize: 10, statePath, concurrency: 1 }));
        assert.equal(summary.outcome, "verified");
        assert.equal(renewing.renewals, 1);
        assert.equal(renewing.carrying(KEY, VALUE), 40);

        const revoked = FakeSecretsClient.withSecrets(40, {
            renew: async () => undefined,
            patchFault: (ref, i) => (i >= 15 ? apiError(401, "Unauthorized") : undefined),
        });
        const logs: string[] = [];
        const stopped = await reencryptSecrets(revoked, fastOptions({ pageSize: 10, statePath, concurrency: 1, log: (l) => logs.push(l) }));
        assert.equal(stopped.outcome, "stopped");
        assert.equal(revoked.renewals, 1, "renewed once, not once per request");
        assert.match(stopped.stopReason ?? "", /HTTP 401.*rejected again right after the credentials were renewed/);
        assert.equal(revoked.carrying(KEY, VALUE), 15);
        const saved = JSON.parse(await fs.readFile(statePath, "utf8"));
        assert.equal(saved.totals.rewritten, 15, "the checkpoint holds what this run did");
        assert.ok(saved.continueToken, "and resumes after the last completed page");
        assert.ok(revoked.patchCalls <= 17, `stopped promptly: ${revoked.patchCalls} patch calls`);
    });

    it("counts 404 as gone and 409 as written by someone else, confirmed in verification without another write", async () => {
        const fake = FakeSecretsClient.withSecrets(10, {
            beforePatch: (ref, f) => {
                if (ref.name === "secret-000003") f.delete(ref.namespace, ref.name);
                if (ref.name === "secret-000004" && f.get(ref.namespace, ref.name).writes === 0) f.touch(ref.namespace, ref.name);
            },
        });
        const summary = await reencryptSecrets(fake, fastOptions());
        assert.equal(summary.gone, 1);
        assert.equal(summary.conflicts, 1);
        assert.equal(summary.rewritten, 8);
        assert.equal(summary.verified, true);
        assert.equal(summary.verification.confirmedByLaterWrite, 1);
        assert.equal(summary.verification.leftoversRewritten, 0);
        assert.equal(fake.get("ns-1", "secret-000004").writes, 1, "only the other writer's write");
    });

    it("rewrites a conflicted Secret again in verification when resourceVersions are not comparable integers", async () => {
        const inner = FakeSecretsClient.withSecrets(4, {
            beforePatch: (ref, f) => {
                if (ref.name === "secret-000001" && f.get(ref.namespace, ref.name).writes === 0) f.touch(ref.namespace, ref.name);
            },
        });
        const opaque = {
            listPage: async (req: { limit: number; continueToken?: string }) => {
                const page = await inner.listPage(req);
                return {
                    ...page,
                    resourceVersion: `rv-${page.resourceVersion}`,
                    items: page.items.map((i) => ({ ...i, resourceVersion: `rv-${i.resourceVersion}` })),
                };
            },
            patchAnnotation: (ref: { namespace: string; name: string; resourceVersion: string }, k: string, v: string) =>
                inner.patchAnnotation({ ...ref, resourceVersion: ref.resourceVersion.replace(/^rv-/, "") }, k, v),
        };
        const summary = await reencryptSecrets(opaque, fastOptions());
        assert.equal(summary.conflicts, 1);
        assert.equal(summary.verification.leftoversRewritten, 1);
        assert.equal(summary.verified, true);
        assert.equal(inner.carrying(KEY, VALUE), 4);
    });

    it("retries a list page on 5xx and reports a list that keeps failing as an error", async () => {
        const flaky = FakeSecretsClient.withSecrets(12, { listFault: (_c, i) => (i === 1 ? apiError(500) : undefined) });
        const summary = await reencryptSecrets(flaky, fastOptions({ pageSize: 5 }));
        assert.equal(summary.rewritten, 12);
        const down = FakeSecretsClient.withSecrets(3, { listFault: () => networkError("ECONNREFUSED") });
        await assert.rejects(reencryptSecrets(down, fastOptions({ maxAttempts: 3 })), /listing secrets failed after 3 attempts: .*ECONNREFUSED/);
    });

    it("records other errors per Secret and goes on; verification reports what remains by name", async () => {
        const fake = FakeSecretsClient.withSecrets(6, {
            patchFault: (ref) => (ref.name === "secret-000005" ? apiError(422, "Invalid", "metadata.annotations: Invalid value") : undefined),
        });
        const summary = await reencryptSecrets(fake, fastOptions({ verifyRounds: 2 }));
        assert.equal(summary.rewritten, 5);
        assert.equal(summary.failedCount, 1);
        assert.match(summary.failed[0].reason, /422 Invalid/);
        assert.equal(summary.verified, false);
        assert.equal(summary.verification.rounds, 2);
        assert.equal(summary.remainingCount, 1);
        assert.deepEqual(summary.remaining[0].name, "secret-000005");
        assert.match(summary.remaining[0].reason ?? "", /422/);
    });

    it("verification rewrites leftovers whose earlier write failed", async () => {
        let failuresLeft = 3;
        const fake = FakeSecretsClient.withSecrets(5, {
            patchFault: (ref) => (ref.name === "secret-000001" && failuresLeft-- > 0 ? apiError(500) : undefined),
        });
        const summary = await reencryptSecrets(fake, fastOptions({ maxAttempts: 3 }));
        assert.equal(summary.failedCount, 1, "failed during the rewrite pass");
        assert.equal(summary.verification.leftoversRewritten, 1);
        assert.equal(summary.verified, true);
        assert.equal(summary.remainingCount, 0);
        assert.equal(fake.carrying(KEY, VALUE), 5);
    });

    it("keeps bookkeeping bounded: names capped, everything counted", async () => {
        const fake = FakeSecretsClient.withSecrets(300, { patchFault: () => apiError(422, "Invalid") });
        const summary = await reencryptSecrets(fake, fastOptions({ maxNamesReported: 10, verifyRounds: 1 }));
        assert.equal(summary.failedCount, 300);
        assert.equal(summary.failed.length, 10);
        assert.equal(summary.remainingCount, 300);
        assert.equal(summary.remaining.length, 10);
    });

    it("bounds the writes in flight by the concurrency", async () => {
        const fake = FakeSecretsClient.withSecrets(60, { patchLatencyMs: 5 });
        await reencryptSecrets(fake, fastOptions({ concurrency: 4 }));
        assert.ok(fake.maxInFlight <= 4, `max in flight ${fake.maxInFlight}`);
        assert.ok(fake.maxInFlight >= 2, `writes ran concurrently (max in flight ${fake.maxInFlight})`);
    });

    it("keeps writes under the rate cap (loose functional bound)", async () => {
        const fake = FakeSecretsClient.withSecrets(40);
        const started = Date.now();
        const summary = await reencryptSecrets(fake, fastOptions({ qps: 50, concurrency: 8 }));
        const times = fake.patchStartTimes;
        const spanSeconds = (times[times.length - 1] - times[0]) / 1000;
        assert.equal(summary.rewritten, 40);
        // 40 writes at 50/s need at least ~0.76 s (a burst of two slots allowed); generous on a loaded machine.
        assert.ok(spanSeconds >= 0.6, `40 writes spread over ${spanSeconds}s`);
        assert.ok(Date.now() - started < 20_000);
    });

    describe("WriteRateLimiter", () => {
        function fakeClock() {
            const clock = { t: 0, slept: [] as number[], now: () => clock.t, sleep: async (ms: number) => void (clock.slept.push(ms), (clock.t += ms)) };
            return clock;
        }

        it("spaces writes 1/rate apart", async () => {
            const clock = fakeClock();
            const limiter = new WriteRateLimiter(10, clock);
            for (let i = 0; i < 11; i++) await limiter.acquire();
            assert.ok(clock.t >= 900 && clock.t <= 1000, `11 acquisitions at 10/s took ${clock.t} ms of clock time`);
        });

        it("halves the rate on 429 (once per second) and recovers to the cap", () => {
            const clock = fakeClock();
            const limiter = new WriteRateLimiter(100, clock);
            limiter.onThrottled();
            assert.equal(limiter.currentRate(), 50);
            limiter.onThrottled(); // same burst: not halved again
            assert.equal(limiter.currentRate(), 50);
            clock.t += 1500;
            limiter.onThrottled();
            assert.ok(limiter.currentRate() < 50);
            clock.t += 20_000;
            assert.equal(limiter.currentRate(), 100);
        });

        it("never waits without a cap, 429s or not", async () => {
            const clock = fakeClock();
            const limiter = new WriteRateLimiter(0, clock);
            limiter.onThrottled();
            for (let i = 0; i < 100; i++) await limiter.acquire();
            assert.deepEqual(clock.slept, []);
            assert.equal(limiter.currentRate(), Infinity);
        });
    });

    describe("resume", () => {
        it("saves the checkpoint atomically after each page and continues a killed run from it without rewriting", async () => {
            const statePath = path.join(tmp, "state.json");
            const fake = FakeSecretsClient.withSecrets(50);
            const controller = new AbortController();
            // "Kill" the first run partway through its third page.
            const first = await reencryptSecrets(
                fake,
                fastOptions({
                    pageSize: 10,
                    statePath,
                    signal: controller.signal,
                    concurrency: 1,
                    onProgress: (p) => {
                        if (p.done === 25) controller.abort();
                    },
                    progressIntervalMs: 0,
                }),
            );
            assert.equal(first.aborted, true);
            assert.equal(first.verified, false);
            const saved = JSON.parse(await fs.readFile(statePath, "utf8"));
            assert.equal(saved.annotationValue, VALUE);
            assert.equal(saved.totals.rewritten, 25, "the totals count every write of the run, the interrupted page's too");
            assert.ok(saved.continueToken, "the token points after the last completed page");
            assert.deepEqual((await fs.readdir(tmp)).sort(), ["state.json"], "no temporary or lock files left behind");

            const callsBefore = fake.listCalls.length;
            const second = await reencryptSecrets(fake, fastOptions({ pageSize: 10, statePath }));
            assert.equal(second.resumed, true);
            assert.equal(fake.listCalls[callsBefore].continueToken, saved.continueToken, "listing resumes from the saved token");
            assert.equal(second.verified, true);
            assert.equal(fake.carrying(KEY, VALUE), 50);
            assert.ok(
                writesPerSecret(fake).every((w) => w === 1),
                "no Secret written twice across the two runs",
            );
            // Honest counts: this run's own (it re-lists the interrupted page and finds its 5 written Secrets
            // current), and the earlier run's separately; together every Secret is counted once.
            assert.equal(second.listed, 30);
            assert.equal(second.rewritten, 25);
            assert.equal(second.alreadyCurrent, 5);
            assert.equal(second.earlierRuns?.rewritten, 25);
            assert.equal(second.rewritten + (second.earlierRuns?.rewritten ?? 0), 50);
        });

        it("refuses a state file of a different value, leaves it as it is, and removes its own checkpoint once verified", async () => {
            const statePath = path.join(tmp, "state.json");
            const fake = FakeSecretsClient.withSecrets(30);
            const controller = new AbortController();
            const stopped = await reencryptSecrets(
                fake,
                fastOptions({
                    pageSize: 10,
                    statePath,
                    annotationValue: "first-value",
                    signal: controller.signal,
                    concurrency: 1,
                    progressIntervalMs: 0,
                    onProgress: (p) => p.done === 15 && controller.abort(),
                }),
            );
            assert.equal(stopped.outcome, "interrupted");
            const before = await fs.readFile(statePath, "utf8");
            const patchesBefore = fake.patchCalls;
            await assert.rejects(
                reencryptSecrets(fake, fastOptions({ pageSize: 10, statePath, annotationValue: "second-value" })),
                (err: Error) => err.name === "CheckpointError" && /belongs to a run writing .*first-value.*this run writes .*second-value/.test(err.message),
            );
            assert.equal(fake.patchCalls, patchesBefore, "nothing written");
            assert.equal(await fs.readFile(statePath, "utf8"), before, "the other run's checkpoint is left as it was");
            const finished = await reencryptSecrets(fake, fastOptions({ pageSize: 10, statePath, annotationValue: "first-value" }));
            assert.equal(finished.outcome, "verified");
            await assert.rejects(fs.stat(statePath), /ENOENT/, "the engine removes its checkpoint once every Secret is confirmed");
        });

        it("goes straight to verification when the checkpoint says the rewrite pass finished", async () => {
            const statePath = path.join(tmp, "state.json");
            const fake = FakeSecretsClient.withSecrets(20);
            // Stop as verification starts: the checkpoint then says the rewrite pass finished.
            const controller = new AbortController();
            const first = await reencryptSecrets(
                fake,
                fastOptions({
                    pageSize: 10,
                    statePath,
                    signal: controller.signal,
                    progressIntervalMs: 0,
                    onProgress: (p) => p.phase === "verify" && controller.abort(),
                }),
            );
            assert.equal(first.outcome, "interrupted");
            assert.equal(JSON.parse(await fs.readFile(statePath, "utf8")).rewritePassComplete, true);
            const patchesBefore = fake.patchCalls;
            const again = await reencryptSecrets(fake, fastOptions({ pageSize: 10, statePath }));
            assert.equal(again.resumed, true);
            assert.equal(again.verified, true);
            assert.equal(fake.patchCalls, patchesBefore, "nothing written again");
        });
    });

    it("dry run writes nothing and estimates writes, KMS calls and time at the rate cap", async () => {
        const statePath = path.join(tmp, "state.json");
        const fake = FakeSecretsClient.withSecrets(30);
        fake.get("ns-0", "secret-000000").annotations[KEY] = VALUE;
        const summary = await reencryptSecrets(fake, fastOptions({ dryRun: true, qps: 20, statePath }));
        assert.equal(fake.patchCalls, 0);
        assert.equal(summary.dryRun, true);
        assert.equal(summary.wouldRewrite, 29);
        assert.equal(summary.estimatedKmsEncryptCalls, 29);
        assert.equal(summary.estimatedSecondsAtRateCap, 29 / 20);
        assert.equal(summary.verified, false);
        await assert.rejects(fs.access(statePath), "no state file in a dry run");
    });

    it("reports progress with done, total estimate, rate and ETA, throttled by the interval", async () => {
        let clock = 0;
        const reports: ReencryptProgress[] = [];
        const fake = FakeSecretsClient.withSecrets(100);
        await reencryptSecrets(
            fake,
            fastOptions({
                pageSize: 25,
                now: () => (clock += 10), // every reading advances 10 ms
                progressIntervalMs: 500,
                onProgress: (p) => reports.push(p),
            }),
        );
        const rewrite = reports.filter((p) => p.phase === "rewrite");
        assert.ok(rewrite.length >= 2, `several rewrite reports, saw ${rewrite.length}`);
        assert.ok(rewrite.length < 100, "throttled, not one per Secret");
        const mid = rewrite[0];
        assert.equal(mid.totalEstimate, 100, "listed so far + remainingItemCount");
        assert.ok(mid.ratePerSecond > 0);
        assert.ok(mid.etaSeconds !== undefined && mid.etaSeconds > 0);
        const last = rewrite[rewrite.length - 1];
        assert.equal(last.done, 100);
        assert.equal(last.etaSeconds, 0);
        assert.ok(reports.some((p) => p.phase === "verify"));
    });

    it("rejects bad options with every problem named", async () => {
        await assert.rejects(
            reencryptSecrets(new FakeSecretsClient(), { annotationValue: "", annotationKey: "bad key", concurrency: 0 }),
            (err: Error) =>
                /annotation key name "bad key"/.test(err.message) && /annotation value is empty/.test(err.message) && /concurrency/.test(err.message),
        );
    });

    it("never puts anything but Status text into errors it reports", () => {
        const err = new KubernetesApiError({ status: 429, operation: "patch secret a/b", message: "Too many requests, please try again later." });
        assert.equal(err.message, "patch secret a/b failed with HTTP 429: Too many requests, please try again later.");
    });
});
