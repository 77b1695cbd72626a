// Stacks keep the compiled path of each provider in their state (inside the
// stored shim) and run that text for refresh and delete. Earlier releases
// compiled the providers to the components/ root; the build writes a one-line
// module at each of those paths that loads the provider from where it lives now,
// so a stack last updated by an earlier release still refreshes and destroys.

import * as fs from "node:fs";
import * as path from "node:path";

/** Stored path (relative to the program directory) → the compiled module that serves it now. */
export const COMPILED_PATHS_OF_EARLIER_RELEASES: Readonly<Record<string, string>> = {
    "dist/components/clusterEncryption.js": "dist/components/providers/clusterEncryption.js",
    "dist/components/rotation.js": "dist/components/providers/secretRotation.js",
};

/** Called by `npm run build` after tsc. */
export function writeLegacyEntryPoints(projectDir: string): void {
    for (const [stored, current] of Object.entries(COMPILED_PATHS_OF_EARLIER_RELEASES)) {
        const file = path.join(projectDir, stored);
        const target = `./${path.relative(path.dirname(stored), current).split(path.sep).join("/")}`;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(
            file,
            `// Written by the build: shims stored by earlier releases load this path.\nmodule.exports = require(${JSON.stringify(target)});\n`,
        );
    }
}
