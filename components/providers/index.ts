export { ClusterEncryption } from "./clusterEncryption";
export type { ClusterEncryptionArgs } from "./clusterEncryption";
export { SecretRotation } from "./secretRotation";
export type { SecretRotationArgs } from "./secretRotation";
export { staleBuildProblem } from "./buildStamp";
