// Advisory by default: AliyunCSManagedSecurityRolePolicy lets its holder use
// (Encrypt/Decrypt) and unprotect (SetDeletionProtection) KMS keys. ACK needs it
// only on AliyunCSManagedSecurityRole, the role the cluster assumes for Secret
// encryption; anywhere else it widens who can touch the cluster's key.

import type { ResourceValidationPolicy } from "@pulumi/policy";
import { RAM_GROUP_POLICY_ATTACHMENT_TYPE, RAM_ROLE_POLICY_ATTACHMENT_TYPE, RAM_USER_POLICY_ATTACHMENT_TYPE, readProp } from "./props";

export const SECURITY_ROLE_NAME = "AliyunCSManagedSecurityRole";
export const SECURITY_ROLE_POLICY_NAME = "AliyunCSManagedSecurityRolePolicy";

const PRINCIPAL_PROPERTY: Record<string, { property: string; kind: string }> = {
    [RAM_ROLE_POLICY_ATTACHMENT_TYPE]: { property: "roleName", kind: "role" },
    [RAM_USER_POLICY_ATTACHMENT_TYPE]: { property: "userName", kind: "user" },
    [RAM_GROUP_POLICY_ATTACHMENT_TYPE]: { property: "groupName", kind: "group" },
};

export const securityRolePolicyScope: ResourceValidationPolicy = {
    name: "cs-security-role-policy-scope",
    description: `${SECURITY_ROLE_POLICY_NAME} should be attached to nothing but the RAM role ${SECURITY_ROLE_NAME}.`,
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        const principal = PRINCIPAL_PROPERTY[args.type];
        if (!principal) return;
        const policyName = readProp(args.props, "policyName");
        if (!policyName.known || policyName.value !== SECURITY_ROLE_POLICY_NAME) return;
        // A Custom policy can share the name but is not the system policy.
        const policyType = readProp(args.props, "policyType");
        if (policyType.known && policyType.value === "Custom") return;
        const holder = readProp(args.props, principal.property);
        if (!holder.known) return;
        if (principal.kind === "role" && holder.value === SECURITY_ROLE_NAME) return;
        const holderName = typeof holder.value === "string" ? `"${holder.value}"` : `of ${args.name}`;
        reportViolation(
            `${SECURITY_ROLE_POLICY_NAME} (KMS Encrypt/Decrypt and SetDeletionProtection on the cluster's key) is attached ` +
                `to the RAM ${principal.kind} ${holderName}. Attach it only to the role ${SECURITY_ROLE_NAME}; grant ` +
                `operators AliyunKMSCryptoAdminAccess or a narrower custom policy instead.`,
        );
    },
};
