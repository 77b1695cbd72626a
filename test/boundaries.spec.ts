// The codebase's map, asserted from every source file's imports (README, "Architecture"):
// - which folder may import which (data flows one way: config → component → providers → engine → transport);
// - the settings model imports nothing at all; the engine no Pulumi, Alibaba or transport code;
// - no import cycle between files or between folders;
// - the policy pack imports nothing from components/ (it is published on its own);
// - nothing outside test/ imports from test/, and nothing in the repository points outside it;
// - components/ has only index.ts at its root, and every test file is named after what it covers.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { importsOfFile, resolveRelative } from "../scripts/lib/imports";
import { REPO_ROOT } from "./support/repo";

const ROOT = REPO_ROOT;
const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join("/");

/** Each folder of ours and the folders it may import (besides itself). */
const MAY_IMPORT: Record<string, string[]> = {
    "components/config": [],
    "components/files": [],
    "components/reencrypt": ["components/config"],
    "components/kube": ["components/reencrypt", "components/config", "components/files"],
    "components/alibaba": ["components/config", "components/files"],
    "components/providers": ["components/alibaba", "components/kube", "components/reencrypt", "components/config", "components/files"],
    "components/component": ["components/providers", "components/kube", "components/config"],
    "components/cli": ["components/reencrypt", "components/kube", "components/alibaba", "components/config", "components/files"],
    components: ["components/config", "components/component", "components/providers"],
    plan: ["components/files", "policy"],
    policy: [],
    scripts: ["dist"], // the build step runs the compiled build helpers
    "index.ts": ["components", "components/kube", "components/providers"],
};

/** The folder a file belongs to in MAY_IMPORT: components/<folder>, components (its index.ts), a top folder, or index.ts. */
function folderOf(file: string): string {
    const parts = rel(file).split("/");
    if (parts[0] === "components") return parts.length > 2 ? `components/${parts[1]}` : "components";
    return parts.length > 1 ? parts[0] : parts[0];
}

function sources(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        if (["node_modules", "dist", "fixtures"].includes(entry.name)) return [];
        const child = path.join(dir, entry.name);
        if (entry.isDirectory()) return sources(child);
        return /\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path.join(ROOT, child)] : [];
    });
}

const PRODUCTION = [...["components", "plan", "policy", "scripts"].flatMap(sources), path.join(ROOT, "index.ts")];

interface Edge {
    file: string;
    specifier: string;
    target?: string;
}

function importsOf(files: string[]): Edge[] {
    return files.flatMap((file) => importsOfFile(file).map((specifier) => ({ file, specifier, target: resolveRelative(file, specifier) })));
}

const show = (e: Edge) => `${rel(e.file)} imports ${e.specifier}`;

/** Cycles in a directed graph, each as its path; found by depth-first search. */
function cycles(graph: Map<string, Set<string>>): string[][] {
    const found: string[][] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (node: string) => {
        state.set(node, "open");
        stack.push(node);
        for (const next of graph.get(node) ?? []) {
            if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
            else if (!state.has(next)) visit(next);
        }
        stack.pop();
        state.set(node, "done");
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node);
    return found;
}

function graphOf(edges: Edge[], key: (file: string) => string): Map<string, Set<string>> {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
        if (!e.target || !fs.existsSync(e.target)) continue;
        const [from, to] = [key(e.file), key(e.target)];
        if (from === to) continue;
        if (!graph.has(from)) graph.set(from, new Set());
        graph.get(from)!.add(to);
    }
    return graph;
}

