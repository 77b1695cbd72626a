// The one state the stand-in's CS, KMS and STS endpoints share: clusters, keys,
// pending encryption updates, knobs, recorded calls, accepted access keys and
// roles, and the nonces already used.

import * as crypto from "node:crypto";
import { isoSeconds } from "./http";
import type { RecordedCall, StandInCluster, StandInKey, StandInKeyVersion, StandInKnobs, StandInOptions, StandInRole } from "./types";

export const STAND_IN_ACCESS_KEY_ID = "LTAI5tStandInTestKey01";
export const STAND_IN_ACCESS_KEY_SECRET = "standInTestSecret0123456789abcdef";

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
    readonly usedNonces = new Set<string>();
    readonly accessKeys: Map<string, AcceptedKey>;
    readonly roles = new Map<string, StandInRole>();
    private keyCounter = 0;
    private clusterCounter = 0;

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
            arn: `acs:kms:${this.regionId}:1234567890123456:key/${keyId}`,
            keySpec: "Aliyun_AES_256",
            keyUsage: "ENCRYPT/DECRYPT",
            keyState: "Enabled",
            creatorType: "User",
            creator: "1234567890123456",
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
