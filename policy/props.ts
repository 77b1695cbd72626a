// Reading resource properties without tripping over preview's unknown values.
//
// @pulumi/policy hands policies a proxy that throws on any read of an unknown
// value; the server then turns the throw into an advisory "can't run during
// preview" note, so a mandatory policy would silently stop guarding. These
// helpers read the proxied object's target instead and report unknowns as
// such, so each policy decides what "not known yet" means for it. Our choice
// everywhere: unknown is not a violation (unknown != Disabled). The same
// checks run again when `pulumi up` registers the resource, with values known.

export const KMS_KEY_TYPE = "alicloud:kms/key:Key";
export const KMS_INSTANCE_TYPE = "alicloud:kms/instance:Instance";
export const SERVERLESS_CLUSTER_TYPE = "alicloud:cs/serverlessKubernetes:ServerlessKubernetes";
export const MANAGED_CLUSTER_TYPE = "alicloud:cs/managedKubernetes:ManagedKubernetes";
export const CLUSTER_ENCRYPTION_TYPE = "pulumi-nodejs:dynamic/ask:ClusterEncryption";
export const SECRET_ROTATION_TYPE = "pulumi-nodejs:dynamic/ask:SecretRotation";
export const RAM_ROLE_POLICY_ATTACHMENT_TYPE = "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment";
export const RAM_USER_POLICY_ATTACHMENT_TYPE = "alicloud:ram/userPolicyAttachment:UserPolicyAttachment";
export const RAM_GROUP_POLICY_ATTACHMENT_TYPE = "alicloud:ram/groupPolicyAttachment:GroupPolicyAttachment";

// The sentinels the engine and @pulumi/policy (proxy.js) use for values that
// are not known until the update runs. Over gRPC the engine sends the string
// one for every type; the others appear when a policy SDK re-serializes.
export const UNKNOWN_VALUE_SENTINELS: readonly string[] = [
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string (the engine's wire form)
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
    "030794c1-ac77-496b-92df-f27374a8bd58", // asset
    "e48ece36-62e2-4504-bad9-02848725956a", // archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
];

// @pulumi/policy's proxy answers this property with the unproxied target.
const PROXY_TARGET_KEY = "__getSpecialProxyTarget";

export type PropertyRead = { known: true; value: unknown } | { known: false };

export function isUnknownValue(value: unknown): boolean {
    return typeof value === "string" && UNKNOWN_VALUE_SENTINELS.includes(value);
}

/** The plain property bag behind a policy proxy (or the bag itself in unit tests). */
export function plainProps(props: Record<string, unknown>): Record<string, unknown> {
    const target = (props as Record<string, unknown>)[PROXY_TARGET_KEY];
    return target !== undefined && target !== null && typeof target === "object" ? (target as Record<string, unknown>) : props;
}

/** Reads a top-level property; `known: false` when preview cannot know it yet. */
export function readProp(props: Record<string, unknown>, name: string): PropertyRead {
    const value = plainProps(props)[name];
    return isUnknownValue(value) ? { known: false } : { known: true, value };
}

/** A known, non-empty string property, or undefined (absent, empty, unknown or not a string). */
export function knownString(props: Record<string, unknown>, name: string): string | undefined {
    const read = readProp(props, name);
    return read.known && typeof read.value === "string" && read.value !== "" ? read.value : undefined;
}
