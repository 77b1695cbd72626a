// What the resources and data sources share: the provider's context, the
// contract of a resource type, and small helpers.
//
// Citations name files in aliyun/terraform-provider-alicloud's alicloud/ directory, the
// provider @pulumi/alicloud bridges; the schemas cited are the same from v1.285.0 (what
// pulumi-alicloud's newest stored go.mod pins) to v1.289.0.

import type { ControlClient } from "../control";
import type { CheckFailure, DiffResult, Schema } from "../schema";
import type { Props } from "../wire";

export interface ProviderContext {
    control: ControlClient;
    /** alicloud:region (Configure). */
    region: string;
}

export interface ResourceType {
    token: string;
    schema: Schema;
    /** Rules beyond the per-field ones (e.g. "at least one of"). */
    check?(inputs: Props): CheckFailure[];
    create(ctx: ProviderContext, inputs: Props): Promise<{ id: string; outputs: Props }>;
    /** The outputs, or undefined when the resource is gone. `prior` holds the old outputs (nothing on import). */
    read(ctx: ProviderContext, id: string, prior: Props): Promise<Props | undefined>;
    update(ctx: ProviderContext, id: string, olds: Props, news: Props, diff: DiffResult): Promise<Props>;
    delete(ctx: ProviderContext, id: string, olds: Props): Promise<void>;
}

/** An error the plugin answers a call with (the engine shows the message). */
export class ProviderError extends Error {}

/** The region code KMS puts in instance and key IDs: kst-hzz…, key-hzz… in cn-hangzhou (docs/platform-facts.md, "Key identifiers"). */
export function regionCode(regionId: string): string {
    return ({ "cn-hangzhou": "hzz", "cn-beijing": "bjj", "cn-shanghai": "shh", "cn-shenzhen": "szz" } as Record<string, string>)[regionId] ?? "xxz";
}

export function nowIso(at = new Date()): string {
    return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Tags the provider leaves out of `tags` because Alibaba Cloud sets them itself: keys starting with aliyun, acs:,
 * http:// or https:// (ignoredTags / tagIgnored in alicloud/tags.go).
 */
export function visibleTags(tags: Record<string, string> | undefined): Record<string, string> {
    return Object.fromEntries(Object.entries(tags ?? {}).filter(([key]) => !/^(aliyun|acs:|https?:\/\/)/.test(key)));
}

/**
 * Whether the stand-in serves the configured region: it holds one region's regional resources (keys, KMS
 * instances, vSwitches, clusters); asked about another region, Alibaba Cloud would find none of them.
 */
export async function servesRegion(ctx: ProviderContext): Promise<boolean> {
    return (await ctx.control.account()).regionId === ctx.region;
}

export async function requireRegion(ctx: ProviderContext, what: string): Promise<void> {
    const { regionId } = await ctx.control.account();
    if (regionId !== ctx.region) {
        throw new ProviderError(`${what}: alicloud:region is ${ctx.region}, but the Alibaba stand-in serves region ${regionId} only`);
    }
}
