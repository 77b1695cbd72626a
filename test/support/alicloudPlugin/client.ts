// A ResourceProvider client that speaks to a resource plugin the way the
// engine does (the engine's requests, plain values in and out), for tests of
// the stand-in alicloud plugin without a CLI.

import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provider from "@pulumi/pulumi/proto/provider_pb";
import type * as plugin from "@pulumi/pulumi/proto/plugin_pb";
import { decode, encode, Props, SECRET_SIG, SIG_KEY } from "./wire";

const CALL_DEADLINE_MS = 30_000;

export interface CheckResult {
    inputs: Props;
    failures: { property: string; reason: string }[];
}

export interface DiffResult {
    changes: "none" | "some" | "unknown";
    diffs: string[];
    replaces: string[];
    detailedDiff: Record<string, string>;
}

type Method<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown;

/** A secret as the engine sends one (ConfigureResponse acceptSecrets). */
export function secret(value: unknown): Props {
    return { [SIG_KEY]: SECRET_SIG, value };
}

export class PluginClient {
    private readonly client: providerRpc.ResourceProviderClient;

    constructor(port: number) {
        this.client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    }

    private call<Req, Res>(name: string, req: Req): Promise<Res> {
        const method = (this.client as unknown as Record<string, Method<Req, Res>>)[name].bind(this.client);
        return new Promise((resolve, reject) => {
            method(req, new grpc.Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (e, r) => {
                if (e) reject(Object.assign(new Error(e.details || e.message), { grpcCode: e.code }));
                else resolve(r);
            });
        });
    }

    async pluginVersion(): Promise<string> {
        return (await this.call<Empty, plugin.PluginInfo>("getPluginInfo", new Empty())).getVersion();
    }

    async schema(): Promise<string> {
        return (await this.call<provider.GetSchemaRequest, provider.GetSchemaResponse>("getSchema", new provider.GetSchemaRequest())).getSchema();
    }

    /** CheckConfig then Configure, as the engine does for a default provider: the stack's alicloud config. */
    async configure(config: Props): Promise<provider.ConfigureResponse> {
        const checked = new provider.CheckRequest();
        checked.setUrn("urn:pulumi:test::project::pulumi:providers:alicloud::default_3_108_0");
        checked.setOlds(encode({}));
        checked.setNews(encode(config));
        const checkResponse = await this.call<provider.CheckRequest, provider.CheckResponse>("checkConfig", checked);
        const request = new provider.ConfigureRequest();
        const inputs = checkResponse.getInputs();
        if (inputs) request.setArgs(inputs);
        request.setAcceptsecrets(true);
        request.setAcceptresources(true);
        return this.call<provider.ConfigureRequest, provider.ConfigureResponse>("configure", request);
    }

    async check(urn: string, olds: Props, news: Props): Promise<CheckResult> {
        const request = new provider.CheckRequest();
        request.setUrn(urn);
        request.setOlds(encode(olds));
        request.setNews(encode(news));
        const response = await this.call<provider.CheckRequest, provider.CheckResponse>("check", request);
        return {
            inputs: (response.getInputs()?.toJavaScript() ?? {}) as Props,
            failures: response.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
        };
    }

    async diff(id: string, urn: string, olds: Props, news: Props, ignoreChanges: string[] = []): Promise<DiffResult> {
        const request = new provider.DiffRequest();
        request.setId(id);
        request.setUrn(urn);
        request.setOlds(encode(olds));
        request.setNews(encode(news));
        request.setIgnorechangesList(ignoreChanges);
        const response = await this.call<provider.DiffRequest, provider.DiffResponse>("diff", request);
        const kinds = provider.DiffResponse.DiffChanges;
        const kindNames = Object.fromEntries(Object.entries(provider.PropertyDiff.Kind).map(([name, value]) => [value, name]));
        const detailedDiff: Record<string, string> = {};
        response.getDetaileddiffMap().forEach((entry, key) => (detailedDiff[key] = kindNames[entry.getKind()]));
        return {
            changes: response.getChanges() === kinds.DIFF_SOME ? "some" : response.getChanges() === kinds.DIFF_NONE ? "none" : "unknown",
            diffs: response.getDiffsList(),
            replaces: response.getReplacesList(),
            detailedDiff,
        };
    }

    async create(urn: string, properties: Props, preview = false): Promise<{ id: string; outs: Props }> {
        const request = new provider.CreateRequest();
        request.setUrn(urn);
        request.setProperties(encode(properties));
        request.setPreview(preview);
        const response = await this.call<provider.CreateRequest, provider.CreateResponse>("create", request);
        return { id: response.getId(), outs: decode(response.getProperties()).values };
    }

    /** Read as refresh (properties and inputs given) or as import (only the ID). */
    async read(id: string, urn: string, properties: Props = {}, inputs: Props = {}): Promise<{ id: string; props: Props; inputs: Props; raw: Props }> {
        const request = new provider.ReadRequest();
        request.setId(id);
        request.setUrn(urn);
        request.setProperties(encode(properties));
        request.setInputs(encode(inputs));
        const response = await this.call<provider.ReadRequest, provider.ReadResponse>("read", request);
        return {
            id: response.getId(),
            props: decode(response.getProperties()).values,
            inputs: decode(response.getInputs()).values,
            raw: (response.getProperties()?.toJavaScript() ?? {}) as Props,
        };
    }

    async update(id: string, urn: string, olds: Props, news: Props, preview = false): Promise<Props> {
        const request = new provider.UpdateRequest();
        request.setId(id);
        request.setUrn(urn);
        request.setOlds(encode(olds));
        request.setNews(encode(news));
        request.setPreview(preview);
        const response = await this.call<provider.UpdateRequest, provider.UpdateResponse>("update", request);
        return decode(response.getProperties()).values;
    }

    async delete(id: string, urn: string, properties: Props): Promise<void> {
        const request = new provider.DeleteRequest();
        request.setId(id);
        request.setUrn(urn);
        request.setProperties(encode(properties));
        await this.call<provider.DeleteRequest, Empty>("delete", request);
    }

    async invoke(tok: string, args: Props): Promise<{ result: Props; failures: { property: string; reason: string }[] }> {
        const request = new provider.InvokeRequest();
        request.setTok(tok);
        request.setArgs(encode(args));
        const response = await this.call<provider.InvokeRequest, provider.InvokeResponse>("invoke", request);
        return {
            result: (response.getReturn()?.toJavaScript() ?? {}) as Props,
            failures: response.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
        };
    }

    close(): void {
        this.client.close();
    }
}

/** A URN for a resource of `type` named `name` in a test stack. */
export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::ask-kms-secret-encryption::ask:index:SecretEncryption$${type}::${name}`;
}
