// The real Pulumi CLI for end-to-end tests, with nothing downloaded by construction: the CLI built by
// `npm run tools` (tools/pulumi, v3.248.0), a temporary PULUMI_HOME and file backend, automatic plugin
// acquisition and update checks off, and on PATH beside `pulumi` the bundled plugins it looks for:
// - pulumi-resource-pulumi-nodejs (dynamic providers), the script @pulumi/pulumi ships;
// - pulumi-analyzer-policy-nodejs (policy packs): the Node language host cannot be had here (the Go
//   module proxy refuses sdk/nodejs/cmd/pulumi-language-nodejs), and without it the engine falls back
//   to this analyzer plugin, started in the pack's directory with "<engine address> ." — a two-line
//   script of ours that runs @pulumi/pulumi/cmd/run-policy-pack, as the CLI's release archive would.
// Programs run as Automation API inline programs, the SDK serving the language runtime itself.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { toolPath } from "../realCluster/processes";
import { REPO_ROOT } from "../repo";

export interface PulumiSandbox {
    readonly dir: string;
    readonly home: string;
    readonly backendUrl: string;
    readonly env: Record<string, string>;
    readonly command: PulumiCommand;
    /** A stack of `projectName` whose program is `program`, in this sandbox's backend. */
    stack(projectName: string, stackName: string, program: PulumiFn, workDir?: string): Promise<Stack>;
    /** A copy of the policy pack (its own files, this checkout's node_modules) for --policy-pack. */
    policyPackDir(): string;
    dispose(): void;
}

function executable(file: string, text: string): string {
    fs.writeFileSync(file, text, { mode: 0o755 });
    return file;
}

export async function pulumiSandbox(extraEnv: Record<string, string> = {}): Promise<PulumiSandbox> {
    const pulumiBin = toolPath("pulumi", "pulumi");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.symlinkSync(pulumiBin, path.join(bin, "pulumi"));
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"), path.join(bin, "pulumi-resource-pulumi-nodejs"));
    executable(
        path.join(bin, "pulumi-analyzer-policy-nodejs"),
        ["#!/bin/sh", `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(require.resolve("@pulumi/pulumi/cmd/run-policy-pack"))} "$@"`, ""].join("\n"),
    );
    const home = path.join(dir, "home");
    const state = path.join(dir, "state");
    fs.mkdirSync(home);
    fs.mkdirSync(state);
    const env: Record<string, string> = {
        PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        HOME: home,
        PULUMI_HOME: home,
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_CONFIRMATIONS: "true",
        NODE_PATH: path.join(REPO_ROOT, "node_modules"),
        ...extraEnv,
    };
    const command = await PulumiCommand.get({ root: dir });
    let packDir: string | undefined;
    return {
        dir,
        home,
        backendUrl: env.PULUMI_BACKEND_URL,
        env,
        command,
        async stack(projectName, stackName, program, workDir = REPO_ROOT) {
            return LocalWorkspace.createOrSelectStack(
                { projectName, stackName, program },
                {
                    pulumiCommand: command,
                    workDir,
                    envVars: env,
                    projectSettings: { name: projectName, runtime: "nodejs", backend: { url: env.PULUMI_BACKEND_URL } },
                },
            );
        },
        policyPackDir() {
            if (!packDir) {
                packDir = path.join(dir, "policy");
                fs.cpSync(path.join(REPO_ROOT, "policy"), packDir, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
                fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(packDir, "node_modules"), "dir");
            }
            return packDir;
        },
        dispose() {
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
