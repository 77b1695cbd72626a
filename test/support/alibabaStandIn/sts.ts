// STS AssumeRole (RPC style, HMAC-SHA1 v1, served over TLS only) for the roles
// tests register, and the credentials-URI endpoint; both hand out temporary
// keys (STS.*) that the stand-in then accepts only with their security token.

import * as crypto from "node:crypto";
import type * as http from "node:http";
import { recordRpcCall, Incoming, RpcError, isoSeconds, readRequest, requestId, rpcParams, send } from "./http";
import { verifyRpcSignature } from "./signing";
import type { StandInState } from "./state";

export const CREDENTIALS_URI_PATH = "/standin/credentials-uri";

function issueTemporaryKey(state: StandInState) {
    const issued = {
        id: `STS.${crypto.randomBytes(8).toString("hex")}`,
        secret: crypto.randomBytes(16).toString("hex"),
        token: `CAIS${crypto.randomBytes(24).toString("base64url")}`,
    };
    state.accessKeys.set(issued.id, { secret: issued.secret, securityToken: issued.token });
    return issued;
}

function assumeRole(state: StandInState, params: Record<string, string>, caller: string): Record<string, unknown> {
    const role = state.roles.get(params.RoleArn ?? "");
    if (!role) throw new RpcError(404, "EntityNotExist.Role", `The role ${params.RoleArn} does not exist.`);
    if (!role.trustedAccessKeyIds.includes(caller) && !role.trustedAccessKeyIds.includes("*")) {
        throw new RpcError(403, "NoPermission", `You are not authorized to assume ${role.roleArn}.`);
    }
    const duration = Number(params.DurationSeconds ?? 3600);
    if (!(duration >= 900 && duration <= 43200)) throw new RpcError(400, "InvalidParameter.DurationSeconds", "DurationSeconds must be 900-43200.");
    const issued = issueTemporaryKey(state);
    return {
        AssumedRoleUser: {
            Arn: `${role.roleArn.replace(":role/", ":assumed-role/")}/${params.RoleSessionName}`,
            AssumedRoleId: `3${crypto.randomBytes(8).toString("hex")}:${params.RoleSessionName}`,
        },
        Credentials: {
            AccessKeyId: issued.id,
            AccessKeySecret: issued.secret,
            SecurityToken: issued.token,
            Expiration: isoSeconds(new Date(Date.now() + duration * 1000)),
        },
    };
}

export async function handleSts(state: StandInState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const incoming = await readRequest(req);
    const params = rpcParams(incoming);
    const call = recordRpcCall(state.calls, "sts", incoming, params);
    const rid = requestId();
    try {
        call.accessKeyId = verifyRpcSignature(state, incoming.method, params);
        if (params.Action !== "AssumeRole" || params.Version !== "2015-04-01") throw new RpcError(404, "InvalidAction.NotFound", "Specified api is not found.");
        call.status = send(res, 200, { ...assumeRole(state, params, call.accessKeyId), RequestId: rid });
    } catch (error) {
        if (!(error instanceof RpcError)) throw error;
        call.status = send(res, error.status, { RequestId: rid, HostId: "sts.aliyuncs.com", Code: error.code, Message: error.message });
    }
}

/** The credentials URI (alicloud:credentialsUri): no signature, a fresh temporary key on every GET. */
export function serveCredentialsUri(state: StandInState, incoming: Incoming, res: http.ServerResponse): void {
    const issued = issueTemporaryKey(state);
    state.calls.push({
        service: "sts",
        action: "CredentialsURI",
        method: incoming.method,
        path: incoming.path,
        query: {},
        body: "",
        status: 200,
        accessKeyId: issued.id,
    });
    send(res, 200, {
        Code: "Success",
        AccessKeyId: issued.id,
        AccessKeySecret: issued.secret,
        SecurityToken: issued.token,
        Expiration: isoSeconds(new Date(Date.now() + 3600_000)),
    });
}
