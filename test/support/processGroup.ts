import type { ChildProcess } from "node:child_process";

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
