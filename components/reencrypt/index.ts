/** The re-encryption engine: no Pulumi, no Alibaba, no transport, no stdout. Callers pass a SecretsClient and options. */
export type { SecretRef, SecretPage, SecretsClient, ReencryptOptions, ReencryptProgress, ReencryptSummary, SecretFailure, RemainingSecret } from "./types";
export { reencryptSecrets } from "./engine";
/** Raised by SecretsClient implementations (transports) so the engine can classify their failures. */
export { KubernetesApiError, PermissionDeniedError, parseRetryAfter } from "./errors";
export { annotationKeyProblem, annotationValueProblem } from "./validation";
