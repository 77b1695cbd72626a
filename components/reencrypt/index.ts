/** The re-encryption engine: no Pulumi, no kubeconfig files, no stdout; callers pass a SecretsClient and options. */
export type { SecretRef, SecretPage, SecretsClient, ReencryptOptions, ReencryptProgress, ReencryptSummary, SecretFailure, RemainingSecret } from "./types";
export { reencryptSecrets, resolveOptions, forEachBounded, BoundedList, DEFAULT_ANNOTATION_KEY } from "./engine";
export {
    classifyError,
    describeError,
    httpStatusOf,
    parseRetryAfter,
    retryAfterSecondsOf,
    remainderContinueTokenOf,
    KubernetesApiError,
    PermissionDeniedError,
} from "./errors";
export type { ErrorClass } from "./errors";
export { WriteRateLimiter } from "./rateLimiter";
export { loadState, saveStateAtomically, STATE_FORMAT_VERSION } from "./state";
export type { ReencryptState, ReencryptCounts } from "./state";
export { annotationKeyProblem, annotationValueProblem } from "./validation";
export { formatProgress, formatSummaryText, formatDuration } from "./report";
export { createKubernetesSecretsClient, loadKubeConfig, parseMetadataList } from "./kubernetesClient";
export type { KubeConfigSource, KubernetesClientOptions, KubernetesSecretsClient } from "./kubernetesClient";
