// Drives our dynamic providers the way `pulumi up` does: starts Pulumi's own
// provider host (the plugin script node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs,
// which runs @pulumi/pulumi/cmd/dynamic-provider under plain node) in the program
// directory, reads its gRPC port from stdout, and calls the ResourceProvider
// service: Configure, Check, Diff, Create, Read, Update, Delete. Every request
// carries the `__provider` text the program registered, as state keeps it.

import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provider from "@pulumi/pulumi/proto/provider_pb";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { REPO_ROOT } from "./repo";
import { killProcessGroup, readPluginPort } from "./pluginProcess";

export const PROJECT_DIR = REPO_ROOT;
const PLUGIN = path.join("node_modules", "@pulumi", "pulumi", "pulumi-resource-pulumi-nodejs");
const START_TIMEOUT_MS = 30_000;
const CALL_DEADLINE_MS = 120_000;

export type Props = Record<string, unknown>;

export interface HostOptions {
    /** The program directory the engine starts the plugin in; default this project. */
    cwd?: string;
    /** The host's whole environment (PATH is added); nothing leaks in from the test process. */
    env?: NodeJS.ProcessEnv;
}

export interface CheckAnswer {
    inputs: Props;
    failures: { property: string; reason: string }[];
}

export interface DiffAnswer {
    changes: "none" | "some" | "unknown";
    replaces: string[];
}

export interface ProviderHost {
    /** ConfigureRequest as the engine sends it to the default pulumi-nodejs provider: the whole stack config, secrets marked. */
    configure(config: Record<string, string>, secretKeys?: string[]): Promise<void>;
    check(urn: string, olds: Props, news: Props): Promise<CheckAnswer>;
    diff(id: string, urn: string, olds: Props, news: Props): Promise<DiffAnswer>;
    create(urn: string, props: Props): Promise<{ id: string; outs: Props }>;
    read(id: string, urn: string, props: Props): Promise<{ id: string; props: Props }>;
    update(id: string, urn: string, olds: Props, news: Props): Promise<{ outs: Props }>;
    delete(id: string, urn: string, props: Props): Promise<void>;
    /** What the host and the providers printed on stderr so far (the engine's log). */
    stderr(): string;
    close(): Promise<void>;
}

function struct(value: Props): Struct {
    // The wire has no `undefined`: drop it the way the SDK's serializer does.
    return Struct.fromJavaScript(JSON.parse(JSON.stringify(value)));
}

function call<Req, Res>(
    method: (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown,
    req: Req,
): Promise<Res> {
    return new Promise((resolve, reject) => {
        method(req, new grpc.Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (e, r) => {
            // The engine shows `details`: that is all a user ever sees of a provider error.
            if (e) reject(Object.assign(new Error(e.details || e.message), { grpcCode: e.code }));
            else resolve(r);
        });
    });
}

export async function startProviderHost(options: HostOptions = {}): Promise<ProviderHost> {
    const cwd = options.cwd ?? PROJECT_DIR;
    const child: ChildProcess = spawn("sh", [PLUGIN, "127.0.0.1:1"], {
        cwd,
        env: { PATH: process.env.PATH, ...options.env },
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group: the plugin script runs node as a child, and close() must end both.
        detached: true,
    });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk.toString()));
    const port = await readPluginPort(child, "provider host", () => stderr, START_TIMEOUT_MS);
    const client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const bind = <Req, Res>(name: string) =>
        (
            client as unknown as Record<
                string,
                (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown
            >
        )[name].bind(client);

    return {
        async configure(config, secretKeys = []) {
            const args: Props = {};
            for (const [k, v] of Object.entries(config)) {
                args[k] = secretKeys.includes(k) ? { [specialSigKey]: specialSecretSig, value: v } : v;
            }
            const req = new provider.ConfigureRequest();
            req.setArgs(struct(args));
            req.setAcceptsecrets(true);
            await call(bind<provider.ConfigureRequest, provider.ConfigureResponse>("configure"), req);
        },
        async check(urn, olds, news) {
            const req = new provider.CheckRequest();
            req.setUrn(urn);
            req.setOlds(struct(olds));
            req.setNews(struct(news));
            const res = await call(bind<provider.CheckRequest, provider.CheckResponse>("check"), req);
            return {
                inputs: res.getInputs()?.toJavaScript() ?? {},
                failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
            };
        },
        async diff(id, urn, olds, news) {
            const req = new provider.DiffRequest();
            req.setId(id);
            req.setUrn(urn);
            req.setOlds(struct(olds));
            req.setNews(struct(news));
            const res = await call(bind<provider.DiffRequest, provider.DiffResponse>("diff"), req);
            const kinds = provider.DiffResponse.DiffChanges;
            const changes = res.getChanges() === kinds.DIFF_SOME ? "some" : res.getChanges() === kinds.DIFF_NONE ? "none" : "unknown";
            return { changes, replaces: res.getReplacesList() };
        },
        async create(urn, props) {
            const req = new provider.CreateRequest();
            req.setUrn(urn);
            req.setProperties(struct(props));
            const res = await call(bind<provider.CreateRequest, provider.CreateResponse>("create"), req);
            return { id: res.getId(), outs: res.getProperties()?.toJavaScript() ?? {} };
        },
        async read(id, urn, props) {
            const req = new provider.ReadRequest();
            req.setId(id);
            req.setUrn(urn);
            req.setProperties(struct(props));
            const res = await call(bind<provider.ReadRequest, provider.ReadResponse>("read"), req);
            return { id: res.getId(), props: res.getProperties()?.toJavaScript() ?? {} };
        },
        async update(id, urn, olds, news) {
            const req = new provider.UpdateRequest();
            req.setId(id);
            req.setUrn(urn);
            req.setOlds(struct(olds));
            req.setNews(struct(news));
            const res = await call(bind<provider.UpdateRequest, provider.UpdateResponse>("update"), req);
            return { outs: res.getProperties()?.toJavaScript() ?? {} };
        },
        async delete(id, urn, props) {
            const req = new provider.DeleteRequest();
            req.setId(id);
            req.setUrn(urn);
            req.setProperties(struct(props));
            await call(bind<provider.DeleteRequest, unknown>("delete"), req);
        },
        stderr: () => stderr,
        async close() {
            client.close();
            await killProcessGroup(child);
        },
    };
}
