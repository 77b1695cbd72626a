/**
 * Least-privilege cluster access: an operator kubeconfig is used for ONE call,
 * a TokenRequest for a dedicated ServiceAccount; whoever runs afterwards holds
 * only that short-lived token (and the ServiceAccount's RBAC).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { isTransientNetworkCode } from "../reencrypt/errors";

/** Where the operator's kubeconfig comes from: a file, or YAML in memory (never logged). */
export type OperatorKubeconfig = { path: string } | { yaml: string };

export interface ServiceAccountRef {
    namespace: string;
    name: string;
}

/** A KubeConfig holding only a fresh token for `account`, against the operator's current cluster. */
export async function serviceAccountAccess(
    operator: OperatorKubeconfig,
    account: ServiceAccountRef,
    options: {
        expirationSeconds: number;
        clusterLabel: string;
        /** What to do when the API server cannot be reached at all (e.g. the other endpoint choice). */
        unreachableHint?: string;
        /** A total deadline for the one request; default 30 s. */
        timeoutMs?: number;
    },
): Promise<KubeConfig> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- client-node loads only when access is requested (it is heavy)
    const k8s = require("@kubernetes/client-node") as typeof import("@kubernetes/client-node");
    const operatorConfig = new k8s.KubeConfig();
    if ("path" in operator) operatorConfig.loadFromFile(operator.path);
    else operatorConfig.loadFromString(operator.yaml);
    const cluster = operatorConfig.getCurrentCluster();
    if (!cluster) throw new Error(`the kubeconfig for ${options.clusterLabel} has no current cluster; check its current-context`);
    let token: string | undefined;
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
        const core = operatorConfig.makeApiClient(k8s.CoreV1Api);
        const request = core.createNamespacedServiceAccountToken({
            name: account.name,
            namespace: account.namespace,
            body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: options.expirationSeconds, audiences: [] } },
        });
        const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })), timeoutMs);
        });
        const answer = await Promise.race([request, deadline]);
        token = answer.status?.token;
    } catch (e) {
        const network = networkCodeOf(e);
        if (network) {
            throw new Error(
                `could not reach the API server of ${options.clusterLabel} at ${cluster.server} (${network})` +
                    `${options.unreachableHint ? `: ${options.unreachableHint}` : ": check network access to it"}.`,
            );
        }
        const code = (e as { code?: number }).code;
        throw new Error(
            `could not get a token for ServiceAccount ${account.namespace}/${account.name} on ${options.clusterLabel}` +
                `${code ? ` (HTTP ${code})` : ""}: the operator needs "create" on serviceaccounts/token there, and the ServiceAccount must exist (this stack creates it).`,
        );
    } finally {
        clearTimeout(timer);
    }
    if (!token) throw new Error(`the TokenRequest for ${account.namespace}/${account.name} returned no token`);
    const runner = new k8s.KubeConfig();
    runner.loadFromClusterAndUser(cluster, { name: account.name, token });
    return runner;
}

/** A connection-level failure code, wherever the client library put it (the error or its cause). */
function networkCodeOf(error: unknown): string | undefined {
    for (let current: unknown = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
        const code = (current as { code?: unknown }).code;
        // The engine's transient codes, plus a name that does not resolve: also "cannot reach it from here".
        if (typeof code === "string" && (isTransientNetworkCode(code) || code === "ENOTFOUND")) return code;
    }
    return undefined;
}
