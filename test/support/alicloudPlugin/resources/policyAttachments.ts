// alicloud:ram/rolePolicyAttachment:RolePolicyAttachment and
// alicloud:ram/userPolicyAttachment:UserPolicyAttachment, after terraform-provider-alicloud
// alicloud/resource_alicloud_ram_role_policy_attachment.go and
// alicloud/resource_alicloud_ram_user_policy_attachment.go. The attachment lives in the
// Alibaba stand-in's policyAttachments; its ID is `role|user:<policy_name>:<policy_type>:<name>`.
//
// ForceNew (a change replaces the attachment; neither resource has an Update), from their schemas:
//   RolePolicyAttachment: policy_name -> policyName, policy_type -> policyType, role_name -> roleName (all Required, ForceNew)
//   UserPolicyAttachment: policy_name -> policyName, policy_type -> policyType, user_name -> userName (all Required, ForceNew)

import { ControlApiError } from "../control";
import { oneOf, Schema, str } from "../schema";
import { ProviderError, ResourceType } from "./common";

function attachmentSchema(principal: "roleName" | "userName"): Schema {
    return {
        policyName: { kind: "string", input: "required", forceNew: true },
        policyType: { kind: "string", input: "required", forceNew: true, validate: oneOf("policy_type", ["System", "Custom"]) },
        [principal]: { kind: "string", input: "required", forceNew: true },
    };
}

function policyAttachment(principalType: "role" | "user"): ResourceType {
    const principal = principalType === "role" ? "roleName" : "userName";
    const entity = principalType === "role" ? "Role" : "User";
    return {
        token: `alicloud:ram/${principalType}PolicyAttachment:${entity}PolicyAttachment`,
        schema: attachmentSchema(principal),

        async create(ctx, inputs) {
            try {
                // AttachPolicyTo{Role,User}; the ID keeps the pre-1.9.6 form role:<policy_name>:<policy_type>:<role_name>.
                const attachment = await ctx.control.attach({
                    principalType,
                    principalName: str(inputs[principal]),
                    policyName: str(inputs.policyName),
                    policyType: str(inputs.policyType),
                });
                return {
                    id: attachment.id,
                    outputs: { policyName: attachment.policyName, policyType: attachment.policyType, [principal]: attachment.principalName },
                };
            } catch (e) {
                if (e instanceof ControlApiError) throw new ProviderError(`AttachPolicyTo${entity}: ${e.message}`);
                throw e;
            }
        },

        async read(ctx, id) {
            // DescribeRam{Role,User}PolicyAttachment: the ID's four parts; the principal's policies must include it.
            const parts = id.split(":");
            if (parts.length !== 4 || parts[0] !== principalType) {
                throw new ProviderError(`invalid Resource Id ${id}. Expected ${principalType}:<policy_name>:<policy_type>:<${principal}>`);
            }
            const [, policyName, policyType, name] = parts;
            const found = (await ctx.control.attachments(principalType, name)).find((a) => a.policyName === policyName && a.policyType === policyType);
            return found ? { policyName: found.policyName, policyType: found.policyType, [principal]: name } : undefined;
        },

        async update() {
            throw new ProviderError(`${entity}PolicyAttachment has no update: every input forces a replacement`);
        },

        async delete(ctx, _id, olds) {
            const id = `${principalType}:${str(olds.policyName)}:${str(olds.policyType)}:${str(olds[principal])}`;
            try {
                await ctx.control.detach(id);
            } catch (e) {
                // EntityNotExist.{Role,User}(.Policy): already gone.
                if (e instanceof ControlApiError && e.status === 404) return;
                throw e;
            }
        },
    };
}

export const rolePolicyAttachment = policyAttachment("role");
export const userPolicyAttachment = policyAttachment("user");
