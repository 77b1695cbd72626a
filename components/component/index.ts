export * from "./secretEncryption";
export * from "./lookups";
export * from "./args";
