// A kubeconfig file for the hostile server: bearer token (or token file) and the
// server's certificate as certificate-authority-data, or insecure-skip-tls-verify
// for plain HTTP.

import { writeFileSync } from "fs";
import type { KubeconfigFileOptions } from "./types";

export function writeHostileKubeconfig(path: string, server: { url: string; caPem: string; token: string }, options: KubeconfigFileOptions = {}): string {
    const name = options.context ?? "hostile";
    const quote = JSON.stringify;
    const tls = server.url.startsWith("https:")
        ? [`    certificate-authority-data: ${quote(Buffer.from(server.caPem).toString("base64"))}`]
        : ["    insecure-skip-tls-verify: true"];
    const credential = options.tokenFile !== undefined ? `    token-file: ${quote(options.tokenFile)}` : `    token: ${quote(options.token ?? server.token)}`;
    const lines = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${quote(name)}`,
        "  cluster:",
        `    server: ${quote(server.url)}`,
        ...tls,
        "users:",
        `- name: ${quote(name)}`,
        "  user:",
        credential,
        "contexts:",
        `- name: ${quote(name)}`,
        "  context:",
        `    cluster: ${quote(name)}`,
        `    user: ${quote(name)}`,
        ...(options.namespace !== undefined ? [`    namespace: ${quote(options.namespace)}`] : []),
        `current-context: ${quote(name)}`,
        "",
    ];
    writeFileSync(path, lines.join("\n"), { mode: 0o600 });
    return path;
}
