// The part of a bridged (terraform-provider-alicloud via pulumi-terraform-bridge)
// resource's behaviour that follows from its schema alone: which properties are
// inputs, their validators, defaults and conflicts (Check), what changes and what
// forces a replacement (Diff), and which outputs are inputs again after an import
// or a refresh (Read). Each resource module declares its fields, citing the
// schema in terraform-provider-alicloud; this module applies them the way the
// bridge (pulumi-terraform-bridge pkg/tfbridge/schema.go: applyDefaults,
// extractSchemaInputsObject, extractInputsObject) and Terraform's plan do.

import { containsUnknown, Props } from "./wire";

export type FieldKind = "string" | "int" | "bool" | "stringList" | "stringSet" | "stringMap" | "objectList";

export interface Field {
    kind: FieldKind;
    /** required / optional input, or "none" for an attribute the provider only computes. */
    input: "required" | "optional" | "none";
    /** Optional+Computed: leaving it out keeps what the cloud has (no diff). */
    computed?: boolean;
    forceNew?: boolean;
    /** The schema's Default (Terraform plans it when the input is absent). */
    default?: unknown;
    /** Deprecated: the bridge fills no default for it (Terraform's plan still does). */
    deprecated?: boolean;
    conflictsWith?: string[];
    /** The schema's ValidateFunc: why a known value is refused, or undefined. */
    validate?: (value: unknown) => string | undefined;
    /** The schema's DiffSuppressFunc: true when old and new do not differ for Terraform. */
    suppress?: (oldValue: unknown, newValue: unknown, context: { olds: Props; news: Props }) => boolean;
}

export type Schema = Record<string, Field>;

/** The bridge's reserved inputs key listing the properties Check filled from defaults. */
export const DEFAULTS_KEY = "__defaults";

export interface CheckFailure {
    property: string;
    reason: string;
}

export function isZero(value: unknown): boolean {
    if (value === undefined || value === null || value === "" || value === 0 || value === false) return true;
    if (Array.isArray(value)) return value.length === 0;
    if (typeof value === "object") return Object.keys(value as object).length === 0;
    return false;
}

