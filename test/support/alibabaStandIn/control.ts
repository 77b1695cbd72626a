// The control API: plain JSON over HTTP for test code in other processes (the
// stand-in alicloud plugin, test/support/alicloudPlugin) to read and change the
// one account state the CS, KMS and STS endpoints serve. No signatures: it is a
// test hook, not an Alibaba API. The rules that belong to the Alibaba APIs (a
// role name is taken, a role still has policies, ...) answer here with the RAM
// API's error codes; what terraform-provider-alicloud itself does stays in the plugin.
//
//   GET    /v1/info                              { regionId, accountId }
//   GET    /v1/keys                              { items: StandInKey[] }
//   POST   /v1/keys                              Partial<StandInKey> -> 201 StandInKey
//   GET    /v1/keys/{id or ARN}                  StandInKey | 404
//   PATCH  /v1/keys/{id or ARN}                  Partial<StandInKey> -> StandInKey
//   GET    /v1/kms-instances                     { items }        POST, GET/PATCH/DELETE /v1/kms-instances/{id} alike
//   GET    /v1/roles                             { items: (StandInRole & { roleName })[] }
//   POST   /v1/roles                             { roleName, ... } -> 201 | 409 EntityAlreadyExists.Role
//   GET    /v1/roles/{name}                      role | 404 EntityNotExist.Role
//   PATCH  /v1/roles/{name}                      Partial<StandInRole> -> role
//   DELETE /v1/roles/{name}                      204 | 404 | 409 DeleteConflict.Role.Policy
//   GET    /v1/ram-users                         { items: string[] }
//   GET    /v1/policy-attachments[?principalType=role&principalName=X]   { items }
//   POST   /v1/policy-attachments                { principalType, principalName, policyName, policyType } -> 201 | 404 | 409
//   DELETE /v1/policy-attachments/{id}           204 | 404 EntityNotExist.Role.Policy (User.Policy)
//   GET    /v1/vswitches                         { items: StandInVSwitch[] }
//   GET    /v1/clusters                          { items: (StandInCluster & { connections: { internet?, intranet? } })[] }
//   GET    /v1/clusters/{id}                     one of those | 404
//   GET    /v1/clusters/{id}/user-kubeconfig?temporaryDurationMinutes=N&privateIpAddress=true|false   { config, expiration }
//
// Errors answer { Code, Message } with the HTTP status.

import type * as http from "node:http";
import * as yaml from "js-yaml";
import { clusterKubeconfig } from "./cs";
import { CsError, readRequest, send } from "./http";
import { STAND_IN_ACCOUNT_ID, StandInState, roleNameOf } from "./state";
import type { StandInCluster, StandInKey, StandInKmsInstance, StandInPolicyAttachment, StandInRole } from "./types";

class ControlError {
    constructor(
        readonly status: number,
        readonly code: string,
        readonly message: string,
    ) {}
}

type Json = Record<string, unknown>;
type Handler = (state: StandInState, match: RegExpExecArray, body: Json, query: Record<string, string>) => { status?: number; payload?: unknown };

function findKey(state: StandInState, idOrArn: string): StandInKey {
    const key = state.keys.get(idOrArn) ?? [...state.keys.values()].find((candidate) => candidate.arn === idOrArn);
    if (!key) throw new ControlError(404, "Forbidden.KeyNotFound", `key ${idOrArn} not found`);
    return key;
}

function findInstance(state: StandInState, instanceId: string): StandInKmsInstance {
    const instance = state.kmsInstances.get(instanceId);
    if (!instance) throw new ControlError(404, "Forbidden.ResourceNotFound", `KMS instance ${instanceId} not found`);
    return instance;
}

function findRole(state: StandInState, roleName: string): StandInRole {
    const role = state.findRoleByName(roleName);
    // RAM GetRole / DeleteRole answer EntityNotExist.Role for a role that is not there.
    if (!role) throw new ControlError(404, "EntityNotExist.Role", `The role not exists: ${roleName}.`);
    return role;
}

function roleView(role: StandInRole): Json {
    return { ...role, roleName: roleNameOf(role) };
}

/** The endpoints a cluster lists: its own, or the servers of the kubeconfigs it hands out. */
function connections(state: StandInState, cluster: StandInCluster): { internet?: string; intranet?: string } {
    if (cluster.endpoints) return { ...cluster.endpoints };
    const server = (privateIpAddress: boolean): string | undefined => {
        try {
            const config = yaml.load(clusterKubeconfig(state, cluster.clusterId, 0, privateIpAddress).config) as {
                clusters?: { cluster?: { server?: unknown } }[];
            };
            const value = config?.clusters?.[0]?.cluster?.server;
            return typeof value === "string" && value !== "" ? value : undefined;
        } catch {
            return undefined;
        }
    };
    return { internet: server(false), intranet: server(true) };
}

