// The benchmark on a real control plane: the guide's kubectl pipeline and reencrypt-secrets, each
// after its own key rotation, on one kube-apiserver v1.35.4 + etcd with Secrets sealed through our
// test KMS plugin (KMS v2). Unlike the stand-in runs, nothing is simulated: a write costs what the
// real apiserver, its KMS v2 transformer and etcd make it cost.
//
// Per tool: wall time, real writes (the apiserver's own PATCH count), writes per Secret, peak RSS
// (getrusage of a wrapper, exact), the apiserver's CPU seconds per Secret rewritten (from /proc),
// and what etcd shows afterwards (Secrets not sealed with the new key version).

import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { guidePipeline } from "../support/guideConditions";
import { runShell } from "../support/kubeStandIn/request";
import { RealCluster } from "../support/realCluster";
import { REPO_ROOT } from "../support/repo";
import { MAXRSS_WRAPPER, nodeFlagsFromShebang, readRssMiB } from "./measure";

const NAMESPACES = ["default", "kube-system", "payments", "web", "data", "ops", "ci", "monitoring"];

export interface RealRunResult {
    tool: "kubectl pipeline" | "reencrypt-secrets c16";
    secrets: number;
    exitCode: number;
    wallSeconds: number;
    writes: number;
    writesPerSecret: number;
    peakRssMiB: Record<string, number>;
    apiserverCpuSecondsPerSecret: number;
    leftOnOldKey: number;
    stderrTail: string;
}

async function seed(cluster: RealCluster, count: number, dataBytes: number): Promise<void> {
    for (const namespace of NAMESPACES) await cluster.ensureNamespace(namespace);
    const value = Buffer.alloc(dataBytes, "x").toString("base64");
    let next = 0;
    const worker = async () => {
        while (next < count) {
            const i = next++;
            const answer = await cluster.request("POST", `/api/v1/namespaces/${NAMESPACES[i % NAMESPACES.length]}/secrets`, {
                metadata: { name: `bench-${i}` },
                data: { value },
            });
            if (answer.status !== 201) throw new Error(`seeding bench-${i}: HTTP ${answer.status} ${answer.body}`);
        }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
}

async function measure(
    cluster: RealCluster,
    tool: RealRunResult["tool"],
    secrets: number,
    keyVersion: number,
    cliEntry: string,
    scratch: string,
): Promise<RealRunResult> {
    cluster.rotateKey(keyVersion);
    await cluster.waitUntilSealingWith(keyVersion);
    const kubeconfig = cluster.writeKubeconfig(join(scratch, "kubeconfig"));
    const wrap = (name: string) => `python3 -c "$MAXRSS_WRAPPER" ${JSON.stringify(join(scratch, `${name}.rss`))}`;
    const value = `bench-${keyVersion}`;
    const script =
        tool === "kubectl pipeline"
            ? `set -o pipefail; ${wrap("get")} ${guidePipeline(value).replace(" | kubectl annotate", ` | ${wrap("annotate")} kubectl annotate`)} > /dev/null`
            : `${wrap("cli")} ${JSON.stringify(process.execPath)} ${nodeFlagsFromShebang(cliEntry).join(" ")} ${JSON.stringify(cliEntry)} --kubeconfig ${JSON.stringify(kubeconfig)} ` +
              `--annotation-value ${value} --concurrency 16 --qps 0 --output json > /dev/null`;
    const patches = () => cluster.requestCount(/resource="secrets"/, /verb="PATCH"/, /code="200"/);
    const [patchesBefore, cpuBefore] = [await patches(), cluster.apiserverCpuSeconds()];
    const started = performance.now();
    const result = await runShell(script, { kubeconfig, home: scratch, extra: { MAXRSS_WRAPPER, NODE_PATH: join(REPO_ROOT, "node_modules") } }, 60 * 60 * 1000);
    const wallSeconds = (performance.now() - started) / 1000;
    const cpu = cluster.apiserverCpuSeconds() - cpuBefore;
    const writes = (await patches()) - patchesBefore;
    const all = [...(await cluster.secretSealings()).entries()];
    const sealings = all.filter(([name]) => name.includes("/bench-"));
    return {
        tool,
        secrets,
        exitCode: result.code,
        wallSeconds,
        writes,
        // Per Secret in the cluster: the benchmark's and the rotation probe's (both tools rewrite every Secret).
        writesPerSecret: writes / all.length,
        peakRssMiB:
            tool === "kubectl pipeline"
                ? { "kubectl get": readRssMiB(join(scratch, "get.rss")), "kubectl annotate": readRssMiB(join(scratch, "annotate.rss")) }
                : { "reencrypt-secrets": readRssMiB(join(scratch, "cli.rss")) },
        apiserverCpuSecondsPerSecret: writes > 0 ? cpu / writes : Number.NaN,
        leftOnOldKey: sealings.filter(([, s]) => s.keyVersion !== keyVersion).length,
        stderrTail: result.stderr.slice(-600),
    };
}

/** For each size: one cluster (KMS v2), seeded once; the pipeline after one rotation, reencrypt-secrets after the next. */
export async function runRealClusterBench(
    sizes: number[],
    context: { cliEntry: string; scratchRoot: string; log(line: string): void; dataBytes?: number },
): Promise<RealRunResult[]> {
    const results: RealRunResult[] = [];
    for (const secrets of sizes) {
        const scratch = mkdtempSync(join(context.scratchRoot, "real-"));
        const cluster = await RealCluster.start({ kms: "v2" });
        try {
            context.log(`[real cluster, KMS v2] seeding ${secrets} Secrets ...`);
            await seed(cluster, secrets, context.dataBytes ?? 1024);
            let keyVersion = 1;
            for (const tool of ["kubectl pipeline", "reencrypt-secrets c16"] as const) {
                keyVersion++;
                context.log(`[real cluster, KMS v2] ${tool}: ${secrets} Secrets after a rotation to key version ${keyVersion} ...`);
                const result = await measure(cluster, tool, secrets, keyVersion, context.cliEntry, scratch);
                context.log(
                    `    exit ${result.exitCode}, ${result.wallSeconds.toFixed(2)} s, ${result.writes} writes, ${result.leftOnOldKey} left on the old key`,
                );
                results.push(result);
            }
        } finally {
            await cluster.stop();
            rmSync(scratch, { recursive: true, force: true });
        }
    }
    return results;
}

const fmt = (value: number, digits = 1) => (Number.isNaN(value) ? "—" : value.toFixed(digits));

export function formatRealTable(results: RealRunResult[], markdown = false): string {
    const header = ["Secrets", "tool", "exit", "wall s", "speed-up", "writes/Secret", "peak RSS MiB", "apiserver CPU ms/Secret", "left on old key"];
    const rows = results.map((r) => {
        const pipeline = results.find((p) => p.secrets === r.secrets && p.tool === "kubectl pipeline");
        const speedUp = r.tool === "kubectl pipeline" ? "1.0x" : pipeline ? `${fmt(pipeline.wallSeconds / r.wallSeconds)}x` : "—";
        const rss = Object.entries(r.peakRssMiB)
            .map(([name, mib]) => `${name} ${fmt(mib, 0)}`)
            .join(", ");
        return [
            String(r.secrets),
            r.tool,
            String(r.exitCode),
            fmt(r.wallSeconds, 2),
            speedUp,
            fmt(r.writesPerSecret, 3),
            rss,
            fmt(r.apiserverCpuSecondsPerSecret * 1000, 2),
            String(r.leftOnOldKey),
        ];
    });
    if (markdown) return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ")).join("\n");
}
