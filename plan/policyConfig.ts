// A policy pack's config (`--policy-config PATH.json`, the file `pulumi preview
// --policy-config` takes), checked against the pack's policies before anything
// runs: a JSON object mapping policy names to an enforcement level, or to an
// object with an optional enforcementLevel and the policy's own settings (its
// configSchema). Every problem is named, with what to do; nothing is echoed
// from the file beyond short strings the user typed as levels.
import type { Policies } from "@pulumi/policy";
import { readTextFileWithin } from "../components/files";

/** The levels @pulumi/policy accepts (its EnforcementLevel type). */
export type EnforcementLevel = "advisory" | "mandatory" | "disabled" | "remediate";

/**
 * Per-policy config, as in a Pulumi policy config file:
 * `{ "<policy>": "mandatory" }` or `{ "<policy>": { enforcementLevel?, ...properties } }`.
 */
export type PolicyPackConfig = Record<string, unknown>;

/** A policy as the pack describes itself (GetAnalyzerInfo). */
export interface PolicySummary {
    name: string;
    enforcementLevel: EnforcementLevel;
    /** Config property schemas (JSON schema), by property name. */
    configProperties: Record<string, Record<string, unknown>>;
}

export const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/** A policy config file is a handful of lines; anything this large is the wrong file. */
export const POLICY_CONFIG_MAX_BYTES = 64 * 1024;

/** Problems listed at most; the rest are counted. */
const MAX_PROBLEMS = 20;

/** A policy config that cannot be used; `problems` holds one sentence per problem. */
export class PolicyConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = "PolicyConfigError";
    }
}

export function isEnforcementLevel(value: unknown): value is EnforcementLevel {
    return typeof value === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(value);
}

/** What the engine would learn from GetAnalyzerInfo, read from the pack's own policy list. */
export function summarizePackPolicies(policies: Policies, packLevel: EnforcementLevel = "advisory"): PolicySummary[] {
    return policies.map((p) => ({
        name: p.name,
        enforcementLevel: p.enforcementLevel ?? packLevel,
        configProperties: (p.configSchema?.properties ?? {}) as Record<string, Record<string, unknown>>,
    }));
}

/** A value named by its kind, with short strings shown (they are what the user typed as a level). */
function describe(value: unknown): string {
    if (typeof value === "string") return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
    if (Array.isArray(value)) return "an array";
    if (value === null) return "null";
    return `a ${typeof value}`;
}

const LEVELS_TEXT = ENFORCEMENT_LEVELS.map((l) => `"${l}"`).join(", ");

/**
 * Every problem of `config` for a pack with `policies` (empty: usable). Unknown
 * policy or property names are problems: a typo would otherwise silently keep
 * the default.
 */
export function policyConfigProblems(pack: string, policies: readonly PolicySummary[], config: unknown): string[] {
    const problems: string[] = [];
    const names = policies.map((p) => p.name);
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
        return [
            `the policy config must be a JSON object mapping policy names of pack "${pack}" to a level or settings, ` +
                `e.g. {"${names[0] ?? "policy-name"}": "mandatory"}; got ${describe(config)}.`,
        ];
    }
    const byName = new Map(policies.map((p) => [p.name, p]));
    for (const [name, given] of Object.entries(config as Record<string, unknown>)) {
        const policy = byName.get(name);
        if (!policy) {
            problems.push(
                `policy config names ${describe(name)}, which is not a policy of pack "${pack}"; fix or remove it. Its policies are: ${names.join(", ")}.`,
            );
            continue;
        }
        if (isEnforcementLevel(given)) continue;
        if (given === null || typeof given !== "object" || Array.isArray(given)) {
            problems.push(
                `policy config for "${name}" must be an enforcement level (${LEVELS_TEXT}) ` +
                    `or an object such as {"enforcementLevel": "mandatory"}; got ${describe(given)}.`,
            );
            continue;
        }
        for (const [property, value] of Object.entries(given as Record<string, unknown>)) {
            if (property === "enforcementLevel") {
                if (!isEnforcementLevel(value)) {
                    problems.push(`policy config "${name}.enforcementLevel" is ${describe(value)}; use one of ${LEVELS_TEXT}.`);
                }
            } else if (!Object.hasOwn(policy.configProperties, property)) {
                const known = Object.keys(policy.configProperties);
                problems.push(
                    `policy config "${name}.${property}" is not a setting of that policy; ` +
                        (known.length
                            ? `fix or remove it; its settings are: ${known.join(", ")} (and enforcementLevel).`
                            : "remove it (it takes only enforcementLevel)."),
                );
            } else {
                checkSchemaType(`${name}.${property}`, policy.configProperties[property], value, problems);
            }
        }
    }
    if (problems.length > MAX_PROBLEMS) {
        return [...problems.slice(0, MAX_PROBLEMS), `... and ${problems.length - MAX_PROBLEMS} more problem(s) in the policy config.`];
    }
    return problems;
}

function checkSchemaType(where: string, schema: Record<string, unknown>, value: unknown, problems: string[]): void {
    const expected = schema.type;
    const actual = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    const matches =
        expected === undefined ||
        expected === actual ||
        (expected === "integer" && typeof value === "number" && Number.isInteger(value)) ||
        (Array.isArray(expected) && expected.includes(actual));
    if (!matches) {
        problems.push(`policy config "${where}" must be of type ${String(expected)}; got ${actual}.`);
        return;
    }
    const items = schema.items as Record<string, unknown> | undefined;
    if (actual === "array" && items && Array.isArray(value)) {
        for (let i = 0; i < value.length && problems.length <= MAX_PROBLEMS; i++) checkSchemaType(`${where}[${i}]`, items, value[i], problems);
    }
}

/** Throws PolicyConfigError when `config` is not usable with the pack. */
export function assertPolicyConfig(pack: string, policies: readonly PolicySummary[], config: unknown): asserts config is PolicyPackConfig {
    const problems = policyConfigProblems(pack, policies, config);
    if (problems.length > 0) throw new PolicyConfigError(problems);
}

/** Why and where JSON.parse stopped (line and column), without the snippet of the file its message may carry. */
function describeJsonError(text: string, err: unknown): string {
    const message = err instanceof Error ? err.message : "";
    const match = /^(.*?)(?: in JSON)? at position (\d+)/.exec(message);
    if (!match) return /^Unexpected end of JSON input$/.test(message) ? "not valid JSON (it ends too early)" : "not valid JSON";
    // V8's reasons name a character or a kind of token; one that quotes the text is dropped.
    const reason = /["']/.test(match[1]) ? "" : `: ${match[1].charAt(0).toLowerCase()}${match[1].slice(1)}`;
    const before = text.slice(0, Number(match[2])).split("\n");
    return `not valid JSON${reason} (line ${before.length}, column ${before[before.length - 1].length + 1})`;
}

/** Reads, parses and checks a policy config file; every refusal is a PolicyConfigError naming the file. */
export function readPolicyConfigFile(file: string, pack: string, policies: readonly PolicySummary[]): PolicyPackConfig {
    const text = readTextFileWithin(file, POLICY_CONFIG_MAX_BYTES, "policy config", (message) => new PolicyConfigError([message]));
    let config: unknown;
    try {
        config = JSON.parse(text);
    } catch (e) {
        throw new PolicyConfigError([`the policy config ${file} is ${describeJsonError(text, e)}; it must be a JSON object.`]);
    }
    assertPolicyConfig(pack, policies, config);
    return config;
}
