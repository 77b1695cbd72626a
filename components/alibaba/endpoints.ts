// Endpoint resolution for the two Alibaba Cloud services this project calls.
// Overrides come from the environment at run time (never from resource inputs),
// so pointing a stack at a private endpoint or a local test server never
// changes Pulumi state.

export type AlibabaService = "cs" | "kms";

export const ENDPOINT_ENV_VARS: Readonly<Record<AlibabaService, string>> = {
    cs: "ALIBABA_CLOUD_CS_ENDPOINT",
    kms: "ALIBABA_CLOUD_KMS_ENDPOINT",
};

export interface ResolvedEndpoint {
    /** host[:port], as the SDKs expect it (no scheme). */
    endpoint: string;
    /** "https" unless the override says "http://". */
    protocol: "http" | "https";
    /** Where the value came from, for error messages. */
    source: "regional default" | string;
}

const REGION_PATTERN = /^[a-z]{2,}(-[a-z0-9]+)+$/;

export function resolveEndpoint(
    service: AlibabaService,
    regionId: string,
    env: NodeJS.ProcessEnv = process.env,
    /** The stack's alicloud:endpoints entry for the service, after the environment override. */
    configured?: string,
): ResolvedEndpoint {
    const variable = ENDPOINT_ENV_VARS[service];
    const fromEnv = (env[variable] ?? "").trim();
    const override = fromEnv !== "" ? fromEnv : (configured ?? "").trim();
    if (override !== "") {
        const match = /^(?:(https?):\/\/)?([^/\s]+)\/?$/i.exec(override);
        if (!match) {
            throw new Error(
                `${fromEnv !== "" ? variable : `alicloud:endpoints ${service}`}="${override}" is not a valid endpoint: use host[:port] or http(s)://host[:port] ` +
                    `(for example "${service}.${regionId || "cn-hangzhou"}.aliyuncs.com" or "http://127.0.0.1:8080"), or unset it to use the regional endpoint.`,
            );
        }
        const scheme = (match[1] ?? "https").toLowerCase() as "http" | "https";
        return { endpoint: match[2], protocol: scheme, source: fromEnv !== "" ? `environment variable ${variable}` : `alicloud:endpoints (${service})` };
    }
    if (!REGION_PATTERN.test(regionId)) {
        throw new Error(
            `Region "${regionId}" does not look like an Alibaba Cloud region ID (for example "cn-hangzhou"): ` +
                `set the stack's alicloud:region, or set ${variable} to an explicit endpoint.`,
        );
    }
    return { endpoint: `${service}.${regionId}.aliyuncs.com`, protocol: "https", source: "regional default" };
}
