// The public shapes of the Alibaba Cloud stand-in: the clusters, keys and roles
// it serves, its failure knobs, the calls it records, and the handle tests get.

export interface StandInCluster {
    clusterId: string;
    name: string;
    clusterSpec: string;
    clusterType: string;
    profile: string;
    state: string;
    regionId: string;
    vpcId: string;
    encryptionKeyId?: string;
    encryptionDisabled: boolean;
    /**
     * The API server endpoints the cluster lists (the cluster data sources' `connections`): absent, both are taken
     * from the kubeconfig the stand-in hands out (public and VPC-internal); given, exactly these (a missing one: none).
     */
    endpoints?: { internet?: string; intranet?: string };
    tags?: Record<string, string>;
    vswitchIds?: string[];
    securityGroupId?: string;
}

export interface StandInKeyVersion {
    keyVersionId: string;
    creationDate: string;
}

export interface StandInKey {
    keyId: string;
    arn: string;
    keySpec: string;
    keyUsage: string;
    keyState: string;
    creatorType: "User" | "Service";
    creator: string;
    origin: string;
    description: string;
    creationDate: string;
    protectionLevel: string;
    dkmsInstanceId: string;
    automaticRotation: string;
    rotationInterval: string;
    deletionProtection: string;
    lastRotationDate: string;
    nextRotationDate: string;
    primaryKeyVersion: string;
    versions: StandInKeyVersion[];
    /** ListResourceTags (and the alicloud plugin's `tags`); absent: none. */
    tags?: Record<string, string>;
    /** When a PendingDeletion key goes (ScheduleKeyDeletion); absent: "". */
    deleteDate?: string;
    deletionProtectionDescription?: string;
    /** The key policy (keys in a KMS instance). */
    policy?: string;
}

/** A dedicated KMS instance (alicloud.kms.Instance), attached to a VPC through vSwitches in its zones. */
export interface StandInKmsInstance {
    instanceId: string;
    instanceName: string;
    regionId: string;
    vpcId: string;
    vswitchIds: string[];
    zoneIds: string[];
    /** "PayAsYouGo" or "Subscription". */
    paymentType: string;
    /** "3" software, "5" hardware (HSM). */
    productVersion: string;
    spec: number;
    keyNum: number;
    secretNum: number;
    vpcNum: number;
    status: string;
    createTime: string;
    endDate: string;
    deletionProtection: boolean;
    tags: Record<string, string>;
    caCertificateChainPem: string;
    log: string;
    logStorage: number;
    renewStatus: string;
    renewPeriod: number;
    bindVpcs: { vpcId: string; vswitchId: string; regionId: string; vpcOwnerId: string }[];
}

/** A vSwitch (alicloud.vpc.getSwitches). */
export interface StandInVSwitch {
    vswitchId: string;
    vswitchName: string;
    vpcId: string;
    zoneId: string;
    regionId: string;
    cidrBlock: string;
    status: string;
    description: string;
    isDefault: boolean;
    creationTime: string;
    availableIpAddressCount: number;
    resourceGroupId: string;
    routeTableId: string;
    ipv6CidrBlock: string;
    tags: Record<string, string>;
}

/** A RAM policy attached to a role or a user; `id` is the provider's `role|user:<policy>:<type>:<principal>`. */
export interface StandInPolicyAttachment {
    id: string;
    principalType: "role" | "user";
    principalName: string;
    policyName: string;
    policyType: string;
}

export interface StandInKnobs {
    /** DescribeClusterDetail calls that still report "updating" after an accepted UpdateKMSEncryption (Infinity: never finishes). */
    updatingPolls: number;
    /** The next N UpdateKMSEncryption calls answer HTTP 409 (changed within 5 minutes). */
    conflictsBeforeAccept: number;
    /** UpdateKMSEncryption answers 403 ForbiddenUpdateKMSState (caller lacks RBAC admin/ops). */
    forbidUpdate: boolean;
    /** The accepted update ends in state "updating_failed" instead of "running". */
    failUpdate: boolean;
}

export interface RecordedCall {
    service: "cs" | "kms" | "sts";
    action: string;
    method: string;
    path: string;
    query: Record<string, string>;
    body: string;
    status: number;
    accessKeyId?: string;
    securityToken?: string;
}

