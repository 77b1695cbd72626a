// KMS (RPC style, HMAC-SHA1 signature v1): DescribeKey, ListKeys (paged,
// filtered) and ListResourceTags over the shared keys, answering in the real
// API's shapes and errors.

import type * as http from "node:http";
import { recordRpcCall, RpcError, readRequest, requestId, rpcParams, send } from "./http";
import { verifyRpcSignature } from "./signing";
import type { StandInState } from "./state";
import type { StandInKey } from "./types";

type KmsAction = (state: StandInState, params: Record<string, string>) => Record<string, unknown>;

/** The key fields ListKeys can filter on. */
const FILTER_FIELDS: Record<string, (key: StandInKey) => string> = {
    CreatorType: (key) => key.creatorType,
    KeyState: (key) => key.keyState,
    KeySpec: (key) => key.keySpec,
    KeyUsage: (key) => key.keyUsage,
    ProtectionLevel: (key) => key.protectionLevel,
};

function keyMetadata(key: StandInKey): Record<string, unknown> {
    return {
        KeyId: key.keyId,
        Arn: key.arn,
        KeySpec: key.keySpec,
        KeyUsage: key.keyUsage,
        KeyState: key.keyState,
        Creator: key.creator,
        Origin: key.origin,
        Description: key.description,
        CreationDate: key.creationDate,
        DeleteDate: key.deleteDate ?? "",
        MaterialExpireTime: "",
        ProtectionLevel: key.protectionLevel,
        DKMSInstanceId: key.dkmsInstanceId,
        AutomaticRotation: key.automaticRotation,
        RotationInterval: key.rotationInterval,
        DeletionProtection: key.deletionProtection,
        LastRotationDate: key.lastRotationDate,
        NextRotationDate: key.nextRotationDate,
        PrimaryKeyVersion: key.primaryKeyVersion,
    };
}

/** A key by ID or ARN, as KMS resolves KeyId. */
function findKey(state: StandInState, keyId: string | undefined): StandInKey {
    const key = keyId ? (state.keys.get(keyId) ?? [...state.keys.values()].find((candidate) => candidate.arn === keyId)) : undefined;
    if (!key) throw new RpcError(404, "Forbidden.KeyNotFound", "The specified Key is not found.");
    return key;
}

function paging(params: Record<string, string>): { pageNumber: number; pageSize: number } {
    const pageNumber = Number(params.PageNumber ?? 1);
    const pageSize = Number(params.PageSize ?? 10);
    if (!Number.isInteger(pageNumber) || pageNumber < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
        throw new RpcError(400, "InvalidParameter", "PageNumber must be >= 1 and PageSize from 1 to 100.");
    }
    return { pageNumber, pageSize };
}

function listKeys(state: StandInState, params: Record<string, string>): Record<string, unknown> {
    const { pageNumber, pageSize } = paging(params);
    let matching = [...state.keys.values()];
    if (params.Filters) {
        let filters: { Key?: string; Values?: string[] }[];
        try {
            filters = JSON.parse(params.Filters);
        } catch {
            throw new RpcError(400, "InvalidParameter", "The parameter Filters is not valid JSON.");
        }
        for (const filter of filters) {
            const values = filter.Values ?? [];
            const get = filter.Key ? FILTER_FIELDS[filter.Key] : undefined;
            if (!get) throw new RpcError(400, "InvalidParameter", `The filter key ${filter.Key} is not supported.`);
            matching = matching.filter((key) => values.includes(get(key)));
        }
    }
    const page = matching.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return {
        Keys: { Key: page.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })) },
        TotalCount: matching.length,
        PageNumber: pageNumber,
        PageSize: pageSize,
    };
}

/** ListResourceTags: the key's tags as { Tags: { Tag: [{ KeyId, TagKey, TagValue }] } } (@alicloud/kms20160120 ListResourceTagsResponse). */
function listResourceTags(state: StandInState, params: Record<string, string>): Record<string, unknown> {
    const key = findKey(state, params.KeyId);
    return { Tags: { Tag: Object.entries(key.tags ?? {}).map(([TagKey, TagValue]) => ({ KeyId: key.keyId, TagKey, TagValue })) } };
}

const kmsActions: Record<string, KmsAction> = {
    DescribeKey: (state, params) => ({ KeyMetadata: keyMetadata(findKey(state, params.KeyId)) }),
    ListKeys: listKeys,
    ListResourceTags: listResourceTags,
};

export async function handleKms(state: StandInState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const incoming = await readRequest(req);
    const params = rpcParams(incoming);
    const action = params.Action ?? "";
    const call = recordRpcCall(state.calls, "kms", incoming, params);
    const rid = requestId();
    try {
        if (incoming.path !== "/") throw new RpcError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
        call.accessKeyId = verifyRpcSignature(state, incoming.method, params);
        if (params.Version !== "2016-01-20") throw new RpcError(400, "InvalidVersion", `Specified parameter Version ${params.Version} is not valid.`);
        const handler = kmsActions[action];
        if (!handler) throw new RpcError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
        call.status = send(res, 200, { ...handler(state, params), RequestId: rid });
    } catch (error) {
        if (!(error instanceof RpcError)) throw error;
        call.status = send(res, error.status, {
            RequestId: rid,
            HostId: `kms.${state.regionId}.aliyuncs.com`,
            Code: error.code,
            Message: error.message,
            Recommend: `https://api.aliyun.com/troubleshoot?q=${error.code}&product=Kms`,
        });
    }
}
