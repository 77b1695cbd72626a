// Runs the policy pack the way the Pulumi engine does, without the Pulumi CLI:
// start it through @pulumi/pulumi/cmd/run-policy-pack (cwd = the pack's
// directory, TypeScript compiled by ts-node), read the port it prints, and
// speak the Analyzer gRPC protocol to it: GetAnalyzerInfo, Configure (when
// config is given), Analyze per resource (inputs), AnalyzeStack once (the
// whole stack). The offline plan and the pack's protocol tests use this.
//
// Size: about 500 lines, on purpose: the pack's gRPC protocol (start, Configure, Analyze, AnalyzeStack, stop) and the verdict formatting in one client shared by the plan and the pack tests.

import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { assertPolicyConfig, EnforcementLevel, isEnforcementLevel, PolicyPackConfig, PolicySummary } from "./policyConfig";

export type { EnforcementLevel, PolicyPackConfig, PolicySummary };

/** A resource as the plan knows it: the fields the engine sends to analyzers. */
export interface PlannedResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    protect: boolean;
    props: Record<string, unknown>;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
}

export interface PolicyViolation {
    policy: string;
    level: EnforcementLevel;
    message: string;
    urn?: string;
}

export interface PolicyVerdicts {
    pack: string;
    violations: PolicyViolation[];
}

export interface PolicyPackOptions {
    /** The pack's directory (PulumiPolicy.yaml, package.json). Default: this project's policy/. */
    packDir?: string;
    config?: PolicyPackConfig;
    /** How long the pack may take to compile and print its port. Default 120 s. */
    startTimeoutMs?: number;
    /**
     * true (default): exactly the CLI's path, where run-policy-pack has ts-node
     * type-check the pack (about 6 s of CPU, mostly type-checking @pulumi/*
     * declarations). false: the same runner, cwd and arguments, but ts-node only
     * transpiles (about 1.5 s of CPU); for callers whose build already
     * type-checks policy/ (`npm test` runs tsc over it).
     */
    typeCheck?: boolean;
}

/** Pulumi's own wire markers (sdk/nodejs/runtime/rpc.ts): a value not known until the update runs, the special-value key, a secret. */
import { specialSecretSig as SECRET_SIG, specialSigKey as SPECIAL_SIG_KEY, unknownValue as UNKNOWN_VALUE } from "@pulumi/pulumi/runtime/rpc";
export { SECRET_SIG, SPECIAL_SIG_KEY, UNKNOWN_VALUE };

/** The engine's wire form of a secret; @pulumi/policy hands policies the plain value. */
export function secretValue(value: unknown): Record<string, unknown> {
    return { [SPECIAL_SIG_KEY]: SECRET_SIG, value };
}

export const DEFAULT_PACK_DIR = path.resolve(__dirname, "..", "policy");
const DEFAULT_START_TIMEOUT_MS = 120_000;
const CALL_TIMEOUT_MS = 60_000;
// run-policy-pack takes "<engine-address> <program>" like the CLI passes them and
// discards the address; a policy pack never dials the engine.
const NO_ENGINE_ADDRESS = "127.0.0.1:0";

// Runs run-policy-pack unchanged, after making its `tsn.register({ typeCheck:
// true, ... })` transpile only. Patches the ts-node instance run-policy-pack
// itself resolves (from @pulumi/pulumi's directory); when that is not
// resolvable, run-policy-pack uses its vendored ts-node and type-checks as usual.
// With -e, argv is [node, runner, engine-address, program]: what the runner reads.
const TRANSPILE_ONLY_BOOTSTRAP = `
const path = require("node:path");
const runner = process.argv[1];
try {
    const tsnode = require(require.resolve("ts-node", { paths: [path.dirname(runner)] }));
    const register = tsnode.register;
    tsnode.register = (opts) => register({ ...opts, typeCheck: false, transpileOnly: true });
} catch (err) {}
require(runner);
`;

