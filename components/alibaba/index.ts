/** Alibaba Cloud for the providers: the calls they make, acting as the stack's identity, with errors classified once. */
export type { AlibabaContext } from "./clients";
export type { AlibabaErrorKind } from "./errors";
export { AlibabaApiError } from "./errors";
export type { ClusterInfo, KmsEncryptionChange } from "./cs";
export { describeCluster, describeClusterUserKubeconfig, updateKmsEncryption } from "./cs";
export type { KeyInfo } from "./kms";
export { describeKey, isUserKey } from "./kms";
export { configureStackIdentity, MIN_CLI_FOR_STACK_IDENTITY } from "./identity";
