// One identity for the whole stack: the dynamic providers act as the same
// Alibaba Cloud identity as the stack's @pulumi/alicloud provider, resolved in
// the same order of precedence, from the stack config the engine hands to the
// dynamic provider host's `configure` hook (Pulumi CLI 3.139.0 or later:
// pulumi/pulumi PR 17673 sends the full stack config to dynamic providers,
// PR 17697 adds `configure` to the Node.js SDK; both in v3.139.0).
//
// The order is terraform-provider-alicloud's (alicloud/provider.go,
// providerConfigure; the Pulumi provider is bridged from it):
// - each of access key, secret key, security token: the explicit config
//   (alicloud:accessKey / secretKey / securityToken), else the first set of
//   ALICLOUD_ACCESS_KEY | ALIBABA_CLOUD_ACCESS_KEY_ID | ALIBABACLOUD_ACCESS_KEY_ID
//   (and the SECRET/SECURITY_TOKEN equivalents), else the named profile;
// - the profile (alicloud:profile | ALICLOUD_PROFILE | ALIBABA_CLOUD_PROFILE) is
//   read only when named, from alicloud:sharedCredentialsFile |
//   ALICLOUD_SHARED_CREDENTIALS_FILE | ALIBABA_CLOUD_CREDENTIALS_FILE |
//   ~/.aliyun/config.json; modes AK, StsToken and RamRoleArn;
// - alicloud:assumeRole {roleArn, sessionName, policy, sessionExpiration,
//   externalId} is layered ON the base credential (which calls STS AssumeRole),
//   overriding a RamRoleArn profile's role; the STS endpoint is alicloud:endpoints'
//   `sts` entry, else sts.<region>.aliyuncs.com;
// - with no access key at all, the Alibaba default credential chain (ECS RAM
//   role, OIDC, ~/.alibabacloud/credentials) as @alicloud/credentials resolves it.
// Docs: pulumi-alicloud docs/_index.md "Authentication" and "Configuration Reference".
//
// Nothing here is ever written to inputs, outputs, state or logs: it lives in
// the host process's memory only.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** What `configure` receives: the host's Config over the stack config (keys "namespace:key", values strings). */
export interface ConfigReader {
    get(key: string): string | undefined;
}

export interface AssumeRoleSettings {
    roleArn: string;
    sessionName: string;
    policy?: string;
    sessionExpiration: number;
    externalId?: string;
    /** STS host[:port]: alicloud:endpoints' sts entry, else sts.<region>.aliyuncs.com. */
    stsEndpoint: string;
}

/** The resolved identity. Holds credentials: never log, store or return it to the engine. */
export interface StackIdentity {
    accessKeyId?: string;
    accessKeySecret?: string;
    securityToken?: string;
    assumeRole?: AssumeRoleSettings;
    region?: string;
    /** Where the base credential came from, for messages (no secret in it). */
    source: string;
}

/** The first Pulumi CLI whose engine passes the stack config to dynamic providers. */
export const MIN_CLI_FOR_STACK_IDENTITY = "3.139.0";
/** Session name terraform-provider-alicloud uses when assumeRole names none (provider.go). */
const DEFAULT_SESSION_NAME = "terraform";
/** STS AssumeRole duration bounds and default, as the provider validates them (IntBetween(900, 43200), default 3600). */
const SESSION_EXPIRATION = { min: 900, max: 43200, default: 3600 };

function firstSet(...values: (string | undefined)[]): string | undefined {
    return values.find((v) => v !== undefined && v.trim() !== "")?.trim();
}

interface ProfileEntry {
    name?: string;
    mode?: string;
    access_key_id?: string;
    access_key_secret?: string;
    sts_token?: string;
    region_id?: string;
    ram_role_arn?: string;
    ram_session_name?: string;
    expired_seconds?: number;
}

function readProfile(file: string, name: string): ProfileEntry {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new Error(
            `Alibaba Cloud profile "${name}" cannot be read: ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. ` +
                "Set alicloud:sharedCredentialsFile (or ALICLOUD_SHARED_CREDENTIALS_FILE) to the file that holds it, or unset alicloud:profile.",
        );
    }
    let doc: { profiles?: ProfileEntry[] };
    try {
        doc = JSON.parse(text);
    } catch {
        throw new Error(`Alibaba Cloud credentials file ${file} is not valid JSON; fix it (the aliyun CLI writes it with \`aliyun configure\`).`);
    }
    const entry = (Array.isArray(doc.profiles) ? doc.profiles : []).find((p) => p && p.name === name);
    if (!entry) {
        const names = (doc.profiles ?? []).map((p) => p?.name).filter(Boolean);
        throw new Error(`Alibaba Cloud profile "${name}" is not in ${file} (profiles there: ${names.join(", ") || "none"}); fix alicloud:profile.`);
    }
    const supported = ["AK", "StsToken", "RamRoleArn"];
    if (entry.mode && !supported.includes(entry.mode)) {
        throw new Error(
            `Alibaba Cloud profile "${name}" in ${file} has mode ${entry.mode}; this project's providers support ${supported.join(", ")}. ` +
                "Use such a profile, or explicit keys (alicloud:accessKey/secretKey) with alicloud:assumeRole.",
        );
    }
    return entry;
}

