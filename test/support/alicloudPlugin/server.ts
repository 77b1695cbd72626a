// The ResourceProvider gRPC service of the stand-in alicloud plugin: what the
// Pulumi engine calls on a resource plugin (pulumi/pulumi proto/pulumi/provider.proto).
// Check/Diff follow each resource's schema (./schema.ts); Create/Read/Update/Delete
// and the data sources go through the Alibaba stand-in's control API.

import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provider from "@pulumi/pulumi/proto/provider_pb";
import * as plugin from "@pulumi/pulumi/proto/plugin_pb";
import { ControlClient } from "./control";
import { invokes } from "./invokes";
import { ProviderContext, ProviderError, ResourceType } from "./resources/common";
import { kmsInstance } from "./resources/kmsInstance";
import { kmsKey } from "./resources/kmsKey";
import { rolePolicyAttachment, userPolicyAttachment } from "./resources/policyAttachments";
import { ramRole } from "./resources/ramRole";
import { checkInputs, DEFAULTS_KEY, diffInputs, importInputs, previewOutputs, refreshInputs } from "./schema";
import { decode, encode, Props, UNKNOWN } from "./wire";

/** The version the plugin reports: the @pulumi/alicloud release the program pins. */
export const PLUGIN_VERSION = "3.108.0";

export const RESOURCES: Record<string, ResourceType> = Object.fromEntries(
    [kmsKey, kmsInstance, ramRole, rolePolicyAttachment, userPolicyAttachment].map((type) => [type.token, type]),
);

/** The resource type of a URN: urn:pulumi:<stack>::<project>::<qualified type>::<name>, the last type after any parents'. */
export function typeOfUrn(urn: string): string {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.slice(qualified.lastIndexOf("$") + 1);
}

function resourceOf(urn: string, type?: string): ResourceType {
    const token = type || typeOfUrn(urn);
    const found = RESOURCES[token];
    if (!found) throw new ProviderError(`the stand-in alicloud plugin does not implement ${token} (it serves ${Object.keys(RESOURCES).join(", ")})`);
    return found;
}

/** The provider configuration Configure received. */
export interface PluginConfig {
    region: string;
}

