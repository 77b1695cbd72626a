/**
 * YAML from files a user (or an attacker) hands us: stack files, kubeconfigs.
 *
 * js-yaml resolves an alias to the anchored object by reference, so parsing a
 * "billion laughs" document is cheap; the cost comes later, when anything walks
 * or copies the result (an 18 s, 1.8 GB crash in the plan). So the document is
 * refused before that: a size cap on the text, then one bounded walk that
 * counts every node as the expansion would (a shared object counts each time
 * it is reached) and every reuse of an anchored object (an alias).
 *
 * Errors never echo the document: js-yaml's messages carry a snippet of the
 * surrounding lines, which in a kubeconfig holds tokens and passwords. Only the
 * reason and the line/column are kept.
 */
import * as yaml from "js-yaml";

export interface YamlLimits {
    /** Largest accepted document, in bytes (UTF-8). */
    maxBytes: number;
    /** Most alias uses (reuses of an anchored node) accepted. */
    maxAliases: number;
    /** Most nodes the document may expand to, aliases expanded. */
    maxNodes: number;
}

/** Generous for any stack file or kubeconfig we have seen (the largest real kubeconfigs are a few hundred KB). */
export const DEFAULT_YAML_LIMITS: YamlLimits = { maxBytes: 4 * 1024 * 1024, maxAliases: 1000, maxNodes: 1_000_000 };

/** A document refused or not parseable; the message names what and where, never the content. */
export class YamlDocumentError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "YamlDocumentError";
    }
}

/**
 * Parses `text` (from `origin`, a file path or a description) within `limits`.
 * Throws YamlDocumentError with a message safe to print.
 */
export function loadYamlSafely(text: string, origin: string, limits: YamlLimits = DEFAULT_YAML_LIMITS): unknown {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > limits.maxBytes) {
        throw new YamlDocumentError(`${origin} is ${bytes} bytes; at most ${limits.maxBytes} are accepted (is it the right file?)`);
    }
    let doc: unknown;
    try {
        doc = yaml.load(text);
    } catch (err) {
        throw new YamlDocumentError(`${origin} is not valid YAML: ${describeYamlError(err)}`);
    }
    checkExpansion(doc, origin, limits);
    return doc;
}

/**
 * Reason and position of a js-yaml error, without its snippet of the document. Reasons quote
 * alias and tag names from the document (`unidentified alias "hunter2"`, `unknown tag !<!abc>`),
 * so quoted and tagged parts are blanked too.
 */
export function describeYamlError(err: unknown): string {
    if (err instanceof yaml.YAMLException) {
        const mark = err.mark as { line?: number; column?: number } | undefined;
        const where = mark && typeof mark.line === "number" ? ` (line ${mark.line + 1}, column ${(mark.column ?? 0) + 1})` : "";
        const reason = (err.reason || "syntax error").replace(/"[^"]*"|'[^']*'|!<[^>]*>|![^\s,]*/g, "(…)");
        return `${reason}${where}`;
    }
    return "the parser failed";
}

/** One iterative walk (no recursion: a deeply nested document must not overflow the stack), bounded by the limits. */
function checkExpansion(doc: unknown, origin: string, limits: YamlLimits): void {
    const seen = new Set<object>();
    const stack: unknown[] = [doc];
    let nodes = 0;
    let aliases = 0;
    while (stack.length > 0) {
        const node = stack.pop();
        nodes++;
        if (nodes > limits.maxNodes) {
            throw new YamlDocumentError(`${origin} expands to more than ${limits.maxNodes} values (aliases expanded); refusing it (a YAML alias bomb?)`);
        }
        if (typeof node !== "object" || node === null) continue;
        if (seen.has(node)) {
            aliases++;
            if (aliases > limits.maxAliases) {
                throw new YamlDocumentError(`${origin} reuses anchored values more than ${limits.maxAliases} times; refusing it (a YAML alias bomb?)`);
            }
        } else {
            seen.add(node);
        }
        for (const child of Object.values(node)) stack.push(child);
    }
}
