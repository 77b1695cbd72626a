// alicloud:kms/instance:Instance, after terraform-provider-alicloud alicloud/resource_alicloud_kms_instance.go
// (resourceAliCloudKmsInstance). The instance lives in the Alibaba stand-in's kmsInstances.
//
// ForceNew (a change replaces the instance), from the schema in resource_alicloud_kms_instance.go:
//   payment_type -> paymentType (Optional, Computed, ForceNew)
//   vpc_id       -> vpcId       (Required, ForceNew)
//   vswitch_ids  -> vswitchIds  (Required, ForceNew, TypeSet: order does not matter)
//   zone_ids     -> zoneIds     (Required, ForceNew, TypeSet: order does not matter)

import * as crypto from "node:crypto";
import type { StandInKmsInstance } from "../../alibabaStandIn/types";
import { between, Field, oneOf, Schema, str, stringMap } from "../schema";
import type { Props } from "../wire";
import { nowIso, ProviderContext, ProviderError, regionCode, requireRegion, ResourceType, servesRegion, visibleTags } from "./common";

/** The schema's DiffSuppressFunc on the Subscription-only quantities: no diff while payment_type is PayAsYouGo. */
const payAsYouGo: Field["suppress"] = (_old, _new, { olds, news }) => (news.paymentType ?? olds.paymentType) === "PayAsYouGo";

/** Schema of resource_alicloud_kms_instance.go, field by field (pulumi names; validators are the schema's ValidateFuncs). */
export const instanceSchema: Schema = {
    bindVpcs: { kind: "objectList", input: "optional" },
    caCertificateChainPem: { kind: "string", input: "none" },
    createTime: { kind: "string", input: "none" },
    deletionProtection: { kind: "bool", input: "optional" },
    endDate: { kind: "string", input: "none" },
    forceDeleteWithoutBackup: { kind: "string", input: "optional", validate: oneOf("force_delete_without_backup", ["true", "false"]) },
    instanceName: { kind: "string", input: "optional", computed: true },
    keyNum: { kind: "int", input: "optional", validate: between("key_num", 100, 100000), suppress: payAsYouGo },
    log: { kind: "string", input: "optional", computed: true, validate: oneOf("log", ["0", "1"]) },
    logStorage: { kind: "int", input: "optional", computed: true, validate: between("log_storage", 0, 500000) },
    paymentType: { kind: "string", input: "optional", computed: true, forceNew: true, validate: oneOf("payment_type", ["Subscription", "PayAsYouGo"]) },
    period: { kind: "int", input: "optional", default: 1, validate: oneOf("period", [0, 1, 2, 3, 6, 12, 24, 36]), suppress: payAsYouGo },
    productVersion: { kind: "string", input: "optional", computed: true, validate: oneOf("product_version", ["3", "5"]) },
    renewPeriod: { kind: "int", input: "optional", validate: between("renew_period", 0, 36), suppress: payAsYouGo },
    renewStatus: { kind: "string", input: "optional", computed: true, validate: oneOf("renew_status", ["AutoRenewal", "ManualRenewal"]), suppress: payAsYouGo },
    renewalPeriodUnit: { kind: "string", input: "optional", validate: oneOf("renewal_period_unit", ["M", "Y"]) },
    secretNum: { kind: "int", input: "optional", validate: between("secret_num", 0, 100000), suppress: payAsYouGo },
    spec: { kind: "int", input: "optional", validate: oneOf("spec", [0, 1000, 2000, 4000, 200]), suppress: payAsYouGo },
    status: { kind: "string", input: "none" },
    tags: { kind: "stringMap", input: "optional" },
    vpcId: { kind: "string", input: "required", forceNew: true },
    vpcNum: { kind: "int", input: "optional", validate: between("vpc_num", 0, 10000), suppress: payAsYouGo },
    vswitchIds: { kind: "stringSet", input: "required", forceNew: true },
    zoneIds: { kind: "stringSet", input: "required", forceNew: true },
};

function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.map(str) : [];
}

function num(value: unknown): number {
    return typeof value === "number" ? value : Number(value ?? 0) || 0;
}

function instanceOutputs(instance: StandInKmsInstance, inputs: Props): Props {
    return {
        bindVpcs: instance.bindVpcs,
        caCertificateChainPem: instance.caCertificateChainPem,
        createTime: instance.createTime,
        deletionProtection: instance.deletionProtection,
        endDate: instance.endDate,
        instanceName: instance.instanceName,
        keyNum: instance.keyNum,
        log: instance.log,
        logStorage: instance.logStorage,
        paymentType: instance.paymentType,
        productVersion: instance.productVersion,
        renewPeriod: instance.renewPeriod,
        renewStatus: instance.renewStatus,
        secretNum: instance.secretNum,
        spec: instance.spec,
        status: instance.status,
        tags: visibleTags(instance.tags),
        vpcId: instance.vpcId,
        vpcNum: instance.vpcNum,
        vswitchIds: instance.vswitchIds,
        zoneIds: instance.zoneIds,
        // Not read back (resourceAliCloudKmsInstanceRead): Terraform keeps the configured values in state.
        ...(inputs.period !== undefined ? { period: inputs.period } : {}),
        ...(inputs.forceDeleteWithoutBackup !== undefined ? { forceDeleteWithoutBackup: inputs.forceDeleteWithoutBackup } : {}),
        ...(inputs.renewalPeriodUnit !== undefined ? { renewalPeriodUnit: inputs.renewalPeriodUnit } : {}),
    };
}

