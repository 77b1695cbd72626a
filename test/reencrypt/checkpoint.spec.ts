// A re-encryption run you can trust: each measured defect, through the CLI's
// main() (exit code, stdout, stderr) with what reached the cluster (the in-memory fake)
// and the disk (the state directory). EROFS and ENOSPC come from an injected file-system
// layer: the suite runs as root, where chmod proves nothing.
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile, spawnSync } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CliIO, EXIT_ERROR, EXIT_OK, EXIT_SECRETS_REMAIN, main } from "../../components/cli/reencrypt";
import { Checkpoint, CheckpointFileSystem, ClusterTarget } from "../../components/reencrypt";
import { nodeFileSystem } from "../../components/reencrypt/checkpoint";
import { apiError, FAKE_TARGET, FakeSecretsClient } from "../support/fakeSecretsClient";
import { startMisbehavingKubeApi } from "../support/misbehavingKubeApi/server";
import { startKubeStandIn } from "../support/kubeStandIn/index";
import { REPO_ROOT } from "../support/kubeReencryptCli";
import { capture } from "../support/capture";

const VALUE = "20240101-010101";
const KEY = "encryption-key-rotation-time";
const OTHER_CLUSTER: ClusterTarget = { server: "https://other.invalid:6443", caFingerprint: "a".repeat(64), context: "other", user: "admin" };

