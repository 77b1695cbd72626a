export * from "./config";
export * from "./secretEncryption";
export * from "./lookups";
export * from "./settings";
export { ClusterEncryption } from "./clusterEncryption";
export { SecretRotation } from "./rotation";
