import * as pulumi from "@pulumi/pulumi";
import * as alicloud from "@pulumi/alicloud";
import * as k8s from "@pulumi/kubernetes";
import { ClusterEncryption } from "./clusterEncryption";
import { SecretRotation } from "./rotation";
import { ConfigError, DEFAULT_ANNOTATION_KEY, OPERATOR_POLICY, SECURITY_ROLE_NAME, SECURITY_ROLE_POLICY } from "./config";
import type { EncryptionTiming } from "./settings";

/** A dedicated KMS instance to create. See https://www.alibabacloud.com/help/en/kms/key-management-service/user-guide/purchase-and-enable-a-kms-instance */
export interface KmsInstanceArgs {
    /** VPC the instance is attached to. Forces replacement. */
    vpcId: pulumi.Input<string>;
    /** vSwitches in that VPC, one per zone. Forces replacement. */
    vswitchIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Zones of the vSwitches (two for high availability). Forces replacement. */
    zoneIds: pulumi.Input<pulumi.Input<string>[]>;
    /** "PayAsYouGo" (default) or "Subscription". */
    paymentType?: pulumi.Input<string>;
    /** Computation performance, Subscription only: 200, 1000, 2000 or 4000. */
    spec?: pulumi.Input<number>;
    /** Key quota, Subscription only. */
    keyNum?: pulumi.Input<number>;
    /** Secret quota, Subscription only. */
    secretNum?: pulumi.Input<number>;
    /** VPC quota, Subscription only. */
    vpcNum?: pulumi.Input<number>;
    /** Subscription period in months. */
    period?: pulumi.Input<number>;
    /** AutoRenewal, ManualRenewal or NotRenewal. */
    renewStatus?: pulumi.Input<string>;
    /** KMS product version; default "3" (software KMS 3.0). */
    productVersion?: pulumi.Input<string>;
    /** Instance deletion protection; default true. */
    deletionProtection?: pulumi.Input<boolean>;
    /** Display name; default "<clusterId>-secrets". */
    instanceName?: pulumi.Input<string>;
}

/** The KMS key to create (always Aliyun_AES_256, ENCRYPT/DECRYPT, software, rotating, deletion-protected). */
export interface KmsKeyArgs {
    /** Automatic rotation interval, seconds form ("31536000s"); 7 to 365 days. Default 365 days. */
    rotationInterval?: pulumi.Input<string>;
    /** Days between a deletion request and the key's destruction, 7-366; default 30. */
    pendingWindowInDays?: pulumi.Input<number>;
    /** Key description; default names the cluster. */
    description?: pulumi.Input<string>;
}

/** Re-encryption of every Secret after a key rotation. See components/rotation.ts. */
export interface RotationArgs {
    /** Run the re-encryption on rotation; default true. Decides whether the resources exist, so not an Input. */
    enabled?: boolean;
    /** Parallel PATCH requests; default 8. */
    concurrency?: pulumi.Input<number>;
    /** Cap on Secret writes per second (each is one billed KMS Encrypt call); default 100, 0 = none. */
    qps?: pulumi.Input<number>;
    /** Secrets per list page; default 500. */
    pageSize?: pulumi.Input<number>;
    /** Annotation that forces the rewrite; default "encryption-key-rotation-time" (the guide's). */
    annotationKey?: pulumi.Input<string>;
    /** A kubeconfig file to reach the cluster; default: a short-lived one from the CS API. */
    kubeconfigPath?: pulumi.Input<string>;
    /** Namespace of the re-encryption identity; default kube-system. */
    serviceAccountNamespace?: pulumi.Input<string>;
    /** Name of the re-encryption identity (get/list/patch on Secrets only); default ask-secret-reencryptor. */
    serviceAccountName?: pulumi.Input<string>;
}

