// Runs one policy module directly (no PolicyPack, no gRPC) on a stack written
// as PlannedResource[], the same shape the gRPC client sends. Props go through
// @pulumi/policy's real unknown-checking proxy, so a policy that reads an
// unknown value the wrong way fails here as it would in preview.

import * as assert from "node:assert";
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { PlannedResource } from "../../plan/policyClient";

import type { Json } from "./kubeStandIn/request";

// Internal to @pulumi/policy (no typings), but it is exactly what the server wraps props in.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by path at run time
const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy: (props: Record<string, unknown>) => Record<string, Json>;
};

const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** What the pack's server does to props: secrets unwrapped to their values, then proxied. */
function asPolicyProps(props: Record<string, unknown>): Record<string, Json> {
    const unwrap = (value: unknown): unknown => {
        if (Array.isArray(value)) return value.map(unwrap);
        if (value && typeof value === "object") {
            const record = value as Record<string, unknown>;
            if (record[SPECIAL_SIG_KEY] === SECRET_SIG) return unwrap(record.value);
            return Object.fromEntries(
                Object.entries(record)
                    .filter(([, v]) => v !== undefined)
                    .map(([k, v]) => [k, unwrap(v)]),
            );
        }
        return value;
    };
    return unknownCheckingProxy(unwrap(props) as Record<string, unknown>);
}

function options(resource: PlannedResource) {
    return {
        protect: resource.protect,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(resource.parent ? { parent: resource.parent } : {}),
    };
}

/** PolicyResources with parents and dependencies resolved the way the server resolves them. */
export function toPolicyResources(stack: readonly PlannedResource[]): PolicyResource[] {
    const resources = stack.map((r): PolicyResource => ({
        type: r.type,
        urn: r.urn,
        name: r.name,
        props: asPolicyProps(r.props),
        opts: options(r),
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    }));
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const resolve = (urns: string[] | undefined) => (urns ?? []).map((u) => byUrn.get(u)).filter((r): r is PolicyResource => r !== undefined);
    stack.forEach((planned, i) => {
        const resource = resources[i];
        if (planned.parent && byUrn.has(planned.parent)) resource.parent = byUrn.get(planned.parent);
        resource.dependencies = resolve(planned.dependencies);
        for (const [property, urns] of Object.entries(planned.propertyDependencies ?? {})) {
            resource.propertyDependencies[property] = resolve(urns);
        }
    });
    return resources;
}

export interface ReportedViolation {
    message: string;
    urn?: string;
}

export async function runStackPolicy(
    policy: StackValidationPolicy,
    stack: readonly PlannedResource[],
    config: Record<string, unknown> = {},
): Promise<ReportedViolation[]> {
    const violations: ReportedViolation[] = [];
    await policy.validateStack(
        {
            resources: toPolicyResources(stack),
            stackTags: new Map(),
            getConfig: <T extends object>() => config as T,
            notApplicable: (reason?: string) => {
                throw new Error(`notApplicable: ${reason}`);
            },
        },
        (message: string, urn?: string) => violations.push({ message, urn }),
    );
    return violations;
}

export async function runResourcePolicy(
    policy: ResourceValidationPolicy,
    resource: PlannedResource,
    config: Record<string, unknown> = {},
): Promise<ReportedViolation[]> {
    const violations: ReportedViolation[] = [];
    const args: ResourceValidationArgs = {
        type: resource.type,
        urn: resource.urn,
        name: resource.name,
        props: asPolicyProps(resource.props),
        opts: options(resource),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string) => {
            throw new Error(`notApplicable: ${reason}`);
        },
    };
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const validate of validations) {
        if (validate) await validate(args, (message: string, urn?: string) => violations.push({ message, urn: urn ?? resource.urn }));
    }
    return violations;
}

function listed(violations: readonly ReportedViolation[]): string {
    return violations.map((v) => `  - [${v.urn ?? "no urn"}] ${v.message}`).join("\n") || "  (none)";
}

/** Exactly what was wanted: some violation whose message contains `message` (and is on `urn`, when given). */
export function assertHasViolation(violations: readonly ReportedViolation[], want: { message: string; urn?: string }): void {
    const found = violations.some((v) => v.message.includes(want.message) && (want.urn === undefined || v.urn === want.urn));
    assert.ok(
        found,
        `expected a violation containing ${JSON.stringify(want.message)}` + (want.urn ? ` on ${want.urn}` : "") + `; reported:\n${listed(violations)}`,
    );
}

export function assertNoViolations(violations: readonly ReportedViolation[]): void {
    assert.strictEqual(violations.length, 0, `expected no violations; reported:\n${listed(violations)}`);
}
