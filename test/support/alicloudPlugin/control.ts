// The plugin's way into the Alibaba stand-in's account state: the stand-in's
// control API (test/support/alibabaStandIn/control.ts), found through the
// ALICLOUD_STANDIN_CONTROL environment variable the test sets for the CLI.

import type { StandInCluster, StandInKey, StandInKmsInstance, StandInPolicyAttachment, StandInRole, StandInVSwitch } from "../alibabaStandIn/types";

export const CONTROL_ENV = "ALICLOUD_STANDIN_CONTROL";

/** An error the control API answered with: the Alibaba error code and message. */
export class ControlApiError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(`${code}: ${message}`);
    }
}

export type RamRole = StandInRole & { roleName: string };
export type ClusterView = StandInCluster & { connections: { internet?: string; intranet?: string } };

export class ControlClient {
    private info?: Promise<{ regionId: string; accountId: string }>;

    constructor(readonly endpoint: string) {}

    static fromEnv(env: NodeJS.ProcessEnv = process.env): ControlClient {
        const endpoint = env[CONTROL_ENV];
        if (!endpoint) {
            throw new Error(
                `the stand-in alicloud plugin needs ${CONTROL_ENV} (the Alibaba stand-in's controlEndpoint) in its environment; ` +
                    "set it in the environment of the pulumi CLI that starts the plugin",
            );
        }
        return new ControlClient(endpoint.replace(/\/+$/, ""));
    }

    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
        let response: Response;
        try {
            response = await fetch(`${this.endpoint}${path}`, {
                method,
                headers: body === undefined ? {} : { "content-type": "application/json" },
                body: body === undefined ? undefined : JSON.stringify(body),
            });
        } catch (e) {
            throw new Error(
                `the Alibaba stand-in's control API at ${this.endpoint} cannot be reached (${(e as Error).message}); is the stand-in still running?`,
            );
        }
        const text = await response.text();
        const payload = text ? (JSON.parse(text) as unknown) : undefined;
        if (!response.ok) {
            const error = (payload ?? {}) as { Code?: string; Message?: string };
            throw new ControlApiError(response.status, error.Code ?? `HTTP${response.status}`, error.Message ?? text);
        }
        return payload as T;
    }

    /** The record, or undefined when the control API answers 404. */
    async find<T>(path: string): Promise<T | undefined> {
        try {
            return await this.request<T>("GET", path);
        } catch (e) {
            if (e instanceof ControlApiError && e.status === 404) return undefined;
            throw e;
        }
    }

    async list<T>(path: string): Promise<T[]> {
        return (await this.request<{ items: T[] }>("GET", path)).items;
    }

    account(): Promise<{ regionId: string; accountId: string }> {
        this.info ??= this.request("GET", "/v1/info");
        return this.info;
    }

    key = (id: string) => this.find<StandInKey>(`/v1/keys/${encodeURIComponent(id)}`);
    keys = () => this.list<StandInKey>("/v1/keys");
    createKey = (key: Partial<StandInKey>) => this.request<StandInKey>("POST", "/v1/keys", key);
    patchKey = (id: string, patch: Partial<StandInKey>) => this.request<StandInKey>("PATCH", `/v1/keys/${encodeURIComponent(id)}`, patch);

    instance = (id: string) => this.find<StandInKmsInstance>(`/v1/kms-instances/${encodeURIComponent(id)}`);
    createInstance = (instance: Partial<StandInKmsInstance>) => this.request<StandInKmsInstance>("POST", "/v1/kms-instances", instance);
    patchInstance = (id: string, patch: Partial<StandInKmsInstance>) =>
        this.request<StandInKmsInstance>("PATCH", `/v1/kms-instances/${encodeURIComponent(id)}`, patch);
    deleteInstance = (id: string) => this.request<void>("DELETE", `/v1/kms-instances/${encodeURIComponent(id)}`);

    role = (name: string) => this.find<RamRole>(`/v1/roles/${encodeURIComponent(name)}`);
    roles = () => this.list<RamRole>("/v1/roles");
    createRole = (role: Partial<StandInRole> & { roleName: string }) => this.request<RamRole>("POST", "/v1/roles", role);
    patchRole = (name: string, patch: Partial<StandInRole>) => this.request<RamRole>("PATCH", `/v1/roles/${encodeURIComponent(name)}`, patch);
    deleteRole = (name: string) => this.request<void>("DELETE", `/v1/roles/${encodeURIComponent(name)}`);

    attachments = (principalType: "role" | "user", principalName: string) =>
        this.list<StandInPolicyAttachment>(`/v1/policy-attachments?principalType=${principalType}&principalName=${encodeURIComponent(principalName)}`);
    allAttachments = () => this.list<StandInPolicyAttachment>("/v1/policy-attachments");
    attach = (attachment: Omit<StandInPolicyAttachment, "id">) => this.request<StandInPolicyAttachment>("POST", "/v1/policy-attachments", attachment);
    detach = (id: string) => this.request<void>("DELETE", `/v1/policy-attachments/${encodeURIComponent(id)}`);

    vswitches = () => this.list<StandInVSwitch>("/v1/vswitches");
    clusters = () => this.list<ClusterView>("/v1/clusters");
    cluster = (id: string) => this.find<ClusterView>(`/v1/clusters/${encodeURIComponent(id)}`);
    userKubeconfig = (id: string, temporaryDurationMinutes: number, privateIpAddress = false) =>
        this.request<{ config: string; expiration: string }>(
            "GET",
            `/v1/clusters/${encodeURIComponent(id)}/user-kubeconfig?temporaryDurationMinutes=${temporaryDurationMinutes}&privateIpAddress=${privateIpAddress}`,
        );
}
