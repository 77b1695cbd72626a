/**
 * A kubeconfig that holds no credential: the user is an exec plugin, this
 * project's `cluster-credential` helper, which fetches a short-lived credential
 * from the Container Service API each time a client needs one (how EKS keeps
 * credentials out of Pulumi state). Only the server URL, the cluster's CA and
 * non-secret identity hints (region, profile name, role ARN) are stored.
 */

/** The helper, relative to the program directory (where Pulumi runs its plugins): a clone at another path works. */
export const CREDENTIAL_HELPER = "dist/components/cli/clusterCredential.js";

export interface ExecKubeconfigOptions {
    clusterId: string;
    region: string;
    /** The API server URL (the endpoint chosen by clusterEndpoint). */
    server: string;
    /** The cluster CA, base64 PEM as kubeconfigs carry it. */
    certificateAuthorityData: string;
    endpoint: "private" | "public";
    /** Non-secret hints for the helper's identity (flag names in components/cli/clusterCredential.ts); never a key or a token. */
    identity?: Record<string, string | undefined>;
}

export function execKubeconfig(options: ExecKubeconfigOptions): Record<string, unknown> {
    const args = [CREDENTIAL_HELPER, "--cluster-id", options.clusterId, "--region", options.region, "--endpoint", options.endpoint];
    for (const [flag, value] of Object.entries(options.identity ?? {})) if (value) args.push(flag, value);
    const name = `${options.clusterId}-${options.endpoint}`;
    return {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server: options.server, "certificate-authority-data": options.certificateAuthorityData } }],
        users: [
            {
                name: `${name}-cs-credential`,
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1",
                        command: "node",
                        args,
                        interactiveMode: "Never",
                        provideClusterInfo: false,
                    },
                },
            },
        ],
        contexts: [{ name, context: { cluster: name, user: `${name}-cs-credential` } }],
        "current-context": name,
    };
}
