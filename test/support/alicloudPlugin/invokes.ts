// The data sources the program calls, answered from the Alibaba stand-in's
// state in the shapes of @pulumi/alicloud 3.108.0's result types (each result
// is type-checked against the SDK's interface). Each follows its
// terraform-provider-alicloud data source (cited per function): the filters it
// applies, its defaults, its validators (answered as invoke failures).

import * as zlib from "node:zlib";
import type { GetClusterCredentialResult } from "@pulumi/alicloud/cs/getClusterCredential";
import type { GetManagedKubernetesClustersResult } from "@pulumi/alicloud/cs/getManagedKubernetesClusters";
import type { GetServerlessKubernetesClustersResult } from "@pulumi/alicloud/cs/getServerlessKubernetesClusters";
import type { GetKeysResult } from "@pulumi/alicloud/kms/getKeys";
import type { GetRolesResult } from "@pulumi/alicloud/ram/getRoles";
import type { GetSwitchesResult } from "@pulumi/alicloud/vpc/getSwitches";
import * as yaml from "js-yaml";
import type { StandInKey } from "../alibabaStandIn/types";
import type { ClusterView } from "./control";
import { ProviderContext, ProviderError, servesRegion, visibleTags } from "./resources/common";
import { CheckFailure, isRegExp, oneOf, str, stringMap } from "./schema";
import type { Props } from "./wire";

export interface InvokeAnswer {
    result?: Props;
    failures: CheckFailure[];
}

type Invoke = (ctx: ProviderContext, args: Props) => Promise<InvokeAnswer>;

/** dataResourceIdHash (data_source_alicloud_common.go): the hash code (CRC-32) of the IDs, each followed by "-". */
function idHash(ids: string[]): string {
    return String(zlib.crc32(ids.map((id) => `${id}-`).join("")));
}

function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.map(str) : [];
}

/** Argument validators (the data source schema's ValidateFuncs) as invoke failures. */
function validate(args: Props, validators: Record<string, (value: unknown) => string | undefined>): CheckFailure[] {
    const failures: CheckFailure[] = [];
    for (const [name, check] of Object.entries(validators)) {
        const value = args[name];
        if (value === undefined || value === null || value === "") continue;
        const problem = check(value);
        if (problem) failures.push({ property: name, reason: problem });
    }
    return failures;
}

/** The optional arguments a result echoes back (Terraform keeps a data source's configuration in its state). */
function echo(args: Props, names: string[]): Props {
    return Object.fromEntries(names.filter((name) => args[name] !== undefined && args[name] !== null).map((name) => [name, args[name]]));
}

/** The ListKeys filters (KMS API reference ListKeys; the stand-in's KMS API takes the same). */
const KEY_FILTERS: Record<string, (key: StandInKey) => string> = {
    CreatorType: (key) => key.creatorType,
    KeyState: (key) => key.keyState,
    KeySpec: (key) => key.keySpec,
    KeyUsage: (key) => key.keyUsage,
    ProtectionLevel: (key) => key.protectionLevel,
};

/**
 * alicloud:kms/getKeys:getKeys, after data_source_alicloud_kms_keys.go: ListKeys (with `filters`), `ids` matched
 * against KeyId; with enable_details (default true) each key is described, and only then do description_regex
 * and status filter.
 */
