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
    /** Non-secret hints for the helper's identity; never a key or a token. */
    identity?: { profile?: string; roleArn?: string; roleSessionName?: string };
}

export function execKubeconfig(options: ExecKubeconfigOptions): Record<string, unknown> {
    const args = [CREDENTIAL_HELPER, "--cluster-id", options.clusterId, "--region", options.region, "--endpoint", options.endpoint];
    if (options.identity?.profile) args.push("--profile", options.identity.profile);
    if (options.identity?.roleArn) args.push("--role-arn", options.identity.roleArn);
    if (options.identity?.roleSessionName) args.push("--role-session-name", options.identity.roleSessionName);
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
