// One identity for the whole stack: the dynamic providers act as the same
// Alibaba Cloud identity as the stack's @pulumi/alicloud provider, resolved in
// the same order of precedence, from the stack config the engine hands to the
// dynamic provider host's `configure` hook (Pulumi CLI 3.139.0 or later:
// pulumi/pulumi PR 17673 sends the full stack config to dynamic providers,
// PR 17697 adds `configure` to the Node.js SDK; both in v3.139.0).
//
// The order is terraform-provider-alicloud's (alicloud/provider.go,
// providerConfigure, and connectivity/config.go; the Pulumi provider is bridged from it):
// 1. access key, secret key, security token: each from the explicit config
//    (alicloud:accessKey / secretKey / securityToken), else the first set of
//    ALICLOUD_ACCESS_KEY | ALIBABA_CLOUD_ACCESS_KEY_ID | ALIBABACLOUD_ACCESS_KEY_ID
//    (and the SECRET/SECURITY_TOKEN equivalents), else the named profile;
// 2. the profile (alicloud:profile | ALICLOUD_PROFILE | ALIBABA_CLOUD_PROFILE) is
//    read only when named, from alicloud:sharedCredentialsFile |
//    ALICLOUD_SHARED_CREDENTIALS_FILE | ALIBABA_CLOUD_CREDENTIALS_FILE |
//    ~/.aliyun/config.json; a missing file or profile, or a profile without a
//    mode, is ignored. Modes AK, StsToken and RamRoleArn give keys (and a role);
//    EcsRamRole gives an ECS role name; other modes (ChainableRamRoleArn,
//    CloudSSO, OIDC, External, OAuth) go through the aliyun CLI profile reader
//    when no key was found otherwise;
// 3. still no key: alicloud:credentialsUri | ALICLOUD_CREDENTIALS_URI, then the
//    ECS RAM role (alicloud:ecsRoleName | ALICLOUD_ECS_ROLE_NAME), then
//    alicloud:assumeRoleWithOidc;
// 4. alicloud:assumeRole {roleArn, sessionName, policy, sessionExpiration,
//    externalId} is layered ON that base credential (which calls STS
//    AssumeRole), overriding a RamRoleArn profile's role; the STS endpoint is
//    alicloud:endpoints' `sts` entry, else sts.<region>.aliyuncs.com;
// 5. nothing at all: no credential, an error (as the alicloud provider's
//    "no valid credential sources"), never some other identity.
// alicloud:endpoints' `cs` and `kms` entries are honoured as endpoints.
// Docs: pulumi-alicloud docs/_index.md "Authentication" and "Configuration Reference".
//
// Nothing here is ever written to inputs, outputs, state or logs: it lives in
// the host process's memory only.
//
// The provider's whole precedence stays in this one file, so it can be read against provider.go.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

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

/** The credential the stack acts as before any assumeRole. Holds secrets: never log or store it. */
export type BaseCredential =
    | { kind: "accessKey"; accessKeyId: string; accessKeySecret: string; securityToken?: string }
    | { kind: "credentialsUri"; uri: string }
    | { kind: "ecsRole"; roleName: string }
    | {
          kind: "oidc";
          roleArn: string;
          oidcProviderArn: string;
          oidcTokenFile: string;
          sessionName: string;
          policy?: string;
          sessionExpiration: number;
          stsEndpoint: string;
      }
    | { kind: "cliProfile"; profileName: string };

/** The resolved identity. Holds credentials: never log, store or return it to the engine. */
export interface StackIdentity {
    base: BaseCredential;
    assumeRole?: AssumeRoleSettings;
    region?: string;
    /** alicloud:endpoints' cs and kms entries (host[:port] or URL). */
    endpoints: { cs?: string; kms?: string };
    /** Where the base credential came from, for messages (no secret in it). */
    source: string;
}

/** The first Pulumi CLI whose engine passes the stack config to dynamic providers. */
export const MIN_CLI_FOR_STACK_IDENTITY = "3.139.0";
/** Session name terraform-provider-alicloud uses when assumeRole names none (provider.go). */
const DEFAULT_SESSION_NAME = "terraform";
/** STS AssumeRole duration bounds and default, as the provider validates them (IntBetween(900, 43200), default 3600). */
const SESSION_EXPIRATION = { min: 900, max: 43200, default: 3600 };
/** Profile modes that carry keys (and a role) the provider reads itself; EcsRamRole carries a role name. */
const KEY_MODES = ["AK", "StsToken", "RamRoleArn"];

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
    ram_role_name?: string;
}

