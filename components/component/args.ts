// The one hop from a stack's settings to the component: parsed stack config (every default already
// filled in from the settings model) plus what the account lookups found become SecretEncryptionArgs.

import type { StackSettings } from "../config";
import type { SecretEncryptionArgs } from "./secretEncryption";

/** What the program learns from the account before registering anything (see ./lookups.ts). */
export interface AccountFindings {
    /** `securityRole: auto` resolved against the account (resolveSecurityRoleMode). */
    securityRole: "create" | "adopt";
    /** The role this stack manages is already in the account (resolveSecurityRoleMode's inAccount). */
    securityRoleInAccount?: SecretEncryptionArgs["securityRoleInAccount"];
    /** The cluster endpoint and CA the RBAC identity and the rotation use (resolveClusterAccess); absent when not needed. */
    clusterAccess?: SecretEncryptionArgs["clusterAccess"];
    /** The adopted key's rotation interval (reviewAdoptedKey); absent when the stack creates its key. */
    adoptedKeyRotationInterval?: string;
}

export function secretEncryptionArgs(settings: StackSettings, found: AccountFindings): SecretEncryptionArgs {
    // clusterEndpoint is already resolved into found.clusterAccess; an adopted key takes no key settings.
    const { clusterEndpoint: _resolved, securityRole: _auto, key, ...rest } = settings;
    return {
        ...rest,
        key: settings.kmsKeyId ? undefined : key,
        securityRole: found.securityRole,
        securityRoleInAccount: found.securityRoleInAccount,
        clusterAccess: found.clusterAccess,
        adoptedKeyRotationInterval: found.adoptedKeyRotationInterval,
    };
}
