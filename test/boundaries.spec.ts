// The codebase's boundaries, asserted from every source file's imports:
// - the engine (components/reencrypt) imports no Pulumi, Alibaba or transport code;
// - the policy pack imports nothing from components/ (it is published on its own);
// - nothing outside test/ imports from test/.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { importsOfFile, resolveRelative } from "../scripts/lib/imports";
import { REPO_ROOT } from "./support/repo";

const ROOT = REPO_ROOT;
const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join("/");

function sources(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        if (entry.name === "node_modules" || entry.name === "dist") return [];
        const child = path.join(dir, entry.name);
        if (entry.isDirectory()) return sources(child);
        return /\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path.join(ROOT, child)] : [];
    });
}

/** Every import of the files under `dir`: the specifier and, for relative ones, the file it reaches. */
function importsUnder(dir: string): { file: string; specifier: string; target?: string }[] {
    return sources(dir).flatMap((file) => importsOfFile(file).map((specifier) => ({ file: rel(file), specifier, target: resolveRelative(file, specifier) })));
}

function violations(dir: string, forbidden: (edge: { specifier: string; target?: string }) => boolean): string[] {
    return importsUnder(dir)
        .filter(forbidden)
        .map((e) => `${e.file} imports ${e.specifier}`);
}

describe("codebase boundaries", () => {
    it("the engine imports no Pulumi, Alibaba or Kubernetes transport code", () => {
        const transport = ["components/kube/", "components/alibaba/", "components/providers/"];
        const found = violations("components/reencrypt", ({ specifier, target }) => {
            if (/^@pulumi\/|^@alicloud\/|^@kubernetes\//.test(specifier)) return true;
            return target !== undefined && transport.some((folder) => rel(target).startsWith(folder));
        });
        assert.deepEqual(found, []);
    });

    it("the policy pack imports nothing from components/", () => {
        const found = violations("policy", ({ target }) => target !== undefined && rel(target).startsWith("components/"));
        assert.deepEqual(found, []);
    });

    it("nothing outside test/ imports from test/", () => {
        const found = ["components", "policy", "scripts", "."].flatMap((dir) =>
            dir === "."
                ? importsOfFile(path.join(ROOT, "index.ts"))
                      .filter((s) => /(^|\/)test\//.test(s))
                      .map((s) => `index.ts imports ${s}`)
                : violations(dir, ({ target }) => target !== undefined && rel(target).startsWith("test/")),
        );
        assert.deepEqual(found, []);
    });

    it("can see a violation (the check is not vacuous)", () => {
        // The test tree does import test/support: the same check over test/ must find it.
        assert.ok(violations("test", ({ target }) => target !== undefined && rel(target).startsWith("test/support/")).length > 10);
        // And the engine does import its own modules.
        assert.ok(importsUnder("components/reencrypt").some((e) => e.target && rel(e.target).startsWith("components/reencrypt/")));
    });
});
