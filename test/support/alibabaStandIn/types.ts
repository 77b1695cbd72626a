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

/** An RAM role STS may hand out: AssumeRole with its ARN returns a temporary key (STS.*) and a token. */
export interface StandInRole {
    roleArn: string;
    /** Access key IDs allowed to assume it; "*" trusts every key the stand-in accepts. */
    trustedAccessKeyIds: string[];
}

export interface AlibabaStandIn {
    /** "http://127.0.0.1:PORT", ready for ALIBABA_CLOUD_CS_ENDPOINT. */
    csEndpoint: string;
    /** "http://127.0.0.1:PORT", ready for ALIBABA_CLOUD_KMS_ENDPOINT. */
    kmsEndpoint: string;
    accessKeyId: string;
    accessKeySecret: string;
    regionId: string;
    /** "127.0.0.1:PORT" of the STS endpoint (https) when started with `sts: true`. */
    stsEndpoint?: string;
    /** PEM file of the STS endpoint's self-signed certificate, for NODE_EXTRA_CA_CERTS. */
    stsCaFile?: string;
    /** A credentials URI (alicloud:credentialsUri) that hands out a fresh temporary key (STS.*) with a token. */
    credentialsUri: string;
    /** Accept another access key (optionally only with a security token), e.g. a profile's or a config's. */
    addAccessKey(accessKeyId: string, accessKeySecret: string, securityToken?: string): void;
    addRole(role: StandInRole): void;
    clusters: Map<string, StandInCluster>;
    keys: Map<string, StandInKey>;
    knobs: StandInKnobs;
    calls: RecordedCall[];
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
