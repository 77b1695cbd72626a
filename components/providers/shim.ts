// The serialized face of our dynamic providers.
//
// Pulumi stores a dynamic provider in state as closure-serialized JavaScript
// (`__provider`) and runs THAT text, rebuilt by `@pulumi/pulumi/cmd/dynamic-provider`
// with require-from-string, in the program's directory, under plain node.
// Serializing the real implementation would (a) lose what closure serialization
// cannot carry (module-level Set/Map, Error subclasses: docs/platform-facts.md, "Pulumi engine behaviour") and (b) freeze
// the code of every existing resource, because refresh and delete run the text
// stored in state and a changed `__provider` alone produces no diff.
//
// So the text we let Pulumi store is this shim: a few lines that `require` the
// compiled implementation from the project's dist/ at run time. A fixed
// implementation reaches existing resources on the next `npm ci` / `npm run build`.
// The shim captures only strings; `require` is left free, so it is the host
// module's own require, and relative paths resolve against the current directory.
//
// The host's current directory is the project directory when the CLI found
// Pulumi.yaml (walking up from the shell's directory), but the shell's own
// directory for `pulumi destroy -s org/project/stack` run outside any project
// (docs/platform-facts.md, "Pulumi engine behaviour"). The Kubernetes provider's
// credential helper is a relative path too, so loading dist/ from elsewhere would
// only move the failure to the middle of a destroy. Instead the shim records the
// project directory the program ran in, and when dist/ is missing it fails at
// its first call (configure, before any step) naming that directory.

import * as fs from "node:fs";
import * as nodePath from "node:path";
import type * as pulumi from "@pulumi/pulumi";

/** Marks shim text in state, so a provider can tell a resource still carrying older, fully serialized code. */
export const SHIM_MARKER = "ask-kms-secret-encryption:provider-shim:v1";

/**
 * A provider whose every method loads `exportName` from `compiledModule` (a path
 * relative to the program directory, e.g. "dist/components/providers/clusterEncryption.js")
 * and delegates to it.
 */
export function hostShim(compiledModule: string, exportName: string, component: string): pulumi.dynamic.ResourceProvider {
    const marker = SHIM_MARKER;
    const projectDir = projectDirectoryHolding(compiledModule) ?? "";
    function implementation(): pulumi.dynamic.ResourceProvider {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time in the host, by design
        const path = require("node:path") as typeof import("node:path");
        const file = path.resolve(compiledModule);
        let loaded: Record<string, pulumi.dynamic.ResourceProvider>;
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled implementation, by design
            loaded = require(file);
        } catch (e) {
            const err = e as { code?: string; message?: string };
            if (err.code === "MODULE_NOT_FOUND" && String(err.message).includes(file)) {
                const elsewhere = projectDir !== "" && path.resolve(projectDir) !== process.cwd();
                throw new Error(
                    `${component}: the compiled provider code ${file} is missing (${marker}). Pulumi started this provider in ` +
                        `${process.cwd()}: the program directory, or the shell's directory when no Pulumi.yaml is found there. ` +
                        (elsewhere
                            ? `\`pulumi up\` last ran this program in ${projectDir}: run the command there (or add \`--cwd ${projectDir}\`), after \`npm ci\` if dist/ is missing there too.`
                            : "Run `npm ci` (or `npm run build`) there, then retry."),
                );
            }
            throw e;
        }
        const provider = loaded[exportName];
        if (!provider) {
            throw new Error(`${component}: ${file} does not export ${exportName}; rebuild the project with \`npm run build\` and retry.`);
        }
        return provider;
    }
    return {
        configure: async (req) => implementation().configure?.(req),
        check: (olds, news) => implementation().check!(olds, news),
        diff: (id, olds, news) => implementation().diff!(id, olds, news),
        create: (inputs) => implementation().create(inputs),
        read: (id, props) => implementation().read!(id, props),
        update: (id, olds, news) => implementation().update!(id, olds, news),
        delete: (id, props) => implementation().delete!(id, props),
    };
}

/** The directory, this module's or one above it, that holds `compiledModule`: the project the program runs in. */
function projectDirectoryHolding(compiledModule: string): string | undefined {
    let dir = __dirname;
    // Capped: the file system's root ends the walk long before.
    for (let depth = 0; depth < 64; depth++) {
        if (fs.existsSync(nodePath.join(dir, compiledModule))) return dir;
        const parent = nodePath.dirname(dir);
        if (parent === dir) return undefined;
        dir = parent;
    }
    return undefined;
}

/** True when a resource's stored `__provider` is a shim (and so runs the installed code). */
export function isShimText(providerText: unknown): boolean {
    return typeof providerText === "string" && providerText.includes(SHIM_MARKER);
}
