#!/usr/bin/env node
/**
 * cluster-credential: the exec credential plugin in the kubeconfig the stack
 * gives the Kubernetes provider (components/kube/execKubeconfig.ts). Each run
 * asks Container Service for a short-lived kubeconfig (DescribeClusterUserKubeconfig,
 * PrivateIpAddress for the VPC-internal endpoint) and prints its credential as an
 * ExecCredential with `expirationTimestamp`, so clients run it again when it expires.
 *
 * It runs inside the Kubernetes provider's (or kubectl's) process, so it never
 * receives a secret: its identity is the environment's (ALICLOUD_* / ALIBABA_CLOUD_*
 * keys, a profile named by --profile or ALICLOUD_PROFILE, an ECS role), with
 * --role-arn assumed on top, resolved as the alicloud provider would.
 * stdout: the ExecCredential; stderr: one line saying what failed and what to do; exit 1.
 */
import { describeClusterUserKubeconfig } from "../alibaba";
import { resolveStackIdentity } from "../alibaba/identity";

/** Minutes the fetched credential lives; clients refresh a little before it ends. */
const CREDENTIAL_MINUTES = 60;
const REFRESH_MARGIN_MS = 5 * 60_000;

/** The identity hints the kubeconfig may carry (never a secret): flag name → the alicloud setting it stands for. */
export const IDENTITY_FLAGS = {
    "--profile": "profile",
    "--shared-credentials-file": "sharedCredentialsFile",
    "--ecs-role-name": "ecsRoleName",
    "--role-arn": "roleArn",
    "--role-session-name": "roleSessionName",
    "--role-external-id": "roleExternalId",
    "--role-session-expiration": "roleSessionExpiration",
    "--cs-endpoint": "csEndpoint",
    "--sts-endpoint": "stsEndpoint",
} as const;

export type IdentityHints = { -readonly [K in (typeof IDENTITY_FLAGS)[keyof typeof IDENTITY_FLAGS]]?: string };

interface HelperArgs {
    clusterId: string;
    region: string;
    endpoint: "private" | "public";
    identity: IdentityHints;
}

export function parseHelperArgs(argv: string[]): HelperArgs {
    const value = (flag: string) => {
        const i = argv.indexOf(flag);
        return i >= 0 && i + 1 < argv.length ? argv[i + 1] : undefined;
    };
    const clusterId = value("--cluster-id");
    const region = value("--region");
    const endpoint = value("--endpoint") ?? "public";
    if (!clusterId || !region || (endpoint !== "private" && endpoint !== "public")) {
        throw new Error("usage: cluster-credential --cluster-id ID --region REGION [--endpoint private|public] [--profile NAME] [--role-arn ARN]");
    }
    const identity: IdentityHints = {};
    for (const [flag, setting] of Object.entries(IDENTITY_FLAGS)) {
        const given = value(flag);
        if (given !== undefined) identity[setting] = given;
    }
    return { clusterId, region, endpoint, identity };
}

/** The kubeconfig's user credential as ExecCredential status fields. */
export function credentialStatus(kubeconfigYaml: string): Record<string, string> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- js-yaml loads only here
    const yaml = require("js-yaml") as typeof import("js-yaml");
    const doc = yaml.load(kubeconfigYaml) as { users?: { user?: Record<string, string> }[] } | undefined;
    const user = doc?.users?.[0]?.user ?? {};
    if (user.token) return { token: user.token };
    if (user["client-certificate-data"] && user["client-key-data"]) {
        const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
        return { clientCertificateData: decode(user["client-certificate-data"]), clientKeyData: decode(user["client-key-data"]) };
    }
    throw new Error("the kubeconfig from DescribeClusterUserKubeconfig holds neither a token nor a client certificate");
}

export async function main(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
    try {
        const args = parseHelperArgs(argv);
        const hints = args.identity;
        const config: Record<string, string> = { "alicloud:region": args.region };
        if (hints.profile) config["alicloud:profile"] = hints.profile;
        if (hints.sharedCredentialsFile) config["alicloud:sharedCredentialsFile"] = hints.sharedCredentialsFile;
        if (hints.ecsRoleName) config["alicloud:ecsRoleName"] = hints.ecsRoleName;
        if (hints.roleArn) {
            const expiration = hints.roleSessionExpiration ? Number(hints.roleSessionExpiration) : undefined;
            config["alicloud:assumeRole"] = JSON.stringify({
                roleArn: hints.roleArn,
                sessionName: hints.roleSessionName,
                externalId: hints.roleExternalId,
                sessionExpiration: expiration,
            });
        }
        if (hints.csEndpoint || hints.stsEndpoint) config["alicloud:endpoints"] = JSON.stringify([{ cs: hints.csEndpoint, sts: hints.stsEndpoint }]);
        const identity = resolveStackIdentity({ get: (key) => config[key] });
        // As the providers do: no credential is an error, never the default chain's idea of who to be.
        if (!identity) {
            throw new Error(
                "no Alibaba Cloud credential where this runs: set ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY (or ALIBABA_CLOUD_*), " +
                    "or the stack's alicloud:profile or alicloud:ecsRoleName, in the environment Pulumi (or kubectl) runs in",
            );
        }
        const fetchedAt = Date.now();
        const yamlText = await describeClusterUserKubeconfig(
            { regionId: args.region, identity },
            args.clusterId,
            CREDENTIAL_MINUTES,
            args.endpoint === "private",
        );
        const status = {
            ...credentialStatus(yamlText),
            expirationTimestamp: new Date(fetchedAt + CREDENTIAL_MINUTES * 60_000 - REFRESH_MARGIN_MS).toISOString(),
        };
        out.write(`${JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status })}\n`);
        return 0;
    } catch (e) {
        err.write(`cluster-credential: ${(e as Error).message}\n`);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2), process.stdout, process.stderr).then((code) => (process.exitCode = code));
}
