// Request plumbing the stand-in's services share: reading a request, query and
// form parsing, JSON answers with a request ID, and the errors each API style answers with.

import type { RecordedCall } from "./types";
import * as crypto from "node:crypto";
import type * as http from "node:http";

export interface Incoming {
    method: string;
    path: string;
    rawQuery: string;
    query: Record<string, string>;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
}

/** An error a CS (ROA) operation answers with: { code, message, requestId, status }. */
export class CsError {
    constructor(
        readonly status: number,
        readonly code: string,
        readonly message: string,
    ) {}
}

/** An error a KMS or STS (RPC) operation answers with: { RequestId, HostId, Code, Message }. */
export class RpcError {
    constructor(
        readonly status: number,
        readonly code: string,
        readonly message: string,
    ) {}
}

export function requestId(): string {
    return crypto.randomUUID().toUpperCase();
}

export function isoSeconds(date: Date): string {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function parseQuery(raw: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (!raw) return out;
    for (const pair of raw.split("&")) {
        if (!pair) continue;
        const eq = pair.indexOf("=");
        const key = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, "%20"));
        const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, "%20"));
        out[key] = value;
    }
    return out;
}

export function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
    const value = headers[name];
    return Array.isArray(value) ? value.join(",") : value;
}

export function readRequest(req: http.IncomingMessage): Promise<Incoming> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("error", reject);
        req.on("end", () => {
            const url = req.url ?? "/";
            const queryStart = url.indexOf("?");
            const rawQuery = queryStart < 0 ? "" : url.slice(queryStart + 1);
            resolve({
                method: (req.method ?? "GET").toUpperCase(),
                path: queryStart < 0 ? url : url.slice(0, queryStart),
                rawQuery,
                query: parseQuery(rawQuery),
                headers: req.headers,
                body: Buffer.concat(chunks),
            });
        });
    });
}

/** An RPC request's parameters: the query, overridden by a form-encoded body. */
export function rpcParams(r: Incoming): Record<string, string> {
    const formBody = /application\/x-www-form-urlencoded/.test(header(r.headers, "content-type") ?? "") ? parseQuery(r.body.toString("utf8")) : {};
    return { ...r.query, ...formBody };
}

/** Answers with JSON and returns the status, for the call record. */
export function send(res: http.ServerResponse, status: number, payload: unknown): number {
    const text = payload === undefined ? "" : JSON.stringify(payload);
    res.writeHead(status, { "content-type": "application/json;charset=utf-8", "x-acs-request-id": requestId() });
    res.end(text);
    return status;
}

/** Records an RPC-style call (KMS, STS) as it arrived; the handler fills in status and signer. */
export function recordRpcCall(calls: RecordedCall[], service: "kms" | "sts", incoming: Incoming, params: Record<string, string>): RecordedCall {
    const call: RecordedCall = {
        service,
        action: params.Action ?? "",
        method: incoming.method,
        path: incoming.path,
        query: params,
        body: incoming.body.toString("utf8"),
        status: 0,
        securityToken: params.SecurityToken,
    };
    calls.push(call);
    return call;
}
