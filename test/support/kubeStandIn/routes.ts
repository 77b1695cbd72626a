// The URL space of the Kubernetes API test server: which verb a method and path
// mean, and the discovery documents kubectl reads before it lists anything.

import type { JsonObject } from "./patch";
import type { SecretVerb, Verb } from "./types";

/** A request's verb and, for namespaced paths, its namespace and object name. */
export interface Route {
    verb: Verb;
    namespace?: string;
    name?: string;
}

export function route(method: string, path: string): Route | undefined {
    if (
        method === "GET" &&
        (path === "/api" || path === "/api/v1" || path === "/apis" || path === "/version" || path === "/healthz" || path === "/livez" || path === "/readyz")
    ) {
        return { verb: "discovery" };
    }
    if (path === "/api/v1/secrets") {
        return method === "GET" ? { verb: "list" } : undefined;
    }
    let match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(path);
    if (match) {
        if (method === "GET") return { verb: "list", namespace: decodeURIComponent(match[1]) };
        if (method === "POST") return { verb: "create", namespace: decodeURIComponent(match[1]) };
        return undefined;
    }
    match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path);
    if (match) {
        const verb = ({ GET: "get", PATCH: "patch", PUT: "update", DELETE: "delete" } as Record<string, SecretVerb>)[method];
        return verb ? { verb, namespace: decodeURIComponent(match[1]), name: decodeURIComponent(match[2]) } : undefined;
    }
    match = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/.exec(path);
    if (match && method === "POST") {
        return { verb: "createToken", namespace: decodeURIComponent(match[1]), name: decodeURIComponent(match[2]) };
    }
    return undefined;
}

/** The body (and its content type) of a discovery, version or health path. */
export function discoveryResponse(path: string, port: number): { body: JsonObject | string; contentType?: string } {
    switch (path) {
        case "/version":
            return {
                body: {
                    major: "1",
                    minor: "32",
                    gitVersion: "v1.32.0-kube-test-server",
                    gitCommit: "0000000000000000000000000000000000000000",
                    gitTreeState: "clean",
                    buildDate: "2026-01-01T00:00:00Z",
                    goVersion: "go1.23",
                    compiler: "gc",
                    platform: "linux/amd64",
                },
            };
        case "/api":
            return {
                body: {
                    kind: "APIVersions",
                    versions: ["v1"],
                    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: `127.0.0.1:${port}` }],
                },
            };
        case "/apis":
            return { body: { kind: "APIGroupList", apiVersion: "v1", groups: [] } };
        case "/api/v1":
            return {
                body: {
                    kind: "APIResourceList",
                    groupVersion: "v1",
                    resources: [
                        {
                            name: "secrets",
                            singularName: "secret",
                            namespaced: true,
                            kind: "Secret",
                            verbs: ["create", "delete", "get", "list", "patch", "update"],
                            storageVersionHash: "S6u1pOWzb84=",
                        },
                        {
                            name: "serviceaccounts/token",
                            singularName: "",
                            namespaced: true,
                            group: "authentication.k8s.io",
                            version: "v1",
                            kind: "TokenRequest",
                            verbs: ["create"],
                        },
                    ],
                },
            };
        default:
            return { body: "ok", contentType: "text/plain" };
    }
}
