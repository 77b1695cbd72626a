// The busy-cluster conditions for a re-encryption run, shared by the
// end-to-end tests and the benchmark so both judge the tools by the same run.
import { ChurnOptions, FaultOptions } from "./kubeStandIn/index";

/** The guide's pipeline, verbatim but for TIME. */
export function guidePipeline(annotationValue: string): string {
    return `kubectl get secrets --all-namespaces -o json | kubectl annotate --overwrite -f - encryption-key-rotation-time=${annotationValue}`;
}

/** 2% 429 (Retry-After, plain text), 2% 5xx, resets, lost responses, one expired continue token. */
export const HOSTILE_FAULTS: FaultOptions = {
    throttleProbability: 0.02,
    retryAfterSeconds: 1,
    serverErrorProbability: 0.02,
    resetProbability: 0.005,
    lostResponseProbability: 0.005,
    expireContinueAfterPages: 1,
};

/** Another client editing, deleting and creating Secrets while the run goes on. */
export const HOSTILE_CHURN: ChurnOptions = { everyRequests: 60, edits: 1, deletes: 1, creates: 1 };
