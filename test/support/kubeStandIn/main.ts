// Starts the Kubernetes API test server from the command line, for manual runs
// (kubectl, the reencrypt CLI) or a benchmark that wants the server in its own
// process. Prints one JSON status line on stdout when ready; reads commands on
// stdin: "status" (prints stats as one JSON line), "key N" (sets the key
// version), "quit". It also ends when stdin closes, so it never outlives the
// process that started it; to keep it up detached: `sleep infinity | npx ts-node ...`.
//
//   npx ts-node --transpile-only test/support/kubeStandIn/main.ts --secrets 2000 \
//       --namespaces 20 --write-latency-ms 30 --kubeconfig /tmp/kube-test.yaml

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { FaultOptions, KubeStandInOptions, startKubeStandIn } from "./index";

const USAGE = `usage: kubeStandIn/main.ts [--secrets N] [--namespaces N] [--data-bytes N] [--key-version N]
  [--latency-ms N] [--write-latency-ms N] [--throttle-probability P] [--server-error-probability P]
  [--reset-probability P] [--expire-continue-after-pages K] [--continue-remainder]
  [--churn-every-requests N] [--random-seed N] [--token T] [--kubeconfig PATH]`;

function parseFlags(argv: string[]): Record<string, string> {
    const flags: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("--")) {
            throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
        }
        const [name, inline] = arg.slice(2).split("=", 2);
        if (name === "continue-remainder" || name === "help") {
            flags[name] = "true";
        } else if (inline !== undefined) {
            flags[name] = inline;
        } else if (i + 1 < argv.length) {
            flags[name] = argv[++i];
        } else {
            throw new Error(`flag --${name} needs a value\n${USAGE}`);
        }
    }
    return flags;
}

function numberFlag(flags: Record<string, string>, name: string): number | undefined {
    if (flags[name] === undefined) return undefined;
    const value = Number(flags[name]);
    if (!Number.isFinite(value) || value < 0) {
        throw new Error(`--${name} must be a non-negative number, got "${flags[name]}"\n${USAGE}`);
    }
    return value;
}

async function main(): Promise<void> {
    const flags = parseFlags(process.argv.slice(2));
    if (flags.help) {
        process.stdout.write(USAGE + "\n");
        return;
    }
    const known = new Set([
        "secrets",
        "namespaces",
        "data-bytes",
        "key-version",
        "latency-ms",
        "write-latency-ms",
        "throttle-probability",
        "server-error-probability",
        "reset-probability",
        "expire-continue-after-pages",
        "continue-remainder",
        "churn-every-requests",
        "random-seed",
        "token",
        "kubeconfig",
    ]);
    for (const name of Object.keys(flags)) {
        if (!known.has(name)) throw new Error(`unknown flag --${name}\n${USAGE}`);
    }
    const faults: FaultOptions = {
        throttleProbability: numberFlag(flags, "throttle-probability"),
        serverErrorProbability: numberFlag(flags, "server-error-probability"),
        resetProbability: numberFlag(flags, "reset-probability"),
        expireContinueAfterPages: numberFlag(flags, "expire-continue-after-pages"),
        expiredContinueCarriesRemainder: flags["continue-remainder"] === "true",
    };
    const churnEvery = numberFlag(flags, "churn-every-requests");
    const options: KubeStandInOptions = {
        token: flags.token,
        keyVersion: numberFlag(flags, "key-version"),
        randomSeed: numberFlag(flags, "random-seed"),
        latencyMs: numberFlag(flags, "latency-ms"),
        writeLatencyMs: numberFlag(flags, "write-latency-ms"),
        faults,
        churn: churnEvery ? { everyRequests: churnEvery, edits: 1, deletes: 1, creates: 1 } : undefined,
    };
    const server = await startKubeStandIn(options);
    const namespaceCount = numberFlag(flags, "namespaces") ?? 1;
    server.seed(numberFlag(flags, "secrets") ?? 0, {
        namespaces: Array.from({ length: namespaceCount }, (_, i) => (namespaceCount === 1 ? "default" : `ns-${i}`)),
        dataBytes: numberFlag(flags, "data-bytes"),
    });
    const kubeconfig = flags.kubeconfig ?? join(mkdtempSync(join(tmpdir(), "kube-test-")), "kubeconfig");
    server.writeKubeconfig(kubeconfig);
    process.stdout.write(JSON.stringify({ ready: true, url: server.url, kubeconfig, pid: process.pid, ...server.stats() }) + "\n");

    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => {
        const [command, argument] = line.trim().split(/\s+/);
        if (command === "status") {
            process.stdout.write(JSON.stringify(server.stats()) + "\n");
        } else if (command === "key" && Number.isInteger(Number(argument))) {
            server.setKeyVersion(Number(argument));
            process.stdout.write(JSON.stringify({ keyVersion: server.keyVersion }) + "\n");
        } else if (command === "quit") {
            void server.close().then(() => process.exit(0));
        } else if (command) {
            process.stderr.write(`unknown command "${line}": use status | key N | quit\n`);
        }
    });
    lines.on("close", () => void server.close().then(() => process.exit(0)));
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.on(signal, () => void server.close().then(() => process.exit(0)));
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`kubeStandIn: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
});