export interface SecretEncryptionArgs {
    /** ID of the EXISTING ASK Pro cluster (spec ack.pro.small): encryption cannot be switched on at cluster creation. */
    clusterId: pulumi.Input<string>;
    /** The cluster's region, e.g. cn-hangzhou; the preflight checks the cluster is there. */
    region: pulumi.Input<string>;
    /**
     * Adopt an existing key (then no instance or key is created): it is imported and protected. Since Pulumi CLI 3.174
     * an import is followed by an update to match the program, so the key gets automatic rotation, deletion protection
     * and status Enabled (ADOPTED_KEY_SETTINGS); `reviewAdoptedKey` names what would change and refuses a key whose
     * spec or usage differs (that would need a replacement, which `protect` blocks).
     * A plain string, not an Input: Pulumi needs an import ID before the program's outputs resolve.
     */
    kmsKeyId?: string;
    /** Adopt an existing dedicated KMS instance for the new key. */
    kmsInstanceId?: pulumi.Input<string>;
    /** Create a dedicated KMS instance for the new key. */
    kmsInstance?: KmsInstanceArgs;
    /** Settings of the new key (ignored when kmsKeyId adopts one). */
    key?: KmsKeyArgs;
    /**
     * The account-wide AliyunCSManagedSecurityRole: "create" it (default) or "adopt" the existing one.
     * Decides which resources exist, so not an Input; `resolveSecurityRoleMode` turns the stack's "auto" into one of these.
     */
    securityRole?: "create" | "adopt";
    /** The RAM user or role that runs `pulumi up`; it gets AliyunKMSCryptoAdminAccess. Optional. */
    operator?: { ramUserName: pulumi.Input<string> } | { ramRoleName: pulumi.Input<string> };
    /** How ClusterEncryption waits for Container Service (defaults and limits: ENCRYPTION_TIMING in ./settings.ts). */
    encryption?: { [K in keyof EncryptionTiming]?: pulumi.Input<number> };
    /** Re-encryption after rotation; on by default. */
    rotation?: RotationArgs;
    /** Extra tags for the KMS instance and key. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const SECONDS_365_DAYS = `${365 * 86400}s`;

/**
 * What the component applies to an adopted key. `pulumi import` is followed by an update to these values
 * (Pulumi CLI 3.174+, pulumi/pulumi PR 19339); keySpec and keyUsage force a replacement, which `protect` blocks,
 * so a key that differs there is refused instead (reviewAdoptedKey).
 */
export const ADOPTED_KEY_SETTINGS = {
    keySpec: "Aliyun_AES_256",
    keyUsage: "ENCRYPT/DECRYPT",
    automaticRotation: "Enabled",
    deletionProtection: "Enabled",
    status: "Enabled",
} as const;
const REPLACING_KEY_SETTINGS = ["keySpec", "keyUsage"] as const;

/** Tag on the security role this stack creates: "auto" keeps managing a role that carries this stack's name. */
export const ROLE_MANAGED_BY_TAG = "ask-kms-secret-encryption-stack";

const SECURITY_ROLE_DESCRIPTION = "Container Service uses this role to call KMS for Secret encryption at rest.";

/** Alibaba Cloud tag values are at most 128 characters (RAM TagRole / Tag API reference). */
const MAX_TAG_VALUE = 128;

/** organization/project/stack: unique across Pulumi organisations sharing one Alibaba account. */
export function managingStackName(): string {
    const name = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
    if (name.length <= MAX_TAG_VALUE) return name;
    // Too long for a tag value: keep a readable prefix and make it unique with a hash of the whole.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- only for the rare long name
    const digest = (require("crypto") as typeof import("crypto")).createHash("sha256").update(name).digest("hex").slice(0, 16);
    return `${name.slice(0, MAX_TAG_VALUE - 17)}~${digest}`;
}

/** The IAM trust policy that lets Container Service assume the security role. */
export const SECURITY_ROLE_TRUST_POLICY = JSON.stringify({
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["cs.aliyuncs.com"] } }],
    Version: "1",
});

/**
 * Encrypts an existing ASK Pro cluster's Secrets at rest with a dedicated KMS key,
 * the vendor guide's console steps as one component:
 * KMS instance → key (rotating, deletion-protected, `protect`) → security role and
 * operator permissions → switch encryption on → re-encrypt every Secret after each rotation.
 */
export class SecretEncryption extends pulumi.ComponentResource {
    /** ID of the dedicated KMS instance holding the key (undefined when an existing key is adopted). */
    readonly kmsInstanceId: pulumi.Output<string | undefined>;
    readonly kmsKeyId: pulumi.Output<string>;
    readonly kmsKeyArn: pulumi.Output<string>;
    readonly securityRoleName: pulumi.Output<string>;
    readonly encryptionEnabled: pulumi.Output<boolean>;
    readonly keyResource: alicloud.kms.Key;
    readonly clusterEncryption: ClusterEncryption;
    readonly rotation?: SecretRotation;

