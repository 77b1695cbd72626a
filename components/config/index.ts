export * from "./constants";
export * from "./keyIds";
export * from "./settings";
export * from "./stackConfig";
