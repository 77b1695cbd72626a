// What the benchmarks measure a process with, shared by the stand-in runs (./bench.ts) and the
// real control plane runs (./realCluster.ts).
import { existsSync, readFileSync } from "node:fs";

// Runs a command, then writes the peak RSS (KiB) of its process tree's largest
// member and its own exit status. Exact: the kernel's high-water mark, not a sample.
export const MAXRSS_WRAPPER = [
    "import resource, subprocess, sys",
    "code = subprocess.call(sys.argv[2:])",
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))",
    "sys.exit(code if code >= 0 else 128 - code)",
].join("\n");

/**
 * The node flags the CLI's shebang passes (`#!/usr/bin/env -S node --flag ...`),
 * so the benchmark runs the same process `reencrypt-secrets` gives a user,
 * whether or not the built entry is executable.
 */
export function nodeFlagsFromShebang(entry: string): string[] {
    const firstLine = readFileSync(entry, "utf8").split("\n", 1)[0];
    const match = /^#!\S*env\s+(?:-S\s+)?node((?:\s+--?[\w=.-]+)*)\s*$/.exec(firstLine);
    return match
        ? match[1]
              .trim()
              .split(/\s+/)
              .filter((flag) => flag !== "")
        : [];
}

export function readRssMiB(file: string): number {
    return existsSync(file) ? Number(readFileSync(file, "utf8")) / 1024 : Number.NaN;
}
