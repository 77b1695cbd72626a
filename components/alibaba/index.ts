export type { AlibabaContext, CsHandle, KmsHandle, KmsRpcClient } from "./clients";
export { createCsClient, createKmsClient } from "./clients";
export type { AlibabaService, ResolvedEndpoint } from "./endpoints";
export { ENDPOINT_ENV_VARS, resolveEndpoint } from "./endpoints";
export type { AlibabaCallSite, AlibabaErrorKind } from "./errors";
export { AlibabaApiError, isAlibabaErrorKind, redactCredentials, toAlibabaApiError } from "./errors";
export type { ClusterInfo, KmsEncryptionChange, UserKubeconfig } from "./cs";
export {
    describeCluster,
    describeClusterUserKubeconfig,
    describeClusterUserKubeconfigWithExpiry,
    parseEncryptionCapabilities,
    updateKmsEncryption,
} from "./cs";
export type { KeyInfo, KeyVersionInfo } from "./kms";
export { describeKey, isUserKey, listKeyVersions } from "./kms";