/**
 * ConnectKmsInstance attaches the instance to the VPC through the given vSwitches, each in the VPC and in one of the
 * given zones (KMS API reference ConnectKmsInstance,
 * https://alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-connectkmsinstance).
 */
async function checkNetwork(ctx: ProviderContext, vpcId: string, vswitchIds: string[], zoneIds: string[]): Promise<void> {
    const known = new Map((await ctx.control.vswitches()).filter((v) => v.regionId === ctx.region).map((v) => [v.vswitchId, v]));
    const problems: string[] = [];
    for (const vswitchId of vswitchIds) {
        const vswitch = known.get(vswitchId);
        if (!vswitch) problems.push(`vSwitch ${vswitchId} does not exist in region ${ctx.region}`);
        else if (vswitch.vpcId !== vpcId) problems.push(`vSwitch ${vswitchId} is in VPC ${vswitch.vpcId}, not ${vpcId}`);
        else if (!zoneIds.includes(vswitch.zoneId))
            problems.push(`vSwitch ${vswitchId} is in zone ${vswitch.zoneId}, which is not in ZoneIds ${zoneIds.join(",")}`);
    }
    if (problems.length > 0) throw new ProviderError(`ConnectKmsInstance: ${problems.join("; ")}`);
}

export const kmsInstance: ResourceType = {
    token: "alicloud:kms/instance:Instance",
    schema: instanceSchema,

    async create(ctx, inputs) {
        await requireRegion(ctx, "CreateInstance");
        const vpcId = str(inputs.vpcId);
        const vswitchIds = strings(inputs.vswitchIds);
        const zoneIds = strings(inputs.zoneIds);
        await checkNetwork(ctx, vpcId, vswitchIds, zoneIds);
        // resourceAliCloudKmsInstanceCreate: SubscriptionType is Subscription unless payment_type says otherwise.
        const paymentType = str(inputs.paymentType) || "Subscription";
        const subscription = paymentType === "Subscription";
        const period = inputs.period === undefined ? 1 : num(inputs.period);
        const created = nowIso();
        const end = new Date(Date.parse(created));
        end.setUTCMonth(end.getUTCMonth() + period);
        const instanceId = `kst-${regionCode(ctx.region)}${crypto.randomBytes(12).toString("hex").slice(0, 19)}`;
        const instance = await ctx.control.createInstance({
            instanceId,
            instanceName: str(inputs.instanceName) || instanceId,
            regionId: ctx.region,
            vpcId,
            vswitchIds,
            zoneIds,
            paymentType,
            productVersion: str(inputs.productVersion) || "3",
            spec: num(inputs.spec),
            keyNum: num(inputs.keyNum),
            secretNum: num(inputs.secretNum),
            vpcNum: num(inputs.vpcNum),
            status: "Connected",
            createTime: created,
            endDate: subscription ? nowIso(end) : "",
            // Create ends in Update: SetDeletionProtection when deletion_protection is set.
            deletionProtection: inputs.deletionProtection === true,
            tags: stringMap(inputs.tags),
            log: str(inputs.log) || "0",
            logStorage: num(inputs.logStorage),
            renewStatus: subscription ? str(inputs.renewStatus) || "ManualRenewal" : "",
            renewPeriod: num(inputs.renewPeriod),
            bindVpcs: Array.isArray(inputs.bindVpcs) ? (inputs.bindVpcs as StandInKmsInstance["bindVpcs"]) : [],
        });
        return { id: instance.instanceId, outputs: instanceOutputs(instance, inputs) };
    },

    async read(ctx, id, prior) {
        if (!(await servesRegion(ctx))) return undefined;
        const instance = await ctx.control.instance(id);
        return instance ? instanceOutputs(instance, prior) : undefined;
    },

    async update(ctx, id, olds, news, diff) {
        const changed = (name: string) => diff.changed.includes(name);
        const patch: Partial<StandInKmsInstance> = {};
        // ModifyInstance (Subscription quantities), UpdateKmsInstanceBindVpc, UpdateKmsInstance (name), SetRenewal,
        // SetDeletionProtection and the tags, each when its inputs changed.
        for (const name of ["spec", "keyNum", "secretNum", "vpcNum", "logStorage", "renewPeriod"] as const) if (changed(name)) patch[name] = num(news[name]);
        for (const name of ["productVersion", "log", "renewStatus"] as const) if (changed(name)) patch[name] = str(news[name]);
        if (changed("instanceName")) patch.instanceName = str(news.instanceName) || id;
        if (changed("bindVpcs")) patch.bindVpcs = Array.isArray(news.bindVpcs) ? (news.bindVpcs as StandInKmsInstance["bindVpcs"]) : [];
        if (changed("deletionProtection")) patch.deletionProtection = news.deletionProtection === true;
        if (changed("tags")) patch.tags = stringMap(news.tags);
        const instance = await ctx.control.patchInstance(id, patch);
        return instanceOutputs(instance, { ...olds, ...news });
    },

    async delete(ctx, id) {
        // RefundInstance (Subscription) or ReleaseKmsInstance (PayAsYouGo); a missing instance is deleted.
        if (!(await servesRegion(ctx))) return;
        if (await ctx.control.instance(id)) await ctx.control.deleteInstance(id);
    },
};