const LEVEL_NAMES: Record<number, EnforcementLevel> = {
    [analyzer.EnforcementLevel.ADVISORY]: "advisory",
    [analyzer.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzer.EnforcementLevel.DISABLED]: "disabled",
    [analyzer.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_CODES: Record<EnforcementLevel, analyzer.EnforcementLevel> = {
    advisory: analyzer.EnforcementLevel.ADVISORY,
    mandatory: analyzer.EnforcementLevel.MANDATORY,
    disabled: analyzer.EnforcementLevel.DISABLED,
    remediate: analyzer.EnforcementLevel.REMEDIATE,
};

/** A running pack. Reuse it for several stacks to pay the start-up compile once. */
export interface PolicyPackSession {
    readonly pack: string;
    readonly version: string;
    readonly policies: readonly PolicySummary[];
    /** Milliseconds from spawn to the printed port (mostly ts-node compiling the pack). */
    readonly startupMs: number;
    evaluate(resources: readonly PlannedResource[], config?: PolicyPackConfig): Promise<PolicyVerdicts>;
    close(): Promise<void>;
}

export async function runPolicyPack(resources: readonly PlannedResource[], options: PolicyPackOptions = {}): Promise<PolicyVerdicts> {
    const session = await startPolicyPack(options);
    try {
        return await session.evaluate(resources, options.config);
    } finally {
        await session.close();
    }
}

export async function startPolicyPack(options: Omit<PolicyPackOptions, "config"> = {}): Promise<PolicyPackSession> {
    const packDir = path.resolve(options.packDir ?? DEFAULT_PACK_DIR);
    const runner = locateRunner(packDir);
    const started = Date.now();
    const args = options.typeCheck === false ? ["-e", TRANSPILE_ONLY_BOOTSTRAP, runner, NO_ENGINE_ADDRESS, "."] : [runner, NO_ENGINE_ADDRESS, "."];
    const child = spawn(process.execPath, args, {
        cwd: packDir,
        env: packEnvironment(process.env),
        stdio: ["ignore", "pipe", "pipe"],
    });
    // A caller that exits without close() must not leave the server running.
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => process.off("exit", killOnExit));
    let client: analyzerRpc.AnalyzerClient | undefined;
    try {
        const port = await readPort(child, packDir, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
        const startupMs = Date.now() - started;
        const connected = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        client = connected;
        const info = await unary<Empty, analyzer.AnalyzerInfo>(
            (req, opts, cb) => connected.getAnalyzerInfo(req, new grpc.Metadata(), opts, cb),
            new Empty(),
            `GetAnalyzerInfo on the policy pack in ${packDir}`,
        );
        return new Session(connected, child, info, startupMs);
    } catch (err) {
        client?.close();
        await stopChild(child);
        throw err;
    }
}

class Session implements PolicyPackSession {
    readonly pack: string;
    readonly version: string;
    readonly policies: readonly PolicySummary[];
    private configured = false;
    private closed = false;

    constructor(
        private readonly client: analyzerRpc.AnalyzerClient,
        private readonly child: ChildProcess,
        info: analyzer.AnalyzerInfo,
        readonly startupMs: number,
    ) {
        this.pack = info.getName();
        this.version = info.getVersion();
        this.policies = info.getPoliciesList().map(summarizePolicy);
    }

    async evaluate(resources: readonly PlannedResource[], config?: PolicyPackConfig): Promise<PolicyVerdicts> {
        if (this.closed) throw new Error(`policy pack "${this.pack}" session is closed; start a new one`);
        if (config !== undefined || this.configured) {
            // Configure replaces the pack's whole config, so a session that was
            // configured before goes back to the defaults when given none.
            const request = buildConfigureRequest(this.pack, this.policies, config ?? {});
            await unary<analyzer.ConfigureAnalyzerRequest, Empty>(
                (req, opts, cb) => this.client.configure(req, new grpc.Metadata(), opts, cb),
                request,
                `Configure on policy pack "${this.pack}"`,
            );
            this.configured = config !== undefined;
        }
        const violations: PolicyViolation[] = [];
        for (const resource of resources) {
            const response = await unary<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(
                (req, opts, cb) => this.client.analyze(req, new grpc.Metadata(), opts, cb),
                toAnalyzeRequest(resource),
                `Analyze of ${resource.urn} by policy pack "${this.pack}"`,
            );
            violations.push(...toViolations(response, resource.urn));
        }
        const stackRequest = new analyzer.AnalyzeStackRequest();
        stackRequest.setResourcesList(resources.map(toAnalyzerResource));
        const stackResponse = await unary<analyzer.AnalyzeStackRequest, analyzer.AnalyzeResponse>(
            (req, opts, cb) => this.client.analyzeStack(req, new grpc.Metadata(), opts, cb),
            stackRequest,
            `AnalyzeStack by policy pack "${this.pack}"`,
        );
        violations.push(...toViolations(stackResponse, undefined));
        return { pack: this.pack, violations };
    }

    async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        this.client.close();
        await stopChild(this.child);
    }
}

/**
 * The caller's environment minus ts-node settings: a caller running under
 * ts-node (mocha, the plan script) must not change how the pack is compiled;
 * the CLI compiles it with the pack directory's own tsconfig.json.
 */
function packEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("TS_NODE_")));
}

