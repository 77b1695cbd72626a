// Thin typed wrappers over the KMS management calls this project uses.
//
// Calls go through the SDK's own signed RPC request (doRequest) and we read
// the raw response map: the SDK's typed models drop fields we need
// (DeletionProtection, DKMSInstanceId) and ListKeysRequest has no Filters.

import { AlibabaContext, createKmsClient } from "./clients";
import { toAlibabaApiError } from "./errors";

const KMS_API_VERSION = "2016-01-20";
const PAGE_SIZE = 100;
// A runaway pager (a service that keeps answering with full pages) must end.
const MAX_PAGES = 1000;

export interface KeyInfo {
    keyId: string;
    arn: string;
    keySpec: string;
    keyUsage: string;
    keyState: string;
    creator: string;
    origin: string;
    description: string;
    creationDate: string;
    primaryKeyVersion: string;
    lastRotationDate: string;
    nextRotationDate: string;
    automaticRotation: string;
    rotationInterval: string;
    deletionProtection: string;
    protectionLevel: string;
    dkmsInstanceId: string;
}

async function kmsCall(ctx: AlibabaContext, action: string, query: Record<string, unknown>, target: string): Promise<Record<string, unknown>> {
    const { client, endpoint, runtime } = createKmsClient(ctx);
    try {
        return await client.doRequest(action, "HTTPS", "POST", KMS_API_VERSION, "AK", query, null, runtime);
    } catch (e) {
        throw toAlibabaApiError(e, { service: "kms", operation: action, target, endpoint: endpoint.endpoint });
    }
}

function text(value: unknown): string {
    return value === undefined || value === null ? "" : String(value);
}

export async function describeKey(ctx: AlibabaContext, keyId: string): Promise<KeyInfo> {
    const response = await kmsCall(ctx, "DescribeKey", { KeyId: keyId }, `key "${keyId}"`);
    const m = response.KeyMetadata as Record<string, unknown> | undefined;
    if (!m || !m.KeyId) {
        throw new Error(
            `KMS DescribeKey for key "${keyId}" returned no KeyMetadata (request ID ${text(response.RequestId)}); retry, and contact support if it persists.`,
        );
    }
    return {
        keyId: text(m.KeyId),
        arn: text(m.Arn),
        keySpec: text(m.KeySpec),
        keyUsage: text(m.KeyUsage),
        keyState: text(m.KeyState),
        creator: text(m.Creator),
        origin: text(m.Origin),
        description: text(m.Description),
        creationDate: text(m.CreationDate),
        primaryKeyVersion: text(m.PrimaryKeyVersion),
        lastRotationDate: text(m.LastRotationDate),
        nextRotationDate: text(m.NextRotationDate),
        automaticRotation: text(m.AutomaticRotation),
        rotationInterval: text(m.RotationInterval),
        deletionProtection: text(m.DeletionProtection),
        protectionLevel: text(m.ProtectionLevel),
        dkmsInstanceId: text(m.DKMSInstanceId),
    };
}

interface Page<T> {
    items: T[];
    totalCount: number;
}

async function forEachPage<T>(fetchPage: (pageNumber: number) => Promise<Page<T>>, visit: (item: T) => boolean): Promise<boolean> {
    for (let pageNumber = 1; pageNumber <= MAX_PAGES; pageNumber++) {
        const { items, totalCount } = await fetchPage(pageNumber);
        for (const item of items) {
            if (visit(item)) return true;
        }
        if (items.length === 0 || pageNumber * PAGE_SIZE >= totalCount) return false;
    }
    throw new Error(`KMS paging did not end after ${MAX_PAGES} pages of ${PAGE_SIZE}; refusing to continue.`);
}

function listOf(container: unknown, field: string): Record<string, unknown>[] {
    const list = (container as Record<string, unknown> | undefined)?.[field];
    return Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
}

/**
 * True when the key is a customer (User) key. DescribeKey has no creator-type
 * field; ListKeys with the CreatorType filter is the only API that tells
 * User keys from Service keys, so we page through the account's User keys.
 */
export async function isUserKey(ctx: AlibabaContext, keyId: string): Promise<boolean> {
    const filters = JSON.stringify([{ Key: "CreatorType", Values: ["User"] }]);
    return forEachPage(
        async (pageNumber) => {
            const response = await kmsCall(ctx, "ListKeys", { PageNumber: pageNumber, PageSize: PAGE_SIZE, Filters: filters }, "User keys");
            return { items: listOf(response.Keys, "Key"), totalCount: Number(response.TotalCount ?? 0) };
        },
        (key) => key.KeyId === keyId || key.KeyArn === keyId,
    );
}
