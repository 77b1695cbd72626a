// `npm run -s report`: the shape of the codebase, for reviews and refactors.
// Prints the largest files and units (functions, methods, classes) by lines, the
// places each setting's default is written, and the import edges between folders.
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { importsOf } from "./lib/imports";

const ROOT = path.resolve(__dirname, "..");
const SKIP = new Set(["node_modules", "dist", ".git", ".bench", "codebase-report.ts"]);

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        if (SKIP.has(e.name)) return [];
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return sourceFiles(full);
        return /\.(ts|js)$/.test(e.name) && !e.name.endsWith(".d.ts") ? [full] : [];
    });
}

const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join("/");

/** The folder a file belongs to for the edge map: two levels under components/ and test/, one elsewhere. */
function area(file: string): string {
    const parts = rel(file).split("/");
    if (parts.length === 1) return parts[0];
    if ((parts[0] === "components" || parts[0] === "test") && parts.length > 2) return `${parts[0]}/${parts[1]}`;
    return parts[0];
}

interface Unit {
    name: string;
    file: string;
    lines: number;
}

function unitsOf(file: string, source: ts.SourceFile): Unit[] {
    const units: Unit[] = [];
    const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
    const visit = (node: ts.Node, owner: string) => {
        let name: string | undefined;
        if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isClassDeclaration(node) || ts.isConstructorDeclaration(node)) {
            name = ts.isConstructorDeclaration(node) ? "constructor" : node.name?.getText(source);
        } else if (ts.isVariableDeclaration(node) && node.initializer && (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))) {
            name = node.name.getText(source);
        }
        const qualified = name ? (owner ? `${owner}.${name}` : name) : owner;
        if (name) units.push({ name: qualified, file: rel(file), lines: lineOf(node.getEnd()) - lineOf(node.getStart(source)) + 1 });
        ts.forEachChild(node, (child) => visit(child, qualified));
    };
    visit(source, "");
    return units;
}

/**
 * Where each default is written: a line naming the setting next to its default value, or a
 * settings-model entry (`name: {` with `default: value` within the next lines).
 */
const DEFAULTS: { setting: string; pattern: RegExp; model?: { name: string; value: string } }[] = [
    { setting: "concurrency = 8", pattern: /concurrency\W[^\n]{0,60}\b8\b/i, model: { name: "concurrency", value: "8" } },
    { setting: "qps = 100", pattern: /qps\W[^\n]{0,60}\b100\b/i, model: { name: "qps", value: "100" } },
    { setting: "pageSize = 500", pattern: /page-?size\W[^\n]{0,60}\b500\b/i, model: { name: "pageSize", value: "500" } },
    { setting: "pollIntervalSeconds = 10", pattern: /pollIntervalSeconds\W[^\n]{0,60}\b10\b/, model: { name: "pollIntervalSeconds", value: "10" } },
    { setting: "timeoutMinutes = 30", pattern: /timeoutMinutes\W[^\n]{0,60}\b30\b/, model: { name: "timeoutMinutes", value: "30" } },
    { setting: "annotation key", pattern: /["'`]encryption-key-rotation-time["'`]/ },
    { setting: "ServiceAccount name", pattern: /["'`]ask-secret-reencryptor["'`]/ },
    { setting: "key description", pattern: /Encrypts Kubernetes Secrets at rest for ASK Pro cluster/ },
];

function main(): void {
    const files = sourceFiles(ROOT);
    const product = files.filter((f) => !rel(f).startsWith("test/"));
    const perFile: { file: string; lines: number }[] = [];
    const units: Unit[] = [];
    const edges = new Map<string, number>();
    const defaults = new Map<string, string[]>(DEFAULTS.map((d) => [d.setting, []]));
    for (const file of files) {
        const text = fs.readFileSync(file, "utf8");
        const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
        perFile.push({ file: rel(file), lines: text.split("\n").length });
        units.push(...unitsOf(file, source));
        for (const spec of importsOf(source)) {
            if (!spec.startsWith(".")) continue;
            let target = path.resolve(path.dirname(file), spec);
            if (!/\.(ts|js)$/.test(target)) target = fs.existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, "index.ts");
            const from = area(file);
            const to = area(target);
            if (from !== to) edges.set(`${from} -> ${to}`, (edges.get(`${from} -> ${to}`) ?? 0) + 1);
        }
        if (product.includes(file)) {
            const lines = text.split("\n");
            lines.forEach((line, i) => {
                for (const d of DEFAULTS) {
                    const inModel =
                        d.model &&
                        new RegExp(`^\\s*${d.model.name}: \\{`).test(line) &&
                        new RegExp(`default: ${d.model.value}\\b`).test(lines.slice(i, i + 8).join("\n"));
                    if (d.pattern.test(line) || inModel) defaults.get(d.setting)!.push(`${rel(file)}:${i + 1}`);
                }
            });
        }
    }
    const out: string[] = [];
    const totalLines = perFile.reduce((a, f) => a + f.lines, 0);
    out.push(`# Codebase report (${perFile.length} source files, ${totalLines} lines)`, "", "## Largest files");
    for (const f of [...perFile].sort((a, b) => b.lines - a.lines).slice(0, 15)) out.push(`${String(f.lines).padStart(6)}  ${f.file}`);
    out.push("", `Files over 400 lines: ${perFile.filter((f) => f.lines > 400).length}`, "", "## Largest units (functions, methods, classes)");
    for (const u of units
        .filter((x) => !/^[A-Z]/.test(x.name.split(".").pop() ?? "") || x.name.includes("."))
        .sort((a, b) => b.lines - a.lines)
        .slice(0, 15)) {
        out.push(`${String(u.lines).padStart(6)}  ${u.file}  ${u.name}`);
    }
    out.push("", "## Where each default is written (product code)");
    for (const [setting, places] of defaults) out.push(`${setting}: ${places.length} place(s)${places.length ? `: ${places.join(", ")}` : ""}`);
    out.push("", "## Import edges between folders (count of imports)");
    for (const [edge, count] of [...edges].sort()) out.push(`${String(count).padStart(4)}  ${edge}`);
    process.stdout.write(`${out.join("\n")}\n`);
}

main();
