/** Kubernetes transport: kubeconfig loading, the metadata-only Secrets client, ServiceAccount tokens. Used by the CLI and the rotation provider. */
export { loadKubeConfig } from "./kubeconfig";
export type { KubeAccess, KubeConfigLoadOptions, KubeConfigSource, LoadedKubeConfig } from "./kubeconfig";
export { DEFAULT_EXEC_TIMEOUT_MS, ExecCredentialError } from "./execCredential";
export { createKubernetesSecretsClient } from "./secretsClient";
export type { KubernetesClientOptions, KubernetesSecretsClient } from "./secretsClient";
export { serviceAccountAccess } from "./tokenRequest";
export type { OperatorKubeconfig, ServiceAccountRef } from "./tokenRequest";
export { tcpReachable } from "./reachability";
