// The program: one stack per ASK Pro cluster. Reads and validates the stack
// config (nothing is registered on a bad value), reviews an adopted key, then
// builds the component.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, resolveSecurityRoleMode, reviewAdoptedKey, SecretEncryption } from "./components";

export = async () => {
    // Our keys live in the project's namespace, whatever Pulumi.yaml names it.
    const project = pulumi.getProject();
    let settings;
    let adoptionChanges: string[] = [];
    try {
        settings = parseStackConfig(pulumi.runtime.allConfig(), project);
        if (settings.kmsKeyId) adoptionChanges = await reviewAdoptedKey(settings.kmsKeyId, project);
    } catch (err) {
        // RunError prints the message alone: the stack trace would only hide which key is wrong.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
    // Shown at preview (and by the offline plan) before the import changes someone else's key.
    for (const change of adoptionChanges) await pulumi.log.warn(change);

    const encryption = new SecretEncryption(settings.clusterId, {
        clusterId: settings.clusterId,
        region: settings.region,
        kmsKeyId: settings.kmsKeyId,
        kmsInstanceId: settings.kmsInstanceId,
        kmsInstance: settings.kmsInstance,
        key: settings.kmsKeyId ? undefined : settings.key,
        securityRole: await resolveSecurityRoleMode(settings.securityRole),
        operator: settings.operator,
        encryption: settings.encryption,
        rotation: settings.rotation,
        tags: settings.tags,
    });
    return {
        clusterId: settings.clusterId,
        ...(settings.kmsKeyId ? {} : { kmsInstanceId: encryption.kmsInstanceId }),
        kmsKeyId: encryption.kmsKeyId,
        kmsKeyArn: encryption.kmsKeyArn,
        securityRoleName: encryption.securityRoleName,
        encryptionEnabled: encryption.encryptionEnabled,
        ...(encryption.rotation
            ? { rotatedKeyVersion: encryption.rotation.keyVersion, rotationVerifiedAt: encryption.rotation.verifiedAt }
            : {}),
    };
};
