// The project's public surface: what the program (index.ts) and other Pulumi programs import.
export * from "./config";
export * from "./component";
export { ClusterEncryption, SecretRotation } from "./providers";
