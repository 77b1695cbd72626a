// alicloud:ram/role:Role, after terraform-provider-alicloud alicloud/resource_alicloud_ram_role.go
// (resourceAliCloudRamRole). The role is one of the Alibaba stand-in's roles (the
// same set STS AssumeRole serves); its ID is the role name.
//
// ForceNew (a change replaces the role), from the schema in resource_alicloud_ram_role.go:
//   role_name -> roleName (Optional, Computed, ForceNew)
//   name      -> name     (Optional, Computed, ForceNew; deprecated for role_name)

import { ControlApiError, RamRole } from "../control";
import { isJson, jsonEquivalent, oneOf, Schema, str, stringMap } from "../schema";
import type { Props } from "../wire";
import { nowIso, ProviderContext, ProviderError, ResourceType, visibleTags } from "./common";

const jsonSuppress = (a: unknown, b: unknown) => jsonEquivalent(a, b);

/** Schema of resource_alicloud_ram_role.go, field by field (pulumi names; validators are the schema's ValidateFuncs). */
export const roleSchema: Schema = {
    arn: { kind: "string", input: "none" },
    assumeRolePolicyDocument: {
        kind: "string",
        input: "optional",
        computed: true,
        validate: isJson("assume_role_policy_document"),
        suppress: jsonSuppress,
        conflictsWith: ["document", "version", "ramUsers", "services"],
    },
    createTime: { kind: "string", input: "none" },
    description: { kind: "string", input: "optional" },
    maxSessionDuration: { kind: "int", input: "optional", computed: true },
    roleId: { kind: "string", input: "none" },
    roleName: { kind: "string", input: "optional", computed: true, forceNew: true, conflictsWith: ["name"] },
    tags: { kind: "stringMap", input: "optional" },
    name: { kind: "string", input: "optional", computed: true, forceNew: true, deprecated: true, conflictsWith: ["roleName"] },
    document: {
        kind: "string",
        input: "optional",
        computed: true,
        deprecated: true,
        validate: isJson("document"),
        suppress: jsonSuppress,
        conflictsWith: ["assumeRolePolicyDocument", "version", "ramUsers", "services"],
    },
    version: {
        kind: "string",
        input: "optional",
        default: "1",
        deprecated: true,
        validate: oneOf("version", ["1"]),
        conflictsWith: ["assumeRolePolicyDocument", "document"],
    },
    ramUsers: { kind: "stringSet", input: "optional", computed: true, deprecated: true, conflictsWith: ["assumeRolePolicyDocument", "document"] },
    services: { kind: "stringSet", input: "optional", computed: true, deprecated: true, conflictsWith: ["assumeRolePolicyDocument", "document"] },
    force: { kind: "bool", input: "optional" },
};

function strings(value: unknown): string[] {
    if (Array.isArray(value)) return value.map(str);
    return typeof value === "string" ? [value] : [];
}

/** AssembleRolePolicyDocument (service_alicloud_ram_v2.go): one sts:AssumeRole statement for the RAM users and services. */
function assembleDocument(news: Props): string {
    return JSON.stringify({
        Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { RAM: strings(news.ramUsers), Service: strings(news.services) } }],
        Version: str(news.version) || "1",
    });
}

/** The trust policy the inputs give: assume_role_policy_document, else document, else ram_users/services (Create). */
function trustPolicy(news: Props): string | undefined {
    if (str(news.assumeRolePolicyDocument)) return str(news.assumeRolePolicyDocument);
    if (str(news.document)) return str(news.document);
    if (strings(news.ramUsers).length > 0 || strings(news.services).length > 0) return assembleDocument(news);
    return undefined;
}