    constructor(name: string, args: SecretEncryptionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ask:index:SecretEncryption", name, {}, opts);
        const parent = { parent: this };
        const keyTags = pulumi
            .all([args.clusterId, args.tags ?? {}])
            .apply(([clusterId, extra]) => ({ ...extra, "ask-cluster-id": clusterId, purpose: "k8s-secret-encryption" }));

        let instanceId: pulumi.Output<string> | undefined;
        if (args.kmsKeyId !== undefined) {
            // Adopted by import, so the stack manages and protects it like a key it created: the engine
            // refuses to delete it and the policy pack sees it. The import is followed by an update to
            // ADOPTED_KEY_SETTINGS (reviewAdoptedKey names what changes); settings that do not matter for
            // safety are taken as they are.
            this.keyResource = new alicloud.kms.Key(
                `${name}-key`,
                { ...ADOPTED_KEY_SETTINGS },
                {
                    ...parent,
                    import: args.kmsKeyId,
                    protect: true,
                    ignoreChanges: [
                        "description",
                        "tags",
                        "dkmsInstanceId",
                        "rotationInterval",
                        "pendingWindowInDays",
                        "deletionProtectionDescription",
                        "protectionLevel",
                        "origin",
                        "policy",
                    ],
                },
            );
        } else {
            if (args.kmsInstanceId !== undefined) {
                instanceId = pulumi.output(args.kmsInstanceId);
            } else if (args.kmsInstance !== undefined) {
                const i = args.kmsInstance;
                const instance = new alicloud.kms.Instance(
                    `${name}-kms`,
                    {
                        vpcId: i.vpcId,
                        vswitchIds: i.vswitchIds,
                        zoneIds: i.zoneIds,
                        paymentType: i.paymentType ?? "PayAsYouGo",
                        productVersion: i.productVersion ?? "3",
                        spec: i.spec,
                        keyNum: i.keyNum,
                        secretNum: i.secretNum,
                        vpcNum: i.vpcNum,
                        period: i.period,
                        renewStatus: i.renewStatus,
                        deletionProtection: i.deletionProtection ?? true,
                        instanceName: i.instanceName ?? pulumi.interpolate`${args.clusterId}-secrets`,
                        tags: keyTags,
                    },
                    // Destroying the instance destroys the key with it: the engine must refuse.
                    { ...parent, protect: true },
                );
                instanceId = instance.id;
            } else {
                throw new Error(`SecretEncryption ${name}: set kmsKeyId (adopt a key), kmsInstanceId (adopt an instance) or kmsInstance (create one)`);
            }
            this.keyResource = new alicloud.kms.Key(
                `${name}-key`,
                {
                    keySpec: "Aliyun_AES_256",
                    keyUsage: "ENCRYPT/DECRYPT",
                    origin: "Aliyun_KMS",
                    protectionLevel: "SOFTWARE",
                    dkmsInstanceId: instanceId,
                    automaticRotation: "Enabled",
                    // Seconds form: the API reads the interval back in seconds, so "365d" would diff forever.
                    rotationInterval: args.key?.rotationInterval ?? SECONDS_365_DAYS,
                    pendingWindowInDays: args.key?.pendingWindowInDays ?? 30,
                    status: "Enabled",
                    deletionProtection: "Enabled",
                    deletionProtectionDescription: pulumi.interpolate`Seals the Kubernetes Secrets of ASK Pro cluster ${args.clusterId}; switch the cluster's Secret encryption off before retiring this key.`,
                    description:
                        args.key?.description ??
                        pulumi.interpolate`Encrypts Kubernetes Secrets at rest for ASK Pro cluster ${args.clusterId}. Do not disable or delete while the cluster uses it.`,
                    tags: keyTags,
                },
                { ...parent, protect: true },
            );
        }
        const key = this.keyResource;

        const securityRole = this.securityRole(name, args.securityRole ?? "create");
        const operatorGrant = this.operatorGrant(name, args.operator);

        this.clusterEncryption = new ClusterEncryption(
            `${name}-cluster-encryption`,
            {
                clusterId: args.clusterId,
                kmsKeyId: key.id,
                regionId: args.region,
                ...args.encryption,
            },
            { ...parent, dependsOn: [key, ...securityRole.resources, ...operatorGrant] },
        );

        if (args.rotation?.enabled ?? true) {
            const r = args.rotation ?? {};
            const identity = this.reencryptionIdentity(name, args.clusterId, r);
            this.rotation = new SecretRotation(
                `${name}-rotation`,
                {
                    clusterId: args.clusterId,
                    regionId: args.region,
                    kmsKeyId: key.id,
                    encryptionEnabledAt: this.clusterEncryption.enabledAt,
                    annotationKey: r.annotationKey ?? DEFAULT_ANNOTATION_KEY,
                    concurrency: r.concurrency ?? 8,
                    qps: r.qps ?? 100,
                    pageSize: r.pageSize ?? 500,
                    serviceAccountNamespace: identity.namespace,
                    serviceAccountName: identity.name,
                    kubeconfigPath: r.kubeconfigPath,
                },
                // After encryption is on, so the first run also seals Secrets written before it.
                { ...parent, dependsOn: [this.clusterEncryption, ...identity.resources] },
            );
        }

        this.kmsInstanceId = instanceId ? instanceId.apply((id) => id as string | undefined) : pulumi.output(undefined);
        this.kmsKeyId = key.id;
        this.kmsKeyArn = key.arn;
        this.securityRoleName = pulumi.output(SECURITY_ROLE_NAME);
        this.encryptionEnabled = this.clusterEncryption.encryptionEnabled;
        this.registerOutputs({
            kmsInstanceId: this.kmsInstanceId,
            kmsKeyId: this.kmsKeyId,
            kmsKeyArn: this.kmsKeyArn,
            securityRoleName: this.securityRoleName,
            encryptionEnabled: this.encryptionEnabled,
            rotatedKeyVersion: this.rotation?.keyVersion,
            rotationVerifiedAt: this.rotation?.verifiedAt,
        });
    }