/** The named profile, or undefined when the file or the name is missing (the provider ignores both). */
function readProfile(file: string, name: string): ProfileEntry | undefined {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return undefined;
    }
    let doc: { profiles?: ProfileEntry[] };
    try {
        doc = JSON.parse(text);
    } catch {
        throw new Error(
            `Alibaba Cloud credentials file ${file} (profile "${name}") is not valid JSON; fix it (\`aliyun configure\` writes it) or unset alicloud:profile.`,
        );
    }
    const entry = (Array.isArray(doc.profiles) ? doc.profiles : []).find((p) => p && p.name === name);
    // A profile without a mode is ignored by the provider too.
    return entry?.mode ? entry : undefined;
}

function parseObject(key: string, text: string | undefined, help: string): Record<string, unknown> | undefined {
    if (text === undefined || text.trim() === "") return undefined;
    try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
        // reported below
    }
    throw new Error(`${key} is not an object; ${help}`);
}

function str(value: unknown): string | undefined {
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function sessionExpiration(key: string, value: unknown, env: NodeJS.ProcessEnv): number {
    const raw = value ?? firstSet(env.ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION);
    if (raw === undefined) return SESSION_EXPIRATION.default;
    const n = Number(raw);
    if (!(Number.isInteger(n) && n >= SESSION_EXPIRATION.min && n <= SESSION_EXPIRATION.max)) {
        throw new Error(`${key}.sessionExpiration must be a whole number of seconds from ${SESSION_EXPIRATION.min} to ${SESSION_EXPIRATION.max}.`);
    }
    return n;
}

function endpointsFrom(text: string | undefined): Record<string, string> {
    if (!text) return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new Error("alicloud:endpoints is not a list of endpoint overrides; see the alicloud provider's configuration reference.");
    }
    const out: Record<string, string> = {};
    for (const entry of (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[]) {
        for (const service of ["sts", "cs", "kms"]) {
            const value = str(entry?.[service]);
            if (value && !out[service]) out[service] = value;
        }
    }
    return out;
}

function hostOnly(endpoint: string): string {
    return endpoint.replace(/^https?:\/\//, "").replace(/\/$/, "");
}

/**
 * Resolves the identity from the stack config and the environment, in the
 * alicloud provider's order. Returns undefined when nothing names a credential
 * (the provider would refuse to start: callers decide what that means).
 */
export function resolveStackIdentity(config: ConfigReader, env: NodeJS.ProcessEnv = process.env): StackIdentity | undefined {
    const endpoints = endpointsFrom(config.get("alicloud:endpoints"));
    const profileName = firstSet(config.get("alicloud:profile"), env.ALICLOUD_PROFILE, env.ALIBABA_CLOUD_PROFILE);
    let profile: ProfileEntry = {};
    if (profileName) {
        const file =
            firstSet(config.get("alicloud:sharedCredentialsFile"), env.ALICLOUD_SHARED_CREDENTIALS_FILE, env.ALIBABA_CLOUD_CREDENTIALS_FILE) ??
            path.join(os.homedir(), ".aliyun", "config.json");
        profile = readProfile(file.replace(/^~(?=$|\/)/, os.homedir()), profileName) ?? {};
    }
    const keyMode = KEY_MODES.includes(profile.mode ?? "");
    const fromConfig = firstSet(config.get("alicloud:accessKey"));
    const fromEnv = firstSet(env.ALICLOUD_ACCESS_KEY, env.ALIBABA_CLOUD_ACCESS_KEY_ID, env.ALIBABACLOUD_ACCESS_KEY_ID);
    const accessKeyId = firstSet(fromConfig, fromEnv, keyMode ? profile.access_key_id : undefined);
    const accessKeySecret = firstSet(
        config.get("alicloud:secretKey"),
        env.ALICLOUD_SECRET_KEY,
        env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
        env.ALIBABACLOUD_ACCESS_KEY_SECRET,
        keyMode ? profile.access_key_secret : undefined,
    );
    const securityToken = firstSet(
        config.get("alicloud:securityToken"),
        env.ALICLOUD_SECURITY_TOKEN,
        env.ALIBABA_CLOUD_SECURITY_TOKEN,
        env.ALIBABACLOUD_SECURITY_TOKEN,
        profile.mode === "StsToken" ? profile.sts_token : undefined,
    );
    const region = firstSet(config.get("alicloud:region"), env.ALICLOUD_REGION, env.ALIBABA_CLOUD_REGION, profile.region_id);

    let base: BaseCredential | undefined;
    let source = "";
    if (accessKeyId) {
        if (!accessKeySecret) {
            throw new Error(
                "An Alibaba Cloud access key ID was found but no secret for it: set alicloud:secretKey (`pulumi config set --secret alicloud:secretKey ...`), " +
                    "ALICLOUD_SECRET_KEY or ALIBABA_CLOUD_ACCESS_KEY_SECRET, or complete the profile.",
            );
        }
        base = { kind: "accessKey", accessKeyId, accessKeySecret, securityToken };
        source = fromConfig ? "stack config alicloud:accessKey" : fromEnv ? "environment" : `profile "${profileName}"`;
    } else if (profile.mode && !KEY_MODES.includes(profile.mode) && profile.mode !== "EcsRamRole") {
        base = { kind: "cliProfile", profileName: profileName! };
        source = `profile "${profileName}" (mode ${profile.mode})`;
    } else if (firstSet(config.get("alicloud:credentialsUri"), env.ALICLOUD_CREDENTIALS_URI)) {
        base = { kind: "credentialsUri", uri: firstSet(config.get("alicloud:credentialsUri"), env.ALICLOUD_CREDENTIALS_URI)! };
        source = "credentials URI";
    } else if (firstSet(config.get("alicloud:ecsRoleName"), env.ALICLOUD_ECS_ROLE_NAME, profile.mode === "EcsRamRole" ? profile.ram_role_name : undefined)) {
        base = { kind: "ecsRole", roleName: firstSet(config.get("alicloud:ecsRoleName"), env.ALICLOUD_ECS_ROLE_NAME, profile.ram_role_name)! };
        source = "ECS RAM role";
    } else {
        const oidc = parseObject(
            "alicloud:assumeRoleWithOidc",
            config.get("alicloud:assumeRoleWithOidc"),
            "see the alicloud provider's assumeRoleWithOidc settings.",
        );
        if (oidc) {
            const roleArn = str(oidc.roleArn) ?? firstSet(env.ALIBABA_CLOUD_ROLE_ARN);
            const oidcProviderArn = str(oidc.oidcProviderArn) ?? firstSet(env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN);
            const oidcTokenFile = str(oidc.oidcTokenFile) ?? firstSet(env.ALIBABA_CLOUD_OIDC_TOKEN_FILE);
            if (!roleArn || !oidcProviderArn || !oidcTokenFile) {
                throw new Error(
                    "alicloud:assumeRoleWithOidc needs roleArn, oidcProviderArn and oidcTokenFile (or their ALIBABA_CLOUD_* environment variables).",
                );
            }
            base = {
                kind: "oidc",
                roleArn,
                oidcProviderArn,
                oidcTokenFile,
                sessionName: str(oidc.roleSessionName) ?? DEFAULT_SESSION_NAME,
                policy: str(oidc.policy),
                sessionExpiration: sessionExpiration("alicloud:assumeRoleWithOidc", oidc.sessionExpiration, {}),
                stsEndpoint: hostOnly(endpoints.sts ?? `sts.${region ?? "cn-hangzhou"}.aliyuncs.com`),
            };
            source = "OIDC role";
        }
    }

    const configured = parseObject(
        "alicloud:assumeRole",
        config.get("alicloud:assumeRole"),
        "set it with `pulumi config set --path alicloud:assumeRole.roleArn acs:ram::<uid>:role/<name>`.",
    );
    const profileRole = profile.mode === "RamRoleArn" ? { roleArn: profile.ram_role_arn, sessionName: profile.ram_session_name } : {};
    const roleArn = firstSet(str(configured?.roleArn), profileRole.roleArn);
    if (configured && !roleArn) {
        throw new Error("alicloud:assumeRole has no roleArn; set alicloud:assumeRole.roleArn (acs:ram::<uid>:role/<name>) or remove alicloud:assumeRole.");
    }
    if (!base) {
        if (roleArn) {
            throw new Error(
                `alicloud:assumeRole (${roleArn}) needs a base credential to call STS with, and none was found: ` +
                    "set alicloud:accessKey/secretKey, ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY, alicloud:profile or alicloud:ecsRoleName.",
            );
        }
        return undefined;
    }
    const identity: StackIdentity = { base, region, endpoints: { cs: endpoints.cs, kms: endpoints.kms }, source };
    if (roleArn) {
        identity.assumeRole = {
            roleArn,
            sessionName: firstSet(str(configured?.sessionName), profileRole.sessionName) ?? DEFAULT_SESSION_NAME,
            policy: str(configured?.policy),
            externalId: str(configured?.externalId),
            sessionExpiration: sessionExpiration("alicloud:assumeRole", configured?.sessionExpiration, env),
            stsEndpoint: hostOnly(endpoints.sts ?? `sts.${region ?? "cn-hangzhou"}.aliyuncs.com`),
        };
    }
    return identity;
}

// ---- The host process's identity -----------------------------------------------------------
// Set once per host process by the providers' `configure`; read by every Alibaba call.

let current: { identity?: StackIdentity; credential?: unknown; problem?: Error; warned: boolean } = { warned: false };

const NO_CREDENTIAL =
    "The stack has no Alibaba Cloud credential, so its alicloud provider could not run either. Set alicloud:accessKey and " +
    "alicloud:secretKey (`pulumi config set --secret alicloud:secretKey ...`), alicloud:profile, alicloud:ecsRoleName, " +
    "alicloud:assumeRoleWithOidc or alicloud:credentialsUri, or the environment variables ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY.";

/**
 * The providers' `configure` hook. The engine sends the whole stack config since
 * CLI 3.139.0; an older CLI sends none, and then the providers resolve from the
 * environment alone, or the Alibaba default credential chain, with one warning.
 */
export function configureStackIdentity(config: ConfigReader, log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): void {
    const gotStackConfig = config.get("alicloud:region") !== undefined;
    if (!gotStackConfig && !current.warned) {
        current.warned = true;
        log(
            `warning: the Pulumi CLI sent no stack config to the dynamic providers (it does from ${MIN_CLI_FOR_STACK_IDENTITY} on). ` +
                "ClusterEncryption and SecretRotation act as the environment's credential, else the Alibaba default credential chain, " +
                `which may not be the identity of the stack's alicloud provider. Upgrade the CLI to ${MIN_CLI_FOR_STACK_IDENTITY} or later.`,
        );
    }
    let identity: StackIdentity | undefined;
    try {
        identity = resolveStackIdentity(config);
        if (!identity && gotStackConfig) throw new Error(NO_CREDENTIAL);
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

/** The identity the providers act as; undefined means the default credential chain (no stack config arrived). */
export function stackIdentity(): StackIdentity | undefined {
    if (current.problem) throw current.problem;
    return current.identity;
}

type Credentials = typeof import("@alicloud/credentials");

function baseProvider(credentials: Credentials, base: BaseCredential): unknown {
    switch (base.kind) {
        case "accessKey":
            return base.securityToken
                ? credentials.StaticSTSCredentialsProvider.builder()
                      .withAccessKeyId(base.accessKeyId)
                      .withAccessKeySecret(base.accessKeySecret)
                      .withSecurityToken(base.securityToken)
                      .build()
                : credentials.StaticAKCredentialsProvider.builder().withAccessKeyId(base.accessKeyId).withAccessKeySecret(base.accessKeySecret).build();
        case "credentialsUri":
            return credentials.URICredentialsProvider.builder().withCredentialsURI(base.uri).build();
        case "ecsRole":
            return credentials.ECSRAMRoleCredentialsProvider.builder().withRoleName(base.roleName).build();
        case "oidc": {
            const builder = credentials.OIDCRoleArnCredentialsProvider.builder()
                .withRoleArn(base.roleArn)
                .withOIDCProviderArn(base.oidcProviderArn)
                .withOIDCTokenFilePath(base.oidcTokenFile)
                .withRoleSessionName(base.sessionName)
                .withDurationSeconds(base.sessionExpiration)
                .withStsEndpoint(base.stsEndpoint);
            return (base.policy ? builder.withPolicy(base.policy) : builder).build();
        }
        case "cliProfile":
            return credentials.CLIProfileCredentialsProvider.builder().withProfileName(base.profileName).build();
    }
}

/**
 * The @alicloud/credentials object for an identity, built once per process so an
 * assumed role's STS token is reused until it expires (the SDK refreshes it).
 */
export function credentialFor(identity: StackIdentity | undefined): unknown {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use: most callers never need it
    const credentials = require("@alicloud/credentials") as Credentials;
    if (!identity) return new credentials.default();
    if (current.identity === identity && current.credential) return current.credential;
    let provider = baseProvider(credentials, identity.base);
    const role = identity.assumeRole;
    if (role) {
        let builder = credentials.RAMRoleARNCredentialsProvider.builder()
            .withCredentialsProvider(provider as never)
            .withRoleArn(role.roleArn)
            .withRoleSessionName(role.sessionName)
            .withDurationSeconds(role.sessionExpiration)
            .withStsEndpoint(role.stsEndpoint);
        if (role.policy) builder = builder.withPolicy(role.policy);
        if (role.externalId) builder = builder.withExternalId(role.externalId);
        provider = builder.build();
    }
    const credential = new credentials.default(null, provider as never);
    if (current.identity === identity) current.credential = credential;
    return credential;
}

/** For tests of one process's lifecycle: forget the configured identity. */
export function resetStackIdentity(): void {
    current = { warned: false };
}