const getKeys: Invoke = async (ctx, args) => {
    const failures = validate(args, {
        descriptionRegex: isRegExp("description_regex"),
        status: oneOf("status", ["Disabled", "Enabled", "PendingDeletion"]),
    });
    if (failures.length > 0) return { failures };
    let keys = (await servesRegion(ctx)) ? await ctx.control.keys() : [];
    if (str(args.filters)) {
        let filters: { Key?: string; Values?: string[] }[];
        try {
            filters = JSON.parse(str(args.filters));
        } catch {
            throw new ProviderError("ListKeys: InvalidParameter: The parameter Filters is not valid JSON.");
        }
        for (const filter of filters) {
            const get = filter.Key ? KEY_FILTERS[filter.Key] : undefined;
            if (!get) throw new ProviderError(`ListKeys: InvalidParameter: The filter key ${filter.Key} is not supported.`);
            keys = keys.filter((key) => (filter.Values ?? []).includes(get(key)));
        }
    }
    const ids = strings(args.ids);
    if (ids.length > 0) keys = keys.filter((key) => ids.includes(key.keyId));
    const enableDetails = args.enableDetails === undefined || args.enableDetails === null ? true : args.enableDetails === true;
    if (enableDetails) {
        const description = str(args.descriptionRegex) ? new RegExp(str(args.descriptionRegex)) : undefined;
        if (description) keys = keys.filter((key) => description.test(key.description));
        if (str(args.status)) keys = keys.filter((key) => key.keyState === args.status);
    }
    const result: GetKeysResult = {
        ...echo(args, ["descriptionRegex", "filters", "outputFile", "status"]),
        enableDetails,
        id: idHash(keys.map((key) => key.keyId)),
        ids: keys.map((key) => key.keyId),
        keys: keys.map((key) => {
            const detail = (value: string) => (enableDetails ? value : "");
            return {
                arn: key.arn,
                automaticRotation: detail(key.automaticRotation),
                creationDate: detail(key.creationDate),
                creator: detail(key.creator),
                deleteDate: detail(key.deleteDate ?? ""),
                description: detail(key.description),
                id: key.keyId,
                keyId: key.keyId,
                keySpec: detail(key.keySpec),
                keyUsage: detail(key.keyUsage),
                lastRotationDate: detail(key.lastRotationDate),
                materialExpireTime: "",
                nextRotationDate: detail(key.nextRotationDate),
                origin: detail(key.origin),
                primaryKeyVersion: detail(key.primaryKeyVersion),
                protectionLevel: detail(key.protectionLevel),
                rotationInterval: detail(key.rotationInterval),
                status: detail(key.keyState),
            };
        }),
    };
    return { result: result as unknown as Props, failures: [] };
};

/**
 * alicloud:ram/getRoles:getRoles, after data_source_alicloud_ram_roles.go: ListRoles (with `tags`), `ids` matched
 * against RoleId, name_regex against RoleName; with policy_name, only the roles ListEntitiesForPolicy names
 * (policy_type default System). RAM is global: the region does not matter.
 */
const getRoles: Invoke = async (ctx, args) => {
    const failures = validate(args, {
        nameRegex: isRegExp("name_regex"),
        policyType: oneOf("policy_type", ["System", "Custom"]),
        policyName: (value) => (str(value).length <= 128 ? undefined : `expected length of policy_name to be in the range (0 - 128), got ${str(value)}`),
    });
    if (failures.length > 0) return { failures };
    let roles = await ctx.control.roles();
    const wantedTags = stringMap(args.tags);
    roles = roles.filter((role) => Object.entries(wantedTags).every(([k, v]) => role.tags?.[k] === v));
    const ids = strings(args.ids);
    if (ids.length > 0) roles = roles.filter((role) => ids.includes(role.roleId ?? ""));
    const nameRegex = str(args.nameRegex) ? new RegExp(str(args.nameRegex)) : undefined;
    if (nameRegex) roles = roles.filter((role) => nameRegex.test(role.roleName));
    if (str(args.policyName)) {
        const policyType = str(args.policyType) || "System";
        const attached = (await ctx.control.allAttachments()).filter(
            (a) => a.principalType === "role" && a.policyName === args.policyName && a.policyType === policyType,
        );
        roles = roles.filter((role) => attached.some((a) => a.principalName.toLowerCase() === role.roleName.toLowerCase()));
    }
    const result: GetRolesResult = {
        ...echo(args, ["nameRegex", "outputFile", "policyName", "policyType", "tags"]),
        id: idHash(roles.map((role) => role.roleId ?? "")),
        ids: roles.map((role) => role.roleId ?? ""),
        names: roles.map((role) => role.roleName),
        roles: roles.map((role) => ({
            arn: role.roleArn,
            assumeRolePolicyDocument: role.assumeRolePolicyDocument ?? "",
            createDate: role.createDate ?? "",
            description: role.description ?? "",
            document: role.assumeRolePolicyDocument ?? "",
            id: role.roleId ?? "",
            name: role.roleName,
            tags: visibleTags(role.tags),
            updateDate: role.updateDate ?? "",
        })),
    };
    return { result: result as unknown as Props, failures: [] };
};