function show(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

// Validators with the messages of the Terraform SDK's helper/validation functions the provider uses.
export const oneOf =
    (name: string, allowed: (string | number)[]) =>
    (value: unknown): string | undefined =>
        allowed.includes(value as string | number) ? undefined : `expected ${name} to be one of ${JSON.stringify(allowed)}, got ${show(value)}`;

export const between =
    (name: string, min: number, max: number) =>
    (value: unknown): string | undefined =>
        typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
            ? undefined
            : `expected ${name} to be in the range (${min} - ${max}), got ${show(value)}`;

export const isJson =
    (name: string) =>
    (value: unknown): string | undefined => {
        try {
            JSON.parse(String(value));
            return undefined;
        } catch (e) {
            return `"${name}" contains an invalid JSON: ${(e as Error).message}`;
        }
    };

export const isRegExp =
    (name: string) =>
    (value: unknown): string | undefined => {
        try {
            new RegExp(String(value));
            return undefined;
        } catch (e) {
            return `${name}: ${(e as Error).message}`;
        }
    };

/** Two JSON texts that parse to the same value (compareJsonTemplateAreEquivalent in the provider). */
export function jsonEquivalent(a: unknown, b: unknown): boolean {
    const parse = (text: unknown): unknown => {
        try {
            return JSON.parse(String(text));
        } catch {
            return text;
        }
    };
    return deepEqual(parse(a), parse(b));
}

export function deepEqual(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
    if (typeof a === "object" && typeof b === "object" && a !== null && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
        const ka = Object.keys(a).sort();
        const kb = Object.keys(b).sort();
        return deepEqual(ka, kb) && ka.every((k) => deepEqual((a as Props)[k], (b as Props)[k]));
    }
    return false;
}

function same(field: Field, oldValue: unknown, newValue: unknown): boolean {
    if (isZero(oldValue) && isZero(newValue)) return true;
    switch (field.kind) {
        case "stringSet":
            return deepEqual([...((oldValue as string[]) ?? [])].sort(), [...((newValue as string[]) ?? [])].sort());
        case "int":
            return Number(oldValue) === Number(newValue);
        default:
            return deepEqual(oldValue, newValue);
    }
}

/**
 * Check: validators, required inputs and conflicts on the known values, then the defaults the bridge fills
 * (not for deprecated fields, nor next to a conflicting one), listed under __defaults.
 */
export function checkInputs(schema: Schema, olds: Props, news: Props): { inputs: Props; failures: CheckFailure[] } {
    const inputs: Props = { ...news };
    delete inputs[DEFAULTS_KEY];
    const failures: CheckFailure[] = [];
    const present = (name: string) => inputs[name] !== undefined && inputs[name] !== null;
    for (const [name, field] of Object.entries(schema)) {
        const value = inputs[name];
        if (field.input === "none") continue;
        if (!present(name)) {
            if (field.input === "required") failures.push({ property: name, reason: `Missing required property '${name}'` });
            continue;
        }
        if (containsUnknown(value)) continue;
        const problem = field.validate?.(value);
        if (problem) failures.push({ property: name, reason: problem });
        for (const other of field.conflictsWith ?? []) {
            if (present(other) && name < other) failures.push({ property: name, reason: `"${name}": conflicts with ${other}` });
        }
    }
    const oldDefaults = Array.isArray(olds[DEFAULTS_KEY]) ? (olds[DEFAULTS_KEY] as string[]) : undefined;
    const defaults: string[] = [];
    for (const [name, field] of Object.entries(schema)) {
        if (field.default === undefined || field.deprecated || present(name)) continue;
        if ((field.conflictsWith ?? []).some(present)) continue;
        const reuseOld = olds[name] !== undefined && (oldDefaults === undefined || oldDefaults.includes(name));
        inputs[name] = reuseOld ? olds[name] : field.default;
        defaults.push(name);
    }
    inputs[DEFAULTS_KEY] = defaults;
    return { inputs, failures };
}

export interface DiffResult {
    changed: string[];
    replaces: string[];
    /** Per changed property: added (old empty), deleted (new empty) or updated. */
    kinds: Record<string, "add" | "delete" | "update">;
}

/**
 * Diff as Terraform plans it: an absent Optional+Computed input keeps the cloud's value, an absent Optional one
 * means its zero value (or the schema Default); DiffSuppressFuncs apply; a change to a ForceNew field, or an
 * unknown one, replaces.
 */
export function diffInputs(schema: Schema, olds: Props, news: Props, ignoreChanges: string[] = []): DiffResult {
    const result: DiffResult = { changed: [], replaces: [], kinds: {} };
    for (const [name, field] of Object.entries(schema)) {
        if (field.input === "none" || ignoreChanges.includes(name)) continue;
        const oldValue = olds[name];
        let newValue = news[name];
        if (newValue === undefined || newValue === null) {
            if (field.computed) continue;
            newValue = field.default;
        }
        const unknown = containsUnknown(newValue);
        if (!unknown && (same(field, oldValue, newValue) || field.suppress?.(oldValue, newValue, { olds, news }))) continue;
        result.changed.push(name);
        result.kinds[name] = isZero(oldValue) ? "add" : !unknown && isZero(newValue) ? "delete" : "update";
        if (field.forceNew) result.replaces.push(name);
    }
    return result;
}

/** Import: every input the outputs hold, except a non-required one at its zero or default value (extractSchemaInputsObject). */
export function importInputs(schema: Schema, outputs: Props): Props {
    const inputs: Props = {};
    for (const [name, field] of Object.entries(schema)) {
        if (field.input === "none" || outputs[name] === undefined || outputs[name] === null) continue;
        const value = outputs[name];
        if (field.input !== "required" && (isZero(value) || (field.default !== undefined && deepEqual(value, field.default)))) continue;
        inputs[name] = value;
    }
    inputs[DEFAULTS_KEY] = [];
    return inputs;
}

/** Refresh: the inputs already present take the refreshed values; one the outputs no longer hold goes (extractInputsObject). */
export function refreshInputs(oldInputs: Props, outputs: Props): Props {
    const inputs: Props = {};
    for (const [name, value] of Object.entries(oldInputs)) {
        if (name === DEFAULTS_KEY) inputs[name] = value;
        else if (outputs[name] !== undefined) inputs[name] = outputs[name];
    }
    return inputs;
}

/** Outputs of a preview create: the inputs, and every attribute only the cloud can tell as unknown. */
export function previewOutputs(schema: Schema, inputs: Props, unknown: string): Props {
    const outputs: Props = {};
    for (const [name, field] of Object.entries(schema)) {
        const value = inputs[name];
        if (value !== undefined && value !== null) outputs[name] = value;
        else if (field.input === "none" || field.computed) outputs[name] = unknown;
    }
    return outputs;
}

export function str(value: unknown): string {
    return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

export function stringMap(value: unknown): Record<string, string> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, str(v)]));
}
