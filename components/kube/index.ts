/** Kubernetes transport: kubeconfig loading, the metadata-only Secrets client, ServiceAccount tokens. Used by the CLI and the rotation provider. */
export { loadKubeConfig } from "./kubeconfig";
export type { KubeAccess, KubeConfigSource, LoadedKubeConfig } from "./kubeconfig";
export { createKubernetesSecretsClient } from "./secretsClient";
export type { KubernetesClientOptions, KubernetesSecretsClient } from "./secretsClient";
export { serviceAccountAccess } from "./tokenRequest";
export type { OperatorKubeconfig, ServiceAccountRef } from "./tokenRequest";