function locateRunner(packDir: string): string {
    for (const file of ["PulumiPolicy.yaml", "package.json"]) {
        if (!fs.existsSync(path.join(packDir, file))) {
            throw new Error(`${packDir} is not a policy pack: ${file} is missing. Pass packDir pointing at the pack's directory.`);
        }
    }
    try {
        // Resolved from the pack's directory, as the CLI's analyzer shim does.
        return require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    } catch {
        throw new Error(
            `cannot start the policy pack in ${packDir}: @pulumi/pulumi/cmd/run-policy-pack is not resolvable from there. ` +
                "Run `npm ci` in the project (or the pack's directory).",
        );
    }
}

function readPort(child: ChildProcess, packDir: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
        let stdout = "";
        let stderrTail = "";
        const keepTail = (text: string) => (stderrTail = (stderrTail + text).slice(-4000));
        const fail = (why: string) => {
            cleanup();
            const output = [stderrTail.trim(), stdout.trim()].filter(Boolean).join("\n");
            reject(
                new Error(
                    `policy pack in ${packDir} failed to start: ${why}.` +
                        (output ? `\nIts output:\n${output}` : "") +
                        "\nRun it by hand to see more: cd " +
                        packDir +
                        " && node <project>/node_modules/@pulumi/pulumi/cmd/run-policy-pack x .",
                ),
            );
        };
        const onStdout = (chunk: Buffer) => {
            stdout += chunk.toString("utf8");
            const line = stdout
                .split("\n")
                .map((l) => l.trim())
                .find((l) => /^\d+$/.test(l));
            if (line) {
                cleanup();
                resolve(Number(line));
            }
        };
        const onStderr = (chunk: Buffer) => keepTail(chunk.toString("utf8"));
        const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
            fail(`it exited (${signal ? `signal ${signal}` : `exit code ${code}`}) before printing its port`);
        const onError = (err: Error) => fail(`node could not be spawned (${err.message})`);
        const timer = setTimeout(() => fail(`no port printed within ${timeoutMs} ms`), timeoutMs);
        const cleanup = () => {
            clearTimeout(timer);
            child.stdout?.off("data", onStdout);
            child.off("exit", onExit);
            child.off("error", onError);
            // Keep draining so a chatty pack cannot block on a full pipe.
            child.stdout?.resume();
        };
        child.stdout?.on("data", onStdout);
        child.stderr?.on("data", onStderr);
        child.on("exit", onExit);
        child.on("error", onError);
    });
}

function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
        const force = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
            clearTimeout(force);
            resolve();
        });
        child.kill("SIGTERM");
    });
}

type UnaryCall<Req, Res> = (request: Req, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: Res) => void) => unknown;

function unary<Req, Res>(call: UnaryCall<Req, Res>, request: Req, what: string): Promise<Res> {
    return new Promise((resolve, reject) => {
        call(request, { deadline: Date.now() + CALL_TIMEOUT_MS }, (error, response) => {
            if (error) reject(new Error(`${what} failed: ${error.details || error.message}`));
            else resolve(response);
        });
    });
}

function summarizePolicy(info: analyzer.PolicyInfo): PolicySummary {
    const schema = info.getConfigschema()?.getProperties()?.toJavaScript() ?? {};
    return {
        name: info.getName(),
        enforcementLevel: LEVEL_NAMES[info.getEnforcementlevel()] ?? "advisory",
        configProperties: schema as Record<string, Record<string, unknown>>,
    };
}

/**
 * The full config the engine would send: every policy with its level and its
 * schema defaults, overridden by the given config. Unknown policy or property
 * names are errors (a typo would otherwise silently keep the default); the
 * checks are policyConfig.ts's, the ones the plan runs before anything starts.
 */
export function buildConfigureRequest(pack: string, policies: readonly PolicySummary[], config: PolicyPackConfig): analyzer.ConfigureAnalyzerRequest {
    assertPolicyConfig(pack, policies, config);
    const request = new analyzer.ConfigureAnalyzerRequest();
    for (const policy of policies) {
        const given = config[policy.name];
        let level = policy.enforcementLevel;
        const properties: Record<string, unknown> = {};
        for (const [property, schema] of Object.entries(policy.configProperties)) {
            if (schema && "default" in schema) properties[property] = schema.default;
        }
        if (isEnforcementLevel(given)) {
            level = given;
        } else if (given !== undefined) {
            for (const [property, value] of Object.entries(given as Record<string, unknown>)) {
                if (property === "enforcementLevel") level = value as EnforcementLevel;
                else properties[property] = value;
            }
        }
        const entry = new analyzer.PolicyConfig();
        entry.setEnforcementlevel(LEVEL_CODES[level]);
        entry.setProperties(Struct.fromJavaScript(toWireValue(properties, `config of ${policy.name}`) as Record<string, never>));
        request.getPolicyconfigMap().set(policy.name, entry);
    }
    return request;
}

