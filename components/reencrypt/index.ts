/** The re-encryption engine: no Pulumi, no Alibaba, no transport, no stdout. Callers pass a SecretsClient and options. */
export type {
    ClusterTarget,
    ListRequest,
    SecretRef,
    SecretPage,
    SecretsClient,
    ReencryptOptions,
    ReencryptOutcome,
    ReencryptProgress,
    ReencryptSummary,
    SecretFailure,
    RemainingSecret,
} from "./types";
export { abortableSleep, reencryptSecrets } from "./engine";
export { Checkpoint, CheckpointError, CHECKPOINT_FORMAT, STATE_FORMAT_VERSION } from "./checkpoint";
export type { CheckpointFileSystem, ClusterIdentity, ReencryptCounts } from "./checkpoint";
/** Raised by SecretsClient implementations (transports) so the engine can classify their failures. */
export { KubernetesApiError, PermissionDeniedError, parseRetryAfter } from "./errors";
export { annotationKeyProblem, annotationValueProblem } from "../config";
