// Client factories for Container Service (CS) and KMS.
//
// The SDKs are require()d inside the functions, not imported at module top:
// dynamic providers are serialized by closure, and a module-level SDK object
// would be serialized by value (and has broken that before). Credentials are
// the stack's identity (./identity.ts), or @alicloud/credentials' default chain,
// so no credential ever passes through resource inputs, outputs or state.

import type CsClient from "@alicloud/cs20151215";
import { resolveEndpoint, ResolvedEndpoint } from "./endpoints";
import { credentialFor, StackIdentity } from "./identity";

export interface AlibabaContext {
    /** The stack's region (alicloud:region); picks the regional endpoints. */
    regionId: string;
    /** Environment to read endpoint overrides from; defaults to process.env. */
    env?: NodeJS.ProcessEnv;
    /** Per-request read timeout; defaults to 30 s. */
    readTimeoutMs?: number;
    /** Per-request connect timeout; defaults to 10 s. */
    connectTimeoutMs?: number;
    /** Who to act as (the stack's identity, see ./identity.ts); undefined: the default credential chain. */
    identity?: StackIdentity;
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

export function createCsClient(ctx: AlibabaContext): CsHandle {
    const endpoint = resolveEndpoint("cs", ctx.regionId, ctx.env, ctx.identity?.endpoints.cs);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- SDKs load on first call: the program and the plan import this module but never call Alibaba
    const cs = require("@alicloud/cs20151215") as typeof import("@alicloud/cs20151215");
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- SDKs load on first call: the program and the plan import this module but never call Alibaba
    const openapi = require("@alicloud/openapi-core/dist/utils") as typeof import("@alicloud/openapi-core/dist/utils");
    const config = new openapi.Config({
        credential: credentialFor(ctx.identity),
        regionId: ctx.regionId,
        endpoint: endpoint.endpoint,
        protocol: endpoint.protocol,
        readTimeout: ctx.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
        connectTimeout: ctx.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    return { client: new cs.default(config), endpoint };
}

export function createKmsClient(ctx: AlibabaContext): KmsHandle {
    const endpoint = resolveEndpoint("kms", ctx.regionId, ctx.env, ctx.identity?.endpoints.kms);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- SDKs load on first call: the program and the plan import this module but never call Alibaba
    const kms = require("@alicloud/kms20160120") as typeof import("@alicloud/kms20160120");
    const client = new kms.default({
        credential: credentialFor(ctx.identity) as never,
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
