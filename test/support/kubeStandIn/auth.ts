// Who may call the Kubernetes API test server: its serving certificate, bearer
// tokens (the admin's and ServiceAccount tokens from TokenRequest), RBAC rules,
// and kubeconfig files that carry a token.

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Json, JsonObject, isJsonObject } from "./patch";
import { ApiError, notFound } from "./apiErrors";
import { status } from "./negotiation";
import type { Route } from "./routes";
import type { KubeconfigOptions, PolicyRule, TokenIdentity } from "./types";

const TOKEN_REQUEST_MIN_SECONDS = 600;

const certificates = new Map<string, Promise<{ cert: string; key: string }>>();

/**
 * A self-signed certificate for 127.0.0.1 (and localhost), usable as its own CA; one per common
 * name and process (RSA keygen is slow). Distinct names give distinct CAs: two test servers that
 * must look like two clusters ask for two names.
 */
export function selfSignedCertificate(commonName: string): Promise<{ cert: string; key: string }> {
    let certificate = certificates.get(commonName);
    if (!certificate) {
        certificate = new Promise((resolve, reject) => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- selfsigned is CommonJS only, loaded once per process
            const selfsigned = require("selfsigned") as typeof import("selfsigned");
            selfsigned.generate(
                [{ name: "commonName", value: commonName }],
                {
                    keySize: 2048,
                    days: 30,
                    algorithm: "sha256",
                    extensions: [
                        { name: "basicConstraints", cA: true },
                        { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
                        { name: "extKeyUsage", serverAuth: true },
                        {
                            name: "subjectAltName",
                            altNames: [
                                { type: 7, ip: "127.0.0.1" },
                                { type: 2, value: "localhost" },
                            ],
                        },
                    ],
                },
                (error, result) => (error ? reject(error) : resolve({ cert: result.cert, key: result.private })),
            );
        });
        certificates.set(commonName, certificate);
    }
    return certificate;
}

/** The Kubernetes API test server's certificate. */
export function serverCertificate(): Promise<{ cert: string; key: string }> {
    return selfSignedCertificate("kube-test-apiserver");
}

function isAllowed(identity: TokenIdentity, verb: string, resource: string, namespace: string | undefined): boolean {
    if (identity.rules === "all") {
        return true;
    }
    return identity.rules.some(
        (rule) =>
            (rule.verbs.includes(verb) || rule.verbs.includes("*")) &&
            (rule.resources.includes(resource) || rule.resources.includes("*")) &&
            (rule.namespaces === undefined || (namespace !== undefined && rule.namespaces.includes(namespace))),
    );
}

/** The 403 Status kube-apiserver's RBAC authorizer answers a route with, or undefined when the identity may take it. */
export function forbiddenStatus(identity: TokenIdentity, route: Route): JsonObject | undefined {
    const resource = route.verb === "createToken" ? "serviceaccounts/token" : "secrets";
    const rbacVerb = route.verb === "createToken" ? "create" : route.verb;
    if (isAllowed(identity, rbacVerb, resource, route.namespace)) {
        return undefined;
    }
    const scope = route.namespace ? `in the namespace "${route.namespace}"` : "at the cluster scope";
    const subject = route.name ? `${resource} "${route.name}"` : resource;
    return status(
        403,
        "Forbidden",
        `${subject} is forbidden: User "${identity.user}" cannot ${rbacVerb} resource "${resource.split("/")[0]}" in API group "" ${scope}`,
        {
            ...(route.name ? { name: route.name } : {}),
            kind: resource.split("/")[0],
        },
    );
}

/** The bearer tokens the server accepts and the ServiceAccounts it can mint tokens for. */
export class TokenAuthority {
    private readonly identities = new Map<string, TokenIdentity>();
    private readonly serviceAccounts = new Map<string, PolicyRule[]>();

    constructor(adminToken: string) {
        this.identities.set(adminToken, { user: "kube-test-admin", rules: "all", expiresAt: Number.POSITIVE_INFINITY });
    }