export interface PluginOptions {
    control: ControlClient;
    /** Written to when a call fails (the engine shows the plugin's stderr in its logs). */
    log?: (line: string) => void;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

export function createService(options: PluginOptions): providerRpc.IResourceProviderServer {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    let config: PluginConfig | undefined;

    const context = (): ProviderContext => {
        // The engine configures a provider before any resource call; a direct caller may not have.
        return { control: options.control, region: config?.region ?? "" };
    };

    /** Runs a handler; an error becomes the gRPC status the engine shows (its message is all a user sees). */
    const unary =
        <Req, Res>(name: string, handle: (request: Req) => Promise<Res> | Res): Unary<Req, Res> =>
        (call, callback) => {
            Promise.resolve()
                .then(() => handle(call.request))
                .then(
                    (response) => callback(null, response),
                    (error: Error) => {
                        log(`alicloud stand-in plugin: ${name} failed: ${error.stack ?? error.message}`);
                        callback({ code: grpc.status.UNKNOWN, details: error.message, message: error.message, name: "Error" } as grpc.ServiceError, null);
                    },
                );
        };

    const checkResponse = (inputs: Props, secretKeys: Iterable<string>, failures: { property: string; reason: string }[]) => {
        const response = new provider.CheckResponse();
        response.setInputs(encode(inputs, secretKeys));
        response.setFailuresList(
            failures.map((f) => {
                const failure = new provider.CheckFailure();
                failure.setProperty(f.property);
                failure.setReason(f.reason);
                return failure;
            }),
        );
        return response;
    };

    return {
        getPluginInfo: unary<Empty, plugin.PluginInfo>("GetPluginInfo", () => new plugin.PluginInfo().setVersion(PLUGIN_VERSION)),

        getSchema: unary<provider.GetSchemaRequest, provider.GetSchemaResponse>("GetSchema", () => new provider.GetSchemaResponse().setSchema("{}")),

        // The provider's own inputs (alicloud:region, alicloud:accessKey, ...): accepted as they are.
        checkConfig: unary<provider.CheckRequest, provider.CheckResponse>("CheckConfig", (request) => {
            const response = new provider.CheckResponse();
            const news = request.getNews();
            if (news) response.setInputs(news);
            return response;
        }),

        diffConfig: unary<provider.DiffRequest, provider.DiffResponse>("DiffConfig", () =>
            new provider.DiffResponse().setChanges(provider.DiffResponse.DiffChanges.DIFF_NONE),
        ),

        configure: unary<provider.ConfigureRequest, provider.ConfigureResponse>("Configure", (request) => {
            const args = decode(request.getArgs()).values;
            const variables = request.getVariablesMap();
            const region =
                (typeof args.region === "string" && args.region) ||
                variables.get("alicloud:config:region") ||
                process.env.ALICLOUD_REGION ||
                process.env.ALIBABA_CLOUD_REGION ||
                "";
            config = { region };
            return new provider.ConfigureResponse().setAcceptsecrets(true).setAcceptresources(true).setSupportspreview(true).setAcceptoutputs(false);
        }),

        check: unary<provider.CheckRequest, provider.CheckResponse>("Check", (request) => {
            const type = resourceOf(request.getUrn(), request.getType());
            const olds = decode(request.getOlds()).values;
            const news = decode(request.getNews());
            const { inputs, failures } = checkInputs(type.schema, olds, news.values);
            return checkResponse(inputs, news.secretKeys, [...failures, ...(type.check?.(inputs) ?? [])]);
        }),

        diff: unary<provider.DiffRequest, provider.DiffResponse>("Diff", (request) => {
            const type = resourceOf(request.getUrn(), request.getType());
            const olds = decode(request.getOlds()).values;
            const news = decode(request.getNews()).values;
            const result = diffInputs(type.schema, olds, news, request.getIgnorechangesList());
            const response = new provider.DiffResponse();
            response.setChanges(result.changed.length > 0 ? provider.DiffResponse.DiffChanges.DIFF_SOME : provider.DiffResponse.DiffChanges.DIFF_NONE);
            response.setDiffsList(result.changed);
            response.setReplacesList(result.replaces);
            response.setHasdetaileddiff(true);
            const kinds = provider.PropertyDiff.Kind;
            for (const name of result.changed) {
                const replace = result.replaces.includes(name);
                const kind = result.kinds[name];
                const diff = new provider.PropertyDiff();
                diff.setKind(
                    kind === "add"
                        ? replace
                            ? kinds.ADD_REPLACE
                            : kinds.ADD
                        : kind === "delete"
                          ? replace
                              ? kinds.DELETE_REPLACE
                              : kinds.DELETE
                          : replace
                            ? kinds.UPDATE_REPLACE
                            : kinds.UPDATE,
                );
                diff.setInputdiff(false);
                response.getDetaileddiffMap().set(name, diff);
            }
            return response;
        }),

        create: unary<provider.CreateRequest, provider.CreateResponse>("Create", async (request) => {
            const type = resourceOf(request.getUrn(), request.getType());
            const news = decode(request.getProperties());
            const inputs = { ...news.values };
            delete inputs[DEFAULTS_KEY];
            const response = new provider.CreateResponse();
            if (request.getPreview()) {
                response.setId("");
                response.setProperties(encode(previewOutputs(type.schema, inputs, UNKNOWN), news.secretKeys));
                return response;
            }
            const { id, outputs } = await type.create(context(), inputs);
            response.setId(id);
            response.setProperties(encode(outputs, news.secretKeys));
            return response;
        }),

        read: unary<provider.ReadRequest, provider.ReadResponse>("Read", async (request) => {
            const type = resourceOf(request.getUrn(), request.getType());
            const prior = decode(request.getProperties());
            const oldInputs = decode(request.getInputs());
            const secretKeys = new Set([...prior.secretKeys, ...oldInputs.secretKeys]);
            const outputs = await type.read(context(), request.getId(), { ...oldInputs.values, ...prior.values });
            const response = new provider.ReadResponse();
            // Gone: an empty ID tells the engine the resource no longer exists.
            if (!outputs) return response.setId("");
            // Import (no inputs yet): the inputs are taken from the outputs; refresh: the known inputs are refreshed.
            const inputs = Object.keys(oldInputs.values).length === 0 ? importInputs(type.schema, outputs) : refreshInputs(oldInputs.values, outputs);
            response.setId(request.getId());
            response.setProperties(encode(outputs, secretKeys));
            response.setInputs(encode(inputs, secretKeys));
            return response;
        }),

        update: unary<provider.UpdateRequest, provider.UpdateResponse>("Update", async (request) => {
            const type = resourceOf(request.getUrn(), request.getType());
            const olds = decode(request.getOlds());
            const news = decode(request.getNews());
            const inputs = { ...news.values };
            delete inputs[DEFAULTS_KEY];
            const secretKeys = new Set([...olds.secretKeys, ...news.secretKeys]);
            const response = new provider.UpdateResponse();
            if (request.getPreview()) {
                const planned: Props = { ...olds.values };
                for (const [name, value] of Object.entries(inputs)) if (name in type.schema) planned[name] = value;
                return response.setProperties(encode(planned, secretKeys));
            }
            const diff = diffInputs(type.schema, olds.values, inputs, request.getIgnorechangesList());
            const outputs = await type.update(context(), request.getId(), olds.values, inputs, diff);
            return response.setProperties(encode(outputs, secretKeys));
        }),

        delete: unary<provider.DeleteRequest, Empty>("Delete", async (request) => {
            const type = resourceOf(request.getUrn(), request.getType());
            await type.delete(context(), request.getId(), decode(request.getProperties()).values);
            return new Empty();
        }),

        invoke: unary<provider.InvokeRequest, provider.InvokeResponse>("Invoke", async (request) => {
            const invoke = invokes[request.getTok()];
            if (!invoke) throw new ProviderError(`the stand-in alicloud plugin does not implement the data source ${request.getTok()}`);
            const answer = await invoke(context(), decode(request.getArgs()).values);
            const response = new provider.InvokeResponse();
            if (answer.result) response.setReturn(encode(answer.result));
            response.setFailuresList(
                answer.failures.map((f) => {
                    const failure = new provider.CheckFailure();
                    failure.setProperty(f.property);
                    failure.setReason(f.reason);
                    return failure;
                }),
            );
            return response;
        }),

        cancel: unary<Empty, Empty>("Cancel", () => new Empty()),

        // The engine attaches to a plugin it did not start (PULUMI_DEBUG_PROVIDERS): nothing to do here.
        attach: unary<plugin.PluginAttach, Empty>("Attach", () => new Empty()),
    } as Partial<providerRpc.IResourceProviderServer> as providerRpc.IResourceProviderServer;
}

/** Serves the provider on 127.0.0.1 (an ephemeral port); resolves with the port and a way to stop. */
export function startPluginServer(options: PluginOptions): Promise<{ port: number; stop: () => Promise<void> }> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(providerRpc.ResourceProviderService, createService(options) as unknown as grpc.UntypedServiceImplementation);
    return new Promise((resolve, reject) => {
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
            if (error) return reject(error);
            resolve({
                port,
                stop: () => new Promise<void>((done) => server.tryShutdown(() => done())),
            });
        });
    });
}
