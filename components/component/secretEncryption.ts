import * as pulumi from "@pulumi/pulumi";
import * as alicloud from "@pulumi/alicloud";
import * as k8s from "@pulumi/kubernetes";
import { ClusterEncryption } from "../providers/clusterEncryption";
import { SecretRotation } from "../providers/secretRotation";
import {
    CLUSTER_TAG,
    KEY_SPEC,
    KEY_USAGE,
    OPERATOR_POLICY,
    PROJECT,
    PURPOSE_TAG,
    PURPOSE_TAG_VALUE,
    ROLE_MANAGED_BY_TAG,
    SECURITY_ROLE_NAME,
    SECURITY_ROLE_POLICY,
} from "../config";
import { execKubeconfig, ExecKubeconfigOptions } from "../kube/execKubeconfig";
import { ADOPTED_KEY_KEPT_AS_IS, ADOPTED_KEY_SETTINGS, managingStackName, SECURITY_ROLE_DESCRIPTION } from "./lookups";
import {
    DEFAULT_ROTATION_INTERVAL,
    defaultKeyDescription,
    eachTuning,
    ENCRYPTION_ON_DELETE,
    KEY_SETTINGS,
    OnDeleteChoice,
    REENCRYPT_IDENTITY,
} from "../config";

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

/** The KMS key to create (always Aliyun_AES_256, ENCRYPT/DECRYPT, rotating, deletion-protected). */
export interface KmsKeyArgs {
    /** "SOFTWARE" (default) or "HSM": must match the instance (HSM keys live on hardware instances, productVersion "5"). */
    protectionLevel?: pulumi.Input<string>;
    /** Automatic rotation interval, seconds form ("31536000s"); 7 to 365 days. Default 365 days. */
    rotationInterval?: pulumi.Input<string>;
    /** KEY_SETTINGS.pendingWindowInDays in ../config/settings.ts. */
    pendingWindowInDays?: pulumi.Input<number>;
    /** Key description; default names the cluster. */
    description?: pulumi.Input<string>;
}

/**
 * Re-encryption of every Secret after a key rotation (../providers/secretRotation.ts). Defaults and limits are
 * the settings model's (REENCRYPT_TUNING and REENCRYPT_IDENTITY in ../config/settings.ts); the provider's check
 * enforces the same limits.
 */
export interface RotationArgs {
    /** Run the re-encryption on rotation; default true. Decides whether the resources exist, so not an Input. */
    enabled?: boolean;
    /** Secret writes in flight at once. Default 8; 1-64. */
    concurrency?: pulumi.Input<number>;
    /** Cap on Secret writes per second, each one billed KMS Encrypt call; 0 = no cap. Default 100; 0-1000. */
    qps?: pulumi.Input<number>;
    /** Secrets per list page (metadata only). Default 500; 10-5000. */
    pageSize?: pulumi.Input<number>;
    /** Total deadline for one API request (a list page or a write), in seconds. Default 60; 1-600. */
    requestTimeoutSeconds?: pulumi.Input<number>;
    /** Transient failures in a row before the run stops with a checkpoint. Default 30; 1-10000. */
    errorBudget?: pulumi.Input<number>;
    /** Longest time without one successful request before the run stops, in seconds. Default 600; 10-86400. */
    stallTimeoutSeconds?: pulumi.Input<number>;
    /** Largest list page accepted, in MiB; a larger one is asked again at half the page size. Default 64; 1-1024. */
    maxPageMiB?: pulumi.Input<number>;
    /** Annotation written with a new value to force each Secret's rewrite. Default: the guide's, encryption-key-rotation-time. */
    annotationKey?: pulumi.Input<string>;
    /** A kubeconfig file to reach the cluster; default: a credential-free one whose exec helper asks the CS API at each use. */
    kubeconfigPath?: pulumi.Input<string>;
    /** Namespace of the re-encryption identity. Default kube-system. */
    serviceAccountNamespace?: pulumi.Input<string>;
    /** The re-encryption identity (may only get, list and patch Secrets). Default ask-secret-reencryptor. */
    serviceAccountName?: pulumi.Input<string>;
}

