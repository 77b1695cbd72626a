// Property values as the engine sends them: google.protobuf.Struct with Pulumi's
// special values inside (a secret is { <sigKey>: <secretSig>, value }, an unknown
// the UNKNOWN string). Plain JavaScript values for the resources, and back.

import { Struct } from "google-protobuf/google/protobuf/struct_pb";

/**
 * The protocol's special values, as @pulumi/pulumi's runtime/rpc.ts names them (unknownValue, specialSigKey,
 * specialSecretSig); copied here so the plugin does not load the whole SDK runtime at start. The spec checks
 * they still equal the SDK's.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export type Props = Record<string, unknown>;

/** Plain values, and which top-level properties carried a secret anywhere inside. */
export interface Decoded {
    values: Props;
    secretKeys: Set<string>;
}

function isSecret(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Strips secret wrappers; calls `onSecret` when one was found. */
function unwrap(value: unknown, onSecret: () => void): unknown {
    if (isSecret(value)) {
        onSecret();
        return unwrap(value.value, onSecret);
    }
    if (Array.isArray(value)) return value.map((element) => unwrap(element, onSecret));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v, onSecret)]));
    }
    return value;
}

export function decode(struct: Struct | undefined): Decoded {
    const raw = (struct?.toJavaScript() ?? {}) as Props;
    const secretKeys = new Set<string>();
    const values: Props = {};
    for (const [key, value] of Object.entries(raw)) values[key] = unwrap(value, () => secretKeys.add(key));
    return { values, secretKeys };
}

/** A Struct of the values, the named top-level properties wrapped as secrets; `undefined` dropped (the wire has none). */
export function encode(values: Props, secretKeys: Iterable<string> = []): Struct {
    const out: Props = JSON.parse(JSON.stringify(values)) as Props;
    for (const key of secretKeys) {
        if (key in out && out[key] !== null) out[key] = { [SIG_KEY]: SECRET_SIG, value: out[key] };
    }
    return Struct.fromJavaScript(out as Parameters<typeof Struct.fromJavaScript>[0]);
}

/** True when the value is, or contains, an unknown (a preview's not-yet-known output). */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (typeof value === "object" && value !== null) return Object.values(value).some(containsUnknown);
    return false;
}