/**
 * alicloud:vpc/getSwitches:getSwitches, after data_source_alicloud_vswitches.go: DescribeVSwitches in the provider's
 * region (vpc_id, zone_id, vswitch_name, is_default, resource_group_id, route_table_id, tags as request filters),
 * then name_regex, ids (VSwitchId), cidr_block and status.
 */
const getSwitches: Invoke = async (ctx, args) => {
    const failures = validate(args, { nameRegex: isRegExp("name_regex"), status: oneOf("status", ["Available", "Pending"]) });
    if (failures.length > 0) return { failures };
    let vswitches = (await ctx.control.vswitches()).filter((v) => v.regionId === ctx.region);
    const equal = (name: string, get: (v: (typeof vswitches)[number]) => unknown) => {
        if (args[name] !== undefined && args[name] !== null && args[name] !== "") vswitches = vswitches.filter((v) => get(v) === args[name]);
    };
    equal("vpcId", (v) => v.vpcId);
    equal("zoneId", (v) => v.zoneId);
    equal("vswitchName", (v) => v.vswitchName);
    equal("isDefault", (v) => v.isDefault);
    equal("resourceGroupId", (v) => v.resourceGroupId);
    equal("routeTableId", (v) => v.routeTableId);
    equal("cidrBlock", (v) => v.cidrBlock);
    equal("status", (v) => v.status);
    const wantedTags = stringMap(args.tags);
    vswitches = vswitches.filter((v) => Object.entries(wantedTags).every(([k, value]) => v.tags[k] === value));
    const nameRegex = str(args.nameRegex) ? new RegExp(str(args.nameRegex)) : undefined;
    if (nameRegex) vswitches = vswitches.filter((v) => nameRegex.test(v.vswitchName));
    const ids = strings(args.ids);
    if (ids.length > 0) vswitches = vswitches.filter((v) => ids.includes(v.vswitchId));
    const result: GetSwitchesResult = {
        ...echo(args, [
            "cidrBlock",
            "dryRun",
            "isDefault",
            "nameRegex",
            "outputFile",
            "resourceGroupId",
            "routeTableId",
            "status",
            "tags",
            "vpcId",
            "vswitchName",
            "vswitchOwnerId",
            "zoneId",
        ]),
        id: idHash(vswitches.map((v) => v.vswitchId)),
        ids: vswitches.map((v) => v.vswitchId),
        names: vswitches.map((v) => v.vswitchName),
        vswitches: vswitches.map((v) => ({
            availableIpAddressCount: v.availableIpAddressCount,
            cidrBlock: v.cidrBlock,
            creationTime: v.creationTime,
            description: v.description,
            enableIpv6: v.ipv6CidrBlock !== "",
            id: v.vswitchId,
            ipv6CidrBlock: v.ipv6CidrBlock,
            isDefault: v.isDefault,
            name: v.vswitchName,
            resourceGroupId: v.resourceGroupId,
            routeTableId: v.routeTableId,
            status: v.status,
            tags: visibleTags(v.tags),
            vpcId: v.vpcId,
            vswitchId: v.vswitchId,
            vswitchName: v.vswitchName,
            zoneId: v.zoneId,
        })),
    };
    return { result: result as unknown as Props, failures: [] };
};

/** The clusters the list data sources start from: name_regex, then ids (ClusterId). */
function matching(clusters: ClusterView[], args: Props): ClusterView[] {
    const nameRegex = str(args.nameRegex) ? new RegExp(str(args.nameRegex)) : undefined;
    const ids = strings(args.ids);
    return clusters.filter((c) => (!nameRegex || nameRegex.test(c.name)) && (ids.length === 0 || ids.includes(c.clusterId)));
}