function parseAssumeRole(text: string | undefined): Partial<AssumeRoleSettings> | undefined {
    if (text === undefined || text.trim() === "") return undefined;
    let raw: Record<string, unknown>;
    try {
        raw = JSON.parse(text);
    } catch {
        throw new Error(`alicloud:assumeRole is not an object; set it with \`pulumi config set --path alicloud:assumeRole.roleArn acs:ram::<uid>:role/<name>\`.`);
    }
    const expiration = raw.sessionExpiration === undefined ? undefined : Number(raw.sessionExpiration);
    if (expiration !== undefined && !(Number.isInteger(expiration) && expiration >= SESSION_EXPIRATION.min && expiration <= SESSION_EXPIRATION.max)) {
        throw new Error(`alicloud:assumeRole.sessionExpiration must be a whole number of seconds from ${SESSION_EXPIRATION.min} to ${SESSION_EXPIRATION.max}.`);
    }
    const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);
    return { roleArn: str(raw.roleArn), sessionName: str(raw.sessionName), policy: str(raw.policy), externalId: str(raw.externalId), sessionExpiration: expiration };
}

function stsEndpointFrom(endpointsText: string | undefined, region: string | undefined): string {
    if (endpointsText) {
        try {
            const endpoints = JSON.parse(endpointsText) as Record<string, unknown>[] | Record<string, unknown>;
            for (const entry of Array.isArray(endpoints) ? endpoints : [endpoints]) {
                if (entry && typeof entry.sts === "string" && entry.sts.trim() !== "") return entry.sts.trim().replace(/^https?:\/\//, "").replace(/\/$/, "");
            }
        } catch {
            throw new Error("alicloud:endpoints is not a list of endpoint overrides; see the alicloud provider's configuration reference.");
        }
    }
    return `sts.${region ?? "cn-hangzhou"}.aliyuncs.com`;
}

/**
 * Resolves the identity from the stack config and the environment, in the
 * alicloud provider's order. Returns undefined when nothing names an access key,
 * so the Alibaba default credential chain applies (ECS role, OIDC, ...).
 */
export function resolveStackIdentity(config: ConfigReader, env: NodeJS.ProcessEnv = process.env): StackIdentity | undefined {
    const profileName = firstSet(config.get("alicloud:profile"), env.ALICLOUD_PROFILE, env.ALIBABA_CLOUD_PROFILE);
    let profile: ProfileEntry = {};
    if (profileName) {
        const file = firstSet(
            config.get("alicloud:sharedCredentialsFile"),
            env.ALICLOUD_SHARED_CREDENTIALS_FILE,
            env.ALIBABA_CLOUD_CREDENTIALS_FILE,
        ) ?? path.join(os.homedir(), ".aliyun", "config.json");
        profile = readProfile(file.replace(/^~(?=$|\/)/, os.homedir()), profileName);
    }
    const fromConfig = firstSet(config.get("alicloud:accessKey"));
    const fromEnv = firstSet(env.ALICLOUD_ACCESS_KEY, env.ALIBABA_CLOUD_ACCESS_KEY_ID, env.ALIBABACLOUD_ACCESS_KEY_ID);
    const accessKeyId = firstSet(fromConfig, fromEnv, profile.access_key_id);
    const accessKeySecret = firstSet(
        config.get("alicloud:secretKey"),
        env.ALICLOUD_SECRET_KEY,
        env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
        env.ALIBABACLOUD_ACCESS_KEY_SECRET,
        profile.access_key_secret,
    );
    const securityToken = firstSet(
        config.get("alicloud:securityToken"),
        env.ALICLOUD_SECURITY_TOKEN,
        env.ALIBABA_CLOUD_SECURITY_TOKEN,
        env.ALIBABACLOUD_SECURITY_TOKEN,
        profile.mode === "StsToken" ? profile.sts_token : undefined,
    );
    const region = firstSet(config.get("alicloud:region"), env.ALICLOUD_REGION, env.ALIBABA_CLOUD_REGION, profile.region_id);

    const configured = parseAssumeRole(config.get("alicloud:assumeRole"));
    const profileRole = profile.mode === "RamRoleArn" ? { roleArn: profile.ram_role_arn, sessionName: profile.ram_session_name, sessionExpiration: profile.expired_seconds } : {};
    const roleArn = firstSet(configured?.roleArn, profileRole.roleArn);
    if (configured && !configured.roleArn && !roleArn) {
        throw new Error("alicloud:assumeRole has no roleArn; set alicloud:assumeRole.roleArn (acs:ram::<uid>:role/<name>) or remove alicloud:assumeRole.");
    }

    if (!accessKeyId) {
        if (roleArn) {
            throw new Error(
                `alicloud:assumeRole (${roleArn}) needs a base credential to call STS with, and none was found: ` +
                    "set alicloud:accessKey/secretKey, ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY, or alicloud:profile.",
            );
        }
        return undefined;
    }
    if (!accessKeySecret) {
        throw new Error(
            `An Alibaba Cloud access key ID was found but no secret for it: set alicloud:secretKey (\`pulumi config set --secret alicloud:secretKey ...\`), ` +
                "ALICLOUD_SECRET_KEY or ALIBABA_CLOUD_ACCESS_KEY_SECRET, or complete the profile.",
        );
    }
    const source = fromConfig ? "stack config alicloud:accessKey" : fromEnv ? "environment" : `profile "${profileName}"`;
    const identity: StackIdentity = { accessKeyId, accessKeySecret, securityToken, region, source };
    if (roleArn) {
        identity.assumeRole = {
            roleArn,
            sessionName: firstSet(configured?.sessionName, profileRole.sessionName) ?? DEFAULT_SESSION_NAME,
            policy: configured?.policy,
            externalId: configured?.externalId,
            sessionExpiration: configured?.sessionExpiration ?? profileRole.sessionExpiration ?? SESSION_EXPIRATION.default,
            stsEndpoint: stsEndpointFrom(config.get("alicloud:endpoints"), region),
        };
    }
    return identity;
}

// ---- The host process's identity -----------------------------------------------------------
// Set once per host process by the providers' `configure`; read by every Alibaba call.

let current: { identity?: StackIdentity; credential?: unknown; problem?: Error; warned: boolean } = { warned: false };

/**
 * The providers' `configure` hook. The engine sends the whole stack config since
 * CLI 3.139.0; an older CLI sends none, and then the providers fall back to the
 * default credential chain, with one warning.
 */
export function configureStackIdentity(config: ConfigReader, log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): void {
    const gotStackConfig = config.get("alicloud:region") !== undefined;
    if (!gotStackConfig && !current.warned) {
        current.warned = true;
        log(
            `warning: the Pulumi CLI sent no stack config to the dynamic providers (it does from ${MIN_CLI_FOR_STACK_IDENTITY} on). ` +
                "ClusterEncryption and SecretRotation act as the Alibaba default credential chain (environment, ~/.alibabacloud/credentials, " +
                `ECS role), which may not be the identity of the stack's alicloud provider. Upgrade the CLI to ${MIN_CLI_FOR_STACK_IDENTITY} or later.`,
        );
    }
    let identity: StackIdentity | undefined;
    try {
        identity = resolveStackIdentity(config);
    } catch (e) {
        // The host caches the provider even when configure fails: every later call must fail the same way,
        // never fall back to another identity.
        current = { ...current, identity: undefined, credential: undefined, problem: e as Error };
        throw e;
    }
    // Both providers configure the same process with the same stack config: keep the credential (and its STS token).
    if (!current.problem && JSON.stringify(identity) === JSON.stringify(current.identity)) return;
    current = { ...current, identity, credential: undefined, problem: undefined };
}

/** The identity the providers act as; undefined means the default credential chain. */
export function stackIdentity(): StackIdentity | undefined {
    if (current.problem) throw current.problem;
    return current.identity;
}

/**
 * The @alicloud/credentials object for an identity, built once per process so an
 * assumed role's STS token is reused until it expires (the SDK refreshes it).
 */
export function credentialFor(identity: StackIdentity | undefined): unknown {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use: most callers never need it
    const credentials = require("@alicloud/credentials") as typeof import("@alicloud/credentials");
    if (!identity) return new credentials.default();
    if (current.identity === identity && current.credential) return current.credential;
    const base = { accessKeyId: identity.accessKeyId, accessKeySecret: identity.accessKeySecret, securityToken: identity.securityToken };
    const config = identity.assumeRole
        ? new credentials.Config({
              type: "ram_role_arn",
              ...base,
              roleArn: identity.assumeRole.roleArn,
              roleSessionName: identity.assumeRole.sessionName,
              policy: identity.assumeRole.policy,
              roleSessionExpiration: identity.assumeRole.sessionExpiration,
              externalId: identity.assumeRole.externalId,
              stsEndpoint: identity.assumeRole.stsEndpoint,
          })
        : new credentials.Config({ type: identity.securityToken ? "sts" : "access_key", ...base });
    const credential = new credentials.default(config);
    if (current.identity === identity) current.credential = credential;
    return credential;
}

/** For tests of one process's lifecycle: forget the configured identity. */
export function resetStackIdentity(): void {
    current = { warned: false };
}