    /** The account-wide security role Container Service assumes to call KMS for the cluster. */
    private securityRole(name: string, mode: "create" | "adopt"): { resources: pulumi.Resource[] } {
        if (mode === "adopt") return { resources: [] };
        // Other clusters in the account rely on this role: never delete it with this stack.
        const keep = { parent: this, retainOnDelete: true };
        const role = new alicloud.ram.Role(
            `${name}-security-role`,
            {
                roleName: SECURITY_ROLE_NAME,
                assumeRolePolicyDocument: SECURITY_ROLE_TRUST_POLICY,
                description: SECURITY_ROLE_DESCRIPTION,
                // Lets "auto" tell the role this stack created from one another stack (or a person) created.
                tags: { [ROLE_MANAGED_BY_TAG]: managingStackName() },
            },
            keep,
        );
        const attachment = new alicloud.ram.RolePolicyAttachment(
            `${name}-security-role-policy`,
            { roleName: role.roleName, policyName: SECURITY_ROLE_POLICY, policyType: "System" },
            keep,
        );
        return { resources: [role, attachment] };
    }

    private operatorGrant(name: string, operator: SecretEncryptionArgs["operator"]): pulumi.Resource[] {
        if (operator === undefined) return [];
        const common = { policyName: OPERATOR_POLICY, policyType: "System" };
        if ("ramUserName" in operator) {
            return [new alicloud.ram.UserPolicyAttachment(`${name}-operator-kms-admin`, { ...common, userName: operator.ramUserName }, { parent: this })];
        }
        return [new alicloud.ram.RolePolicyAttachment(`${name}-operator-kms-admin`, { ...common, roleName: operator.ramRoleName }, { parent: this })];
    }

    /** A dedicated identity that may only get, list and patch Secrets: all the re-encryption needs. */
    private reencryptionIdentity(name: string, clusterId: pulumi.Input<string>, r: RotationArgs) {
        const namespace = r.serviceAccountNamespace ?? "kube-system";
        const saName = r.serviceAccountName ?? "ask-secret-reencryptor";
        const kubeconfig =
            r.kubeconfigPath !== undefined
                ? pulumi.output(r.kubeconfigPath)
                : pulumi.secret(
                      alicloud.cs.getClusterCredentialOutput({ clusterId, temporaryDurationMinutes: 60 }, { parent: this }).apply((c) => c.kubeConfig),
                  );
        const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent: this });
        const withProvider = { parent: this, provider };
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-reencryptor`,
            {
                metadata: {
                    name: saName,
                    namespace,
                    labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "ask-kms-secret-encryption" },
                },
            },
            withProvider,
        );
        const role = new k8s.rbac.v1.ClusterRole(
            `${name}-reencryptor`,
            { rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "patch"] }] },
            withProvider,
        );
        const binding = new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-reencryptor`,
            {
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: account.metadata.namespace }],
            },
            withProvider,
        );
        return { namespace: account.metadata.namespace, name: account.metadata.name, resources: [account, role, binding] };
    }
}

