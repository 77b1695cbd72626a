/**
 * Least-privilege cluster access: an operator kubeconfig is used for ONE call,
 * a TokenRequest for a dedicated ServiceAccount; whoever runs afterwards holds
 * only that short-lived token (and the ServiceAccount's RBAC).
 */
import type { KubeConfig } from "@kubernetes/client-node";

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
    options: { expirationSeconds: number; clusterLabel: string },
): Promise<KubeConfig> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- client-node loads only when access is requested (it is heavy)
    const k8s = require("@kubernetes/client-node") as typeof import("@kubernetes/client-node");
    const operatorConfig = new k8s.KubeConfig();
    if ("path" in operator) operatorConfig.loadFromFile(operator.path);
    else operatorConfig.loadFromString(operator.yaml);
    const cluster = operatorConfig.getCurrentCluster();
    if (!cluster) throw new Error(`the kubeconfig for ${options.clusterLabel} has no current cluster; check its current-context`);
    let token: string | undefined;
    try {
        const core = operatorConfig.makeApiClient(k8s.CoreV1Api);
        const answer = await core.createNamespacedServiceAccountToken({
            name: account.name,
            namespace: account.namespace,
            body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: options.expirationSeconds, audiences: [] } },
        });
        token = answer.status?.token;
    } catch (e) {
        const code = (e as { code?: number }).code;
        throw new Error(
            `could not get a token for ServiceAccount ${account.namespace}/${account.name} on ${options.clusterLabel}` +
                `${code ? ` (HTTP ${code})` : ""}: the operator needs "create" on serviceaccounts/token there, and the ServiceAccount must exist (this stack creates it).`,
        );
    }
    if (!token) throw new Error(`the TokenRequest for ${account.namespace}/${account.name} returned no token`);
    const runner = new k8s.KubeConfig();
    runner.loadFromClusterAndUser(cluster, { name: account.name, token });
    return runner;
}