describe("codebase boundaries", () => {
    const edges = importsOf(PRODUCTION);

    it("each folder imports only the folders the map allows", () => {
        const found = edges
            .filter((e) => e.target !== undefined && !rel(e.target).startsWith("node_modules/"))
            .filter((e) => {
                const [from, to] = [folderOf(e.file), folderOf(e.target!)];
                return from !== to && !(MAY_IMPORT[from] ?? []).includes(to);
            })
            .map((e) => `${show(e)} (${folderOf(e.file)} → ${folderOf(e.target!)})`);
        assert.deepEqual(found, []);
    });

    it("the settings model imports nothing, not even a package", () => {
        assert.deepEqual(importsOfFile(path.join(ROOT, "components/config/settings.ts")), []);
    });

    it("the engine imports no Pulumi, Alibaba or Kubernetes client package", () => {
        const found = importsOf(sources("components/reencrypt")).filter((e) => /^@pulumi\/|^@alicloud\/|^@kubernetes\//.test(e.specifier));
        assert.deepEqual(found.map(show), []);
    });

    it("no import cycle between files, nor between folders", () => {
        assert.deepEqual(cycles(graphOf(edges, rel)), []);
        assert.deepEqual(cycles(graphOf(edges, folderOf)), []);
    });

    it("the policy pack imports nothing from components/", () => {
        const found = importsOf(sources("policy")).filter((e) => e.target !== undefined && rel(e.target).startsWith("components/"));
        assert.deepEqual(found.map(show), []);
    });

    it("nothing outside test/ imports from test/", () => {
        const found = edges.filter((e) => e.target !== undefined && rel(e.target).startsWith("test/"));
        assert.deepEqual(found.map(show), []);
    });

    it("components/ holds folders and its index.ts only; the planner is not among the developer scripts", () => {
        const loose = fs.readdirSync(path.join(ROOT, "components"), { withFileTypes: true }).filter((e) => e.isFile() && e.name !== "index.ts");
        assert.deepEqual(
            loose.map((e) => e.name),
            [],
        );
        assert.deepEqual(
            fs.readdirSync(path.join(ROOT, "scripts")).filter((name) => /plan|policy/i.test(name)),
            [],
        );
    });

    it("nothing in the repository points at files outside it", () => {
        const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
        const outside = /FACTS\.md|\.\.\/shared\/|shared\/(notes|seed)\//;
        const self = rel(__filename);
        const found = tracked.filter(
            (file) => file !== self && fs.existsSync(path.join(ROOT, file)) && outside.test(fs.readFileSync(path.join(ROOT, file), "utf8")),
        );
        assert.deepEqual(found, []);
    });

    it("every test file is named after a module, a folder or a layer", () => {
        // test/<folder>/<module>[.<theme>].spec.ts covers components/<folder>/<module>.ts or a folder there (or in plan/, policy/, test/support/);
        // test/<name>.spec.ts covers the program (index), a folder, or a layer named here; test/realCluster/ and test/e2e/ hold layer suites.
        const layers = ["boundaries", "setup"];
        // Suites that run a whole layer against real components have a folder of their own.
        const layerFolders = ["realCluster", "e2e"];
        const covered = (dir: string, module: string) =>
            [`components/${dir}/${module}`, `${dir}/${module}`, `test/${dir}/${module}`]
                .flatMap((base) => [`${base}.ts`, base])
                .some((candidate) => fs.existsSync(path.join(ROOT, candidate)));
        const unnamed = sources("test")
            .map(rel)
            .filter((file) => file.endsWith(".spec.ts"))
            .filter((file) => {
                const parts = file.split("/").slice(1);
                const module = parts[parts.length - 1].replace(/\.spec\.ts$/, "").split(".")[0];
                if (parts.length === 1) return !(module === "index" || layers.includes(module) || fs.existsSync(path.join(ROOT, "components", module)));
                const dir = parts.slice(0, -1).join("/");
                return !layerFolders.includes(parts[0]) && !covered(dir, module);
            });
        assert.deepEqual(unnamed, []);
    });

    it("can see a violation (the checks are not vacuous)", () => {
        const testEdges = importsOf(sources("test"));
        assert.ok(testEdges.filter((e) => e.target !== undefined && rel(e.target).startsWith("test/support/")).length > 10);
        assert.ok(edges.some((e) => e.target && folderOf(e.file) === "components/providers" && folderOf(e.target) === "components/reencrypt"));
        const cyclic = new Map([
            ["a", new Set(["b"])],
            ["b", new Set(["a"])],
        ]);
        assert.equal(cycles(cyclic).length, 1);
    });
});
