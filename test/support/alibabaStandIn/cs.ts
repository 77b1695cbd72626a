// Container Service (ROA style, ACS3-HMAC-SHA256): cluster detail with the
// KMS encryption it reports, UpdateKMSEncryption with its failure knobs, and
// the user kubeconfig; the credentials URI shares this port (see sts.ts).

import type * as http from "node:http";
import { CsError, Incoming, header, isoSeconds, readRequest, requestId, send } from "./http";
import { verifyCsSignature } from "./signing";
import type { StandInState } from "./state";
import { CREDENTIALS_URI_PATH, serveCredentialsUri } from "./sts";
import type { RecordedCall, StandInCluster } from "./types";

const defaultKubeconfig = (clusterId: string, minutes: number, privateIpAddress: boolean): string =>
    [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${clusterId}`,
        "  cluster:",
        `    server: https://${clusterId}.${privateIpAddress ? "intranet" : "public"}.standin.invalid:6443`,
        "contexts:",
        `- name: ${clusterId}-admin`,
        "  context:",
        `    cluster: ${clusterId}`,
        "    user: standin-user",
        `current-context: ${clusterId}-admin`,
        "users:",
        "- name: standin-user",
        "  user:",
        `    token: standin-token-valid-${minutes}-minutes`,
        "",
    ].join("\n");

function clusterDetail(cluster: StandInCluster): Record<string, unknown> {
    const capabilities: Record<string, unknown> = { DisableEncryption: cluster.encryptionDisabled };
    if (cluster.encryptionKeyId !== undefined) capabilities.EncryptionKMSKeyId = cluster.encryptionKeyId;
    return {
        cluster_id: cluster.clusterId,
        name: cluster.name,
        cluster_spec: cluster.clusterSpec,
        cluster_type: cluster.clusterType,
        profile: cluster.profile,
        state: cluster.state,
        region_id: cluster.regionId,
        vpc_id: cluster.vpcId,
        current_version: "1.31.1-aliyun.1",
        created: "2026-01-01T00:00:00+08:00",
        updated: isoSeconds(new Date()),
        deletion_protection: true,
        resource_group_id: "rg-standin",
        meta_data: JSON.stringify({ Capabilities: capabilities, KubernetesVersion: "1.31.1-aliyun.1" }),
    };
}

function describeClusterDetail(state: StandInState, clusterId: string): Record<string, unknown> {
    const cluster = state.clusters.get(clusterId);
    if (!cluster) throw new CsError(404, "ErrorClusterNotFound", `cluster ${clusterId} not found`);
    const pendingUpdate = state.pending.get(clusterId);
    if (pendingUpdate) {
        if (pendingUpdate.remainingPolls <= 0) {
            state.pending.delete(clusterId);
            cluster.state = state.knobs.failUpdate ? "updating_failed" : "running";
            if (!state.knobs.failUpdate) {
                cluster.encryptionKeyId = pendingUpdate.encryptionKeyId;
                cluster.encryptionDisabled = pendingUpdate.encryptionDisabled;
            }
        } else {
            pendingUpdate.remainingPolls--;
        }
    }
    return clusterDetail(cluster);
}

function updateKmsEncryption(state: StandInState, clusterId: string, body: Buffer): undefined {
    const cluster = state.clusters.get(clusterId);
    if (!cluster) throw new CsError(404, "ErrorClusterNotFound", `cluster ${clusterId} not found`);
    if (state.knobs.forbidUpdate) {
        throw new CsError(
            403,
            "ForbiddenUpdateKMSState",
            "Forbidden update kms state, current user has no permission to update kms encryption of this cluster",
        );
    }
    if (state.knobs.conflictsBeforeAccept > 0) {
        state.knobs.conflictsBeforeAccept--;
        throw new CsError(409, "Conflict", "The KMS encryption configuration of the cluster was updated within 5 minutes, please try again later");
    }
    if (cluster.state !== "running") throw new CsError(409, "Conflict", `cluster ${clusterId} is ${cluster.state}, please try again later`);
    let parsed: { kms_key_id?: unknown; disable_encryption?: unknown };
    try {
        parsed = JSON.parse(body.toString("utf8") || "{}");
    } catch {
        throw new CsError(400, "InvalidParameter", "request body is not valid JSON");
    }
    const disable = parsed.disable_encryption === true;
    const keyId = typeof parsed.kms_key_id === "string" && parsed.kms_key_id !== "" ? parsed.kms_key_id : undefined;
    if (!disable) {
        const key = keyId ? state.keys.get(keyId) : undefined;
        if (!key) throw new CsError(400, "InvalidParameter", `kms key ${keyId ?? "(empty)"} not found`);
        if (key.keySpec !== "Aliyun_AES_256" || key.keyUsage !== "ENCRYPT/DECRYPT" || key.keyState !== "Enabled" || key.creatorType !== "User") {
            throw new CsError(400, "InvalidParameter", `kms key ${keyId} can not be used for secret encryption`);
        }
    }
    cluster.state = "updating";
    state.pending.set(clusterId, {
        encryptionKeyId: disable ? cluster.encryptionKeyId : keyId,
        encryptionDisabled: disable,
        remainingPolls: state.knobs.updatingPolls,
    });
    return undefined;
}

