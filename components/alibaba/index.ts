export type { AlibabaContext, CsHandle, KmsHandle, KmsRpcClient } from "./clients";
export { createCsClient, createKmsClient } from "./clients";
export type { AlibabaService, ResolvedEndpoint } from "./endpoints";
export { ENDPOINT_ENV_VARS, resolveEndpoint } from "./endpoints";
export type { AlibabaCallSite, AlibabaErrorKind } from "./errors";
export { AlibabaApiError, redactCredentials, toAlibabaApiError } from "./errors";
export type { ClusterInfo, KmsEncryptionChange } from "./cs";
export {
    describeCluster,
    describeClusterUserKubeconfig,
    parseEncryptionCapabilities,
    updateKmsEncryption,
} from "./cs";
export type { KeyInfo } from "./kms";
export { describeKey, isUserKey } from "./kms";