/**
 * Plain JSON for google.protobuf.Struct: undefined object fields are dropped
 * (the engine omits them), undefined array items become null. Anything that is
 * not JSON data is an error naming its path, never its value.
 */
export function toWireValue(value: unknown, where: string): unknown {
    if (value === null || typeof value === "string" || typeof value === "boolean") return value;
    if (typeof value === "number") {
        if (!Number.isFinite(value)) throw new Error(`${where} is a non-finite number, which the Analyzer protocol cannot carry.`);
        return value;
    }
    if (Array.isArray(value)) return value.map((item, i) => (item === undefined ? null : toWireValue(item, `${where}[${i}]`)));
    if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
            if (item !== undefined) out[key] = toWireValue(item, `${where}.${key}`);
        }
        return out;
    }
    const kind = value === undefined ? "undefined" : ((value as object).constructor?.name ?? typeof value);
    throw new Error(
        `${where} is a ${kind}, not plain JSON data. Resolve Outputs and convert values to JSON before planning ` +
            "(use UNKNOWN_VALUE for values unknown in preview and secretValue() for secrets).",
    );
}

function toStruct(props: Record<string, unknown>, where: string): Struct {
    return Struct.fromJavaScript(toWireValue(props, where) as Record<string, never>);
}

function toOptions(resource: PlannedResource): analyzer.AnalyzerResourceOptions {
    const options = new analyzer.AnalyzerResourceOptions();
    options.setProtect(resource.protect);
    if (resource.parent) options.setParent(resource.parent);
    return options;
}

function toAnalyzeRequest(resource: PlannedResource): analyzer.AnalyzeRequest {
    const request = new analyzer.AnalyzeRequest();
    request.setUrn(resource.urn);
    request.setType(resource.type);
    request.setName(resource.name);
    request.setProperties(toStruct(resource.props, `props of ${resource.urn}`));
    request.setOptions(toOptions(resource));
    return request;
}

function toAnalyzerResource(resource: PlannedResource): analyzer.AnalyzerResource {
    const wire = new analyzer.AnalyzerResource();
    wire.setUrn(resource.urn);
    wire.setType(resource.type);
    wire.setName(resource.name);
    wire.setProperties(toStruct(resource.props, `props of ${resource.urn}`));
    wire.setOptions(toOptions(resource));
    if (resource.parent) wire.setParent(resource.parent);
    wire.setDependenciesList(resource.dependencies ?? []);
    for (const [property, urns] of Object.entries(resource.propertyDependencies ?? {})) {
        const dependencies = new analyzer.AnalyzerPropertyDependencies();
        dependencies.setUrnsList(urns);
        wire.getPropertydependenciesMap().set(property, dependencies);
    }
    return wire;
}

function toViolations(response: analyzer.AnalyzeResponse, analyzedUrn: string | undefined): PolicyViolation[] {
    return response.getDiagnosticsList().map((diagnostic) => {
        const violation: PolicyViolation = {
            policy: diagnostic.getPolicyname(),
            level: LEVEL_NAMES[diagnostic.getEnforcementlevel()] ?? "advisory",
            message: diagnostic.getMessage(),
        };
        // A resource policy that reports without a URN means the analyzed resource.
        const urn = diagnostic.getUrn() || analyzedUrn;
        if (urn) violation.urn = urn;
        return violation;
    });
}

/** The violations that fail a preview (any mandatory one). */
export function mandatoryViolations(verdicts: PolicyVerdicts): PolicyViolation[] {
    return verdicts.violations.filter((v) => v.level === "mandatory");
}

/** Human-readable verdicts, one block per violation, mandatory first. */
export function formatVerdicts(verdicts: PolicyVerdicts): string {
    if (verdicts.violations.length === 0) return `Policy pack ${verdicts.pack}: no violations.`;
    const order: EnforcementLevel[] = ["mandatory", "remediate", "advisory", "disabled"];
    const sorted = [...verdicts.violations].sort((a, b) => order.indexOf(a.level) - order.indexOf(b.level));
    const mandatory = mandatoryViolations(verdicts).length;
    const lines = [`Policy pack ${verdicts.pack}: ${verdicts.violations.length} violation(s), ${mandatory} mandatory.`];
    for (const v of sorted) {
        lines.push(`  [${v.level}] ${v.policy}${v.urn ? `  (${v.urn})` : ""}`);
        for (const line of v.message.split("\n")) lines.push(`      ${line}`);
    }
    return lines.join("\n");
}