/** resourceAliCloudRamRoleRead: the document's Version and its first statement's principals fill version, ram_users, services. */
function roleOutputs(role: RamRole, inputs: Props): Props {
    const document = role.assumeRolePolicyDocument ?? "";
    let version: unknown;
    let ramUsers: string[] = [];
    let services: string[] = [];
    try {
        const parsed = JSON.parse(document) as { Version?: unknown; Statement?: { Principal?: { RAM?: unknown; Service?: unknown } }[] };
        version = parsed.Version;
        const principal = parsed.Statement?.[0]?.Principal;
        ramUsers = strings(principal?.RAM);
        services = strings(principal?.Service);
    } catch {
        // Not JSON: nothing to read from it.
    }
    return {
        arn: role.roleArn,
        assumeRolePolicyDocument: document,
        createTime: role.createDate ?? "",
        description: role.description ?? "",
        maxSessionDuration: role.maxSessionDuration ?? 3600,
        roleId: role.roleId ?? "",
        roleName: role.roleName,
        name: role.roleName,
        document,
        ...(version !== undefined ? { version: str(version) } : {}),
        ramUsers,
        services,
        tags: visibleTags(role.tags),
        // Not read back: Terraform keeps the configured value in state.
        ...(inputs.force !== undefined ? { force: inputs.force } : {}),
    };
}

async function readRole(ctx: ProviderContext, name: string): Promise<RamRole | undefined> {
    return ctx.control.role(name);
}

export const ramRole: ResourceType = {
    token: "alicloud:ram/role:Role",
    schema: roleSchema,

    async create(ctx, inputs) {
        const roleName = str(inputs.roleName) || str(inputs.name);
        if (!roleName) throw new ProviderError("CreateRole: MissingParameter: RoleName is mandatory for this action.");
        const document = trustPolicy(inputs);
        if (document === undefined) {
            throw new ProviderError("At least one of 'assume_role_policy_document', 'document', 'ram_users' or 'services' must be set.");
        }
        const now = nowIso();
        let role: RamRole;
        try {
            role = await ctx.control.createRole({
                roleName,
                description: str(inputs.description),
                assumeRolePolicyDocument: document,
                // RAM CreateRole: MaxSessionDuration defaults to 3600 seconds.
                maxSessionDuration: typeof inputs.maxSessionDuration === "number" ? inputs.maxSessionDuration : 3600,
                tags: stringMap(inputs.tags),
                createDate: now,
                updateDate: now,
            });
        } catch (e) {
            if (e instanceof ControlApiError) throw new ProviderError(`CreateRole: ${e.message}`);
            throw e;
        }
        return { id: role.roleName, outputs: roleOutputs(role, inputs) };
    },

    async read(ctx, id, prior) {
        const role = await readRole(ctx, id);
        return role ? roleOutputs(role, prior) : undefined;
    },

    async update(ctx, id, _olds, news, diff) {
        const changed = (name: string) => diff.changed.includes(name);
        const patch: Record<string, unknown> = {};
        // UpdateRole: NewDescription, NewMaxSessionDuration, NewAssumeRolePolicyDocument.
        if (changed("description")) patch.description = str(news.description);
        if (changed("maxSessionDuration") && typeof news.maxSessionDuration === "number") patch.maxSessionDuration = news.maxSessionDuration;
        if (changed("assumeRolePolicyDocument")) patch.assumeRolePolicyDocument = str(news.assumeRolePolicyDocument);
        if (changed("document")) patch.assumeRolePolicyDocument = str(news.document);
        if (changed("ramUsers") || changed("services") || changed("version")) patch.assumeRolePolicyDocument = assembleDocument(news);
        if (changed("tags")) patch.tags = stringMap(news.tags);
        if (Object.keys(patch).length > 0) patch.updateDate = nowIso();
        const role = await ctx.control.patchRole(id, patch);
        return roleOutputs(role, news);
    },

    async delete(ctx, id, olds) {
        // resourceAliCloudRamRoleDelete: with `force`, detach every policy first (ListPoliciesForRole, DetachPolicyFromRole).
        if (olds.force === true) {
            for (const attachment of await ctx.control.attachments("role", id)) {
                try {
                    await ctx.control.detach(attachment.id);
                } catch (e) {
                    if (!(e instanceof ControlApiError && e.status === 404)) throw e;
                }
            }
        }
        try {
            await ctx.control.deleteRole(id);
        } catch (e) {
            // EntityNotExist.Role: already gone.
            if (e instanceof ControlApiError && e.code === "EntityNotExist.Role") return;
            // The provider retries DeleteConflict.Role.Policy until the delete timeout (5 minutes); the stand-in fails at once.
            if (e instanceof ControlApiError) throw new ProviderError(`DeleteRole: ${e.message}`);
            throw e;
        }
    },
};
