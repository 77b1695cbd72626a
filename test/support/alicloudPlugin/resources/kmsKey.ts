// alicloud:kms/key:Key, after terraform-provider-alicloud alicloud/resource_alicloud_kms_key.go
// (resourceAliCloudKmsKey). The key lives in the Alibaba stand-in's keys, so the
// stand-in's KMS DescribeKey / ListKeys / ListResourceTags see it as created here.
//
// ForceNew (a change replaces the key), from the schema in resource_alicloud_kms_key.go:
//   dkms_instance_id  -> dkmsInstanceId   (Optional, Computed, ForceNew)
//   key_spec          -> keySpec          (Optional, Computed, ForceNew)
//   key_usage         -> keyUsage         (Optional, Computed, ForceNew)
//   origin            -> origin           (Optional, Computed, ForceNew)
//   protection_level  -> protectionLevel  (Optional, ForceNew, Default "SOFTWARE")

import * as crypto from "node:crypto";
import type { StandInKey } from "../../alibabaStandIn/types";
import { between, jsonEquivalent, oneOf, Schema, str, stringMap } from "../schema";
import type { Props } from "../wire";
import { nowIso, ProviderContext, ProviderError, regionCode, requireRegion, ResourceType, servesRegion, visibleTags } from "./common";

const ENABLED_DISABLED = ["Enabled", "Disabled"];

/** Schema of resource_alicloud_kms_key.go, field by field (pulumi names; validators are the schema's ValidateFuncs). */
export const keySchema: Schema = {
    automaticRotation: { kind: "string", input: "optional", computed: true, validate: oneOf("automatic_rotation", ENABLED_DISABLED) },
    deletionProtection: { kind: "string", input: "optional", computed: true, validate: oneOf("deletion_protection", ENABLED_DISABLED) },
    deletionProtectionDescription: { kind: "string", input: "optional" },
    description: { kind: "string", input: "optional" },
    dkmsInstanceId: { kind: "string", input: "optional", computed: true, forceNew: true },
    keySpec: {
        kind: "string",
        input: "optional",
        computed: true,
        forceNew: true,
        validate: oneOf("key_spec", [
            "Aliyun_AES_256",
            "Aliyun_AES_128",
            "Aliyun_AES_192",
            "Aliyun_SM4",
            "RSA_2048",
            "RSA_3072",
            "EC_P256",
            "EC_SM2",
            "EC_P256K",
        ]),
    },
    keyUsage: { kind: "string", input: "optional", computed: true, forceNew: true, validate: oneOf("key_usage", ["ENCRYPT/DECRYPT", "SIGN/VERIFY"]) },
    origin: { kind: "string", input: "optional", computed: true, forceNew: true, validate: oneOf("origin", ["Aliyun_KMS", "EXTERNAL"]) },
    pendingWindowInDays: { kind: "int", input: "optional", validate: between("pending_window_in_days", 7, 366), conflictsWith: ["deletionWindowInDays"] },
    // DiffSuppressFunc: compareJsonTemplateAreEquivalent.
    policy: { kind: "string", input: "optional", computed: true, suppress: (a, b) => jsonEquivalent(a, b) },
    protectionLevel: { kind: "string", input: "optional", forceNew: true, default: "SOFTWARE", validate: oneOf("protection_level", ["SOFTWARE", "HSM"]) },
    rotationInterval: { kind: "string", input: "optional" },
    status: {
        kind: "string",
        input: "optional",
        computed: true,
        validate: oneOf("status", ["Enabled", "Disabled", "PendingDeletion"]),
        conflictsWith: ["keyState"],
    },
    tags: { kind: "stringMap", input: "optional" },
    arn: { kind: "string", input: "none" },
    primaryKeyVersion: { kind: "string", input: "none" },
    lastRotationDate: { kind: "string", input: "none" },
    nextRotationDate: { kind: "string", input: "none" },
    materialExpireTime: { kind: "string", input: "none" },
    creator: { kind: "string", input: "none" },
    creationDate: { kind: "string", input: "none" },
    deleteDate: { kind: "string", input: "none" },
    deletionWindowInDays: {
        kind: "int",
        input: "optional",
        deprecated: true,
        validate: between("deletion_window_in_days", 7, 366),
        conflictsWith: ["pendingWindowInDays"],
    },
    keyState: { kind: "string", input: "optional", computed: true, deprecated: true, conflictsWith: ["status"] },
    isEnabled: { kind: "bool", input: "optional", computed: true, deprecated: true },
};

