// What the program asks the account BEFORE it registers anything: whether the
// security role is this stack's to manage, and what adopting a key would change.
// Both answer through data sources, so the offline plan's mocks can answer too.
import * as pulumi from "@pulumi/pulumi";
import * as alicloud from "@pulumi/alicloud";
import { ConfigError, DEFAULT_ROTATION_INTERVAL, KEY_SPEC, KEY_USAGE, ROLE_MANAGED_BY_TAG, SECURITY_ROLE_NAME, SECURITY_ROLE_POLICY } from "../config";

/**
 * What the component applies to an adopted key. `pulumi import` is followed by an update to these values
 * (Pulumi CLI 3.174+, pulumi/pulumi PR 19339); keySpec and keyUsage force a replacement, which `protect` blocks,
 * so a key that differs there is refused instead (reviewAdoptedKey).
 */
export const ADOPTED_KEY_SETTINGS = {
    keySpec: KEY_SPEC,
    keyUsage: KEY_USAGE,
    automaticRotation: "Enabled",
    deletionProtection: "Enabled",
    status: "Enabled",
} as const;
const REPLACING_KEY_SETTINGS = ["keySpec", "keyUsage"] as const;

/** Tag on the security role this stack creates: "auto" keeps managing a role that carries this stack's name. */

/** An adopted key's settings that do not matter for safety: taken as they are (ignoreChanges), never updated. */
export const ADOPTED_KEY_KEPT_AS_IS = [
    "description",
    "tags",
    "dkmsInstanceId",
    "pendingWindowInDays",
    "deletionProtectionDescription",
    "protectionLevel",
    "origin",
    "policy",
];

export const SECURITY_ROLE_DESCRIPTION = "Container Service uses this role to call KMS for Secret encryption at rest.";

/** Alibaba Cloud tag values are at most 128 characters (RAM TagRole / Tag API reference). */
const MAX_TAG_VALUE = 128;

/** organization/project/stack: unique across Pulumi organisations sharing one Alibaba account. */
export function managingStackName(): string {
    const name = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
    if (name.length <= MAX_TAG_VALUE) return name;
    // Too long for a tag value: keep a readable prefix and make it unique with a hash of the whole.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- only for the rare long name
    const digest = (require("node:crypto") as typeof import("node:crypto")).createHash("sha256").update(name).digest("hex").slice(0, 16);
    return `${name.slice(0, MAX_TAG_VALUE - 17)}~${digest}`;
}

/** How the stack treats the account-wide security role (resolveSecurityRoleMode). */
export interface SecurityRoleDecision {
    mode: "create" | "adopt";
    warnings: string[];
    /** With "create": the role (and, when policyAttached, its policy) already exists with this stack's tag. */
    inAccount?: { policyAttached: boolean };
}

/**
 * Turns the stack's securityRole setting into "create" or "adopt". "auto" looks the
 * account-wide role up: create it when it is missing, keep managing it when it carries
 * this stack's tag (this stack created it: a second `up` must not drop it), adopt it
 * otherwise. An untagged role this project made (before the tag existed) gets a warning
 * with the one-time migration, since the lookup cannot tell which stack made it.
 *
 * A role with this stack's tag may be missing from the stack's state: a destroy drops it (it is
 * kept in the account, retainOnDelete) and leaves the tag. `inAccount` then says the role, and
 * whether its policy is attached, are already there, so the component imports them; while they
 * are in state the import ID matches and the engine treats them as usual.
 */
export async function resolveSecurityRoleMode(mode: "auto" | "create" | "adopt"): Promise<SecurityRoleDecision> {
    if (mode !== "auto") return { mode, warnings: [] };
    const nameRegex = `^${SECURITY_ROLE_NAME}$`;
    const found = await alicloud.ram.getRoles({ nameRegex });
    const role = (found.roles ?? []).find((r) => r.name === SECURITY_ROLE_NAME);
    if (!role) return { mode: "create", warnings: [] };
    if (role.tags === undefined || role.tags === null) {
        throw new ConfigError([
            `${pulumi.getProject()}:securityRole: auto cannot tell whether this stack manages ${SECURITY_ROLE_NAME}: the role lookup reported no tags ` +
                "(an alicloud provider older than the one this project pins?). Set securityRole to create (this stack created the role) or adopt (it did not).",
        ]);
    }
    if (role.tags[ROLE_MANAGED_BY_TAG] === managingStackName()) {
        const withPolicy = await alicloud.ram.getRoles({ nameRegex, policyName: SECURITY_ROLE_POLICY, policyType: "System" });
        const policyAttached = (withPolicy.roles ?? []).some((r) => r.name === SECURITY_ROLE_NAME);
        return { mode: "create", warnings: [], inAccount: { policyAttached } };
    }
    const warnings: string[] = [];
    if (role.tags[ROLE_MANAGED_BY_TAG] === undefined && role.description === SECURITY_ROLE_DESCRIPTION) {
        warnings.push(
            `${SECURITY_ROLE_NAME} exists without the ${ROLE_MANAGED_BY_TAG} tag, so securityRole: auto adopts it (leaves it alone). ` +
                "If THIS stack created it with an earlier version of this project, run one `pulumi up` with securityRole: create " +
                "(that tags it; nothing is recreated), then return to auto; otherwise nothing to do.",
        );
    }
    return { mode: "adopt", warnings };
}