/** How ClusterEncryption waits for Container Service (ENCRYPTION_TIMING in ../config/settings.ts). */
export interface EncryptionArgs {
    /** Seconds between cluster status polls while the setting changes. Default 10; 1-300. */
    pollIntervalSeconds?: pulumi.Input<number>;
    /** Minutes to wait for the cluster to be running with the new setting, 409 retries included. Default 30; 0.1-240. */
    timeoutMinutes?: pulumi.Input<number>;
    /** First wait after UpdateKMSEncryption answers 409 or throttling; doubles per retry, up to 4x. Default 15; 1-300. */
    conflictBackoffSeconds?: pulumi.Input<number>;
    /**
     * What deleting ClusterEncryption does (destroy, removing the component, a rename or re-parent without an alias):
     * "keep" leaves Secret encryption on, "switch-off" turns it off and waits. Default "keep". `destroy` acts on the
     * value the last `up` recorded. See ENCRYPTION_ON_DELETE in ../config/settings.ts.
     */
    onDelete?: pulumi.Input<OnDeleteChoice>;
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
    /**
     * The adopted key's rotation interval (seconds form): its own when it has one (reviewAdoptedKey finds it), so the
     * import changes nothing there; else the default, 365 days, since turning rotation on needs one. Default: 365 days.
     */
    adoptedKeyRotationInterval?: string;
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
    /**
     * With securityRole "create": the role already exists with this stack's tag (resolveSecurityRoleMode's inAccount),
     * so it is imported, and its policy attachment too when `policyAttached`. A destroy keeps both in the account.
     */
    securityRoleInAccount?: { policyAttached: boolean };
    /** The RAM user or role that runs `pulumi up`; it gets AliyunKMSCryptoAdminAccess. Optional. */
    operator?: { ramUserName: pulumi.Input<string> } | { ramRoleName: pulumi.Input<string> };
    /** How ClusterEncryption waits for Container Service. */
    encryption?: EncryptionArgs;
    /** Re-encryption after rotation; on by default. */
    rotation?: RotationArgs;
    /** Extra tags for the KMS instance and key. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * How the RBAC identity and the rotation reach the API server (from `resolveClusterAccess`): the endpoint,
     * its URL and the cluster CA, plus non-secret identity hints for the credential helper. Needed unless
     * rotation is off or rotation.kubeconfigPath is set.
     */
    clusterAccess?: {
        endpoint: "private" | "public";
        server: pulumi.Input<string>;
        certificateAuthorityData: pulumi.Input<string>;
        identity?: ExecKubeconfigOptions["identity"];
    };
}

/** The IAM trust policy that lets Container Service assume the security role. */
export const SECURITY_ROLE_TRUST_POLICY = JSON.stringify({
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["cs.aliyuncs.com"] } }],
    Version: "1",
});

