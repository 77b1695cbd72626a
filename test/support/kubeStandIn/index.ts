// The Kubernetes API test server for Secrets (real TLS, bearer tokens, discovery
// enough for kubectl, chunked lists, TokenRequest, the no-op-write rule, sealing
// key versions, faults and churn); it lives in ./kube/, split by concern.

export type {
    ChurnOptions,
    FaultOptions,
    HookAction,
    KubeStandInOptions,
    KubeStandIn,
    KubeconfigOptions,
    PolicyRule,
    RequestHook,
    RequestInfo,
    SecretVerb,
    ServerStats,
    Verb,
} from "./types";
export { serverCertificate } from "./auth";
export { negotiate } from "./negotiation";
export { startKubeStandIn } from "./server";
export { secretKey } from "./store";
