// Child processes that speak Pulumi's plugin handshake (the provider host, plugins): the first stdout
// line is the gRPC port; each runs in its own process group, so closing it ends everything it started.
import type { ChildProcess } from "node:child_process";

/** The port a plugin prints as its first stdout line; fails on another first line, on exit, or after `timeoutMs`. */
export function readPluginPort(child: ChildProcess, what: string, stderr: () => string, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`${what} did not print its port within ${timeoutMs} ms; stderr:\n${stderr()}`)), timeoutMs);
        child.stdout!.on("data", (chunk) => {
            out += chunk.toString();
            const line = /^(\d+)\s*\n/.exec(out);
            if (line) {
                clearTimeout(timer);
                resolve(Number(line[1]));
            } else if (out.includes("\n")) {
                clearTimeout(timer);
                reject(new Error(`${what}'s first stdout line is not a port: ${JSON.stringify(out)}; stderr:\n${stderr()}`));
            }
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`${what} exited with ${code} before printing its port; stderr:\n${stderr()}`));
        });
    });
}

/** Kills a child started with `detached: true` together with everything it started, and waits for it to exit. */
export async function killProcessGroup(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
        process.kill(-child.pid!, "SIGKILL");
    } catch {
        child.kill("SIGKILL");
    }
    await exited;
}
