// The program: one stack per ASK Pro cluster. Reads and validates the stack
// config (nothing is registered on a bad value), asks the account what it needs
// to know (adopted key, vSwitch zones, security role, cluster endpoint), then
// builds the component.
import * as pulumi from "@pulumi/pulumi";
import {
    AdoptedKeyReview,
    ClusterAccess,
    ConfigError,
    parseStackConfig,
    resolveClusterAccess,
    resolveSecurityRoleMode,
    reviewAdoptedKey,
    reviewInstanceZones,
    SecretEncryption,
    secretEncryptionArgs,
    SecurityRoleDecision,
} from "./components";
import { tcpReachable } from "./components/kube";
import { staleBuildProblem } from "./components/providers";

/**
 * `pulumi up` calls this with no argument. A program that embeds this one may place the component: another name
 * (default: the cluster ID) and resource options, such as a parent. Moving the component to another name or parent
 * changes every URN under it: pass `aliases` naming the old place (Pulumi carries them to each child), or Pulumi
 * creates everything anew and deletes the old resources.
 */
export = async (placement: { name?: string; opts?: pulumi.ComponentResourceOptions } = {}) => {
    // The dynamic providers run the compiled dist/: never let them run older code than this program.
    const staleBuild = staleBuildProblem(__dirname);
    if (staleBuild) throw new pulumi.RunError(staleBuild);
    // Our keys live in the project's namespace, whatever Pulumi.yaml names it.
    const project = pulumi.getProject();
    let settings;
    try {
        settings = parseStackConfig(pulumi.runtime.allConfig(), project);
    } catch (err) {
        // RunError prints the message alone: the stack trace would only hide which key is wrong.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
    const valid = settings;
    // The account lookups are independent: run them together, and report every problem they find at once.
    const [adoption, zones, securityRoleLookup, access] = await Promise.allSettled([
        valid.kmsKeyId ? reviewAdoptedKey(valid.kmsKeyId, project) : Promise.resolve(undefined),
        valid.kmsInstance ? reviewInstanceZones(valid.kmsInstance, project) : Promise.resolve(),
        resolveSecurityRoleMode(valid.securityRole),
        // The RBAC identity and the rotation reach the cluster at the endpoint it has (unless a kubeconfig file is given).
        // Offline (the plan under mocks) nothing can be reached: the endpoint is probed only against a real engine.
        valid.rotation.enabled && !valid.rotation.kubeconfigPath
            ? resolveClusterAccess(valid.clusterEndpoint, valid.clusterId, project, runningUnderMocks() ? undefined : tcpReachable)
            : Promise.resolve(undefined),
    ]);
    const failures = [adoption, zones, securityRoleLookup, access].filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason);
    const unexpected = failures.find((reason) => !(reason instanceof ConfigError));
    if (unexpected) throw unexpected;
    if (failures.length > 0) throw new pulumi.RunError(new ConfigError(failures.flatMap((reason: ConfigError) => reason.problems)).message);
    const adoptedKey = (adoption as PromiseFulfilledResult<AdoptedKeyReview | undefined>).value;
    const securityRole = (securityRoleLookup as PromiseFulfilledResult<SecurityRoleDecision>).value;
    const clusterAccess = (access as PromiseFulfilledResult<ClusterAccess | undefined>).value;
    // Shown at preview (and by the offline plan): before the import changes someone else's key, and role migrations.
    for (const warning of [...(adoptedKey?.changes ?? []), ...securityRole.warnings]) await pulumi.log.warn(warning);

    const encryption = new SecretEncryption(
        placement.name ?? settings.clusterId,
        secretEncryptionArgs(settings, {
            securityRole: securityRole.mode,
            securityRoleInAccount: securityRole.inAccount,
            clusterAccess: clusterAccess && { ...clusterAccess, identity: credentialHelperIdentity() },
            adoptedKeyRotationInterval: adoptedKey?.rotationInterval,
        }),
        placement.opts,
    );
    return {
        clusterId: settings.clusterId,
        ...(settings.kmsKeyId ? {} : { kmsInstanceId: encryption.kmsInstanceId }),
        kmsKeyId: encryption.kmsKeyId,
        kmsKeyArn: encryption.kmsKeyArn,
        securityRoleName: encryption.securityRoleName,
        encryptionEnabled: encryption.encryptionEnabled,
        ...(encryption.rotation ? { rotatedKeyVersion: encryption.rotation.keyVersion, rotationVerifiedAt: encryption.rotation.verifiedAt } : {}),
    };
};

/**
 * Non-secret identity hints for the credential helper, as its flags, from the stack's alicloud config:
 * the profile and its file, an ECS role, the role to assume and its non-secret settings, VPC endpoints.
 */
function credentialHelperIdentity(): Record<string, string | undefined> {
    const alicloudConfig = new pulumi.Config("alicloud");
    const assumeRole = alicloudConfig.getObject<{ roleArn?: string; sessionName?: string; externalId?: string; sessionExpiration?: number }>("assumeRole");
    const endpoints = alicloudConfig.getObject<Record<string, string>[]>("endpoints") ?? [];
    const endpoint = (service: string) => endpoints.map((e) => e?.[service]).find(Boolean);
    return {
        "--profile": alicloudConfig.get("profile"),
        "--shared-credentials-file": alicloudConfig.get("sharedCredentialsFile"),
        "--ecs-role-name": alicloudConfig.get("ecsRoleName"),
        "--role-arn": assumeRole?.roleArn,
        "--role-session-name": assumeRole?.sessionName,
        "--role-external-id": assumeRole?.externalId,
        "--role-session-expiration": assumeRole?.sessionExpiration === undefined ? undefined : String(assumeRole.sessionExpiration),
        "--cs-endpoint": endpoint("cs"),
        "--sts-endpoint": endpoint("sts"),
    };
}

/** True inside `pulumi.runtime.setMocks` (the offline plan): there is no engine and no network to the cluster. */
function runningUnderMocks(): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the runtime's settings module has no public accessor for this
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): object | undefined };
    return settings.getMonitor()?.constructor?.name === "MockMonitor";
}
