// The program runs TypeScript through ts-node, but Pulumi's provider host runs
// the compiled dist/ (components/providers/shim.ts). If they disagree (a pull or
// an edit without `npm run build`), the providers would silently run old code.
// The build stamps dist/ with a hash of the sources; the program and the test
// runner refuse a stale stamp.

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

const STAMP_FILE = path.join("dist", "build-stamp.json");
const SOURCE_DIR = "components";

function sourceFiles(dir: string): string[] {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((entry) => {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) return sourceFiles(full);
            return entry.isFile() && entry.name.endsWith(".ts") ? [full] : [];
        })
        .sort();
}

/** A hash over every TypeScript source under components/ (names and contents). */
export function sourceHash(projectDir: string): string {
    const hash = crypto.createHash("sha256");
    for (const file of sourceFiles(path.join(projectDir, SOURCE_DIR))) {
        hash.update(path.relative(projectDir, file).split(path.sep).join("/"));
        hash.update("\0");
        hash.update(fs.readFileSync(file));
        hash.update("\0");
    }
    return hash.digest("hex");
}

/** Called by `npm run build` after tsc. */
export function writeBuildStamp(projectDir: string): void {
    fs.writeFileSync(path.join(projectDir, STAMP_FILE), `${JSON.stringify({ sourceHash: sourceHash(projectDir) })}\n`);
}

/** Why dist/ cannot be trusted to match the sources, or undefined when it does. */
export function staleBuildProblem(projectDir: string): string | undefined {
    const file = path.join(projectDir, STAMP_FILE);
    let stamped: string | undefined;
    try {
        stamped = (JSON.parse(fs.readFileSync(file, "utf8")) as { sourceHash?: string }).sourceHash;
    } catch {
        return `${file} is missing: the dynamic providers run the compiled code in dist/. Run \`npm ci\` (or \`npm run build\`) in ${projectDir}.`;
    }
    if (stamped !== sourceHash(projectDir)) {
        return `dist/ was built from other sources than components/ holds now, and the dynamic providers would run that old code. Run \`npm run build\` in ${projectDir}.`;
    }
    return undefined;
}