const SECONDS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };

/**
 * RotationInterval as KMS takes it, `<n>d|h|m|s`, in the seconds form KMS reads it back in ("365d" -> "31536000s").
 * CreateKey takes 7 to 365 days for a software key, UpdateRotationPolicy 7 to 730 days. Sources: KMS API reference
 * CreateKey (https://www.alibabacloud.com/help/doc-detail/28947.htm) and UpdateRotationPolicy
 * (https://www.alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-kms-2016-01-20-updaterotationpolicy);
 * docs/platform-facts.md, "Key settings".
 */
export function rotationSeconds(interval: string, maxDays = 365): string {
    const parsed = /^(\d+)([dhms])$/.exec(interval);
    if (!parsed) throw new ProviderError(`InvalidParameter: RotationInterval "${interval}" is not <integer>[d|h|m|s] (e.g. 7d or 604800s)`);
    const seconds = Number(parsed[1]) * SECONDS[parsed[2]];
    if (seconds < 7 * 86400 || seconds > maxDays * 86400) {
        throw new ProviderError(`InvalidParameter: RotationInterval "${interval}" is outside 7 to ${maxDays} days`);
    }
    return `${seconds}s`;
}

function addSeconds(iso: string, interval: string): string {
    return nowIso(new Date(Date.parse(iso) + Number(interval.replace(/s$/, "")) * 1000));
}

/** A KMS 3.0 instance key's ID: key-<region code><random> (docs/platform-facts.md, "Key identifiers"). */
function instanceKeyId(regionId: string): string {
    return `key-${regionCode(regionId)}${crypto.randomBytes(12).toString("hex").slice(0, 21)}`;
}

/** The key's outputs (resourceAliCloudKmsKeyRead), plus the inputs Read does not set, kept from `inputs`. */
function keyOutputs(key: StandInKey, inputs: Props): Props {
    return {
        arn: key.arn,
        automaticRotation: key.automaticRotation,
        creationDate: key.creationDate,
        creator: key.creator,
        deleteDate: key.deleteDate ?? "",
        deletionProtection: key.deletionProtection,
        deletionProtectionDescription: key.deletionProtectionDescription ?? "",
        description: key.description,
        dkmsInstanceId: key.dkmsInstanceId,
        isEnabled: key.keyState === "Enabled",
        keySpec: key.keySpec,
        keyState: key.keyState,
        keyUsage: key.keyUsage,
        lastRotationDate: key.lastRotationDate,
        materialExpireTime: "",
        nextRotationDate: key.nextRotationDate,
        origin: key.origin,
        // Read sets policy only for a key in a KMS instance (GetKeyPolicy).
        policy: key.dkmsInstanceId ? (key.policy ?? "") : (inputs.policy ?? ""),
        primaryKeyVersion: key.primaryKeyVersion,
        protectionLevel: key.protectionLevel,
        rotationInterval: key.rotationInterval,
        status: key.keyState,
        tags: visibleTags(key.tags),
        // Not read back: Terraform keeps the configured values in state.
        ...(inputs.pendingWindowInDays !== undefined ? { pendingWindowInDays: inputs.pendingWindowInDays } : {}),
        ...(inputs.deletionWindowInDays !== undefined ? { deletionWindowInDays: inputs.deletionWindowInDays } : {}),
    };
}

/** The state Update asks for through status, key_state or is_enabled (resourceAliCloudKmsKeyUpdate). */
function statusTarget(news: Props): string | undefined {
    if (typeof news.status === "string" && news.status) return news.status;
    if (typeof news.keyState === "string" && news.keyState) return news.keyState;
    if (typeof news.isEnabled === "boolean") return news.isEnabled ? "Enabled" : "Disabled";
    return undefined;
}

/** EnableKey / DisableKey when the key is not in the wanted state; PendingDeletion is not a state Update moves to. */
async function applyStatus(ctx: ProviderContext, key: StandInKey, target: string | undefined): Promise<void> {
    if ((target === "Enabled" || target === "Disabled") && key.keyState !== target) await ctx.control.patchKey(key.keyId, { keyState: target });
}

