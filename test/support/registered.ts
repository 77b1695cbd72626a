// What the program really registers for our dynamic resources: the dev stack
// run under Pulumi mocks (the offline plan's engine), so host tests start from
// the exact `__provider` text and inputs that `pulumi up` would send and state keeps.

import { planProgram, readProjectName, readStackConfig } from "../../plan/planner";
import { PROJECT_DIR } from "./providerHost";

export interface RegisteredDynamicResource {
    urn: string;
    type: string;
    /** The serialized provider exactly as registered (and stored in state). */
    providerText: string;
    /** The registered inputs, `__provider` included, in wire form. */
    inputs: Record<string, unknown>;
}

export const CLUSTER_ENCRYPTION_TYPE = "pulumi-nodejs:dynamic/ask:ClusterEncryption";
export const SECRET_ROTATION_TYPE = "pulumi-nodejs:dynamic/ask:SecretRotation";

let cached: Promise<Record<string, RegisteredDynamicResource>> | undefined;
let planned: ReturnType<typeof planProgram> | undefined;

/** The dev stack planned once per test process, as the offline plan runs it. */
function devStackPlan(): ReturnType<typeof planProgram> {
    planned ??= (async () => {
        const project = readProjectName(PROJECT_DIR);
        const config = readStackConfig(PROJECT_DIR, "dev", project);
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, as the plan loads it
        const program = require("../../index") as () => Promise<unknown>;
        return planProgram({ program, project, stack: "dev", config });
    })();
    return planned;
}

/**
 * The re-encryption identity exactly as the program registers it with the Kubernetes provider:
 * the ServiceAccount, the ClusterRole and its binding (the props as sent; generated names are unknown offline).
 */
export async function registeredReencryptionIdentity(): Promise<{ serviceAccount: Props; clusterRole: Props; binding: Props }> {
    const plan = await devStackPlan();
    const props = (type: string) => {
        const found = plan.resources.find((r) => r.type === type);
        if (!found) throw new Error(`the dev stack registered no ${type}`);
        return found.wireProps as Props;
    };
    return {
        serviceAccount: props("kubernetes:core/v1:ServiceAccount"),
        clusterRole: props("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"),
        binding: props("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"),
    };
}

type Props = Record<string, unknown>;

/** The dev stack's dynamic resources by type, planned once per test process. */
export function registeredDynamicResources(): Promise<Record<string, RegisteredDynamicResource>> {
    cached ??= (async () => {
        const plan = await devStackPlan();
        const found: Record<string, RegisteredDynamicResource> = {};
        for (const r of plan.resources) {
            if (r.type !== CLUSTER_ENCRYPTION_TYPE && r.type !== SECRET_ROTATION_TYPE) continue;
            found[r.type] = { urn: r.urn, type: r.type, providerText: String(r.wireProps.__provider), inputs: r.wireProps };
        }
        for (const type of [CLUSTER_ENCRYPTION_TYPE, SECRET_ROTATION_TYPE]) {
            if (!found[type]) throw new Error(`the dev stack registered no ${type}`);
        }
        return found;
    })();
    return cached;
}
