// The offline plan's engine: runs the Pulumi program under mocks (no CLI, no
// credentials, no network) as a PREVIEW, and records every resource registration
// exactly as the engine would receive it: type, name, parent, protect,
// dependencies and the serialized inputs (secrets and unknowns still marked).
//
// As in `pulumi preview`, what does not exist yet has no ID and no outputs beyond
// its inputs: a new key's ID reaches ClusterEncryption as unknown, so the policy
// pack sees the dependency path it sees for a new stack. Imported resources
// (opts.import) and lookups (data sources) are known.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadYamlSafely, YamlDocumentError, YamlLimits } from "../components/files";
import { readTextFileWithin } from "../components/files";
import {
    specialResourceSig as RESOURCE_SIG,
    specialSecretSig as SECRET_SIG,
    specialSigKey as SIG_KEY,
    unknownValue as UNKNOWN,
} from "@pulumi/pulumi/runtime/rpc";
import type { PlannedResource as AnalyzedResource } from "./policyClient";

/** A planned registration: what analyzers receive (policyClient's shape) plus what only the plan shows. */
export interface PlannedResource extends AnalyzedResource {
    /** The resource option retainOnDelete: deleting it from the stack leaves the cloud resource alone. */
    retainOnDelete?: boolean;
    /** The ID of an existing cloud resource the stack adopts (resource option `import`). */
    importId?: string;
    /** True for resources the program reads (`Resource.get`) rather than manages. */
    read?: boolean;
    /** Inputs with secrets shown as "[secret]" and unknowns as "[unknown]": safe to print. */
    props: Record<string, unknown>;
    /** Inputs in the engine's wire form (secret and unknown markers), as analyzers receive them. Never print. */
    wireProps: Record<string, unknown>;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
}

export type InvokeAnswer = Record<string, unknown> | ((args: Record<string, unknown>) => Record<string, unknown>);

export interface Plan {
    stack: string;
    project: string;
    resources: PlannedResource[];
    /** What the program warned about (pulumi.log.warn), e.g. what adopting a key would change. */
    warnings: string[];
}

/** A stack file or Pulumi.yaml the plan cannot use; the message names the file, never its content. */
export class StackFileError extends Error {}

/**
 * What the plan accepts from Pulumi.yaml and a stack file. A real stack file is a
 * few KB with a few dozen values; these leave room for hand-written anchors and
 * long lists while refusing an oversized file or an alias bomb in milliseconds.
 */
export const STACK_FILE_LIMITS: YamlLimits = { maxBytes: 1024 * 1024, maxAliases: 1000, maxNodes: 100_000 };

/**
 * Reads and parses a user's YAML file within `limits`: the size is checked before
 * anything is read, then the text goes through loadYamlSafely (alias and
 * expansion caps). Every refusal is a StackFileError naming the file, never its content.
 */
export function readYamlFile(file: string, what: string, limits: YamlLimits = STACK_FILE_LIMITS): unknown {
    const text = readTextFileWithin(file, limits.maxBytes, what, (message) => new StackFileError(message));
    try {
        return loadYamlSafely(text, `the ${what} ${file}`, limits);
    } catch (e) {
        if (e instanceof YamlDocumentError) throw new StackFileError(e.message);
        throw e;
    }
}

