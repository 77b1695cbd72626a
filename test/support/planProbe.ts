// Preloaded (`node -r`) into a plan child process by test/plan.spec.ts: records
// what the plan did before it exited, so a test can assert that a refused input
// ran nothing: whether the Pulumi program (index.ts) was loaded, which child
// processes were started (the policy pack is one), which files were opened for
// writing and which were read. The record is written as JSON to
// $PLAN_PROBE_REPORT when the process exits.
//
// With PLAN_PROBE_FAIL set, loading the program throws a plain Error with that
// text instead: an unexpected failure, to exercise the plan's last-resort path.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module itself, whose functions the probe replaces (`import *` gives a read-only copy)
import childProcess = require("node:child_process");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module itself, whose functions the probe replaces (`import *` gives a read-only copy)
import fs = require("node:fs");
import * as path from "node:path";

export interface ProbeReport {
    programLoaded: boolean;
    spawned: string[];
    written: string[];
    read: string[];
}

const report: ProbeReport = { programLoaded: false, spawned: [], written: [], read: [] };
const reportFile = process.env.PLAN_PROBE_REPORT;
const programFile = path.resolve(__dirname, "..", "..", "index.ts");
const writeReport = fs.writeFileSync;

type AnyFunction = (...args: unknown[]) => unknown;
function wrap<T extends object>(target: T, name: string, before: (args: unknown[]) => void): void {
    const original = (target as Record<string, AnyFunction>)[name];
    (target as Record<string, AnyFunction>)[name] = function (this: unknown, ...args: unknown[]) {
        before(args);
        return original.apply(this, args);
    };
}

const pathOf = (p: unknown) => (typeof p === "string" ? p : Buffer.isBuffer(p) ? p.toString() : p instanceof URL ? p.pathname : `fd:${String(p)}`);
const writes = (flags: unknown) => typeof flags === "string" && /[wa+]/.test(flags);

for (const name of ["spawn", "spawnSync", "fork", "exec", "execSync", "execFile", "execFileSync"]) {
    wrap(childProcess, name, (args) => report.spawned.push([args[0], ...(Array.isArray(args[1]) ? args[1] : [])].map(String).join(" ")));
}
for (const name of [
    "writeFileSync",
    "appendFileSync",
    "writeFile",
    "appendFile",
    "createWriteStream",
    "mkdirSync",
    "mkdir",
    "truncateSync",
    "rmSync",
    "unlinkSync",
]) {
    wrap(fs, name, (args) => report.written.push(pathOf(args[0])));
}
wrap(fs.promises, "writeFile", (args) => report.written.push(pathOf(args[0])));
wrap(fs, "openSync", (args) => (writes(args[1]) ? report.written : report.read).push(pathOf(args[0])));
wrap(fs, "readFileSync", (args) => report.read.push(pathOf(args[0])));

// eslint-disable-next-line @typescript-eslint/no-require-imports -- Module._load is not in the typed "module" API
const Module = require("node:module") as { _load: AnyFunction; _resolveFilename: (request: string, parent: unknown) => string };
const load = Module._load;
Module._load = function (this: unknown, ...args: unknown[]) {
    let resolved: string | undefined;
    try {
        resolved = Module._resolveFilename(String(args[0]), args[1]);
    } catch {
        // not resolvable: let the real loader report it
    }
    if (resolved === programFile) {
        report.programLoaded = true;
        if (process.env.PLAN_PROBE_FAIL) throw new Error(process.env.PLAN_PROBE_FAIL);
    }
    return load.apply(this, args);
};

process.on("exit", () => {
    if (reportFile) writeReport(reportFile, JSON.stringify(report));
});