/**
 * SetDeletionProtection. KMS refuses it for a key pending deletion (KMS API reference SetDeletionProtection,
 * https://www.alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-kms-2016-01-20-setdeletionprotection).
 */
async function applyDeletionProtection(ctx: ProviderContext, key: StandInKey, news: Props): Promise<void> {
    if (key.keyState === "PendingDeletion") throw new ProviderError(`SetDeletionProtection: key ${key.keyId} is pending deletion`);
    const patch: Partial<StandInKey> = { deletionProtectionDescription: str(news.deletionProtectionDescription) };
    if (news.deletionProtection !== undefined) patch.deletionProtection = news.deletionProtection === "Enabled" ? "Enabled" : "Disabled";
    await ctx.control.patchKey(key.keyId, patch);
}

async function readKey(ctx: ProviderContext, id: string): Promise<StandInKey | undefined> {
    if (!(await servesRegion(ctx))) return undefined;
    const key = await ctx.control.key(id);
    // DescribeKmsKey (service_alicloud_kms_v2.go) reports a PendingDeletion key as not found: the resource is gone.
    return key && key.keyState !== "PendingDeletion" ? key : undefined;
}

export const kmsKey: ResourceType = {
    token: "alicloud:kms/key:Key",
    schema: keySchema,

    async create(ctx, inputs) {
        await requireRegion(ctx, "CreateKey");
        const { accountId } = await ctx.control.account();
        const dkmsInstanceId = str(inputs.dkmsInstanceId);
        const instance = dkmsInstanceId ? await ctx.control.instance(dkmsInstanceId) : undefined;
        if (dkmsInstanceId && !instance) {
            throw new ProviderError(`CreateKey: the KMS instance ${dkmsInstanceId} (DKMSInstanceId) does not exist in region ${ctx.region}`);
        }
        // KMS API reference CreateKey (https://www.alibabacloud.com/help/doc-detail/28947.htm): KeySpec defaults to
        // Aliyun_AES_256, KeyUsage to ENCRYPT/DECRYPT, Origin to Aliyun_KMS; with DKMSInstanceId the ProtectionLevel
        // given is ignored and the instance's applies (software instance: SOFTWARE, hardware, productVersion "5": HSM);
        // RotationInterval is required with EnableAutomaticRotation, which has no effect where automatic rotation is
        // not supported (hardware keys).
        const protectionLevel = instance ? (instance.productVersion === "5" ? "HSM" : "SOFTWARE") : str(inputs.protectionLevel) || "SOFTWARE";
        const wantsRotation = inputs.automaticRotation === "Enabled";
        const rotationInterval = inputs.rotationInterval ? rotationSeconds(str(inputs.rotationInterval)) : "";
        if (wantsRotation && !rotationInterval) throw new ProviderError("CreateKey: RotationInterval is required when EnableAutomaticRotation is true");
        const automaticRotation = wantsRotation && protectionLevel !== "HSM" ? "Enabled" : "Disabled";
        const created = nowIso();
        const keyId = dkmsInstanceId ? instanceKeyId(ctx.region) : crypto.randomUUID();
        const key = await ctx.control.createKey({
            keyId,
            keySpec: str(inputs.keySpec) || "Aliyun_AES_256",
            keyUsage: str(inputs.keyUsage) || "ENCRYPT/DECRYPT",
            keyState: "Enabled",
            creatorType: "User",
            creator: accountId,
            origin: str(inputs.origin) || "Aliyun_KMS",
            description: str(inputs.description),
            creationDate: created,
            protectionLevel,
            dkmsInstanceId,
            automaticRotation,
            rotationInterval,
            deletionProtection: "Disabled",
            deletionProtectionDescription: "",
            lastRotationDate: created,
            nextRotationDate: automaticRotation === "Enabled" ? addSeconds(created, rotationInterval) : "",
            tags: stringMap(inputs.tags),
            deleteDate: "",
            policy: dkmsInstanceId
                ? str(inputs.policy) ||
                  JSON.stringify({
                      Version: "1",
                      Statement: [
                          {
                              Sid: "kms default key policy",
                              Effect: "Allow",
                              Principal: { RAM: [`acs:ram::${accountId}:*`] },
                              Action: ["kms:*"],
                              Resource: ["*"],
                          },
                      ],
                  })
                : "",
        });
        // Create ends in Update (resource_alicloud_kms_key.go): the status, then SetDeletionProtection when set.
        await applyStatus(ctx, key, statusTarget(inputs));
        if (inputs.deletionProtection !== undefined || inputs.deletionProtectionDescription !== undefined) await applyDeletionProtection(ctx, key, inputs);
        const outputs = await this.read(ctx, key.keyId, inputs);
        if (!outputs) throw new ProviderError(`CreateKey: key ${key.keyId} vanished right after its creation`);
        return { id: key.keyId, outputs };
    },

    async read(ctx, id, prior) {
        const key = await readKey(ctx, id);
        return key ? keyOutputs(key, prior) : undefined;
    },

    async update(ctx, id, _olds, news, diff) {
        const current = await readKey(ctx, id);
        if (!current) throw new ProviderError(`Forbidden.KeyNotFound: key ${id} not found`);
        const changed = (name: string) => diff.changed.includes(name);
        if (changed("status") || changed("keyState") || changed("isEnabled")) await applyStatus(ctx, current, statusTarget(news));
        // UpdateKeyDescription.
        if (changed("description")) await ctx.control.patchKey(id, { description: str(news.description) });
        // UpdateRotationPolicy, with the interval the inputs give (not the key's: the provider sends rotation_interval
        // only when set). KMS refuses it for a key that is not Enabled, an asymmetric key and an imported (EXTERNAL)
        // one, and wants RotationInterval with EnableAutomaticRotation=true (UpdateRotationPolicy API reference, above).
        if (changed("automaticRotation") || changed("rotationInterval")) {
            const key = (await readKey(ctx, id)) ?? current;
            const interval = news.rotationInterval ? rotationSeconds(str(news.rotationInterval), 730) : "";
            const enable = news.automaticRotation === "Enabled";
            const refused =
                key.keyState !== "Enabled"
                    ? `the key is ${key.keyState}`
                    : !key.keySpec.startsWith("Aliyun_")
                      ? `${key.keySpec} is an asymmetric key`
                      : key.origin === "EXTERNAL"
                        ? "its key material is imported (EXTERNAL)"
                        : enable && !interval
                          ? "RotationInterval is required when EnableAutomaticRotation is true"
                          : undefined;
            if (refused) throw new ProviderError(`UpdateRotationPolicy: key ${id}: ${refused}`);
            const automaticRotation = enable && key.protectionLevel !== "HSM" ? "Enabled" : "Disabled";
            const rotationInterval = interval || key.rotationInterval;
            await ctx.control.patchKey(id, {
                automaticRotation,
                rotationInterval,
                nextRotationDate: automaticRotation === "Enabled" ? addSeconds(key.lastRotationDate || key.creationDate, rotationInterval) : "",
            });
        }
        if (changed("deletionProtection") || changed("deletionProtectionDescription")) await applyDeletionProtection(ctx, current, news);
        // SetKeyPolicy.
        if (changed("policy")) await ctx.control.patchKey(id, { policy: str(news.policy) });
        // SetResourceTags.
        if (changed("tags")) await ctx.control.patchKey(id, { tags: stringMap(news.tags) });
        const outputs = await this.read(ctx, id, news);
        if (!outputs) throw new ProviderError(`Forbidden.KeyNotFound: key ${id} not found after the update`);
        return outputs;
    },

    async delete(ctx, id, olds) {
        // resourceAliCloudKmsKeyDelete: ScheduleKeyDeletion needs a pending window.
        const window = olds.pendingWindowInDays ?? olds.deletionWindowInDays;
        if (window === undefined || window === null || window === 0) {
            throw new ProviderError(`[ERROR] Argument "pending_window_in_days" or "deletion_window_in_days" must be set one!`);
        }
        const key = await readKey(ctx, id);
        // A key that is not found is deleted (NotFoundError is ignored).
        if (!key) return;
        // KMS API reference SetDeletionProtection: a key with deletion protection cannot be deleted.
        if (key.deletionProtection === "Enabled") {
            throw new ProviderError(
                `ScheduleKeyDeletion: key ${id} has deletion protection enabled; disable it first (deletionProtection: "Disabled") ` +
                    `(${key.deletionProtectionDescription || "no description"})`,
            );
        }
        await ctx.control.patchKey(id, { keyState: "PendingDeletion", deleteDate: nowIso(new Date(Date.now() + Number(window) * 86400_000)) });
    },
};