function clusterView(state: StandInState, cluster: StandInCluster): Json {
    return { ...cluster, connections: connections(state, cluster) };
}

/** Fields a PATCH may not change: the identity of the record. */
function without<T extends object>(body: Json, ...names: (keyof T & string)[]): Partial<T> {
    const copy = { ...body };
    for (const name of names) delete copy[name];
    return copy as Partial<T>;
}

const routes: { method: string; pattern: RegExp; handle: Handler }[] = [
    { method: "GET", pattern: /^\/v1\/info$/, handle: (state) => ({ payload: { regionId: state.regionId, accountId: STAND_IN_ACCOUNT_ID } }) },

    { method: "GET", pattern: /^\/v1\/keys$/, handle: (state) => ({ payload: { items: [...state.keys.values()] } }) },
    {
        method: "POST",
        pattern: /^\/v1\/keys$/,
        handle: (state, _m, body) => {
            const partial = body as Partial<StandInKey>;
            if (partial.keyId && state.keys.has(partial.keyId)) throw new ControlError(409, "Conflict", `key ${partial.keyId} exists`);
            const key = state.addKey(partial);
            // addKey dates the first version at its fixed creation date; a key created now starts now.
            if (partial.creationDate && !partial.versions) key.versions[0].creationDate = partial.creationDate;
            return { status: 201, payload: key };
        },
    },
    { method: "GET", pattern: /^\/v1\/keys\/(.+)$/, handle: (state, m) => ({ payload: findKey(state, decodeURIComponent(m[1])) }) },
    {
        method: "PATCH",
        pattern: /^\/v1\/keys\/(.+)$/,
        handle: (state, m, body) => ({ payload: Object.assign(findKey(state, decodeURIComponent(m[1])), without<StandInKey>(body, "keyId", "arn")) }),
    },

    { method: "GET", pattern: /^\/v1\/kms-instances$/, handle: (state) => ({ payload: { items: [...state.kmsInstances.values()] } }) },
    {
        method: "POST",
        pattern: /^\/v1\/kms-instances$/,
        handle: (state, _m, body) => ({ status: 201, payload: state.addKmsInstance(body as Partial<StandInKmsInstance>) }),
    },
    { method: "GET", pattern: /^\/v1\/kms-instances\/([^/]+)$/, handle: (state, m) => ({ payload: findInstance(state, decodeURIComponent(m[1])) }) },
    {
        method: "PATCH",
        pattern: /^\/v1\/kms-instances\/([^/]+)$/,
        handle: (state, m, body) => ({
            payload: Object.assign(findInstance(state, decodeURIComponent(m[1])), without<StandInKmsInstance>(body, "instanceId")),
        }),
    },
    {
        method: "DELETE",
        pattern: /^\/v1\/kms-instances\/([^/]+)$/,
        handle: (state, m) => {
            state.kmsInstances.delete(findInstance(state, decodeURIComponent(m[1])).instanceId);
            return { status: 204 };
        },
    },

    { method: "GET", pattern: /^\/v1\/roles$/, handle: (state) => ({ payload: { items: [...state.roles.values()].map(roleView) } }) },
    {
        method: "POST",
        pattern: /^\/v1\/roles$/,
        handle: (state, _m, body) => {
            const roleName = body.roleName;
            if (typeof roleName !== "string" || roleName === "") throw new ControlError(400, "MissingParameter", "RoleName is mandatory for this action.");
            // RAM CreateRole: EntityAlreadyExists.Role when the name is taken.
            if (state.findRoleByName(roleName)) throw new ControlError(409, "EntityAlreadyExists.Role", `The role already exists: ${roleName}.`);
            return { status: 201, payload: roleView(state.addRamRole({ ...(body as Partial<StandInRole>), roleName })) };
        },
    },
    { method: "GET", pattern: /^\/v1\/roles\/([^/]+)$/, handle: (state, m) => ({ payload: roleView(findRole(state, decodeURIComponent(m[1]))) }) },
    {
        method: "PATCH",
        pattern: /^\/v1\/roles\/([^/]+)$/,
        handle: (state, m, body) => ({
            payload: roleView(Object.assign(findRole(state, decodeURIComponent(m[1])), without<StandInRole>(body, "roleArn", "roleName", "roleId"))),
        }),
    },
    {
        method: "DELETE",
        pattern: /^\/v1\/roles\/([^/]+)$/,
        handle: (state, m) => {
            const role = findRole(state, decodeURIComponent(m[1]));
            const name = roleNameOf(role).toLowerCase();
            const attached = [...state.policyAttachments.values()].filter((a) => a.principalType === "role" && a.principalName.toLowerCase() === name);
            // RAM DeleteRole refuses a role that still has policies: DeleteConflict.Role.Policy.
            if (attached.length > 0) {
                throw new ControlError(
                    409,
                    "DeleteConflict.Role.Policy",
                    `The role can not be deleted while it has policies attached: ${attached.map((a) => a.policyName).join(", ")}.`,
                );
            }
            state.roles.delete(role.roleArn);
            return { status: 204 };
        },
    },

    { method: "GET", pattern: /^\/v1\/ram-users$/, handle: (state) => ({ payload: { items: [...state.ramUsers] } }) },
    {
        method: "GET",
        pattern: /^\/v1\/policy-attachments$/,
        handle: (state, _m, _b, query) => ({
            payload: {
                items: [...state.policyAttachments.values()].filter(
                    (a) =>
                        (!query.principalType || a.principalType === query.principalType) &&
                        (!query.principalName || a.principalName.toLowerCase() === query.principalName.toLowerCase()),
                ),
            },
        }),
    },
    {
        method: "POST",
        pattern: /^\/v1\/policy-attachments$/,
        handle: (state, _m, body) => {
            const { principalType, principalName, policyName, policyType } = body as Partial<StandInPolicyAttachment>;
            if ((principalType !== "role" && principalType !== "user") || !principalName || !policyName || !policyType) {
                throw new ControlError(400, "MissingParameter", "principalType (role|user), principalName, policyName and policyType are required");
            }
            // RAM AttachPolicyTo{Role,User}: EntityNotExist.{Role,User} for a principal that is not there.
            if (principalType === "role") findRole(state, principalName);
            else if (!state.ramUsers.has(principalName)) throw new ControlError(404, "EntityNotExist.User", `The user not exists: ${principalName}.`);
            const id = `${principalType}:${policyName}:${policyType}:${principalName}`;
            // RAM AttachPolicyTo{Role,User}: EntityAlreadyExists.{Role,User}.Policy when it is attached already.
            if (state.policyAttachments.has(id)) {
                const entity = principalType === "role" ? "Role" : "User";
                throw new ControlError(
                    409,
                    `EntityAlreadyExists.${entity}.Policy`,
                    `The policy ${policyName} is already attached to the ${principalType} ${principalName}.`,
                );
            }
            const attachment: StandInPolicyAttachment = { id, principalType, principalName, policyName, policyType };
            state.policyAttachments.set(id, attachment);
            return { status: 201, payload: attachment };
        },
    },
    {
        method: "DELETE",
        pattern: /^\/v1\/policy-attachments\/([^/]+)$/,
        handle: (state, m) => {
            const id = decodeURIComponent(m[1]);
            if (!state.policyAttachments.delete(id)) {
                const entity = id.startsWith("user:") ? "User" : "Role";
                throw new ControlError(404, `EntityNotExist.${entity}.Policy`, `The policy attachment ${id} does not exist.`);
            }
            return { status: 204 };
        },
    },

    { method: "GET", pattern: /^\/v1\/vswitches$/, handle: (state) => ({ payload: { items: [...state.vswitches.values()] } }) },

    { method: "GET", pattern: /^\/v1\/clusters$/, handle: (state) => ({ payload: { items: [...state.clusters.values()].map((c) => clusterView(state, c)) } }) },
    {
        method: "GET",
        pattern: /^\/v1\/clusters\/([^/]+)$/,
        handle: (state, m) => {
            const cluster = state.clusters.get(decodeURIComponent(m[1]));
            if (!cluster) throw new ControlError(404, "ErrorClusterNotFound", `cluster ${decodeURIComponent(m[1])} not found`);
            return { payload: clusterView(state, cluster) };
        },
    },
    {
        method: "GET",
        pattern: /^\/v1\/clusters\/([^/]+)\/user-kubeconfig$/,
        handle: (state, m, _b, query) => ({
            payload: clusterKubeconfig(state, decodeURIComponent(m[1]), Number(query.temporaryDurationMinutes ?? 0), query.privateIpAddress === "true"),
        }),
    },
];

export async function handleControl(state: StandInState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const incoming = await readRequest(req);
    try {
        let body: Json = {};
        if (incoming.body.length > 0) {
            try {
                body = JSON.parse(incoming.body.toString("utf8")) as Json;
            } catch {
                throw new ControlError(400, "InvalidParameter", "the request body is not JSON");
            }
        }
        for (const route of routes) {
            const match = route.pattern.exec(incoming.path);
            if (match && route.method === incoming.method) {
                // The plugin's writes are its cloud calls: a test can tell whether a step reached the account at all.
                if (incoming.method !== "GET") state.controlWrites.push({ method: incoming.method, path: incoming.path });
                const { status = 200, payload } = route.handle(state, match, body, incoming.query);
                send(res, status, payload);
                return;
            }
        }
        throw new ControlError(404, "NotFound", `no control route ${incoming.method} ${incoming.path}`);
    } catch (error) {
        if (error instanceof ControlError || error instanceof CsError) {
            send(res, error.status, { Code: error.code, Message: error.message });
            return;
        }
        throw error;
    }
}
