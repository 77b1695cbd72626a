// Thin typed wrappers over the Container Service (ACK/ASK) calls this project uses.

import { AlibabaContext, createCsClient } from "./clients";
import { toAlibabaApiError } from "./errors";

export interface ClusterInfo {
    clusterId: string;
    name: string;
    /** "ack.pro.small" for a Pro cluster. */
    clusterSpec: string;
    /** "running", "updating", "failed", ... */
    state: string;
    regionId: string;
    vpcId: string;
    /** meta_data.Capabilities.EncryptionKMSKeyId; undefined when never set. */
    encryptionKeyId?: string;
    /** True unless meta_data says encryption is on (DisableEncryption false with a key). */
    encryptionDisabled: boolean;
}

export interface KmsEncryptionChange {
    kmsKeyId?: string;
    disableEncryption: boolean;
}

interface EncryptionCapabilities {
    encryptionKeyId?: string;
    encryptionDisabled: boolean;
}

/**
 * Reads the encryption setting out of DescribeClusterDetail's meta_data, a JSON
 * string. DisableEncryption may arrive as a boolean or a string; a cluster with
 * no key is treated as not encrypted whatever the flag says.
 */
export function parseEncryptionCapabilities(metaData: string | undefined, clusterId: string): EncryptionCapabilities {
    if (metaData === undefined || metaData.trim() === "") return { encryptionDisabled: true };
    let parsed: unknown;
    try {
        parsed = JSON.parse(metaData);
    } catch (e) {
        throw new Error(
            `DescribeClusterDetail for cluster "${clusterId}" returned meta_data that is not JSON (${(e as Error).message}); ` +
                "the encryption setting cannot be read. Check the cluster in the Container Service console.",
        );
    }
    const capabilities = ((parsed as Record<string, unknown>)?.Capabilities ?? {}) as Record<string, unknown>;
    const rawKey = capabilities.EncryptionKMSKeyId;
    const encryptionKeyId = typeof rawKey === "string" && rawKey !== "" ? rawKey : undefined;
    const rawDisabled = capabilities.DisableEncryption;
    const flaggedDisabled = rawDisabled === true || rawDisabled === "true";
    return { encryptionKeyId, encryptionDisabled: flaggedDisabled || encryptionKeyId === undefined };
}

export async function describeCluster(ctx: AlibabaContext, clusterId: string): Promise<ClusterInfo> {
    const { client, endpoint } = createCsClient(ctx);
    const site = { service: "cs" as const, operation: "DescribeClusterDetail", target: `cluster "${clusterId}"`, endpoint: endpoint.endpoint };
    let body;
    try {
        body = (await client.describeClusterDetail(clusterId)).body;
    } catch (e) {
        throw toAlibabaApiError(e, site);
    }
    if (!body) throw new Error(`DescribeClusterDetail for cluster "${clusterId}" returned an empty body; retry, and contact support if it persists.`);
    return {
        clusterId: body.clusterId ?? clusterId,
        name: body.name ?? "",
        clusterSpec: body.clusterSpec ?? "",
        state: body.state ?? "",
        regionId: body.regionId ?? "",
        vpcId: body.vpcId ?? "",
        ...parseEncryptionCapabilities(body.metaData, clusterId),
    };
}

export async function updateKmsEncryption(ctx: AlibabaContext, clusterId: string, change: KmsEncryptionChange): Promise<void> {
    if (!change.disableEncryption && !change.kmsKeyId) {
        throw new Error(`UpdateKMSEncryption for cluster "${clusterId}": enabling encryption needs a KMS key ID.`);
    }
    const { client, endpoint } = createCsClient(ctx);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- SDK loads on first call (see clients.ts)
    const cs = require("@alicloud/cs20151215") as typeof import("@alicloud/cs20151215");
    const request = new cs.UpdateKMSEncryptionRequest({ disableEncryption: change.disableEncryption, kmsKeyId: change.kmsKeyId });
    try {
        await client.updateKMSEncryption(clusterId, request);
    } catch (e) {
        throw toAlibabaApiError(e, { service: "cs", operation: "UpdateKMSEncryption", target: `cluster "${clusterId}"`, endpoint: endpoint.endpoint });
    }
}

/** The kubeconfig YAML (holds a client credential: never log or store it). */
/**
 * A temporary kubeconfig for the caller. `privateIpAddress` asks for the VPC-internal API endpoint;
 * without it the kubeconfig points at the PUBLIC endpoint, which many production clusters do not have.
 */
export async function describeClusterUserKubeconfig(
    ctx: AlibabaContext,
    clusterId: string,
    temporaryDurationMinutes: number,
    privateIpAddress = false,
): Promise<string> {
    if (!Number.isInteger(temporaryDurationMinutes) || temporaryDurationMinutes < 15 || temporaryDurationMinutes > 4320) {
        throw new Error(`DescribeClusterUserKubeconfig: temporaryDurationMinutes must be a whole number from 15 to 4320, got ${temporaryDurationMinutes}.`);
    }
    const { client, endpoint } = createCsClient(ctx);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- SDK loads on first call (see clients.ts)
    const cs = require("@alicloud/cs20151215") as typeof import("@alicloud/cs20151215");
    let body;
    try {
        body = (
            await client.describeClusterUserKubeconfig(clusterId, new cs.DescribeClusterUserKubeconfigRequest({ temporaryDurationMinutes, privateIpAddress }))
        ).body;
    } catch (e) {
        throw toAlibabaApiError(e, {
            service: "cs",
            operation: "DescribeClusterUserKubeconfig",
            target: `cluster "${clusterId}"`,
            endpoint: endpoint.endpoint,
        });
    }
    if (!body?.config) {
        throw new Error(
            `DescribeClusterUserKubeconfig for cluster "${clusterId}" returned no kubeconfig; check that the caller has RBAC access to the cluster.`,
        );
    }
    return body.config;
}
