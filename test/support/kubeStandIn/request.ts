// A minimal HTTPS client for tests that talk to the Kubernetes API test server
// directly (status codes, headers and raw bodies that kubectl would hide).

import * as https from "node:https";
import { execFile } from "node:child_process";
import type { KubeStandIn } from "./index";

/** A parsed JSON body: tests index into whatever the server answered and assert on it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response shapes vary per request; the assertions are the type check
export type Json = any;

export interface KubeResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
    /** the body parsed as JSON, or undefined when it is not JSON. */
    json: Json;
}

export interface KubeRequestOptions {
    body?: unknown;
    contentType?: string;
    accept?: string;
    /** bearer token; default the server's full-rights token. */
    token?: string;
}

const agents = new WeakMap<KubeStandIn, https.Agent>();

export function kubeRequest(server: KubeStandIn, method: string, path: string, options: KubeRequestOptions = {}): Promise<KubeResponse> {
    let agent = agents.get(server);
    if (!agent) {
        agent = new https.Agent({ ca: server.caPem, keepAlive: true, maxSockets: 64 });
        agents.set(server, agent);
    }
    const body = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    return new Promise((resolve, reject) => {
        const request = https.request(
            `${server.url}${path}`,
            {
                method,
                agent,
                headers: {
                    Authorization: `Bearer ${options.token ?? server.token}`,
                    Accept: options.accept ?? "application/json",
                    ...(body !== undefined ? { "Content-Type": options.contentType ?? "application/json", "Content-Length": Buffer.byteLength(body) } : {}),
                },
            },
            (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let json: unknown;
                    try {
                        json = JSON.parse(text);
                    } catch {
                        json = undefined;
                    }
                    resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
                });
                response.on("error", reject);
            },
        );
        request.on("error", reject);
        if (body !== undefined) {
            request.write(body);
        }
        request.end();
    });
}

export interface ShellResult {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * Runs a bash script asynchronously (the test server lives in this process, so
 * a synchronous child would deadlock it), with KUBECONFIG set and HOME pointed at
 * a scratch directory so kubectl's discovery cache never touches the real one.
 */
export function runShell(script: string, env: { kubeconfig: string; home: string; extra?: Record<string, string> }, timeoutMs = 120_000): Promise<ShellResult> {
    return new Promise((resolve) => {
        execFile(
            "bash",
            ["-c", script],
            {
                env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: env.home, KUBECONFIG: env.kubeconfig, ...env.extra },
                timeout: timeoutMs,
                maxBuffer: 256 * 1024 * 1024,
            },
            (error, stdout, stderr) => {
                const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : 1) : 0;
                resolve({ code, stdout: String(stdout), stderr: String(stderr) });
            },
        );
    });
}
