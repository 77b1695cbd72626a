// Stacks for the policy tests, written as the offline plan would send them:
// one compliant ASK stack (KMS instance, key, security role, ClusterEncryption,
// SecretRotation) with IDs known (after `up`) or unknown (first preview), and
// small edits that break one rule at a time.

import { PlannedResource, UNKNOWN_VALUE } from "../../plan/policyClient";

export const STACK = "dev";
export const PROJECT = "ask-kms-secret-encryption";

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:${STACK}::${PROJECT}::${type}::${name}`;
}

export const KEY_ID = "key-hzz6f3a8c1b2d4e5f6a7";
export const CLUSTER_ID = "c8a1b2c3d4e5f60718293a4b5c6d7e8f9";
export const INSTANCE_ID = "kst-hzz66b0f1e2d3c4a5b6c7";

export const INSTANCE_URN = urnOf("alicloud:kms/instance:Instance", "kms-instance");
export const KEY_URN = urnOf("alicloud:kms/key:Key", "cluster-secrets-key");
export const ROLE_URN = urnOf("alicloud:ram/role:Role", "cs-security-role");
export const ATTACHMENT_URN = urnOf("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment", "cs-security-role-policy");
export const ENCRYPTION_URN = urnOf("pulumi-nodejs:dynamic/ask:ClusterEncryption", "cluster-encryption");
export const ROTATION_URN = urnOf("pulumi-nodejs:dynamic/ask:SecretRotation", "secret-rotation");

export interface StackOptions {
    /** false: a first preview, where the instance's and key's IDs (and the references to them) are unknown. */
    idsKnown: boolean;
}

export function compliantStack({ idsKnown }: StackOptions): PlannedResource[] {
    const known = <T>(value: T) => (idsKnown ? value : UNKNOWN_VALUE);
    return [
        {
            urn: INSTANCE_URN,
            type: "alicloud:kms/instance:Instance",
            name: "kms-instance",
            protect: true,
            props: {
                id: known(INSTANCE_ID),
                productVersion: "3",
                deletionProtection: true,
                vpcId: "vpc-1",
                vswitchIds: ["vsw-1"],
                zoneIds: ["cn-hangzhou-h", "cn-hangzhou-k"],
            },
        },
        {
            urn: KEY_URN,
            type: "alicloud:kms/key:Key",
            name: "cluster-secrets-key",
            protect: true,
            props: {
                id: known(KEY_ID),
                arn: known(`acs:kms:cn-hangzhou:1234567890:key/${KEY_ID}`),
                keySpec: "Aliyun_AES_256",
                keyUsage: "ENCRYPT/DECRYPT",
                origin: "Aliyun_KMS",
                protectionLevel: "SOFTWARE",
                dkmsInstanceId: known(INSTANCE_ID),
                status: "Enabled",
                deletionProtection: "Enabled",
                automaticRotation: "Enabled",
                rotationInterval: idsKnown ? "31536000s" : "365d",
                pendingWindowInDays: 30,
                description: "Seals the Secrets of the dev ASK cluster",
            },
            dependencies: [INSTANCE_URN],
            propertyDependencies: { dkmsInstanceId: [INSTANCE_URN] },
        },
        {
            urn: ROLE_URN,
            type: "alicloud:ram/role:Role",
            name: "cs-security-role",
            protect: false,
            props: { roleName: "AliyunCSManagedSecurityRole" },
        },
        {
            urn: ATTACHMENT_URN,
            type: "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
            name: "cs-security-role-policy",
            protect: false,
            props: { roleName: "AliyunCSManagedSecurityRole", policyName: "AliyunCSManagedSecurityRolePolicy", policyType: "System" },
            dependencies: [ROLE_URN],
            propertyDependencies: { roleName: [ROLE_URN] },
        },
        {
            urn: ENCRYPTION_URN,
            type: "pulumi-nodejs:dynamic/ask:ClusterEncryption",
            name: "cluster-encryption",
            protect: false,
            props: { clusterId: CLUSTER_ID, kmsKeyId: known(KEY_ID), regionId: "cn-hangzhou", __provider: "exports.handler = __f0; /* serialized provider */" },
            dependencies: [KEY_URN, ATTACHMENT_URN],
            propertyDependencies: { kmsKeyId: [KEY_URN], clusterId: [], regionId: [] },
        },
        {
            urn: ROTATION_URN,
            type: "pulumi-nodejs:dynamic/ask:SecretRotation",
            name: "secret-rotation",
            protect: false,
            props: { clusterId: CLUSTER_ID, kmsKeyId: known(KEY_ID), __provider: "exports.handler = __f0;" },
            dependencies: [KEY_URN, ENCRYPTION_URN],
            propertyDependencies: { kmsKeyId: [KEY_URN] },
        },
    ];
}

/** A copy of the stack with one resource's props (and options) changed. */
export function withResource(
    stack: readonly PlannedResource[],
    urn: string,
    change: { props?: Record<string, unknown>; protect?: boolean; drop?: string[] },
): PlannedResource[] {
    let seen = false;
    const changed = stack.map((r) => {
        if (r.urn !== urn) return r;
        seen = true;
        const props = { ...r.props, ...(change.props ?? {}) };
        for (const name of change.drop ?? []) delete props[name];
        return { ...r, props, protect: change.protect ?? r.protect };
    });
    if (!seen) throw new Error(`fixture has no resource ${urn}`);
    return changed;
}

export function without(stack: readonly PlannedResource[], urn: string): PlannedResource[] {
    return stack
        .filter((r) => r.urn !== urn)
        .map((r) => ({
            ...r,
            dependencies: (r.dependencies ?? []).filter((d) => d !== urn),
            propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, v]) => [k, v.filter((d) => d !== urn)])),
        }));
}

export const SECOND_CLUSTER_URN = urnOf("alicloud:cs/serverlessKubernetes:ServerlessKubernetes", "other-ask");

/** An ASK cluster managed in the stack, sealed by `keyId` (known). */
export function serverlessCluster(keyId: string, extra: Record<string, unknown> = {}): PlannedResource {
    return {
        urn: SECOND_CLUSTER_URN,
        type: "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
        name: "other-ask",
        protect: false,
        props: { name: "other-ask", clusterSpec: "ack.pro.small", encryptionProviderKey: keyId, disableEncryption: false, ...extra },
    };
}
