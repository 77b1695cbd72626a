// The Kubernetes API test server for Secrets (real TLS, bearer tokens, discovery
// enough for kubectl, chunked lists, TokenRequest, the no-op-write rule, sealing
// key versions, faults and churn); it lives in ./kube/, split by concern.

export type {
    ChurnOptions,
    FaultOptions,
    HookAction,
    KubeServerOptions,
    KubeTestServer,
    KubeconfigOptions,
    PolicyRule,
    RequestHook,
    RequestInfo,
    SecretVerb,
    ServerStats,
    Verb,
} from "./kube/types";
export { serverCertificate } from "./kube/auth";
export { negotiate } from "./kube/negotiation";
export { startKubeServer } from "./kube/server";
export { secretKey } from "./kube/store";
