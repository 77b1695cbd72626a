// Child processes of the real-cluster harness (etcd, kube-apiserver, the KMS plugin): each in its own
// process group, its output kept in a bounded buffer for error messages, and every one of them killed
// when the test process exits normally, on an uncaught error, or on SIGINT, SIGTERM or SIGHUP. Only a
// SIGKILL of the test process itself escapes this (nothing can run then).

import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../repo";

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
        process.kill(-child.pid, signal);
    } catch {
        child.kill(signal);
    }
}

function installExitHook(): void {
    if (exitHookInstalled) return;
    exitHookInstalled = true;
    // Synchronous: on exit nothing asynchronous runs any more.
    process.on("exit", () => {
        for (const child of running) killGroup(child, "SIGKILL");
    });
    for (const [signal, code] of [
        ["SIGINT", 130],
        ["SIGTERM", 143],
        ["SIGHUP", 129],
    ] as const) {
        process.once(signal, () => {
            for (const child of running) killGroup(child, "SIGKILL");
            process.exit(code);
        });
    }
}

/** A built tool from tools/.bin/<family>/ (`npm run tools` builds them into a cache and links them there). */
export function toolPath(family: string, binary: string): string {
    const file = path.join(REPO_ROOT, "tools", ".bin", family, binary);
    if (!fs.existsSync(file)) {
        throw new Error(`${file} is missing: build the pinned tools with \`npm run tools\` (tools/build.sh), then run the tests again`);
    }
    return file;
}

export interface ManagedProcess {
    readonly name: string;
    readonly child: ChildProcess;
    /** The last 64 KiB of its stdout and stderr, for error messages. */
    output(): string;
    /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
    stop(graceMs?: number): Promise<void>;
    /** Resolves (with the exit code) when it exits. */
    readonly exited: Promise<number | null>;
}

export function startProcess(name: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ManagedProcess {
    installExitHook();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let output = "";
    const keep = (chunk: Buffer) => {
        output = (output + chunk.toString("utf8")).slice(-65536);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<number | null>((resolve) => {
        child.once("exit", (code) => {
            running.delete(child);
            resolve(code);
        });
        child.once("error", (err) => {
            output += `\n${name}: ${err.message}`;
            running.delete(child);
            resolve(null);
        });
    });
    return {
        name,
        child,
        output: () => output,
        exited,
        async stop(graceMs = 5000) {
            if (child.exitCode !== null || child.signalCode !== null || !running.has(child)) return;
            killGroup(child, "SIGTERM");
            const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
            await exited;
            clearTimeout(timer);
        },
    };
}

/** Polls `probe` every `intervalMs` until it returns true; fails after `timeoutMs`, or at once when `process` exits. */
export async function waitFor(
    what: string,
    probe: () => Promise<boolean>,
    options: { timeoutMs: number; intervalMs?: number; process?: ManagedProcess },
): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    let lastError = "";
    for (let attempt = 0; attempt < 100_000; attempt++) {
        if (options.process && (options.process.child.exitCode !== null || options.process.child.signalCode !== null)) {
            throw new Error(`${options.process.name} exited while waiting for ${what}:\n${options.process.output().slice(-4000)}`);
        }
        try {
            if (await probe()) return;
        } catch (err) {
            lastError = (err as Error).message;
        }
        if (Date.now() > deadline) {
            const tail = options.process ? `\n${options.process.name} output:\n${options.process.output().slice(-4000)}` : "";
            throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}${tail}`);
        }
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
    }
    throw new Error(`gave up waiting for ${what}`);
}

/** `count` distinct TCP ports free on loopback right now (the kernel picks them; all held until all are chosen). */
export async function freePorts(count: number): Promise<number[]> {
    const net = await import("node:net");
    const servers = await Promise.all(
        Array.from(
            { length: count },
            () =>
                new Promise<import("node:net").Server>((resolve, reject) => {
                    const server = net.createServer();
                    server.once("error", reject);
                    server.listen(0, "127.0.0.1", () => resolve(server));
                }),
        ),
    );
    const ports = servers.map((server) => (server.address() as { port: number }).port);
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    return ports;
}

export async function freePort(): Promise<number> {
    return (await freePorts(1))[0];
}
