import { securityRolePolicyScope } from "../../policy/securityRole";
import { PlannedResource, UNKNOWN_VALUE } from "../../plan/policyClient";
import { assertHasViolation, assertNoViolations, runResourcePolicy } from "../support/policyHarness";
import { urnOf } from "../support/policyFixtures";

function attachment(kind: "role" | "user" | "group", holder: unknown, extra: Record<string, unknown> = {}): PlannedResource {
    const type = `alicloud:ram/${kind}PolicyAttachment:${kind[0].toUpperCase()}${kind.slice(1)}PolicyAttachment`;
    return {
        urn: urnOf(type, `${kind}-attachment`),
        type,
        name: `${kind}-attachment`,
        protect: false,
        props: { [`${kind}Name`]: holder, policyName: "AliyunCSManagedSecurityRolePolicy", policyType: "System", ...extra },
    };
}

describe("policy/securityRole: cs-security-role-policy-scope", () => {
    it("passes the policy on AliyunCSManagedSecurityRole", async () => {
        assertNoViolations(await runResourcePolicy(securityRolePolicyScope, attachment("role", "AliyunCSManagedSecurityRole")));
    });

    it("flags it on any other role, user or group", async () => {
        const role = attachment("role", "ops-admin");
        assertHasViolation(await runResourcePolicy(securityRolePolicyScope, role), { message: 'attached to the RAM role "ops-admin"', urn: role.urn });
        assertHasViolation(await runResourcePolicy(securityRolePolicyScope, attachment("user", "bob")), { message: 'RAM user "bob"' });
        assertHasViolation(await runResourcePolicy(securityRolePolicyScope, attachment("group", "devs")), { message: 'RAM group "devs"' });
    });

    it("ignores other policies, a Custom policy of the same name, and an unknown holder", async () => {
        assertNoViolations(await runResourcePolicy(securityRolePolicyScope, attachment("user", "bob", { policyName: "AliyunKMSCryptoAdminAccess" })));
        assertNoViolations(await runResourcePolicy(securityRolePolicyScope, attachment("user", "bob", { policyType: "Custom" })));
        assertNoViolations(await runResourcePolicy(securityRolePolicyScope, attachment("role", UNKNOWN_VALUE)));
    });

    it("ignores resources that are not policy attachments", async () => {
        const role: PlannedResource = {
            urn: urnOf("alicloud:ram/role:Role", "r"),
            type: "alicloud:ram/role:Role",
            name: "r",
            protect: false,
            props: { roleName: "x", policyName: "AliyunCSManagedSecurityRolePolicy" },
        };
        assertNoViolations(await runResourcePolicy(securityRolePolicyScope, role));
    });
});
