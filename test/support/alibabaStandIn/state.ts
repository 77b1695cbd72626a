// The one state the stand-in's CS, KMS and STS endpoints share: clusters, keys,
// pending encryption updates, knobs, recorded calls, accepted access keys and
// roles, and the nonces already used; plus what only the control API (and so
// the stand-in alicloud plugin) reaches: KMS instances, vSwitches, RAM users
// and RAM policy attachments.

import * as crypto from "node:crypto";
import { isoSeconds } from "./http";
import type {
    RecordedCall,
    StandInCluster,
    StandInKey,
    StandInKeyVersion,
    StandInKmsInstance,
    StandInKnobs,
    StandInOptions,
    StandInPolicyAttachment,
    StandInRole,
    StandInVSwitch,
} from "./types";

export const STAND_IN_ACCESS_KEY_ID = "LTAI5tStandInTestKey01";
export const STAND_IN_ACCESS_KEY_SECRET = "standInTestSecret0123456789abcdef";
/** The stand-in account's UID, as ARNs carry it. */
export const STAND_IN_ACCOUNT_ID = "1234567890123456";

/** The name RAM knows a role by: its own, else the last segment of its ARN. */
export function roleNameOf(role: StandInRole): string {
    return role.roleName ?? role.roleArn.slice(role.roleArn.lastIndexOf("/") + 1);
}

/** An accepted UpdateKMSEncryption: applied once the cluster has been polled `remainingPolls` more times. */
export interface PendingUpdate {
    encryptionKeyId?: string;
    encryptionDisabled: boolean;
    remainingPolls: number;
}

/** An access key the stand-in accepts; a temporary (STS) key must come with its token. */
export interface AcceptedKey {
    secret: string;
    securityToken?: string;
}

export class StandInState {
    readonly accessKeyId: string;
    readonly accessKeySecret: string;
    readonly regionId: string;
    readonly kubeconfig: StandInOptions["kubeconfig"];
    readonly clusters = new Map<string, StandInCluster>();
    readonly keys = new Map<string, StandInKey>();
    readonly pending = new Map<string, PendingUpdate>();
    readonly knobs: StandInKnobs = { updatingPolls: 0, conflictsBeforeAccept: 0, forbidUpdate: false, failUpdate: false };
    readonly calls: RecordedCall[] = [];
    /** Writes through the control API (the stand-in alicloud plugin's creates, updates and deletes), in order. */
    readonly controlWrites: { method: string; path: string }[] = [];
    readonly usedNonces = new Set<string>();
    readonly accessKeys: Map<string, AcceptedKey>;
    readonly roles = new Map<string, StandInRole>();
    readonly kmsInstances = new Map<string, StandInKmsInstance>();
    readonly vswitches = new Map<string, StandInVSwitch>();
    readonly policyAttachments = new Map<string, StandInPolicyAttachment>();
    readonly ramUsers = new Set<string>();
    private keyCounter = 0;
    private clusterCounter = 0;
    private vswitchCounter = 0;

    constructor(options: StandInOptions) {
        this.accessKeyId = options.accessKeyId ?? STAND_IN_ACCESS_KEY_ID;
        this.accessKeySecret = options.accessKeySecret ?? STAND_IN_ACCESS_KEY_SECRET;
        this.regionId = options.regionId ?? "cn-hangzhou";
        this.kubeconfig = options.kubeconfig;
        this.accessKeys = new Map([[this.accessKeyId, { secret: this.accessKeySecret }]]);
    }

    addCluster(partial: Partial<StandInCluster> = {}): StandInCluster {
        this.clusterCounter++;
        const cluster: StandInCluster = {
            clusterId: partial.clusterId ?? `c${String(this.clusterCounter).padStart(4, "0")}standin${crypto.randomBytes(4).toString("hex")}`,
            name: `ask-pro-${this.clusterCounter}`,
            clusterSpec: "ack.pro.small",
            clusterType: "ManagedKubernetes",
            profile: "Serverless",
            state: "running",
            regionId: this.regionId,
            vpcId: "vpc-standin0001",
            encryptionDisabled: true,
            ...partial,
        };
        this.clusters.set(cluster.clusterId, cluster);
        return cluster;
    }

    addKey(partial: Partial<StandInKey> = {}): StandInKey {
        this.keyCounter++;
        const keyId = partial.keyId ?? crypto.randomUUID();
        const created = isoSeconds(new Date(Date.UTC(2026, 0, 1)));
        const firstVersion = { keyVersionId: crypto.randomUUID(), creationDate: created };
        const key: StandInKey = {
            keyId,
            arn: `acs:kms:${this.regionId}:${STAND_IN_ACCOUNT_ID}:key/${keyId}`,
            keySpec: "Aliyun_AES_256",
            keyUsage: "ENCRYPT/DECRYPT",
            keyState: "Enabled",
            creatorType: "User",
            creator: STAND_IN_ACCOUNT_ID,
            origin: "Aliyun_KMS",
            description: `stand-in key ${this.keyCounter}`,
            creationDate: created,
            protectionLevel: "SOFTWARE",
            dkmsInstanceId: "kst-standin0001",
            automaticRotation: "Enabled",
            rotationInterval: "31536000s",
            deletionProtection: "Enabled",
            lastRotationDate: created,
            nextRotationDate: isoSeconds(new Date(Date.UTC(2027, 0, 1))),
            primaryKeyVersion: firstVersion.keyVersionId,
            versions: [firstVersion],
            ...partial,
        };
        this.keys.set(key.keyId, key);
        return key;
    }