export interface StandInOptions {
    accessKeyId?: string;
    accessKeySecret?: string;
    regionId?: string;
    /**
     * Builds the kubeconfig DescribeClusterUserKubeconfig returns (tests point it at a test API server);
     * `privateIpAddress` is the request's PrivateIpAddress: the VPC-internal endpoint instead of the public one.
     */
    kubeconfig?: (clusterId: string, temporaryDurationMinutes: number, privateIpAddress: boolean) => string;
    /** Also serve STS AssumeRole over TLS (127.0.0.1, self-signed: pass `stsCaFile` as NODE_EXTRA_CA_CERTS). */
    sts?: boolean;
}

/**
 * An RAM role STS may hand out: AssumeRole with its ARN returns a temporary key (STS.*) and a token.
 * The same role is what RAM lists (alicloud.ram.getRoles) and alicloud.ram.Role manages; the RAM fields
 * are optional (a role given only an ARN is named after the ARN's last segment).
 */
export interface StandInRole {
    roleArn: string;
    /** Access key IDs allowed to assume it; "*" trusts every key the stand-in accepts. */
    trustedAccessKeyIds: string[];
    roleName?: string;
    roleId?: string;
    description?: string;
    assumeRolePolicyDocument?: string;
    maxSessionDuration?: number;
    tags?: Record<string, string>;
    createDate?: string;
    updateDate?: string;
}

export interface AlibabaStandIn {
    /** "http://127.0.0.1:PORT", ready for ALIBABA_CLOUD_CS_ENDPOINT. */
    csEndpoint: string;
    /** "http://127.0.0.1:PORT", ready for ALIBABA_CLOUD_KMS_ENDPOINT. */
    kmsEndpoint: string;
    accessKeyId: string;
    accessKeySecret: string;
    regionId: string;
    /**
     * "http://127.0.0.1:PORT" of the control API the stand-in alicloud plugin (test/support/alicloudPlugin) reads and
     * writes the account through: give it to the plugin as ALICLOUD_STANDIN_CONTROL.
     */
    controlEndpoint: string;
    /** "127.0.0.1:PORT" of the STS endpoint (https) when started with `sts: true`. */
    stsEndpoint?: string;
    /** PEM file of the STS endpoint's self-signed certificate, for NODE_EXTRA_CA_CERTS. */
    stsCaFile?: string;
    /** A credentials URI (alicloud:credentialsUri) that hands out a fresh temporary key (STS.*) with a token. */
    credentialsUri: string;
    /** Accept another access key (optionally only with a security token), e.g. a profile's or a config's. */
    addAccessKey(accessKeyId: string, accessKeySecret: string, securityToken?: string): void;
    addRole(role: StandInRole): void;
    /** Adds an RAM role by name (ARN, ID and dates filled in; trusted by no access key unless given). */
    addRamRole(partial: Partial<StandInRole> & { roleName: string }): StandInRole;
    clusters: Map<string, StandInCluster>;
    keys: Map<string, StandInKey>;
    /** Roles by ARN: the STS roles and the RAM roles are one set. */
    roles: Map<string, StandInRole>;
    kmsInstances: Map<string, StandInKmsInstance>;
    vswitches: Map<string, StandInVSwitch>;
    /** RAM policy attachments by their provider ID. */
    policyAttachments: Map<string, StandInPolicyAttachment>;
    /** RAM user names (policies attach only to a user that exists). */
    ramUsers: Set<string>;
    addRamUser(userName: string): void;
    addKmsInstance(partial?: Partial<StandInKmsInstance>): StandInKmsInstance;
    addVSwitch(partial?: Partial<StandInVSwitch>): StandInVSwitch;
    knobs: StandInKnobs;
    calls: RecordedCall[];
    /** Writes through the control API (the stand-in alicloud plugin's creates, updates and deletes), in order. */
    controlWrites: { method: string; path: string }[];
    addCluster(partial?: Partial<StandInCluster>): StandInCluster;
    addKey(partial?: Partial<StandInKey>): StandInKey;
    /** Simulates a KMS automatic rotation: a new primary version and a new lastRotationDate. */
    rotateKey(keyId: string, at?: Date): StandInKeyVersion;
    scenario: {
        notProCluster(clusterId: string): void;
        removeCluster(clusterId: string): void;
        stillUpdatingFor(polls: number): void;
        conflictOnce(): void;
        forbidUpdates(): void;
        disableKey(keyId: string): void;
        makeServiceKey(keyId: string): void;
        setKeySpec(keyId: string, keySpec: string): void;
    };
    /** Calls of one action, in order. */
    callsOf(action: string): RecordedCall[];
    close(): Promise<void>;
}