/** The component's type token: part of every child's URN, and how the policy pack knows the key it manages. */
export const SECRET_ENCRYPTION_TYPE = "ask:index:SecretEncryption";

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
        super(SECRET_ENCRYPTION_TYPE, name, {}, opts);
        const { key, instanceId } = this.kmsKey(name, args);
        this.keyResource = key;
        const grants = [...this.securityRole(name, args.securityRole ?? "create", args.securityRoleInAccount), ...this.operatorGrant(name, args.operator)];

        this.clusterEncryption = new ClusterEncryption(
            `${name}-cluster-encryption`,
            {
                clusterId: args.clusterId,
                kmsKeyId: key.id,
                regionId: args.region,
                ...args.encryption,
                // Recorded in state even when defaulted, so a destroy acts on what the last up decided.
                onDelete: args.encryption?.onDelete ?? ENCRYPTION_ON_DELETE.default,
            },
            { parent: this, dependsOn: [key, ...grants] },
        );
        if (args.rotation?.enabled ?? true) this.rotation = this.rotationAfterEncryption(name, args, key);

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

    /** The key: adopted by import, or created on an adopted or new dedicated instance. */
    private kmsKey(name: string, args: SecretEncryptionArgs): { key: alicloud.kms.Key; instanceId?: pulumi.Output<string> } {
        if (args.kmsKeyId !== undefined) {
            // Adopted by import, so the stack manages and protects it like a key it created: the engine
            // refuses to delete it and the policy pack sees it. The import is followed by an update to
            // ADOPTED_KEY_SETTINGS (reviewAdoptedKey names what changes); settings that do not matter for
            // safety are taken as they are.
            const key = new alicloud.kms.Key(
                `${name}-key`,
                // Turning rotation on needs an interval (UpdateRotationPolicy): the key's own when it has one.
                { ...ADOPTED_KEY_SETTINGS, rotationInterval: args.adoptedKeyRotationInterval ?? DEFAULT_ROTATION_INTERVAL },
                {
                    parent: this,
                    import: args.kmsKeyId,
                    protect: true,
                    ignoreChanges: ADOPTED_KEY_KEPT_AS_IS,
                },
            );
            return { key };
        }
        const tags = this.keyTags(args);
        const instanceId = this.kmsInstance(name, args, tags);
        const key = new alicloud.kms.Key(
            `${name}-key`,
            {
                keySpec: KEY_SPEC,
                keyUsage: KEY_USAGE,
                origin: "Aliyun_KMS",
                protectionLevel: args.key?.protectionLevel ?? "SOFTWARE",
                dkmsInstanceId: instanceId,
                automaticRotation: "Enabled",
                // Seconds form: the API reads the interval back in seconds, so "365d" would diff forever.
                rotationInterval: args.key?.rotationInterval ?? DEFAULT_ROTATION_INTERVAL,
                pendingWindowInDays: args.key?.pendingWindowInDays ?? KEY_SETTINGS.pendingWindowInDays.default,
                status: "Enabled",
                deletionProtection: "Enabled",
                deletionProtectionDescription: pulumi.interpolate`Seals the Kubernetes Secrets of ASK Pro cluster ${args.clusterId}; switch the cluster's Secret encryption off before retiring this key.`,
                description: args.key?.description ?? pulumi.output(args.clusterId).apply(defaultKeyDescription),
                tags,
            },
            { parent: this, protect: true },
        );
        return { key, instanceId };
    }

    private keyTags(args: SecretEncryptionArgs): pulumi.Output<Record<string, string>> {
        return pulumi
            .all([args.clusterId, args.tags ?? {}])
            .apply(([clusterId, extra]): Record<string, string> => ({ ...extra, [CLUSTER_TAG]: clusterId, [PURPOSE_TAG]: PURPOSE_TAG_VALUE }));
    }

    /** The dedicated KMS instance the new key lives on: adopted by ID, or created (protected). */
    private kmsInstance(name: string, args: SecretEncryptionArgs, tags: pulumi.Output<Record<string, string>>): pulumi.Output<string> {
        if (args.kmsInstanceId !== undefined) return pulumi.output(args.kmsInstanceId);
        const settings = args.kmsInstance;
        if (settings === undefined) {
            throw new Error(`SecretEncryption ${name}: set kmsKeyId (adopt a key), kmsInstanceId (adopt an instance) or kmsInstance (create one)`);
        }
        const instance = new alicloud.kms.Instance(
            `${name}-kms`,
            {
                vpcId: settings.vpcId,
                vswitchIds: settings.vswitchIds,
                zoneIds: settings.zoneIds,
                paymentType: settings.paymentType ?? "PayAsYouGo",
                productVersion: settings.productVersion ?? "3",
                spec: settings.spec,
                keyNum: settings.keyNum,
                secretNum: settings.secretNum,
                vpcNum: settings.vpcNum,
                period: settings.period,
                renewStatus: settings.renewStatus,
                deletionProtection: settings.deletionProtection ?? true,
                instanceName: settings.instanceName ?? pulumi.interpolate`${args.clusterId}-secrets`,
                tags,
            },
            // Destroying the instance destroys the key with it: the engine must refuse.
            { parent: this, protect: true },
        );
        return instance.id;
    }

    /** Re-encrypts every Secret after each rotation, as the dedicated least-privilege identity. */
    private rotationAfterEncryption(name: string, args: SecretEncryptionArgs, key: alicloud.kms.Key): SecretRotation {
        const rotation = args.rotation ?? {};
        const identity = this.reencryptionIdentity(name, args, rotation);
        return new SecretRotation(
            `${name}-rotation`,
            {
                clusterId: args.clusterId,
                regionId: args.region,
                kmsKeyId: key.id,
                encryptionEnabledAt: this.clusterEncryption.enabledAt,
                annotationKey: rotation.annotationKey ?? REENCRYPT_IDENTITY.annotationKey.default,
                ...eachTuning((setting, tuning) => (rotation[tuning] ?? setting.default) as number),
                serviceAccountNamespace: identity.namespace,
                serviceAccountName: identity.name,
                kubeconfigPath: rotation.kubeconfigPath,
                clusterEndpoint: args.clusterAccess?.endpoint ?? "public",
            },
            // After encryption is on, so the first run also seals Secrets written before it.
            { parent: this, dependsOn: [this.clusterEncryption, ...identity.resources] },
        );
    }

    /** The account-wide security role Container Service assumes to call KMS for the cluster. */
    private securityRole(name: string, mode: "create" | "adopt", inAccount: SecretEncryptionArgs["securityRoleInAccount"]): pulumi.Resource[] {
        if (mode === "adopt") return [];
        // Other clusters in the account rely on this role: never delete it with this stack.
        const keep = { parent: this, retainOnDelete: true };
        // Kept by an earlier destroy but gone from state: take it back (an ID equal to the stored one is no import).
        const roleImport = inAccount ? { import: SECURITY_ROLE_NAME } : {};
        const attachmentImport = inAccount?.policyAttached ? { import: `role:${SECURITY_ROLE_POLICY}:System:${SECURITY_ROLE_NAME}` } : {};
        const role = new alicloud.ram.Role(
            `${name}-security-role`,
            {
                roleName: SECURITY_ROLE_NAME,
                assumeRolePolicyDocument: SECURITY_ROLE_TRUST_POLICY,
                description: SECURITY_ROLE_DESCRIPTION,
                // Lets "auto" tell the role this stack created from one another stack (or a person) created.
                tags: { [ROLE_MANAGED_BY_TAG]: managingStackName() },
            },
            { ...keep, ...roleImport },
        );
        const attachment = new alicloud.ram.RolePolicyAttachment(
            `${name}-security-role-policy`,
            { roleName: role.roleName, policyName: SECURITY_ROLE_POLICY, policyType: "System" },
            { ...keep, ...attachmentImport },
        );
        return [role, attachment];
    }

    private operatorGrant(name: string, operator: SecretEncryptionArgs["operator"]): pulumi.Resource[] {
        if (operator === undefined) return [];
        const common = { policyName: OPERATOR_POLICY, policyType: "System" };
        if ("ramUserName" in operator) {
            return [new alicloud.ram.UserPolicyAttachment(`${name}-operator-kms-admin`, { ...common, userName: operator.ramUserName }, { parent: this })];
        }
        return [new alicloud.ram.RolePolicyAttachment(`${name}-operator-kms-admin`, { ...common, roleName: operator.ramRoleName }, { parent: this })];
    }

    /** An exec-plugin kubeconfig: no credential in state; the helper fetches one from the CS API at each use. */
    private credentialFreeKubeconfig(name: string, args: SecretEncryptionArgs): pulumi.Output<string> {
        const access = args.clusterAccess;
        if (!access) throw new Error(`SecretEncryption ${name}: set clusterAccess (resolveClusterAccess) or rotation.kubeconfigPath`);
        return pulumi
            .all([args.clusterId, args.region, access.server, access.certificateAuthorityData])
            .apply(([clusterId, region, server, certificateAuthorityData]) =>
                JSON.stringify(execKubeconfig({ clusterId, region, server, certificateAuthorityData, endpoint: access.endpoint, identity: access.identity })),
            );
    }

    /** A dedicated identity that may only get, list and patch Secrets: all the re-encryption needs. */
    private reencryptionIdentity(name: string, args: SecretEncryptionArgs, rotation: RotationArgs) {
        const namespace = rotation.serviceAccountNamespace ?? REENCRYPT_IDENTITY.serviceAccountNamespace.default;
        const saName = rotation.serviceAccountName ?? REENCRYPT_IDENTITY.serviceAccountName.default;
        const kubeconfig = rotation.kubeconfigPath !== undefined ? pulumi.output(rotation.kubeconfigPath) : this.credentialFreeKubeconfig(name, args);
        const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent: this });
        const withProvider = { parent: this, provider };
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-reencryptor`,
            {
                metadata: {
                    name: saName,
                    namespace,
                    labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": PROJECT },
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
