// The offline plan: `npm run plan -- --stack <name> [--json]`.
// Reads Pulumi.<name>.yaml as the CLI does, runs index.ts under Pulumi mocks as a
// preview (no CLI, no credentials, no network; what does not exist yet stays
// unknown) and prints what `pulumi up` would register.
// Exit 0 for a valid stack, 1 for a mandatory policy violation, 2 for a config or
// usage error or anything else that went wrong (one line on stderr; PLAN_DEBUG=1
// adds the stack trace). Every file it reads from the user is size-capped, and
// its YAML goes through components/files/safeYaml (alias and expansion caps).
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { planProgram, readProjectName, readStackConfig, StackFileError, Plan, PlannedResource } from "./planner";
import { formatVerdicts, mandatoryViolations, runPolicyPack, PolicyPackConfig, PolicyVerdicts } from "./policyClient";
import { PolicyConfigError, readPolicyConfigFile, summarizePackPolicies } from "./policyConfig";
import { POLICY_PACK_NAME, policies as packPolicies } from "../policy/policies";

const USAGE =
    "usage: npm run plan -- --stack <name> [--json] [--config-file PATH] [--policy-config PATH.json] [--no-policy]\n" +
    "  exit 0: valid stack, no mandatory policy violation; 1: mandatory violations; 2: bad config or usage, or any other failure";

export function formatTable(plan: Plan): string {
    const rows = plan.resources.map((r) => [
        r.protect ? "protect" : r.read ? "read" : "",
        r.type,
        r.name,
        r.parent ? r.parent.split("::").pop()! : "",
        summarize(r),
    ]);
    const header = ["", "TYPE", "NAME", "PARENT", "KEY SETTINGS"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [`Stack ${plan.stack} (project ${plan.project}): ${plan.resources.length} resources would be registered`, "", line(header), ...rows.map(line)].join(
        "\n",
    );
}

const SHOWN: Record<string, string[]> = {
    "alicloud:kms/instance:Instance": ["paymentType", "productVersion", "vpcId", "deletionProtection"],
    "alicloud:kms/key:Key": ["keySpec", "keyUsage", "automaticRotation", "rotationInterval", "deletionProtection", "status"],
    "alicloud:ram/role:Role": ["roleName"],
    "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": ["policyName", "roleName"],
    "alicloud:ram/userPolicyAttachment:UserPolicyAttachment": ["policyName", "userName"],
    "pulumi-nodejs:dynamic/ask:ClusterEncryption": ["clusterId", "regionId"],
    "pulumi-nodejs:dynamic/ask:SecretRotation": ["annotationKey", "concurrency", "qps"],
};

function summarize(r: PlannedResource): string {
    const keys = SHOWN[r.type] ?? [];
    return keys
        .filter((k) => r.props[k] !== undefined)
        .map((k) => `${k}=${typeof r.props[k] === "string" ? r.props[k] : JSON.stringify(r.props[k])}`)
        .join(" ");
}

export async function main(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
    let args;
    try {
        args = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s" },
                json: { type: "boolean" },
                "config-file": { type: "string" },
                "policy-config": { type: "string" },
                "no-policy": { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
        }).values;
    } catch (e) {
        err.write(`${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (args.help) {
        out.write(`${USAGE}\n`);
        return 0;
    }
    if (!args.stack) {
        err.write(`--stack is required (the stack file Pulumi.<name>.yaml to plan)\n${USAGE}\n`);
        return 2;
    }
    const stack = args.stack;
    try {
        return await planStack(stack, args, out, err);
    } catch (e) {
        // Whatever else went wrong is not a verdict (exit 1 means a mandatory violation): a one-line reason, exit 2.
        const debug = process.env.PLAN_DEBUG === "1";
        err.write(`plan: stack ${stack}: ${errorLine(e)}${debug ? "" : " (PLAN_DEBUG=1 prints the stack trace)"}\n`);
        if (debug) err.write(`${(e as Error)?.stack ?? String(e)}\n`);
        return 2;
    }
}

async function planStack(
    stack: string,
    args: { json?: boolean; "config-file"?: string; "policy-config"?: string; "no-policy"?: boolean },
    out: NodeJS.WritableStream,
    err: NodeJS.WritableStream,
): Promise<number> {
    const projectDir = path.resolve(__dirname, "..");
    // The pack's config is checked first, against the pack's own policy list: nothing runs on a config it would refuse.
    let policyConfig: PolicyPackConfig | undefined;
    if (!args["no-policy"] && args["policy-config"]) {
        try {
            policyConfig = readPolicyConfigFile(args["policy-config"], POLICY_PACK_NAME, summarizePackPolicies(packPolicies));
        } catch (e) {
            if (!(e instanceof PolicyConfigError)) throw e;
            for (const problem of e.problems) err.write(`plan: --policy-config ${args["policy-config"]}: ${problem}\n`);
            return 2;
        }
    }
    let plan: Plan;
    try {
        const project = readProjectName(projectDir);
        const config = readStackConfig(projectDir, stack, project, args["config-file"]);
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, loaded at run time after the mocks are set
        const program = require(path.join(projectDir, "index.ts")) as () => Promise<unknown>;
        plan = await planProgram({ program, project, stack, config });
    } catch (e) {
        if (e instanceof StackFileError || pulumi.RunError.isInstance(e)) {
            err.write(`plan: stack ${stack}: ${(e as Error).message}\n`);
            return 2;
        }
        throw e;
    }
    let policy: PolicyVerdicts | undefined;
    if (!args["no-policy"]) {
        // Through the pack's real gRPC Analyzer server, as `pulumi preview --policy-pack policy` would.
        // Type-checking the pack is `npm test`'s job (tsc); here its compile only has to be quick.
        policy = await runPolicyPack(
            plan.resources.map((r) => ({ ...r, props: r.wireProps })),
            { config: policyConfig, typeCheck: false },
        );
    }
    if (args.json) {
        out.write(`${JSON.stringify({ stack: plan.stack, resources: plan.resources.map(publicView), ...(policy ? { policy } : {}) }, null, 2)}\n`);
        // The JSON shape stays as documented; warnings go where a preview prints them.
        for (const warning of plan.warnings) err.write(`warning: ${warning}\n`);
    } else {
        out.write(`${formatTable(plan)}\n`);
        if (plan.warnings.length > 0) out.write(`\nWarnings:\n${plan.warnings.map((w) => `  - ${w}`).join("\n")}\n`);
        if (policy) out.write(`\n${formatVerdicts(policy)}\n`);
    }
    const mandatory = policy ? mandatoryViolations(policy).length : 0;
    if (mandatory > 0) {
        err.write(`plan: ${mandatory} mandatory policy violation(s) in stack ${plan.stack}: \`pulumi up\` with the pack would be refused\n`);
        return 1;
    }
    return 0;
}

/** An error as one short line: its first line, bounded (a message can carry a whole document). */
export function errorLine(e: unknown): string {
    const text = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
    const first = text.split("\n", 1)[0].trim() || "unknown error";
    return first.length > 300 ? `${first.slice(0, 300)}...` : first;
}

/** The documented JSON shape of a planned resource. */
function publicView(r: PlannedResource) {
    return { urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, protect: r.protect, props: r.props };
}

if (require.main === module) {
    main(process.argv.slice(2), process.stdout, process.stderr).then(
        (code) => process.exit(code),
        // main reports its own errors; this is the last resort, and still not "a violation" (1).
        (e) => {
            process.stderr.write(`plan: ${errorLine(e)}\n`);
            if (process.env.PLAN_DEBUG === "1") process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
            process.exit(2);
        },
    );
}
