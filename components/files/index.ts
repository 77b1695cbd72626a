export { readFileWithin, readTextFileWithin } from "./boundedRead";
export { DEFAULT_YAML_LIMITS, loadYamlSafely, YamlDocumentError } from "./safeYaml";
export type { YamlLimits } from "./safeYaml";