function isMapping(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface StackConfig {
    /** "namespace:key" → value as the program sees it (strings; objects as JSON). */
    config: Record<string, string>;
    secretKeys: string[];
}

/** Reads Pulumi.yaml's project name. */
export function readProjectName(projectDir: string): string {
    const file = path.join(projectDir, "Pulumi.yaml");
    const doc = readYamlFile(file, "project file");
    const name = isMapping(doc) ? doc.name : undefined;
    if (typeof name !== "string" || !name) throw new StackFileError(`${file}: no project name`);
    return name;
}

/** Reads Pulumi.<stack>.yaml the way the CLI does: bare keys belong to the project; secure values stay opaque. */
export function readStackConfig(projectDir: string, stack: string, project: string, configFile?: string): StackConfig {
    const file = configFile ?? path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const known = fs
            .readdirSync(projectDir)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter((s): s is string => !!s);
        throw new StackFileError(`no stack file ${file}; create it (see Pulumi.dev.yaml) or pick one of: ${known.join(", ") || "(none)"}`);
    }
    const doc = readYamlFile(file, "stack file");
    if (doc !== undefined && doc !== null && !isMapping(doc)) {
        throw new StackFileError(`${file} must be a YAML mapping with a \`config:\` section (see Pulumi.dev.yaml)`);
    }
    const section = isMapping(doc) ? doc.config : undefined;
    if (section !== undefined && section !== null && !isMapping(section)) {
        throw new StackFileError(`${file}: \`config:\` must be a mapping of keys to values (see Pulumi.dev.yaml)`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of isMapping(section) ? Object.entries(section) : []) {
        const fullKey = key.includes(":") ? key : `${project}:${key}`;
        if (value && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
            // Encrypted with the stack's secrets provider, which only the CLI can open.
            config[fullKey] = "[secret]";
            secretKeys.push(fullKey);
        } else {
            config[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { config, secretKeys };
}

/** Replaces wire markers with readable values; secrets never print. */
export function readableProps(value: unknown): unknown {
    if (value === UNKNOWN) return "[unknown]";
    if (Array.isArray(value)) return value.map(readableProps);
    if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (o[SIG_KEY] === SECRET_SIG) return "[secret]";
        if (o[SIG_KEY] === RESOURCE_SIG) return o["urn"];
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o)) {
            // The serialized dynamic provider is code, thousands of lines: name it, don't print it.
            out[k] = k === "__provider" && typeof v === "string" ? `[serialized provider, ${v.length} bytes]` : readableProps(v);
        }
        return out;
    }
    return value;
}

/**
 * What a preview knows of a resource: a new one echoes its inputs and has no ID (unknown);
 * an imported one has its import ID.
 */
function previewOutputs(inputs: Record<string, unknown>): { id: string | undefined; state: Record<string, unknown> } {
    const { id, ...state } = inputs;
    return { id: typeof id === "string" ? id : undefined, state };
}

/** Plausible outputs for planned resources, for callers that want an `up` with every ID known (preview: false). */
function plannedOutputs(type: string, name: string, inputs: Record<string, unknown>, region: string): { id: string; state: Record<string, unknown> } {
    const suffix = Buffer.from(name).toString("hex").slice(-12).padStart(12, "0");
    switch (type) {
        case "alicloud:kms/instance:Instance":
            return { id: `kst-plan${suffix}`, state: { ...inputs } };
        case "alicloud:kms/key:Key": {
            const id = (inputs["id"] as string | undefined) ?? `key-plan${suffix}`;
            return { id, state: { ...inputs, arn: `acs:kms:${region}:000000000000:key/${id}`, primaryKeyVersion: "[planned]" } };
        }
        case "pulumi-nodejs:dynamic/ask:ClusterEncryption":
            return { id: String(inputs["clusterId"]), state: { ...inputs, encryptionEnabled: true, clusterName: "[planned]", enabledAt: "[planned]" } };
        case "pulumi-nodejs:dynamic/ask:SecretRotation":
            return { id: `${inputs["clusterId"]}/secret-rotation`, state: { ...inputs, keyVersion: "[planned]", verified: true, verifiedAt: "[planned]" } };
        case "alicloud:ram/role:Role":
            return { id: String(inputs["roleName"] ?? name), state: { ...inputs } };
        default:
            return { id: `${name}-id`, state: { ...inputs } };
    }
}

type RegisterRequest = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProtect?(): boolean;
    getRetainondelete?(): boolean;
    getObject?(): { toJavaScript(): Record<string, unknown> };
    getProperties?(): { toJavaScript(): Record<string, unknown> };
    getDependenciesList?(): string[];
    getPropertydependenciesMap?(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
    getId?(): string;
    getImportid?(): string;
};

/**
 * A URN as the engine builds it: the parent's whole qualified type, then this type; a child of the root Stack
 * resource has no parent type (pulumi/pulumi pkg/resource/deploy/step_generator.go, generateURN). The SDK's mock
 * monitor keeps only the parent's last type, so the plan installs this rule as the mock monitor's `newUrn`: the
 * URNs the program sees (parents, dependencies, references) are then the engine's too. An end-to-end test
 * compares the plan's URNs with the real CLI's preview.
 */
function urnOf(stack: string, project: string, parent: string, type: string, name: string): string {
    const parentType = parent ? parent.split("::")[2] : "";
    const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/**
 * Runs `program` (the module exported by index.ts) under mocks with the stack's
 * config and returns what `pulumi up` would register. Config errors surface as
 * the program's own error (a pulumi.RunError for invalid config).
 */
export async function planProgram(options: {
    program: () => Promise<unknown>;
    project: string;
    stack: string;
    config: StackConfig;
    /** Answers for invokes (data sources): token → result, or a function of the invoke's arguments. */
    invokes?: Record<string, InvokeAnswer>;
    /** Receives registrations as they happen; lets a caller see what was registered before an error. */
    sink?: PlannedResource[];
    /** Run as `pulumi preview` (default): new resources' IDs and outputs are unknown. false: as an `up` with made-up IDs. */
    preview?: boolean;
    /** The Pulumi organization the program sees (pulumi.getOrganization()); default "organization". */
    organization?: string;
}): Promise<Plan> {
    const preview = options.preview ?? true;
    const { project, stack } = options;
    const region = options.config.config["alicloud:region"] ?? "";
    const invokes: Record<string, InvokeAnswer> = {
        "alicloud:ram/getRoles:getRoles": { names: [], roles: [], ids: [] },
        "alicloud:cs/getClusterCredential:getClusterCredential": {
            kubeConfig: "[planned]",
            certificateAuthority: { clusterCert: "[offline: the cluster CA]" },
        },
        // Offline, an adopted key is seen by ID only: its settings are unknown, so the review names every
        // setting the import-then-update enforces instead of guessing what the key has.
        "alicloud:kms/getKeys:getKeys": (args) => {
            const ids = Array.isArray(args.ids) ? (args.ids as string[]) : [];
            return { ids, keys: ids.map((id) => ({ id, keyId: id })) };
        },
        // Offline, a cluster's endpoints are placeholders: auto resolves to the public one, and no CA is known.
        "alicloud:cs/getServerlessKubernetesClusters:getServerlessKubernetesClusters": (args) => {
            const ids = Array.isArray(args.ids) ? (args.ids as string[]) : [];
            return {
                ids,
                clusters: ids.map((id) => ({
                    id,
                    connections: { apiServerInternet: `https://${id}.public.offline:6443`, apiServerIntranet: `https://${id}.intranet.offline:6443` },
                })),
            };
        },
        "alicloud:cs/getManagedKubernetesClusters:getManagedKubernetesClusters": { ids: [], clusters: [] },
        // Offline, a vSwitch is seen by ID only: its zone is unknown, so the zone pairing is checked at preview instead.
        "alicloud:vpc/getSwitches:getSwitches": (args) => {
            const ids = Array.isArray(args.ids) ? (args.ids as string[]) : [];
            return { ids, vswitches: ids.map((id) => ({ id, vswitchId: id })) };
        },
        ...options.invokes,
    };
    pulumi.runtime.setAllConfig(options.config.config, options.config.secretKeys);
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                const inputs = { ...args.inputs, ...(args.id ? { id: args.id } : {}) };
                return preview ? previewOutputs(inputs) : plannedOutputs(args.type, args.name, inputs, region);
            },
            call: (args) => {
                const answer = invokes[args.token];
                if (!answer) throw new Error(`the offline plan has no answer for data source ${args.token}`);
                return typeof answer === "function" ? answer(args.inputs as Record<string, unknown>) : answer;
            },
        },
        project,
        stack,
        preview,
        // What the CLI reports for a self-managed (DIY) backend; Pulumi Cloud reports the stack's organization.
        options.organization ?? "organization",
    );

    const resources: PlannedResource[] = options.sink ?? [];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- internal SDK module (no public export) holding the mock monitor
    const settings = require("@pulumi/pulumi/runtime/settings") as {
        getMonitor(): Record<string, (req: RegisterRequest, cb: unknown) => unknown>;
        waitForRPCs(): Promise<void>;
    };
    const monitor = settings.getMonitor();
    monitor.newUrn = ((parent: string, type: string, name: string) => urnOf(stack, project, parent, type, name)) as never;
    const record = (req: RegisterRequest, read: boolean) => {
        const parent = req.getParent() || undefined;
        const raw = (read ? req.getProperties?.() : req.getObject?.())?.toJavaScript() ?? {};
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap?.().forEach((v, k) => (propertyDependencies[k] = v.getUrnsList()));
        resources.push({
            urn: urnOf(stack, project, parent ?? "", req.getType(), req.getName()),
            type: req.getType(),
            name: req.getName(),
            parent,
            protect: !!req.getProtect?.(),
            ...(req.getRetainondelete?.() ? { retainOnDelete: true } : {}),
            ...(req.getImportid?.() ? { importId: req.getImportid!() } : {}),
            ...(read ? { read: true } : {}),
            props: readableProps(raw) as Record<string, unknown>,
            wireProps: raw,
            dependencies: req.getDependenciesList?.() ?? [],
            propertyDependencies,
        });
    };
    for (const [method, read] of [
        ["registerResource", false],
        ["readResource", true],
    ] as const) {
        const original = monitor[method].bind(monitor);
        monitor[method] = (req: RegisterRequest, cb: unknown) => {
            record(req, read);
            return original(req, cb);
        };
    }

    // Without an engine, pulumi.log.warn writes "warning: [runtime] ..." to console.warn: collect those.
    const warnings: string[] = [];
    const originalWarn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = args.map(String).join(" ");
        const runtimeWarning = /^warning: \[runtime\] (.*)$/s.exec(text);
        if (runtimeWarning) warnings.push(runtimeWarning[1]);
        else originalWarn(...args);
    };
    try {
        await pulumi.runtime.runInPulumiStack(options.program);
        // The stack's own outputs are still being registered: let them land before anyone exits.
        await settings.waitForRPCs();
    } finally {
        console.warn = originalWarn;
    }
    return { stack, project, resources, warnings };
}
