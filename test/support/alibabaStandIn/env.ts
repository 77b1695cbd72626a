// The environment and stack config that point code under test at the stand-in:
// this process's credential chain, a provider host's environment, and the
// alicloud config `pulumi up` sends the dynamic providers.

import type { AlibabaStandIn } from "./types";

const MANAGED_ENV_VARS = [
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_CS_ENDPOINT",
    "ALIBABA_CLOUD_KMS_ENDPOINT",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
] as const;

/**
 * Points the default credential chain and the endpoint overrides at the
 * stand-in (optionally with a different secret or key ID, to provoke
 * signature errors). Returns a function that restores the previous values.
 */
export function useAlibabaStandInEnv(
    standIn: Pick<AlibabaStandIn, "csEndpoint" | "kmsEndpoint" | "accessKeyId" | "accessKeySecret">,
    overrides: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string } = {},
): () => void {
    const saved = new Map<string, string | undefined>(MANAGED_ENV_VARS.map((name) => [name, process.env[name]]));
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = overrides.accessKeyId ?? standIn.accessKeyId;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = overrides.accessKeySecret ?? standIn.accessKeySecret;
    if (overrides.securityToken) process.env.ALIBABA_CLOUD_SECURITY_TOKEN = overrides.securityToken;
    else delete process.env.ALIBABA_CLOUD_SECURITY_TOKEN;
    process.env.ALIBABA_CLOUD_CS_ENDPOINT = standIn.csEndpoint;
    process.env.ALIBABA_CLOUD_KMS_ENDPOINT = standIn.kmsEndpoint;
    // Never fall through to the ECS metadata service from a test machine.
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";
    return () => {
        for (const [name, value] of saved) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
    };
}

/**
 * The environment for a provider host that talks to the stand-in: endpoint
 * overrides, no ECS metadata fallback, and an empty HOME so no real profile
 * or credential file of this machine can be picked up.
 */
export function standInHostEnv(standIn: Pick<AlibabaStandIn, "csEndpoint" | "kmsEndpoint">, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
        HOME: home,
        ALIBABA_CLOUD_CS_ENDPOINT: standIn.csEndpoint,
        ALIBABA_CLOUD_KMS_ENDPOINT: standIn.kmsEndpoint,
        ALIBABA_CLOUD_ECS_METADATA_DISABLED: "true",
        ...extra,
    };
}

/** The stack config `pulumi up` sends the dynamic providers (CLI >= 3.139): region and the stand-in's key as explicit alicloud config. */
export function standInStackConfig(standIn: Pick<AlibabaStandIn, "accessKeyId" | "accessKeySecret" | "regionId">): {
    config: Record<string, string>;
    secretKeys: string[];
} {
    return {
        config: { "alicloud:region": standIn.regionId, "alicloud:accessKey": standIn.accessKeyId, "alicloud:secretKey": standIn.accessKeySecret },
        secretKeys: ["alicloud:secretKey"],
    };
}