/** GetClusterEndpoints into `connections`: master_public_ip is the public endpoint without https:// and :6443. */
function connectionsOf(cluster: ClusterView): { apiServerInternet?: string; apiServerIntranet?: string; masterPublicIp?: string } {
    const out: { apiServerInternet?: string; apiServerIntranet?: string; masterPublicIp?: string } = {};
    if (cluster.connections.internet) {
        out.apiServerInternet = cluster.connections.internet;
        out.masterPublicIp = cluster.connections.internet.replace(/^https:\/\//, "").replace(/:6443$/, "");
    }
    if (cluster.connections.intranet) out.apiServerIntranet = cluster.connections.intranet;
    return out;
}

const CLUSTER_LIST_ARGS = ["kubeConfigFilePrefix", "nameRegex", "outputFile"];

/**
 * alicloud:cs/getServerlessKubernetesClusters:getServerlessKubernetesClusters, after
 * data_source_alicloud_cs_serverless_kubernetes_clusters.go: clusters of type Ask, or ManagedKubernetes with
 * profile Serverless (denverdino/aliyungo cs/serverless.go DescribeServerlessKubernetesClusters; no region filter
 * there), name_regex, ids; with enable_details (default false) the VPC, vSwitch, tags and endpoints.
 */
const getServerlessKubernetesClusters: Invoke = async (ctx, args) => {
    const failures = validate(args, { nameRegex: isRegExp("name_regex") });
    if (failures.length > 0) return { failures };
    const clusters = matching(
        (await ctx.control.clusters()).filter((c) => c.clusterType === "Ask" || (c.clusterType === "ManagedKubernetes" && c.profile === "Serverless")),
        args,
    );
    const enableDetails = args.enableDetails === true;
    const result: GetServerlessKubernetesClustersResult = {
        ...echo(args, CLUSTER_LIST_ARGS),
        enableDetails,
        id: idHash(clusters.map((c) => c.clusterId)),
        ids: clusters.map((c) => c.clusterId),
        names: clusters.map((c) => c.name),
        clusters: clusters.map((c) => {
            const connections = enableDetails ? connectionsOf(c) : {};
            return {
                connections: connections as GetServerlessKubernetesClustersResult["clusters"][number]["connections"],
                // The stand-in's clusters are deletion-protected (its DescribeClusterDetail says so).
                deletionProtection: enableDetails,
                endpointPublicAccessEnabled: enableDetails && connections.apiServerInternet !== undefined,
                id: c.clusterId,
                name: c.name,
                natGatewayId: "",
                securityGroupId: enableDetails ? (c.securityGroupId ?? "") : "",
                tags: enableDetails ? visibleTags(c.tags) : {},
                vpcId: enableDetails ? c.vpcId : "",
                vswitchId: enableDetails ? (c.vswitchIds?.[0] ?? "") : "",
            };
        }),
    };
    return { result: result as unknown as Props, failures: [] };
};

/**
 * alicloud:cs/getManagedKubernetesClusters:getManagedKubernetesClusters, after
 * data_source_alicloud_cs_managed_kubernetes_clusters.go: clusters of type ManagedKubernetes in the provider's
 * region, name_regex, ids; with enable_details (default false) the VPC, state and endpoints (service_domain
 * `*.<cluster>.<region>.alicontainer.com`).
 */
const getManagedKubernetesClusters: Invoke = async (ctx, args) => {
    const failures = validate(args, { nameRegex: isRegExp("name_regex") });
    if (failures.length > 0) return { failures };
    const clusters = matching(
        (await ctx.control.clusters()).filter((c) => c.clusterType === "ManagedKubernetes" && c.regionId === ctx.region),
        args,
    );
    const enableDetails = args.enableDetails === true;
    const result: GetManagedKubernetesClustersResult = {
        ...echo(args, CLUSTER_LIST_ARGS),
        enableDetails,
        id: idHash(clusters.map((c) => c.clusterId)),
        ids: clusters.map((c) => c.clusterId),
        names: clusters.map((c) => c.name),
        clusters: clusters.map((c) => ({
            availabilityZone: "",
            clusterNetworkType: "",
            connections: (enableDetails
                ? { ...connectionsOf(c), serviceDomain: `*.${c.clusterId}.${c.regionId}.alicontainer.com` }
                : {}) as GetManagedKubernetesClustersResult["clusters"][number]["connections"],
            id: c.clusterId,
            imageId: "",
            keyName: "",
            logConfigs: [],
            name: c.name,
            natGatewayId: "",
            podCidr: "",
            rrsaConfig: { enabled: false, ramOidcProviderArn: "", ramOidcProviderName: "", rrsaOidcIssuerUrl: "" },
            securityGroupId: enableDetails ? (c.securityGroupId ?? "") : "",
            serviceCidr: "",
            slbInternetEnabled: false,
            state: enableDetails ? c.state : "",
            vpcId: enableDetails ? c.vpcId : "",
            vswitchIds: [],
            workerAutoRenew: false,
            workerAutoRenewPeriod: 0,
            workerDataDiskCategory: "",
            workerDataDiskSize: 0,
            workerDiskCategory: "",
            workerDiskSize: 0,
            workerInstanceChargeType: "",
            workerInstanceTypes: [],
            workerNodes: [],
            workerNumbers: [],
            workerPeriod: 0,
            workerPeriodUnit: "",
        })),
    };
    return { result: result as unknown as Props, failures: [] };
};

/** flattenAlicloudCSCertificate (resource_alicloud_cs_kubernetes.go): the CA and client credential of the kubeconfig. */
function certificateAuthority(config: string): GetClusterCredentialResult["certificateAuthority"] {
    const parsed = (yaml.load(config) ?? {}) as {
        clusters?: { cluster?: Record<string, unknown> }[];
        users?: { user?: Record<string, unknown> }[];
    };
    const cluster = parsed.clusters?.[0]?.cluster ?? {};
    const user = parsed.users?.[0]?.user ?? {};
    return {
        clusterCert: str(cluster["certificate-authority-data"]),
        clientCert: str(user["client-certificate-data"]),
        clientKey: str(user["client-key-data"]),
    };
}

/**
 * alicloud:cs/getClusterCredential:getClusterCredential, after data_source_alicloud_cs_cluster_credential.go:
 * DescribeClusterDetail (the cluster must exist), then DescribeClusterUserKubeconfig with
 * temporary_duration_minutes. Its Sensitive attributes reach the program as plain values: the bridge marshals
 * invoke results without keeping secrets (pulumi-terraform-bridge pkg/tfbridge/provider.go, Invoke).
 */
const getClusterCredential: Invoke = async (ctx, args) => {
    const clusterId = str(args.clusterId);
    if (!clusterId) return { failures: [{ property: "clusterId", reason: "Missing required argument: the argument clusterId is required" }] };
    const cluster = await ctx.control.cluster(clusterId);
    if (!cluster) throw new ProviderError(`DescribeClusterDetail: ErrorClusterNotFound: cluster ${clusterId} not found`);
    const minutes = typeof args.temporaryDurationMinutes === "number" ? args.temporaryDurationMinutes : 0;
    const credential = await ctx.control.userKubeconfig(clusterId, minutes);
    const result: GetClusterCredentialResult = {
        ...echo(args, ["outputFile", "temporaryDurationMinutes"]),
        certificateAuthority: certificateAuthority(credential.config),
        clusterId,
        clusterName: cluster.name,
        expiration: credential.expiration,
        id: idHash([clusterId]),
        kubeConfig: credential.config,
    };
    return { result: result as unknown as Props, failures: [] };
};

export const invokes: Record<string, Invoke> = {
    "alicloud:kms/getKeys:getKeys": getKeys,
    "alicloud:ram/getRoles:getRoles": getRoles,
    "alicloud:vpc/getSwitches:getSwitches": getSwitches,
    "alicloud:cs/getServerlessKubernetesClusters:getServerlessKubernetesClusters": getServerlessKubernetesClusters,
    "alicloud:cs/getManagedKubernetesClusters:getManagedKubernetesClusters": getManagedKubernetesClusters,
    "alicloud:cs/getClusterCredential:getClusterCredential": getClusterCredential,
};
