// Smoke test of the benchmark's code paths with a few Secrets: both tools run
// through the same measuring harness, and the target checks judge what they get.
// No timing is asserted here; speed belongs to `npm run bench`.

import * as assert from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { BenchContext, RunResult, RunSpec, checkTargets, formatTable, nodeFlagsFromShebang, plan, runOnce, summarize } from "./bench";
import { buildReencryptCli } from "../support/kubeReencryptCli";
import { formatRealTable } from "./realCluster";

function result(spec: RunSpec, overrides: Partial<RunResult>): RunResult {
    return {
        spec,
        exitCode: 0,
        wallSeconds: 1,
        writes: spec.secrets,
        writesPerSecond: spec.secrets,
        serverWriteRate: null,
        limitPerSecond: null,
        efficiency: null,
        peakRssMiB: spec.tool === "kubectl" ? { "kubectl get": 50, "kubectl annotate": 40 } : { "reencrypt-secrets": 60 },
        leftOnOldKey: 0,
        contentsChanged: 0,
        writesPerSecret: 1,
        requests: 0,
        stderrTail: "",
        ...overrides,
    };
}

describe("benchmark (smoke)", function () {
    this.timeout(180_000);
    let context: BenchContext;
    const lines: string[] = [];

    before(async () => {
        context = { cliEntry: await buildReencryptCli(), scratchRoot: mkdtempSync(join(tmpdir(), "bench-smoke-")), log: (line) => lines.push(line) };
    });

    after(() => rmSync(context.scratchRoot, { recursive: true, force: true }));

    it("measures the guide's pipeline and reencrypt-secrets on the same server setup", async () => {
        const kubectl = await runOnce({ tool: "kubectl", secrets: 30, writeLatencyMs: 5 }, context);
        assert.strictEqual(kubectl.exitCode, 0, kubectl.stderrTail);
        assert.strictEqual(kubectl.writes, 30);
        assert.strictEqual(kubectl.leftOnOldKey, 0);
        assert.strictEqual(kubectl.limitPerSecond, 200, "serial, 5 ms per write");
        assert.ok(kubectl.peakRssMiB["kubectl get"] > 5 && kubectl.peakRssMiB["kubectl annotate"] > 5, JSON.stringify(kubectl.peakRssMiB));

        const cli = await runOnce({ tool: "reencrypt-secrets", secrets: 30, writeLatencyMs: 5, concurrency: 4, qps: 0 }, context);
        assert.strictEqual(cli.exitCode, 0, cli.stderrTail);
        assert.strictEqual(cli.writes, 30);
        assert.strictEqual(cli.leftOnOldKey, 0);
        assert.strictEqual(cli.limitPerSecond, 800);
        assert.ok(cli.peakRssMiB["reencrypt-secrets"] > 5);
        assert.ok(cli.efficiency !== null && cli.efficiency > 0);

        const table = formatTable([kubectl, cli]);
        assert.match(table, /kubectl pipeline\s+30\s+5\s+0/);
        assert.match(table, /reencrypt-secrets c4\s+30\s+5\s+0/);
        assert.match(formatTable([kubectl, cli], true), /^\| run \| secrets \|/);
    });

    it("runs the fault scenario for both tools and reports what each left behind", async () => {
        const faulted = await runOnce({ tool: "reencrypt-secrets", secrets: 60, writeLatencyMs: 0, concurrency: 4, qps: 0, faults: true }, context);
        assert.strictEqual(faulted.exitCode, 0, faulted.stderrTail);
        assert.strictEqual(faulted.leftOnOldKey, 0);
        assert.strictEqual(faulted.contentsChanged, 0);
        const checks = checkTargets([faulted]);
        assert.deepStrictEqual(
            checks.map((c) => c.ok),
            [true],
        );

        // 60 Secrets fit in one page, so no continue token expires for kubectl here; it meets 5xx and churn.
        const kubectl = await runOnce({ tool: "kubectl", secrets: 60, writeLatencyMs: 0, faults: true }, context);
        assert.ok(Number.isInteger(kubectl.leftOnOldKey) && kubectl.leftOnOldKey >= 0);
        if (kubectl.exitCode === 0) {
            assert.strictEqual(kubectl.leftOnOldKey, 0, "with pipefail, a pipeline that reports success must have left nothing");
        }
        assert.match(summarize([kubectl, faulted], checks), /left on old key under faults: kubectl \d+\/60, reencrypt-secrets 0\/60/);
    });

    it("judges the targets from the results, and a missed target is reported as missed", () => {
        const kubectl = result({ tool: "kubectl", secrets: 1000, writeLatencyMs: 30 }, { wallSeconds: 33 });
        const fast = result({ tool: "reencrypt-secrets", secrets: 1000, writeLatencyMs: 30, concurrency: 16, qps: 0 }, { wallSeconds: 2.2 });
        const slow = { ...fast, wallSeconds: 3.3 };
        assert.deepStrictEqual(
            checkTargets([kubectl, fast]).map((c) => [c.value, c.ok]),
            [["15.0x", true]],
        );
        assert.deepStrictEqual(
            checkTargets([kubectl, slow]).map((c) => [c.value, c.ok]),
            [["10.0x", false]],
        );

        const capped = result({ tool: "reencrypt-secrets", secrets: 400, writeLatencyMs: 0, concurrency: 16, qps: 40 }, { serverWriteRate: 30 });
        assert.strictEqual(checkTargets([capped])[0].ok, false, "30/s against a cap of 40 is too slow");
        const memorySmall = result(
            { tool: "reencrypt-secrets", secrets: 2000, writeLatencyMs: 0, label: "memory 2,000" },
            { peakRssMiB: { "reencrypt-secrets": 70 } },
        );
        const memoryLarge = result(
            { tool: "reencrypt-secrets", secrets: 20000, writeLatencyMs: 0, label: "memory 20,000" },
            { peakRssMiB: { "reencrypt-secrets": 100 } },
        );
        const memoryChecks = checkTargets([memorySmall, memoryLarge]);
        assert.deepStrictEqual(
            memoryChecks.map((c) => c.ok),
            [true, false],
            "100 MiB is under 150 MB but 30 MiB growth is over 25 MB",
        );

        const summary = summarize([kubectl, fast], checkTargets([kubectl, fast]));
        assert.match(summary, /^SUMMARY: speed-up vs kubectl 15.0x .*all targets met$/);
    });

    it("runs the CLI with the node flags of its shebang, as the installed bin does", () => {
        const file = join(context.scratchRoot, "entry.js");
        writeFileSync(file, "#!/usr/bin/env -S node --max-semi-space-size=4 --stack-size=2000\n'use strict';\n");
        assert.deepStrictEqual(nodeFlagsFromShebang(file), ["--max-semi-space-size=4", "--stack-size=2000"]);
        writeFileSync(file, "#!/usr/bin/env node\n");
        assert.deepStrictEqual(nodeFlagsFromShebang(file), []);
        writeFileSync(file, "'use strict';\n");
        assert.deepStrictEqual(nodeFlagsFromShebang(file), []);
    });

    it("plans the issue's matrix: quick is 1,000 Secrets only, full adds 10,000", () => {
        const quick = plan(true);
        const full = plan(false);
        assert.ok(quick.filter((s) => !s.label).every((s) => s.secrets === 1000));
        assert.ok(full.some((s) => s.tool === "kubectl" && s.secrets === 10_000 && s.writeLatencyMs === 30));
        assert.ok(full.some((s) => s.label === "memory 2,000") && full.some((s) => s.label === "memory 20,000"));
        for (const specs of [quick, full]) {
            assert.ok(specs.some((s) => s.tool === "reencrypt-secrets" && s.concurrency === 16 && s.writeLatencyMs === 30 && s.secrets === 1000));
            assert.ok(specs.some((s) => s.qps === 40));
            assert.ok(specs.some((s) => s.tool === "kubectl" && s.faults) && specs.some((s) => s.tool === "reencrypt-secrets" && s.faults));
        }
    });
});

