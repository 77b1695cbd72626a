// Names fixed by Alibaba Cloud, by the guide, or by this project's earlier releases (changing one
// orphans what existing stacks created). Sources: docs/platform-facts.md. The policy pack is
// published on its own and keeps its own copies (policy/); a test asserts they agree.

/** The Pulumi project name in Pulumi.yaml; the config namespace of our keys unless the program runs under another name. */
export const PROJECT = "ask-kms-secret-encryption";

/** The only key spec and usage Container Service accepts for Secret encryption (the guide; UpdateKMSEncryption). */
export const KEY_SPEC = "Aliyun_AES_256";
export const KEY_USAGE = "ENCRYPT/DECRYPT";

/** The account-wide role Container Service assumes to call KMS for a cluster, and its system policy. */
export const SECURITY_ROLE_NAME = "AliyunCSManagedSecurityRole";
export const SECURITY_ROLE_POLICY = "AliyunCSManagedSecurityRolePolicy";
/** The system policy the operator (the RAM user or role running `pulumi up`) needs. */
export const OPERATOR_POLICY = "AliyunKMSCryptoAdminAccess";

/** Tags the stack puts on the instance and key: which cluster, and why. The policy pack reads them. */
export const CLUSTER_TAG = "ask-cluster-id";
export const PURPOSE_TAG = "purpose";
export const PURPOSE_TAG_VALUE = "k8s-secret-encryption";
/** Marks the security role a stack created, so "auto" can tell it from one created elsewhere. */
export const ROLE_MANAGED_BY_TAG = "ask-kms-secret-encryption-stack";
