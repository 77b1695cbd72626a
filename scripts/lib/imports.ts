// What a TypeScript/JavaScript source file imports: `import`, `export ... from` and
// `require("...")` specifiers. Used by the codebase report and the boundary test.
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

export function importsOf(source: ts.SourceFile): string[] {
    const found: string[] = [];
    const visit = (node: ts.Node) => {
        if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
            found.push(node.moduleSpecifier.text);
        } else if (ts.isCallExpression(node) && node.expression.getText(source) === "require" && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
            found.push(node.arguments[0].text);
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
}

/** A file's import specifiers, read from disk. */
export function importsOfFile(file: string): string[] {
    return importsOf(ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true));
}

/** The file a relative specifier points at (".ts", ".js" or a folder's index.ts), or undefined for packages. */
export function resolveRelative(fromFile: string, specifier: string): string | undefined {
    if (!specifier.startsWith(".")) return undefined;
    const base = path.resolve(path.dirname(fromFile), specifier);
    for (const candidate of [base, `${base}.ts`, `${base}.js`, path.join(base, "index.ts")]) {
        if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
    }
    return base;
}