/** What adopting a key means: the lines to show before the import changes it, and the rotation interval to give it. */
export interface AdoptedKeyReview {
    changes: string[];
    /** adoptedKeyRotationInterval: the key's own, else DEFAULT_ROTATION_INTERVAL. */
    rotationInterval: string;
}

/**
 * Looks an adopted key up (before anything is registered) and compares it with what the
 * component applies. Returns one line per setting the import-then-update would change;
 * throws a ConfigError for a key that is missing or whose spec or usage differs.
 */
export async function reviewAdoptedKey(kmsKeyId: string, project: string): Promise<AdoptedKeyReview> {
    const found = await alicloud.kms.getKeys({ ids: [kmsKeyId], enableDetails: true });
    const key = (found.keys ?? []).find((k) => k.id === kmsKeyId || k.keyId === kmsKeyId);
    const where = `${project}:kmsKeyId`;
    if (!key) {
        throw new ConfigError([`${where}: key ${kmsKeyId} was not found in the stack's region; check the ID (KMS console > Keys) and alicloud:region`]);
    }
    const live: Record<string, string | undefined> = {
        keySpec: key.keySpec || undefined,
        keyUsage: key.keyUsage || undefined,
        automaticRotation: key.automaticRotation || undefined,
        status: key.status || undefined,
        // Not reported by the key lookup: the update sets it whatever it is.
        deletionProtection: undefined,
    };
    // A value the lookup does not report is unknown, not wrong: it is named below, never refused.
    const refused = REPLACING_KEY_SETTINGS.filter((name) => live[name] !== undefined && live[name] !== ADOPTED_KEY_SETTINGS[name]);
    if (refused.length > 0) {
        throw new ConfigError(
            refused.map(
                (name) =>
                    `${where}: key ${kmsKeyId} has ${name} ${live[name] || "(unknown)"}, Secret encryption needs ${ADOPTED_KEY_SETTINGS[name]}; ` +
                    "adopting it would need a replacement, which protect blocks. Use an Aliyun_AES_256 ENCRYPT/DECRYPT key, or let the stack create one (remove kmsKeyId).",
            ),
        );
    }
    const changes: string[] = [];
    for (const [name, wanted] of Object.entries(ADOPTED_KEY_SETTINGS)) {
        if (live[name] === wanted) continue;
        const replacing = (REPLACING_KEY_SETTINGS as readonly string[]).includes(name);
        changes.push(
            live[name] === undefined
                ? `adopting key ${kmsKeyId}: its ${name} is not visible to the lookup; the import is ${replacing ? "refused by protect unless it is" : "followed by an update that sets it to"} ${wanted}`
                : `adopting key ${kmsKeyId}: the import is followed by an update that sets ${name} from ${live[name] || "(empty)"} to ${wanted}`,
        );
    }
    if (!key.rotationInterval) {
        changes.push(
            `adopting key ${kmsKeyId}: it has no rotationInterval; the update sets ${DEFAULT_ROTATION_INTERVAL} (365 days), which turning rotation on needs`,
        );
    }
    return { changes, rotationInterval: adoptedKeyRotationInterval(key.rotationInterval) };
}

/**
 * The rotation interval the update gives an adopted key: its own when it has one (nothing changes there), else the
 * default, because KMS refuses to turn automatic rotation on without one (UpdateRotationPolicy, docs/platform-facts.md).
 */
export function adoptedKeyRotationInterval(own: string | undefined): string {
    return own ? own : DEFAULT_ROTATION_INTERVAL;
}

/**
 * A KMS instance pairs vSwitches with zones by position (1:2 or 2:2, terraform-provider-alicloud
 * resource_alicloud_kms_instance.go): vswitchIds[i] must sit in zoneIds[i]. The vSwitches' zones
 * come from a lookup; a vSwitch whose zone the lookup does not report (the offline plan) is not checked.
 */