/** The user kubeconfig DescribeClusterUserKubeconfig hands out (also the control API's, for the alicloud plugin). */
export function clusterKubeconfig(state: StandInState, clusterId: string, minutes: number, privateIpAddress: boolean): { config: string; expiration: string } {
    if (!state.clusters.has(clusterId)) throw new CsError(404, "ErrorClusterNotFound", `cluster ${clusterId} not found`);
    const config = (state.kubeconfig ?? defaultKubeconfig)(clusterId, minutes, privateIpAddress);
    const expiration = isoSeconds(new Date(Date.now() + (minutes > 0 ? minutes : 3 * 365 * 24 * 60) * 60_000));
    return { config, expiration };
}

function userKubeconfig(state: StandInState, clusterId: string, query: Record<string, string>): Record<string, unknown> {
    const minutes = Number(query.TemporaryDurationMinutes ?? 0);
    // DescribeClusterUserKubeconfig: PrivateIpAddress defaults to false, the PUBLIC endpoint (docs/platform-facts.md, "Container Service").
    const privateIpAddress = query.PrivateIpAddress === "true";
    return clusterKubeconfig(state, clusterId, minutes, privateIpAddress);
}

const csRoutes: { action: string; method: string; pattern: RegExp; handle: (state: StandInState, match: RegExpExecArray, incoming: Incoming) => unknown }[] = [
    {
        action: "DescribeClusterDetail",
        method: "GET",
        pattern: /^\/clusters\/([^/]+)$/,
        handle: (state, match) => describeClusterDetail(state, decodeURIComponent(match[1])),
    },
    {
        action: "UpdateKMSEncryption",
        method: "PUT",
        pattern: /^\/clusters\/([^/]+)\/kms$/,
        handle: (state, match, incoming) => updateKmsEncryption(state, decodeURIComponent(match[1]), incoming.body),
    },
    {
        action: "DescribeClusterUserKubeconfig",
        method: "GET",
        pattern: /^\/k8s\/([^/]+)\/user_config$/,
        handle: (state, match, incoming) => userKubeconfig(state, decodeURIComponent(match[1]), incoming.query),
    },
];

export async function handleCs(state: StandInState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const incoming = await readRequest(req);
    if (incoming.method === "GET" && incoming.path === CREDENTIALS_URI_PATH) {
        serveCredentialsUri(state, incoming, res);
        return;
    }
    const action = header(incoming.headers, "x-acs-action") ?? "";
    const call: RecordedCall = {
        service: "cs",
        action,
        method: incoming.method,
        path: incoming.path,
        query: incoming.query,
        body: incoming.body.toString("utf8"),
        status: 0,
        securityToken: header(incoming.headers, "x-acs-security-token"),
    };
    state.calls.push(call);
    const rid = requestId();
    try {
        const auth = verifyCsSignature(state, incoming);
        call.accessKeyId = auth.accessKeyId;
        for (const route of csRoutes) {
            const match = route.pattern.exec(incoming.path);
            if (match && route.method === incoming.method && route.action === action) {
                call.status = send(res, 200, route.handle(state, match, incoming));
                return;
            }
        }
        throw new CsError(
            404,
            "InvalidAction.NotFound",
            `Specified api is not found, please check your url and method: ${incoming.method} ${incoming.path} (${action}).`,
        );
    } catch (error) {
        if (!(error instanceof CsError)) throw error;
        call.status = send(res, error.status, { code: error.code, message: error.message, requestId: rid, status: error.status });
    }
}
