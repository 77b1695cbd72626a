export * from "./config";
export * from "./secretEncryption";
export { ClusterEncryption } from "./clusterEncryption";
export { SecretRotation } from "./rotation";
