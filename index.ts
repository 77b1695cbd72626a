// The program: one stack per ASK Pro cluster. Reads and validates the stack
// config (nothing is registered on a bad value), then builds the component.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, SecretEncryption, resolveSecurityRoleMode } from "./components";

export = async () => {
    let settings;
    try {
        settings = parseStackConfig(pulumi.runtime.allConfig());
    } catch (err) {
        // RunError prints the message alone: the stack trace would only hide which key is wrong.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
    const encryption = new SecretEncryption(settings.clusterId, {
        clusterId: settings.clusterId,
        region: settings.region,
        kmsKeyId: settings.kmsKeyId,
        kmsInstanceId: settings.kmsInstanceId,
        kmsInstance: settings.kmsInstance,
        key: settings.kmsKeyId ? undefined : settings.key,
        securityRole: await resolveSecurityRoleMode(settings.securityRole),
        operator: settings.operator,
        pollIntervalSeconds: settings.encryption.pollIntervalSeconds,
        timeoutMinutes: settings.encryption.timeoutMinutes,
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