/**
 * Turns the stack's securityRole setting into "create" or "adopt". "auto" looks the
 * account-wide role up: create it when it is missing, keep managing it when it carries
 * this stack's tag (this stack created it: a second `up` must not drop it), adopt it
 * otherwise. An untagged role this project made (before the tag existed) gets a warning
 * with the one-time migration, since the lookup cannot tell which stack made it.
 */
export async function resolveSecurityRoleMode(mode: "auto" | "create" | "adopt"): Promise<{ mode: "create" | "adopt"; warnings: string[] }> {
    if (mode !== "auto") return { mode, warnings: [] };
    const found = await alicloud.ram.getRoles({ nameRegex: `^${SECURITY_ROLE_NAME}$` });
    const role = (found.roles ?? []).find((r) => r.name === SECURITY_ROLE_NAME);
    if (!role) return { mode: "create", warnings: [] };
    if (role.tags === undefined || role.tags === null) {
        throw new ConfigError([
            `${pulumi.getProject()}:securityRole: auto cannot tell whether this stack manages ${SECURITY_ROLE_NAME}: the role lookup reported no tags ` +
                "(an alicloud provider older than the one this project pins?). Set securityRole to create (this stack created the role) or adopt (it did not).",
        ]);
    }
    if (role.tags[ROLE_MANAGED_BY_TAG] === managingStackName()) return { mode: "create", warnings: [] };
    const warnings: string[] = [];
    if (role.tags[ROLE_MANAGED_BY_TAG] === undefined && role.description === SECURITY_ROLE_DESCRIPTION) {
        warnings.push(
            `${SECURITY_ROLE_NAME} exists without the ${ROLE_MANAGED_BY_TAG} tag, so securityRole: auto adopts it (leaves it alone). ` +
                "If THIS stack created it with an earlier version of this project, run one `pulumi up` with securityRole: create " +
                "(that tags it; nothing is recreated), then return to auto; otherwise nothing to do.",
        );
    }
    return { mode: "adopt", warnings };
}

/**
 * Looks an adopted key up (before anything is registered) and compares it with what the
 * component applies. Returns one line per setting the import-then-update would change;
 * throws a ConfigError for a key that is missing or whose spec or usage differs.
 */
export async function reviewAdoptedKey(kmsKeyId: string, project: string): Promise<string[]> {
    const found = await alicloud.kms.getKeys({ ids: [kmsKeyId], enableDetails: true });
    const key = (found.keys ?? []).find((k) => k.id === kmsKeyId || k.keyId === kmsKeyId);
    const where = `${project}:kmsKeyId`;
    if (!key) {
        throw new ConfigError([`${where}: key ${kmsKeyId} was not found in the stack's region; check the ID (KMS console > Keys) and alicloud:region`]);
    }
    const live: Record<string, string | undefined> = {
        keySpec: key.keySpec || undefined,
        keyUsage: key.keyUsage || undefined,
        automaticRotation: key.automaticRotation || undefined,
        status: key.status || undefined,
        // Not reported by the key lookup: the update sets it whatever it is.
        deletionProtection: undefined,
    };
    // A value the lookup does not report is unknown, not wrong: it is named below, never refused.
    const refused = REPLACING_KEY_SETTINGS.filter((name) => live[name] !== undefined && live[name] !== ADOPTED_KEY_SETTINGS[name]);
    if (refused.length > 0) {
        throw new ConfigError(
            refused.map(
                (name) =>
                    `${where}: key ${kmsKeyId} has ${name} ${live[name] || "(unknown)"}, Secret encryption needs ${ADOPTED_KEY_SETTINGS[name]}; ` +
                    "adopting it would need a replacement, which protect blocks. Use an Aliyun_AES_256 ENCRYPT/DECRYPT key, or let the stack create one (remove kmsKeyId).",
            ),
        );
    }
    const changes: string[] = [];
    for (const [name, wanted] of Object.entries(ADOPTED_KEY_SETTINGS)) {
        if (live[name] === wanted) continue;
        const replacing = (REPLACING_KEY_SETTINGS as readonly string[]).includes(name);
        changes.push(
            live[name] === undefined
                ? `adopting key ${kmsKeyId}: its ${name} is not visible to the lookup; the import is ${replacing ? "refused by protect unless it is" : "followed by an update that sets it to"} ${wanted}`
                : `adopting key ${kmsKeyId}: the import is followed by an update that sets ${name} from ${live[name] || "(empty)"} to ${wanted}`,
        );
    }
    return changes;
}
