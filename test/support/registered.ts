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

/** The dev stack's dynamic resources by type, planned once per test process. */
export function registeredDynamicResources(): Promise<Record<string, RegisteredDynamicResource>> {
    cached ??= (async () => {
        const project = readProjectName(PROJECT_DIR);
        const config = readStackConfig(PROJECT_DIR, "dev", project);
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, as the plan loads it
        const program = require("../../index") as () => Promise<unknown>;
        const plan = await planProgram({ program, project, stack: "dev", config });
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
