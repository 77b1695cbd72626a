// Runs the reencrypt-secrets CLI as a user does: compiled JavaScript in its own
// process, against a kubeconfig. Tests compile the current sources into a
// scratch directory once per process (dist/ may be stale or shared).

import { ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./repo";

export { REPO_ROOT };

let builtEntry: Promise<string> | undefined;

/** Compiles tsconfig.build.json into a scratch outDir; returns the CLI entry path. */
export function buildReencryptCli(): Promise<string> {
    if (!builtEntry) {
        builtEntry = new Promise((resolvePath, reject) => {
            const outDir = mkdtempSync(join(tmpdir(), "reencrypt-cli-build-"));
            execFile(
                process.execPath,
                [join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-p", join(REPO_ROOT, "tsconfig.build.json"), "--outDir", outDir],
                { cwd: REPO_ROOT },
                (error, stdout, stderr) => {
                    const entry = join(outDir, "components/cli/reencrypt.js");
                    if (error && !existsSync(entry)) {
                        reject(new Error(`compiling the reencrypt CLI failed (tsc -p tsconfig.build.json):\n${stdout}${stderr}`));
                    } else {
                        resolvePath(entry);
                    }
                },
            );
        });
    }
    return builtEntry;
}

export interface CliRun {
    child: ChildProcess;
    /** resolves when the process ends; `signal` is set when it was killed. */
    done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `node entry args...` asynchronously (the test server lives in this process). */
export function startCli(entry: string, args: string[], env: Record<string, string> = {}): CliRun {
    const child = spawn(process.execPath, [entry, ...args], {
        // NODE_PATH: a build in a scratch directory still resolves the repo's node_modules.
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir(), NODE_PATH: join(REPO_ROOT, "node_modules"), ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolveDone) => {
        child.on("close", (code, signal) => resolveDone({ code, signal, stdout, stderr }));
    });
    return { child, done };
}

/** Parses the single JSON summary object `--output json` prints on stdout. */
export function parseSummary(stdout: string): Record<string, unknown> {
    const line = stdout
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .pop();
    if (!line) {
        throw new Error(`the CLI printed no JSON summary on stdout; stdout was:\n${stdout}`);
    }
    return JSON.parse(line) as Record<string, unknown>;
}