    rotateKey(keyId: string, at: Date = new Date()): StandInKeyVersion {
        const key = this.keys.get(keyId);
        if (!key) throw new Error(`stand-in: no key "${keyId}" to rotate`);
        const version = { keyVersionId: crypto.randomUUID(), creationDate: isoSeconds(at) };
        key.versions.push(version);
        key.primaryKeyVersion = version.keyVersionId;
        key.lastRotationDate = version.creationDate;
        return version;
    }

    addKmsInstance(partial: Partial<StandInKmsInstance> = {}): StandInKmsInstance {
        const instance: StandInKmsInstance = {
            instanceId: partial.instanceId ?? `kst-${regionCode(this.regionId)}${crypto.randomBytes(10).toString("hex").slice(0, 19)}`,
            instanceName: "",
            regionId: this.regionId,
            vpcId: "vpc-standin0001",
            vswitchIds: [],
            zoneIds: [],
            paymentType: "PayAsYouGo",
            productVersion: "3",
            spec: 0,
            keyNum: 0,
            secretNum: 0,
            vpcNum: 0,
            status: "Connected",
            createTime: isoSeconds(new Date()),
            endDate: "",
            deletionProtection: false,
            tags: {},
            caCertificateChainPem: "",
            log: "0",
            logStorage: 0,
            renewStatus: "",
            renewPeriod: 0,
            bindVpcs: [],
            ...partial,
        };
        if (instance.instanceName === "") instance.instanceName = instance.instanceId;
        this.kmsInstances.set(instance.instanceId, instance);
        return instance;
    }

    addVSwitch(partial: Partial<StandInVSwitch> = {}): StandInVSwitch {
        this.vswitchCounter++;
        const vswitch: StandInVSwitch = {
            vswitchId: partial.vswitchId ?? `vsw-standin${String(this.vswitchCounter).padStart(4, "0")}${crypto.randomBytes(3).toString("hex")}`,
            vswitchName: `standin-vsw-${this.vswitchCounter}`,
            vpcId: "vpc-standin0001",
            zoneId: `${this.regionId}-${"abcdefghijk"[(this.vswitchCounter - 1) % 11]}`,
            regionId: this.regionId,
            cidrBlock: `172.16.${this.vswitchCounter % 256}.0/24`,
            status: "Available",
            description: "",
            isDefault: false,
            creationTime: isoSeconds(new Date(Date.UTC(2026, 0, 1))),
            availableIpAddressCount: 252,
            resourceGroupId: "rg-standin",
            routeTableId: "vtb-standin0001",
            ipv6CidrBlock: "",
            tags: {},
            ...partial,
        };
        this.vswitches.set(vswitch.vswitchId, vswitch);
        return vswitch;
    }

    /** An RAM role by name: ARN (lower-case name, as RAM writes it), ID and dates filled in. */
    addRamRole(partial: Partial<StandInRole> & { roleName: string }): StandInRole {
        const now = isoSeconds(new Date());
        const role: StandInRole = {
            roleArn: `acs:ram::${STAND_IN_ACCOUNT_ID}:role/${partial.roleName.toLowerCase()}`,
            trustedAccessKeyIds: [],
            roleId: `3${String(crypto.randomInt(1e9)).padStart(9, "0")}${String(crypto.randomInt(1e9)).padStart(9, "0")}`,
            description: "",
            assumeRolePolicyDocument: "",
            maxSessionDuration: 3600,
            tags: {},
            createDate: now,
            updateDate: now,
            ...partial,
        };
        this.roles.set(role.roleArn, role);
        return role;
    }

    /** The role RAM knows by this name; roles are kept by ARN, which carries the name in lower case, so case is not significant. */
    findRoleByName(roleName: string): StandInRole | undefined {
        const wanted = roleName.toLowerCase();
        return [...this.roles.values()].find((role) => roleNameOf(role).toLowerCase() === wanted);
    }

    mustCluster(clusterId: string): StandInCluster {
        const cluster = this.clusters.get(clusterId);
        if (!cluster) throw new Error(`stand-in: no cluster "${clusterId}"`);
        return cluster;
    }

    mustKey(keyId: string): StandInKey {
        const key = this.keys.get(keyId);
        if (!key) throw new Error(`stand-in: no key "${keyId}"`);
        return key;
    }
}

/** The short region code KMS puts in instance and key IDs (kst-hzz…, key-hzz… in cn-hangzhou). */
export function regionCode(regionId: string): string {
    const known: Record<string, string> = { "cn-hangzhou": "hzz", "cn-beijing": "bjj", "cn-shanghai": "shh", "cn-shenzhen": "szz" };
    const city = regionId
        .split("-")
        .slice(1)
        .join("")
        .replace(/[^a-z]/g, "");
    return known[regionId] ?? (city.slice(0, 2) + city.slice(-1) || "xxx");
}
