// The stand-in alicloud resource plugin (alicloud 3.108.0) for tests that drive a
// real Pulumi CLI without a cloud account: a ResourceProvider gRPC server
// (./main.ts) that manages KMS keys and instances, RAM roles and policy
// attachments and answers the program's data sources from the Alibaba
// stand-in's account state (../alibabaStandIn), through its control API.
//
// Use: start the stand-in, install the plugin into a PULUMI_HOME once, and run
// the CLI with PULUMI_HOME and alicloudPluginEnv(standIn) in its environment:
//
//   const standIn = await startAlibabaStandIn({ regionId: "cn-hangzhou" });
//   await installStandInAlicloudPlugin(pulumiHome, PULUMI_BIN);
//   spawn(PULUMI_BIN, ["up", ...], { env: { ...env, PULUMI_HOME: pulumiHome, ...alicloudPluginEnv(standIn) } });

import { ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { AlibabaStandIn } from "../alibabaStandIn/types";
import { REPO_ROOT } from "../repo";
import { CONTROL_ENV } from "./control";
import { PLUGIN_VERSION } from "./server";
import { killProcessGroup, readPluginPort } from "../pluginProcess";

export { CONTROL_ENV, PLUGIN_VERSION };

/** The plugin's entry point (TypeScript, run with ts-node in transpile-only mode: nothing is compiled). */
export const PLUGIN_MAIN = path.join(__dirname, "main.ts");
/** The Pulumi CLI tools/build.sh builds (`bash tools/build.sh pulumi`). */
export const PULUMI_BIN = path.join(REPO_ROOT, "tools", ".bin", "pulumi", "pulumi");

/** The environment the plugin needs (set it on the CLI, which passes it on): where the stand-in's control API is. */
export function alicloudPluginEnv(standIn: Pick<AlibabaStandIn, "controlEndpoint">): Record<string, string> {
    return { [CONTROL_ENV]: standIn.controlEndpoint };
}

function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The plugin executable: a shell script that runs main.ts under this node with ts-node's transpile-only hook,
 * all by absolute path (the CLI copies the script into PULUMI_HOME and the engine starts it in the program's
 * directory, so nothing may depend on where it lies or runs).
 */
export function launcherScript(): string {
    const nodeModules = path.join(REPO_ROOT, "node_modules");
    return [
        "#!/bin/sh",
        "# Stand-in alicloud resource plugin (test/support/alicloudPlugin/main.ts), written by installStandInAlicloudPlugin.",
        `NODE_PATH=${shellQuote(nodeModules)}`,
        `TS_NODE_PROJECT=${shellQuote(path.join(REPO_ROOT, "tsconfig.json"))}`,
        "export NODE_PATH TS_NODE_PROJECT",
        `exec ${shellQuote(process.execPath)} -r ${shellQuote(path.join(nodeModules, "ts-node", "register", "transpile-only.js"))} ${shellQuote(PLUGIN_MAIN)} "$@"`,
        "",
    ].join("\n");
}

/** Writes the launcher to `file` (mode 0755) and returns its path. */
export function writeLauncher(file: string): string {
    fs.writeFileSync(file, launcherScript(), { mode: 0o755 });
    return file;
}

/** The environment of a `pulumi` run that must not reach the network for plugins or updates. */
export function offlinePulumiEnv(pulumiHome: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    return { ...base, PULUMI_HOME: pulumiHome, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };
}

/**
 * Installs the stand-in as resource plugin alicloud 3.108.0 into `pulumiHome`:
 * `pulumi plugin install resource alicloud 3.108.0 --file <launcher> --reinstall`. The CLI copies the script
 * to <pulumiHome>/plugins/resource-alicloud-v3.108.0/pulumi-resource-alicloud (executable).
 * Returns the installed plugin's path.
 */
export async function installStandInAlicloudPlugin(pulumiHome: string, pulumiBin: string = PULUMI_BIN): Promise<string> {
    if (!fs.existsSync(pulumiBin)) throw new Error(`no Pulumi CLI at ${pulumiBin}; build it with: bash tools/build.sh pulumi`);
    fs.mkdirSync(pulumiHome, { recursive: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alicloud-plugin-"));
    try {
        const launcher = writeLauncher(path.join(dir, "pulumi-resource-alicloud"));
        await promisify(execFile)(pulumiBin, ["plugin", "install", "resource", "alicloud", PLUGIN_VERSION, "--file", launcher, "--reinstall"], {
            env: offlinePulumiEnv(pulumiHome),
            timeout: 120_000,
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const installed = path.join(pulumiHome, "plugins", `resource-alicloud-v${PLUGIN_VERSION}`, "pulumi-resource-alicloud");
    if (!fs.existsSync(installed)) throw new Error(`pulumi plugin install reported success, but ${installed} does not exist`);
    return installed;
}

export interface PluginProcess {
    /** The gRPC port the plugin printed: 127.0.0.1:<port>. */
    port: number;
    /** What the plugin wrote on stderr so far. */
    stderr(): string;
    close(): Promise<void>;
}

/**
 * Starts a plugin executable as the engine does (an argument for the engine's address, which the stand-in does
 * not need) and reads the port from the first stdout line.
 */
export async function startPluginProcess(executable: string, env: NodeJS.ProcessEnv, cwd = os.tmpdir(), startTimeoutMs = 30_000): Promise<PluginProcess> {
    const child: ChildProcess = spawn(executable, ["127.0.0.1:1"], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk.toString()));
    const port = await readPluginPort(child, "plugin", () => stderr, startTimeoutMs);
    return {
        port,
        stderr: () => stderr,
        close: () => killProcessGroup(child),
    };
}
