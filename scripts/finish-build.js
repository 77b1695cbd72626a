// Part of `npm run build`, after tsc: the compiled paths earlier releases stored in state
// (components/providers/legacyPaths.ts), then the stamp of the sources dist/ was built from
// (components/providers/buildStamp.ts), last, so a build cut short is never stamped.
const projectDir = require("node:path").resolve(__dirname, "..");
require("../dist/components/providers/legacyPaths").writeLegacyEntryPoints(projectDir);
require("../dist/components/providers/buildStamp").writeBuildStamp(projectDir);
