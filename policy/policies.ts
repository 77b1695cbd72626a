// The pack's policies, in one list. Kept apart from index.ts because creating
// a PolicyPack starts its gRPC server (one per process): tests and tools
// import this list, only the pack entry serves it.

import type { Policies } from "@pulumi/policy";
import { inUseKeyDeletionProtection, inUseKeyEnabled, inUseKeyPresent, inUseKeyProtected } from "./keyAvailability";
import { inUseKeySpec } from "./keySpec";
import { inUseKeyPendingWindow, inUseKeyRotation } from "./keyRotation";
import { kmsInstanceDeletionProtection } from "./kmsInstance";
import { securityRolePolicyScope } from "./securityRole";
import { clusterKeyGuarded } from "./clusterKeyGuard";

export const POLICY_PACK_NAME = "ask-kms-key-guard";

export const policies: Policies = [
    inUseKeyEnabled,
    inUseKeyDeletionProtection,
    inUseKeyProtected,
    inUseKeySpec,
    inUseKeyPresent,
    inUseKeyRotation,
    inUseKeyPendingWindow,
    securityRolePolicyScope,
    kmsInstanceDeletionProtection,
    clusterKeyGuarded,
];
