// The Secret store behind the Kubernetes API test server; it lives in
// ./kube/store.ts (with its errors and Secret normalization beside it).

export { ApiError, notFound } from "./kube/apiErrors";
export { SecretStore, secretKey } from "./kube/store";
export type { ListPage, SeedOptions, WriteOrigin } from "./kube/store";