    /** The identity behind an Authorization header, or undefined when the token is missing, unknown or expired. */
    authenticate(authorization: string | undefined): TokenIdentity | undefined {
        const header = authorization ?? "";
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        if (!match) return undefined;
        const identity = this.identities.get(match[1]);
        if (!identity || identity.expiresAt < Date.now()) return undefined;
        return identity;
    }

    addServiceAccount(namespace: string, name: string, rules: PolicyRule[]): void {
        this.serviceAccounts.set(`${namespace}/${name}`, rules);
    }

    mintToken(namespace: string, name: string, ttlSeconds = 3600): string {
        const rules = this.serviceAccounts.get(`${namespace}/${name}`);
        if (!rules) {
            throw new Error(`no ServiceAccount ${namespace}/${name} registered on the test server: call addServiceAccount first`);
        }
        const token = randomBytes(24).toString("hex");
        this.identities.set(token, { user: `system:serviceaccount:${namespace}:${name}`, rules, expiresAt: Date.now() + ttlSeconds * 1000 });
        return token;
    }

    /** Every token issued so far for the ServiceAccount expires now (as an hour-long token does mid-run); returns how many. */
    expireTokensOf(namespace: string, name: string): number {
        const user = `system:serviceaccount:${namespace}:${name}`;
        let expired = 0;
        for (const identity of this.identities.values()) {
            if (identity.user === user && identity.expiresAt > 0) {
                identity.expiresAt = 0;
                expired++;
            }
        }
        return expired;
    }

    /** Answers a TokenRequest body as kube-apiserver does, with its 10-minute minimum lifetime. */
    tokenRequest(namespace: string, name: string, body: Json): JsonObject {
        if (!this.serviceAccounts.has(`${namespace}/${name}`)) {
            throw notFound(name, "serviceaccounts");
        }
        const spec = isJsonObject(body) && isJsonObject(body.spec) ? body.spec : {};
        const expirationSeconds = typeof spec.expirationSeconds === "number" ? spec.expirationSeconds : 3600;
        if (expirationSeconds < TOKEN_REQUEST_MIN_SECONDS) {
            throw new ApiError(
                422,
                "Invalid",
                `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
            );
        }
        const token = this.mintToken(namespace, name, expirationSeconds);
        const expiresAt = (this.identities.get(token) as TokenIdentity).expiresAt;
        return {
            kind: "TokenRequest",
            apiVersion: "authentication.k8s.io/v1",
            metadata: { name, namespace, creationTimestamp: null },
            spec: { audiences: Array.isArray(spec.audiences) ? spec.audiences : ["https://kubernetes.default.svc"], expirationSeconds, boundObjectRef: null },
            status: { token, expirationTimestamp: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z") },
        };
    }
}

/**
 * Writes a kubeconfig (mode 0600) for `server`: a bearer token (or `tokenFile`), and the server's CA,
 * or insecure-skip-tls-verify for a plain-HTTP server.
 */
export function writeKubeconfigFile(
    path: string,
    server: { url: string; caPem: string; token: string },
    options: KubeconfigOptions & { tokenFile?: string } = {},
): string {
    const name = options.context ?? "kube-test";
    const quote = JSON.stringify;
    const tls = server.url.startsWith("https:")
        ? `    certificate-authority-data: ${quote(Buffer.from(server.caPem).toString("base64"))}`
        : "    insecure-skip-tls-verify: true";
    const credential = options.tokenFile !== undefined ? `    token-file: ${quote(options.tokenFile)}` : `    token: ${quote(options.token ?? server.token)}`;
    const lines = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${quote(name)}`,
        "  cluster:",
        `    server: ${quote(server.url)}`,
        tls,
        "users:",
        `- name: ${quote(name)}`,
        "  user:",
        credential,
        "contexts:",
        `- name: ${quote(name)}`,
        "  context:",
        `    cluster: ${quote(name)}`,
        `    user: ${quote(name)}`,
        ...(options.namespace ? [`    namespace: ${quote(options.namespace)}`] : []),
        `current-context: ${quote(name)}`,
        "",
    ];
    writeFileSync(path, lines.join("\n"), { mode: 0o600 });
    return path;
}