export async function reviewInstanceZones(instance: { vswitchIds: string[]; zoneIds: string[] }, project: string): Promise<void> {
    const found = await alicloud.vpc.getSwitches({ ids: instance.vswitchIds });
    const problems: string[] = [];
    instance.vswitchIds.forEach((vswitchId, position) => {
        const vswitch = (found.vswitches ?? []).find((candidate) => candidate.id === vswitchId || candidate.vswitchId === vswitchId);
        if (!vswitch) {
            problems.push(
                `${project}:kmsInstance.vswitchIds: vSwitch ${vswitchId} was not found in the stack's region; check the ID (VPC console > vSwitches)`,
            );
        } else if (vswitch.zoneId && vswitch.zoneId !== instance.zoneIds[position]) {
            problems.push(
                `${project}:kmsInstance.vswitchIds: vSwitch ${vswitchId} is in zone ${vswitch.zoneId}, but it is paired with zoneIds[${position}] = ${instance.zoneIds[position]}; ` +
                    "list the vSwitches in zoneIds' order (one per zone), or use a vSwitch in that zone",
            );
        }
    });
    if (problems.length > 0) throw new ConfigError(problems);
}

/** How the stack reaches the cluster's API server: which endpoint, its URL and the cluster CA (no credential). */
export interface ClusterAccess {
    endpoint: "private" | "public";
    server: string;
    certificateAuthorityData: pulumi.Output<string>;
}

/**
 * Resolves clusterEndpoint against the endpoints the cluster actually has, from the
 * cluster data sources' `connections` (ASK first, then ACK): auto takes the public one
 * when there is one, else the VPC-internal one. Asking for an endpoint the cluster does
 * not have is refused, naming the other choice.
 */
export async function resolveClusterAccess(
    mode: "auto" | "private" | "public",
    clusterId: string,
    project: string,
    /** Checks the chosen endpoint can be reached from here (the RBAC identity's resources need it first); undefined: not checked. */
    reachable?: (server: string) => Promise<string | undefined>,
): Promise<ClusterAccess> {
    const lookup = { ids: [clusterId], enableDetails: true };
    const serverless = await alicloud.cs.getServerlessKubernetesClusters(lookup);
    const managed = serverless.clusters?.length ? undefined : await alicloud.cs.getManagedKubernetesClusters(lookup);
    const connections = (serverless.clusters?.[0] ?? managed?.clusters?.[0])?.connections;
    if (!connections) {
        throw new ConfigError([`${project}:clusterId: cluster ${clusterId} was not found in the stack's region; check clusterId and alicloud:region`]);
    }
    const urls = { public: connections.apiServerInternet || undefined, private: connections.apiServerIntranet || undefined };
    const endpoint = mode === "auto" ? (urls.public ? "public" : "private") : mode;
    const server = urls[endpoint];
    if (!server) {
        const other = endpoint === "public" ? "private" : "public";
        throw new ConfigError([
            `${project}:clusterEndpoint: cluster ${clusterId} has no ${endpoint} API endpoint` +
                (urls[other]
                    ? `; set clusterEndpoint: ${other}${other === "private" ? " and run `pulumi up` where the VPC is reachable" : ""}`
                    : "; it reports no API endpoint at all"),
        ]);
    }
    const unreachable = reachable ? await reachable(normalizeServer(server)) : undefined;
    if (unreachable) {
        const other = endpoint === "public" ? "private" : "public";
        throw new ConfigError([
            `${project}:clusterEndpoint: the cluster's ${endpoint} API endpoint ${normalizeServer(server)} cannot be reached from here (${unreachable}); ` +
                (endpoint === "private"
                    ? `run \`pulumi up\` where the cluster's VPC is reachable${urls.public ? ", or set clusterEndpoint: public" : ""}`
                    : `check the network path to it${urls.private ? `, or set clusterEndpoint: ${other} and run \`pulumi up\` inside the VPC` : ""}`),
        ]);
    }
    // Only the cluster's CA is taken from the credential lookup: nothing of it that is a credential reaches state.
    const credential = alicloud.cs.getClusterCredentialOutput({ clusterId, temporaryDurationMinutes: 15 });
    return { endpoint, server: normalizeServer(server), certificateAuthorityData: credential.certificateAuthority.apply((ca) => ca.clusterCert) };
}

/** The connections report "https://host:6443" or a bare "host:6443". */
function normalizeServer(server: string): string {
    return /^https?:\/\//.test(server) ? server : `https://${server}`;
}
