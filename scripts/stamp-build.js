// Part of `npm run build`: stamps dist/ with the hash of the sources it was built from (components/providers/buildStamp.ts).
require("../dist/components/providers/buildStamp").writeBuildStamp(require("path").resolve(__dirname, ".."));
