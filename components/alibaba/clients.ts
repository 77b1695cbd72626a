// Client factories for Container Service (CS) and KMS.
//
// The SDKs are require()d inside the functions, not imported at module top:
// dynamic providers are serialized by closure, and a module-level SDK object
// would be serialized by value (and has broken that before). Credentials are
// resolved by @alicloud/credentials' default chain each time a client is made,
// so no credential ever passes through resource inputs, outputs or state.

import type CsClient from "@alicloud/cs20151215";
import { resolveEndpoint, ResolvedEndpoint } from "./endpoints";

export interface AlibabaContext {
    /** The stack's region (alicloud:region); picks the regional endpoints. */
    regionId: string;
    /** Environment to read endpoint overrides from; defaults to process.env. */
    env?: NodeJS.ProcessEnv;
    /** Per-request read timeout; defaults to 30 s. */
    readTimeoutMs?: number;
    /** Per-request connect timeout; defaults to 10 s. */
    connectTimeoutMs?: number;
}

const DEFAULT_READ_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The slice of the rpc-client we use: its generic signed RPC call. */
export interface KmsRpcClient {
    doRequest(
        action: string,
        protocol: string,
        method: string,
        version: string,
        authType: string,
        query: { [key: string]: unknown },
        body: { [key: string]: unknown } | null,
        runtime: object,
    ): Promise<{ [key: string]: unknown }>;
}

export interface CsHandle {
    client: CsClient;
    endpoint: ResolvedEndpoint;
}

export interface KmsHandle {
    client: KmsRpcClient;
    endpoint: ResolvedEndpoint;
    runtime: { readTimeout: number; connectTimeout: number; autoretry: boolean };
}

function defaultCredential(): unknown {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const credentials = require("@alicloud/credentials") as typeof import("@alicloud/credentials");
    return new credentials.default();
}

export function createCsClient(ctx: AlibabaContext): CsHandle {
    const endpoint = resolveEndpoint("cs", ctx.regionId, ctx.env);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cs = require("@alicloud/cs20151215") as typeof import("@alicloud/cs20151215");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const openapi = require("@alicloud/openapi-core/dist/utils") as typeof import("@alicloud/openapi-core/dist/utils");
    const config = new openapi.Config({
        credential: defaultCredential(),
        regionId: ctx.regionId,
        endpoint: endpoint.endpoint,
        protocol: endpoint.protocol,
        readTimeout: ctx.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
        connectTimeout: ctx.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    return { client: new cs.default(config), endpoint };
}

export function createKmsClient(ctx: AlibabaContext): KmsHandle {
    const endpoint = resolveEndpoint("kms", ctx.regionId, ctx.env);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kms = require("@alicloud/kms20160120") as typeof import("@alicloud/kms20160120");
    const client = new kms.default({
        credential: defaultCredential() as never,
        regionId: ctx.regionId,
        endpoint: endpoint.endpoint,
        protocol: endpoint.protocol,
    } as never) as unknown as KmsRpcClient;
    return {
        client,
        endpoint,
        runtime: {
            readTimeout: ctx.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
            connectTimeout: ctx.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
            autoretry: false,
        },
    };
}