describe("benchmark on the real control plane: the report", () => {
    it("states each tool's speed-up against the pipeline of the same size, and marks a failed count", () => {
        const base = {
            exitCode: 0,
            peakRssMiB: { "reencrypt-secrets": 70 },
            apiserverCpuSecondsPerSecret: 0.0015,
            leftOnOldKey: 0,
            stderrTail: "",
            writesPerSecret: 1,
        };
        const table = formatRealTable([
            { ...base, tool: "kubectl pipeline", secrets: 5000, wallSeconds: 30, writes: 5000, peakRssMiB: { "kubectl get": 90, "kubectl annotate": 60 } },
            { ...base, tool: "reencrypt-secrets c16", secrets: 5000, wallSeconds: 6, writes: 5000 },
            { ...base, tool: "reencrypt-secrets c16", secrets: 20_000, wallSeconds: 20, writes: 19_000, leftOnOldKey: 1000 },
        ]);
        const lines = table.split("\n");
        assert.match(lines[2], /5000\s+reencrypt-secrets c16\s+0\s+6\.00\s+5\.0x/);
        assert.match(lines[3], /20000 .* — .*1000\s*$/, "no pipeline of that size: no speed-up claimed; the Secrets left are shown");
        assert.match(lines[1], /kubectl get 90, kubectl annotate 60/);
    });
});