async function cli(argv: string[], fake: FakeSecretsClient, extra: Partial<CliIO> = {}) {
    const stdout = capture();
    const stderr = capture();
    const code = await main(["--annotation-value", VALUE, "--qps", "0", "--page-size", "10", ...argv], {
        stdout,
        stderr,
        env: {},
        createClient: () => fake,
        ...extra,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A file system that fails one kind of operation with an errno code, as a read-only or full disk would. */
function failing(
    code: "EROFS" | "ENOSPC",
    when: (op: "open" | "write", file: string, count: number) => boolean,
): CheckpointFileSystem & { opens: Array<{ file: string; flags: number }> } {
    let writes = 0;
    let opens = 0;
    const errno = (syscall: string) => Object.assign(new Error(`${code}: ${syscall}`), { code, syscall });
    const record: Array<{ file: string; flags: number }> = [];
    return {
        opens: record,
        lstat: (p) => nodeFileSystem.lstat(p),
        readFile: (p, e) => nodeFileSystem.readFile(p, e),
        rename: (a, b) => nodeFileSystem.rename(a, b),
        unlink: (p) => nodeFileSystem.unlink(p),
        async open(file, flags, mode) {
            record.push({ file, flags });
            if (when("open", file, ++opens)) throw errno("open");
            const handle = await nodeFileSystem.open(file, flags, mode);
            return {
                async writeFile(data, enc) {
                    if (when("write", file, ++writes)) {
                        await handle.writeFile(data.slice(0, 7), enc); // a short write, then the disk is full
                        throw errno("write");
                    }
                    await handle.writeFile(data, enc);
                },
                sync: () => handle.sync(),
                close: () => handle.close(),
            };
        },
    };
}

/** Runs the CLI until `stopAfter` Secrets were handled, then interrupts it: a checkpoint is left behind. */
async function interruptedRun(fake: FakeSecretsClient, statePath: string, stopAfter: number) {
    const controller = new AbortController();
    let seen = 0;
    const original = fake.patchAnnotation.bind(fake);
    fake.patchAnnotation = async (...args) => {
        if (++seen === stopAfter) controller.abort();
        return original(...args);
    };
    const result = await cli(["--state", statePath, "--concurrency", "1"], fake, { signal: controller.signal });
    fake.patchAnnotation = original;
    return result;
}

describe("reencrypt/checkpoint: a run you can trust", function () {
    this.timeout(30_000);
    let tmp: string;
    let statePath: string;
    beforeEach(async () => {
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "trust-"));
        statePath = path.join(tmp, "state.json");
    });
    afterEach(async () => {
        await fs.rm(tmp, { recursive: true, force: true });
    });

    describe("1. a checkpoint belongs to one cluster, key and value", () => {
        it("refuses, exit 2, a checkpoint made against another cluster: nothing written there, the file untouched (dry run too)", async () => {
            const first = FakeSecretsClient.withSecrets(30);
            const interrupted = await interruptedRun(first, statePath, 5);
            assert.equal(interrupted.code, EXIT_SECRETS_REMAIN);
            const saved = await fs.readFile(statePath, "utf8");
            assert.equal(JSON.parse(saved).cluster.caFingerprint, FAKE_TARGET.caFingerprint);

            for (const extra of [[], ["--dry-run"]]) {
                const other = FakeSecretsClient.withSecrets(3000, { target: OTHER_CLUSTER });
                const result = await cli(["--state", statePath, "--output", "json", ...extra], other);
                assert.equal(result.code, EXIT_ERROR, result.stderr);
                assert.match(
                    result.stderr,
                    new RegExp(`state file ${statePath} belongs to the cluster with CA sha256:f{16}… .*this run talks to the cluster with CA sha256:a{16}…`),
                );
                assert.match(result.stderr, /check which cluster the kubeconfig and context point at, or use another state file/);
                assert.equal(JSON.parse(result.stdout).exitCode, EXIT_ERROR, "one JSON object on stdout");
                assert.equal(other.patchCalls, 0, "nothing written to the other cluster");
                assert.equal(other.listCalls.length, 0, "not even listed");
                assert.equal(await fs.readFile(statePath, "utf8"), saved, "the checkpoint is left as it was");
            }
        });

        it("resumes through another URL of the same cluster (same CA), and says so", async () => {
            const fake = FakeSecretsClient.withSecrets(30);
            await interruptedRun(fake, statePath, 5);
            // The same cluster (same store, same CA), now reached through its VPC-internal address.
            const privateEndpoint = Object.assign(fake, { target: { ...FAKE_TARGET, server: "https://10.0.0.5:6443" } });
            const result = await cli(["--state", statePath], privateEndpoint);
            assert.equal(result.code, EXIT_OK, result.stderr);
            assert.match(
                result.stderr,
                /the checkpoint was made through https:\/\/fake-cluster\.invalid:6443, this run goes through https:\/\/10\.0\.0\.5:6443 \(same cluster CA\)/,
            );
        });

        it("refuses a hand-edited checkpoint (e.g. its startResourceVersion), dry run too; the file is not overwritten", async () => {
            const fake = FakeSecretsClient.withSecrets(30);
            await interruptedRun(fake, statePath, 5);
            const edited = JSON.parse(await fs.readFile(statePath, "utf8"));
            edited.startResourceVersion = "999999999";
            const text = `${JSON.stringify(edited, null, 2)}\n`;
            await fs.writeFile(statePath, text);
            const patches = fake.patchCalls;
            for (const extra of [[], ["--dry-run"]]) {
                const result = await cli(["--state", statePath, ...extra], fake);
                assert.equal(result.code, EXIT_ERROR);
                assert.match(result.stderr, /was modified after the run saved it.*delete it to start over/);
            }
            assert.equal(fake.patchCalls, patches);
            assert.equal(await fs.readFile(statePath, "utf8"), text);
        });

        it("refuses a forged checkpoint whose checksum was recomputed without the user's key (a plain SHA-256): nothing verified, nothing written", async () => {
            const fake = FakeSecretsClient.withSecrets(30);
            const forged = {
                format: "ask-kms-secret-encryption/reencrypt-checkpoint",
                formatVersion: 2,
                cluster: { server: FAKE_TARGET.server, caFingerprint: FAKE_TARGET.caFingerprint },
                annotationKey: KEY,
                annotationValue: VALUE,
                rewritePassComplete: true,
                startResourceVersion: "1",
                startedAt: new Date().toISOString(),
                savedAt: new Date().toISOString(),
                totals: { listed: 30, rewritten: 30, alreadyCurrent: 0, gone: 0, conflicts: 0, failedCount: 0, writes: 30, listRestarts: 0 },
            };
            const checksum = createHash("sha256").update(JSON.stringify(forged)).digest("hex");
            await fs.writeFile(statePath, JSON.stringify({ ...forged, checksum }));
            const result = await cli(["--state", statePath, "--output", "json"], fake);
            assert.equal(result.code, EXIT_ERROR);
            assert.match(result.stderr, /was modified after the run saved it, or saved by another user or machine/);
            assert.equal(fake.patchCalls, 0);
            assert.equal(JSON.parse(result.stdout).exitCode, EXIT_ERROR);
        });

        it('concludes "written after the run began" only from this cluster: a checkpoint starting past the cluster\'s revision is refused before any write', async () => {
            const fake = FakeSecretsClient.withSecrets(30);
            // A well-formed checkpoint of this cluster and value whose start this cluster has never reached.
            await new Checkpoint(statePath).save({
                cluster: { server: FAKE_TARGET.server, caFingerprint: FAKE_TARGET.caFingerprint },
                annotationKey: KEY,
                annotationValue: VALUE,
                rewritePassComplete: true,
                startResourceVersion: "999999999",
                startedAt: new Date().toISOString(),
                totals: { listed: 30, rewritten: 30, alreadyCurrent: 0, gone: 0, conflicts: 0, failedCount: 0, writes: 30, listRestarts: 0 },
            });
            const result = await cli(["--state", statePath], fake);
            assert.equal(result.code, EXIT_ERROR);
            assert.match(
                result.stderr,
                /says the run began at resourceVersion 999999999, but this cluster is only at \d+: it was not made against this cluster/,
            );
            assert.equal(fake.patchCalls, 0);
            assert.equal(fake.carrying(KEY, VALUE), 0);

            const dry = await cli(["--state", statePath, "--dry-run"], fake);
            assert.equal(dry.code, EXIT_OK);
            assert.match(dry.stdout, /30 would be rewritten/, "a dry run counts from the start, whatever the checkpoint claims");
        });

        it("refuses a checkpoint of the older format with a clear message and never overwrites it", async () => {
            const old = `${JSON.stringify({ formatVersion: 1, annotationKey: KEY, annotationValue: VALUE, startedAt: "2024-01-01T00:00:00Z", rewritePassComplete: false, counts: {} })}\n`;
            await fs.writeFile(statePath, old);
            const fake = FakeSecretsClient.withSecrets(5);
            const result = await cli(["--state", statePath], fake);
            assert.equal(result.code, EXIT_ERROR);
            assert.match(result.stderr, /is a checkpoint in an older format \(1\).*finish that run with the version that wrote it, or delete the file/);
            assert.equal(await fs.readFile(statePath, "utf8"), old);
            assert.equal(fake.patchCalls, 0);
        });
    });

    it("1 and 5 end to end: a checkpoint of one real cluster is refused against another (CA fingerprints differ); the target is printed first", async () => {
        const clusterA = await startMisbehavingKubeApi({ secrets: 30, mode: { kind: "hang", on: "patch" } });
        const clusterB = await startKubeStandIn({ keyVersion: 1 });
        try {
            clusterB.seed(30, { namespaces: ["a", "b"] });
            const kubeconfigA = clusterA.writeKubeconfig(path.join(tmp, "a.kubeconfig"), { context: "cluster-a" });
            const kubeconfigB = clusterB.writeKubeconfig(path.join(tmp, "b.kubeconfig"), { context: "cluster-b" });
            const controller = new AbortController();
            const poll = setInterval(() => clusterA.stats().byKind.patch > 0 && controller.abort(), 20);
            const stdoutA = capture();
            const stderrA = capture();
            const codeA = await main(["--kubeconfig", kubeconfigA, "--annotation-value", VALUE, "--state", statePath, "--output", "json"], {
                stdout: stdoutA,
                stderr: stderrA,
                env: {},
                signal: controller.signal,
            });
            clearInterval(poll);
            assert.equal(codeA, EXIT_SECRETS_REMAIN, stderrA.text);
            const summaryA = JSON.parse(stdoutA.text);
            assert.equal(summaryA.target.context, "cluster-a");
            assert.equal(summaryA.target.server, clusterA.url);
            assert.match(summaryA.target.caFingerprint, /^[0-9a-f]{64}$/);
            assert.match(stderrA.text, new RegExp(`writing to server ${clusterA.url}, context cluster-a, user \\S+ \\(cluster CA sha256:[0-9a-f]{16}…\\)`));
            const saved = await fs.readFile(statePath, "utf8");

            clusterB.resetCounters();
            const stdoutB = capture();
            const stderrB = capture();
            const codeB = await main(["--kubeconfig", kubeconfigB, "--annotation-value", VALUE, "--state", statePath], {
                stdout: stdoutB,
                stderr: stderrB,
                env: {},
            });
            assert.equal(codeB, EXIT_ERROR, stderrB.text);
            assert.match(stderrB.text, new RegExp(`writing to server ${clusterB.url}.*context cluster-b`));
            assert.match(
                stderrB.text,
                new RegExp(
                    `belongs to the cluster with CA sha256:${summaryA.target.caFingerprint.slice(0, 16)}… \\(seen at ${clusterA.url}\\), but this run talks to the cluster with CA sha256:`,
                ),
            );
            assert.equal(clusterB.stats().requestsByVerb.patch ?? 0, 0, "nothing written to cluster B");
            assert.equal(await fs.readFile(statePath, "utf8"), saved);
        } finally {
            await clusterA.close();
            await clusterB.close();
        }
    });

    it("4. a malformed kubeconfig is never echoed: not on stderr, not in the JSON on stdout", async () => {
        const kubeconfig = path.join(tmp, "broken");
        await fs.writeFile(
            kubeconfig,
            ["apiVersion: v1", "users:", "- name: admin", "  user:", "    password: hunter2-secret", "    token: tok-secret-123", "   - broken: [", ""].join(
                "\n",
            ),
        );
        const stdout = capture();
        const stderr = capture();
        const code = await main(["--kubeconfig", kubeconfig, "--annotation-value", VALUE, "--output", "json"], { stdout, stderr, env: {} });
        assert.equal(code, EXIT_ERROR);
        assert.match(stderr.text, new RegExp(`kubeconfig ${kubeconfig} is not valid YAML: .*line \\d+`));
        assert.doesNotMatch(stderr.text + stdout.text, /hunter2|tok-secret/);
        assert.equal(JSON.parse(stdout.text).exitCode, EXIT_ERROR);
    });

    describe("2-3. files handled like a careful Unix tool", () => {
        it("never overwrites a file that is not a checkpoint (a kubeconfig given to --state by mistake)", async () => {
            const kubeconfig = path.join(tmp, "config");
            const content = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: keep-me\n";
            await fs.writeFile(kubeconfig, content);
            const fake = FakeSecretsClient.withSecrets(5);
            const result = await cli(["--state", kubeconfig], fake);
            assert.equal(result.code, EXIT_ERROR);
            assert.match(result.stderr, new RegExp(`${kubeconfig} exists and is not a re-encryption checkpoint; refusing to overwrite it`));
            assert.doesNotMatch(result.stderr, /keep-me/);
            assert.equal(await fs.readFile(kubeconfig, "utf8"), content);
            assert.equal(fake.patchCalls, 0);
            assert.deepEqual((await fs.readdir(tmp)).sort(), ["config"], "no lock or temp file left");
        });

        it("does not follow symlinks: neither at --state nor at a temporary name; temp files are random and exclusive", async () => {
            const victim = path.join(tmp, "victim");
            await fs.writeFile(victim, "precious\n");
            const link = path.join(tmp, "link.json");
            await fs.symlink(victim, link);
            const fake = FakeSecretsClient.withSecrets(5);
            const viaLink = await cli(["--state", link], fake);
            assert.equal(viaLink.code, EXIT_ERROR);
            assert.match(viaLink.stderr, /is a symbolic link; refusing to follow it/);
            assert.equal(fake.patchCalls, 0);

            // The old fixed temporary name, planted as a symlink to the victim.
            await fs.symlink(victim, path.join(tmp, ".state.json.tmp"));
            const recording = failing("EROFS", () => false);
            const ok = await cli(["--state", statePath], fake, { checkpointFileSystem: recording });
            assert.equal(ok.code, EXIT_OK, ok.stderr);
            assert.equal(await fs.readFile(victim, "utf8"), "precious\n");
            const temps = recording.opens.filter((o) => o.file.endsWith(".tmp"));
            assert.ok(temps.length >= 2);
            assert.equal(new Set(temps.map((t) => t.file)).size, temps.length, "a new random name for every save");
            for (const t of temps) {
                assert.ok(t.flags & constants.O_EXCL && t.flags & constants.O_CREAT, "created exclusively");
                assert.ok(t.flags & constants.O_NOFOLLOW, "without following symlinks");
            }
        });
    });

    describe("6. the state directory is checked before the first write", () => {
        it("a read-only state directory stops the run before any Secret is written (exit 2, what to do)", async () => {
            const fake = FakeSecretsClient.withSecrets(20);
            const result = await cli(["--state", statePath], fake, {
                checkpointFileSystem: failing("EROFS", (op, file) => op === "open" && !file.endsWith(".lock")),
            });
            assert.equal(result.code, EXIT_ERROR);
            assert.match(
                result.stderr,
                /cannot save the checkpoint .*state\.json: the file system is read-only; use a state file in a directory you can write to/,
            );
            assert.equal(fake.patchCalls, 0, "no billed write before the checkpoint is known to work");
            assert.equal(fake.listCalls.length, 0);
            assert.deepEqual(await fs.readdir(tmp), [], "nothing left on disk, the lock included");
        });

        it("ENOSPC mid-run: a clear message, exit 2 with the summary, the previous checkpoint intact and resumable, no temp file", async () => {
            const fake = FakeSecretsClient.withSecrets(50);
            // Writes: the lock, the initial checkpoint, then one checkpoint per page; the fifth (after page 3) hits a full disk.
            const result = await cli(["--state", statePath, "--output", "json"], fake, {
                checkpointFileSystem: failing("ENOSPC", (op, file, n) => op === "write" && file.endsWith(".tmp") && n === 5),
            });
            assert.equal(result.code, EXIT_ERROR, result.stderr);
            const summary = JSON.parse(result.stdout);
            assert.equal(summary.outcome, "stopped");
            assert.match(summary.stopReason, /no space left on the device; free space in .* and run again with the same state file/);
            assert.deepEqual((await fs.readdir(tmp)).sort(), ["state.json"], "no temp file, no lock");
            const saved = JSON.parse(await fs.readFile(statePath, "utf8"));
            assert.equal(saved.totals.rewritten, 20, "the checkpoint after page 2 stands");
            assert.equal(fake.carrying(KEY, VALUE), 30);

            const resumed = await cli(["--state", statePath], fake);
            assert.equal(resumed.code, EXIT_OK, resumed.stderr);
            assert.match(resumed.stdout, /done \(.*resumed\): this run: 30 listed, 20 rewritten, 10 already current/);
            assert.ok(
                [...fake.secrets.values()].every((s) => s.writes === 1),
                "each Secret written exactly once",
            );
        });
    });

    describe("7. per-Secret failures stay per-Secret", () => {
        it("a webhook's 403 in one namespace and a 422 are recorded with the server's reason; the run goes on, checkpoints, exits 1 naming them", async () => {
            const fake = FakeSecretsClient.withSecrets(30, {
                patchFault: (ref) =>
                    ref.namespace === "ns-2"
                        ? apiError(403, "Forbidden", 'admission webhook "freeze.example.com" denied the request: namespace frozen')
                        : ref.name === "secret-000000"
                          ? apiError(422, "Invalid", "metadata.annotations: Too long")
                          : undefined,
            });
            const result = await cli(["--state", statePath], fake);
            assert.equal(result.code, EXIT_SECRETS_REMAIN, result.stderr);
            assert.match(result.stdout, /11 Secret\(s\) still not rewritten/);
            assert.match(result.stdout, /ns-2\/secret-000002: denied \(HTTP 403\).*freeze\.example\.com/);
            assert.match(result.stdout, /ns-0\/secret-000000: .*422/);
            assert.equal(fake.carrying(KEY, VALUE), 19);
            const saved = JSON.parse(await fs.readFile(statePath, "utf8"));
            assert.equal(saved.rewritePassComplete, true, "the checkpoint went past the denied page");

            const patches = fake.patchCalls;
            const again = await cli(["--state", statePath], fake);
            assert.equal(again.code, EXIT_SECRETS_REMAIN);
            assert.equal(fake.carrying(KEY, VALUE), 19);
            assert.ok(fake.patchCalls - patches <= 11 * 3, "a rerun only retries the denied ones");
        });
    });

    describe("8. two runs, one state file", () => {
        it("a second run on the same state refuses with a clear message; the first finishes", async () => {
            const fake = FakeSecretsClient.withSecrets(40, { patchLatencyMs: 5 });
            const firstRun = cli(["--state", statePath, "--concurrency", "1"], fake);
            await new Promise((r) => setTimeout(r, 50));
            const other = FakeSecretsClient.withSecrets(40);
            const second = await cli(["--state", statePath], other);
            assert.equal(second.code, EXIT_ERROR);
            assert.match(second.stderr, new RegExp(`state file ${statePath} is in use by another run \\(process ${process.pid} on `));
            assert.equal(other.patchCalls, 0);
            const first = await firstRun;
            assert.equal(first.code, EXIT_OK, first.stderr);
            assert.deepEqual(await fs.readdir(tmp), [], "checkpoint removed once verified, lock released");
        });

        it("a stale lock left by a killed run does not block the resume (its pid gone, or reused by another process)", async () => {
            const gone = spawnSync(process.execPath, ["-e", ""]).pid;
            // A pid that now belongs to a process started at another time (this one, with a made-up start time): reused.
            for (const stale of [{ pid: gone }, { pid: process.pid, procStart: "1" }]) {
                await fs.writeFile(`${statePath}.lock`, JSON.stringify({ ...stale, host: os.hostname(), since: "2024-01-01T00:00:00Z" }));
                const fake = FakeSecretsClient.withSecrets(10);
                const result = await cli(["--state", statePath], fake);
                assert.equal(result.code, EXIT_OK, result.stderr);
                assert.deepEqual(await fs.readdir(tmp), []);
            }
        });
    });

    describe("8. the lock, adversarially", () => {
        it("three runs that find the same dead run's lock at once: exactly one takes it over (separate processes, 10 rounds)", async function () {
            this.timeout(60_000);
            const stateModule = path.join(REPO_ROOT, "dist", "components", "reencrypt", "checkpoint.js");
            const script = [
                `const { Checkpoint } = require(${JSON.stringify(stateModule)});`,
                "new Checkpoint(process.argv[1]).lock().then(",
                '  () => { process.stdout.write("got"); setTimeout(() => {}, 400); },',
                '  (e) => process.stdout.write(e.name === "CheckpointError" ? "refused" : String(e)),',
                ");",
            ].join("\n");
            const gone = spawnSync(process.execPath, ["-e", ""]).pid;
            for (let round = 0; round < 10; round++) {
                const state = path.join(tmp, `race-${round}.json`);
                await fs.writeFile(`${state}.lock`, JSON.stringify({ pid: gone, host: os.hostname(), since: "2024-01-01T00:00:00Z" }));
                const outcomes = await Promise.all(
                    [0, 1, 2].map(
                        () =>
                            new Promise<string>((resolve) => {
                                execFile(process.execPath, ["-e", script, state], { timeout: 20_000 }, (_e, stdout) => resolve(stdout));
                            }),
                    ),
                );
                assert.equal(outcomes.filter((o) => o === "got").length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
                assert.equal(outcomes.filter((o) => o === "refused").length, 2, `round ${round}: ${JSON.stringify(outcomes)}`);
            }
        });

        it("a full disk while the lock is written leaves no lock behind; the next run goes through", async () => {
            const fake = FakeSecretsClient.withSecrets(10);
            const full = await cli(["--state", statePath], fake, {
                checkpointFileSystem: failing("ENOSPC", (op, file) => op === "write" && file.endsWith(".lock")),
            });
            assert.equal(full.code, EXIT_ERROR);
            assert.match(full.stderr, /cannot write the lock .*state\.json\.lock: no space left on the device; free space/);
            assert.deepEqual(await fs.readdir(tmp), []);
            assert.equal(fake.patchCalls, 0);
            const next = await cli(["--state", statePath], fake);
            assert.equal(next.code, EXIT_OK, next.stderr);
        });

        it("a lock path held by something else (another tool's .lock, a directory) is not called a run, and deleting it is not advised", async () => {
            const yarn = path.join(tmp, "yarn");
            await fs.writeFile(`${yarn}.lock`, "# THIS IS AN AUTOGENERATED FILE\n");
            await fs.mkdir(path.join(tmp, "dir.json.lock"));
            for (const state of [yarn, path.join(tmp, "dir.json")]) {
                const fake = FakeSecretsClient.withSecrets(3);
                const result = await cli(["--state", state], fake);
                assert.equal(result.code, EXIT_ERROR);
                assert.match(result.stderr, /\.lock exists and is not a lock of this tool; use another state file path/);
                assert.doesNotMatch(result.stderr, /delete/);
                assert.equal(fake.patchCalls, 0);
            }
            assert.equal(await fs.readFile(`${yarn}.lock`, "utf8"), "# THIS IS AN AUTOGENERATED FILE\n");
        });
    });

    describe("9-10. honest counts after a resume; a bad token names the file", () => {
        it("counts this run's work and the earlier runs' separately", async () => {
            const fake = FakeSecretsClient.withSecrets(30);
            await interruptedRun(fake, statePath, 5);
            const resumed = await cli(["--state", statePath, "--output", "json"], fake);
            assert.equal(resumed.code, EXIT_OK);
            const summary = JSON.parse(resumed.stdout);
            assert.equal(summary.resumed, true);
            assert.equal(summary.rewritten + summary.earlierRuns.rewritten, 30, "every Secret counted once across runs");
            assert.ok(summary.listed <= 30);
            assert.ok([...fake.secrets.values()].every((s) => s.writes === 1));
        });

        it("a continue token the server refuses names the state file and what to do, before any write", async () => {
            const fake = FakeSecretsClient.withSecrets(30, {
                listFault: (call) => (call.continueToken === "bogus-token" ? apiError(400, "BadRequest", "continue key is not valid") : undefined),
            });
            await new Checkpoint(statePath).save({
                cluster: { server: FAKE_TARGET.server, caFingerprint: FAKE_TARGET.caFingerprint },
                annotationKey: KEY,
                annotationValue: VALUE,
                continueToken: "bogus-token",
                rewritePassComplete: false,
                startedAt: new Date().toISOString(),
                totals: { listed: 10, rewritten: 10, alreadyCurrent: 0, gone: 0, conflicts: 0, failedCount: 0, writes: 10, listRestarts: 0 },
            });
            const result = await cli(["--state", statePath], fake);
            assert.equal(result.code, EXIT_ERROR);
            assert.match(
                result.stderr,
                new RegExp(
                    `refused the continue token saved in the state file ${statePath} \\(.*continue key is not valid\\).*delete the state file to start over`,
                ),
            );
            assert.equal(fake.patchCalls, 0);
        });
    });

    describe("11. reserved annotation keys", () => {
        for (const key of ["kubectl.kubernetes.io/last-applied-configuration", "kubernetes.io/service-account.name", "node.k8s.io/x"]) {
            it(`refuses ${key} before touching the cluster`, async () => {
                const fake = FakeSecretsClient.withSecrets(3);
                const result = await cli(["--annotation-key", key], fake);
                assert.equal(result.code, EXIT_ERROR);
                assert.match(result.stderr, /is reserved for Kubernetes components/);
                assert.equal(fake.listCalls.length + fake.patchCalls, 0);
            });
        }
    });
});
