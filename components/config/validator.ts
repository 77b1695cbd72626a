// Field readers for the stack config: each records a problem (naming the key,
// the value and what is expected) instead of throwing, so one run reports every
// problem at once; unknown nested keys are reported with a "did you mean".
import { NumberSetting, numberOrDefault, numberProblem, TextSetting, textProblem } from "./settings";

export function closest(key: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const c of candidates) {
        const d = editDistance(key.toLowerCase(), c.toLowerCase());
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    return bestDistance <= 3 ? best : undefined;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}

/** Field readers that record a problem instead of throwing, so one run reports them all. */
export class Validator {
    constructor(
        readonly problems: string[],
        readonly project: string,
    ) {}

    private leaf(path: string): string {
        return path.split(".").pop()!;
    }

    string(o: Record<string, unknown>, path: string, rule: { required?: boolean; pattern?: RegExp; patternHelp?: string }): string | undefined {
        const value = o[this.leaf(path)];
        if (value === undefined || value === "") {
            if (rule.required) this.problems.push(`${this.project}:${path}: required; ${rule.patternHelp ?? "set it in the stack file"}`);
            return undefined;
        }
        if (typeof value !== "string") {
            this.problems.push(`${this.project}:${path}: must be a string, got ${JSON.stringify(value)}`);
            return undefined;
        }
        if (rule.pattern && !rule.pattern.test(value)) {
            this.problems.push(`${this.project}:${path}: "${value}" is not valid; expected ${rule.patternHelp}`);
            return undefined;
        }
        return value;
    }

    stringList(o: Record<string, unknown>, path: string, pattern: RegExp, help: string): string[] | undefined {
        const value = o[this.leaf(path)];
        if (!Array.isArray(value) || value.length === 0) {
            this.problems.push(`${this.project}:${path}: required, a non-empty list of ${help}`);
            return undefined;
        }
        const bad = value.filter((x) => typeof x !== "string" || !pattern.test(x));
        if (bad.length > 0) {
            this.problems.push(`${this.project}:${path}: ${bad.map((x) => JSON.stringify(x)).join(", ")} not valid; expected ${help}`);
            return undefined;
        }
        return value as string[];
    }

    int(o: Record<string, unknown>, path: string, min: number, max: number): number | undefined;
    int(o: Record<string, unknown>, path: string, min: number, max: number, fallback: number): number;
    int(o: Record<string, unknown>, path: string, min: number, max: number, fallback?: number): number | undefined {
        const value = o[this.leaf(path)];
        if (value === undefined || value === "") return fallback;
        const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
        if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
            this.problems.push(`${this.project}:${path}: ${JSON.stringify(value)} must be a whole number from ${min} to ${max}`);
            return fallback;
        }
        return n;
    }

    intIn(o: Record<string, unknown>, path: string, allowed: number[]): number | undefined {
        const n = this.int(o, path, Math.min(...allowed), Math.max(...allowed));
        if (n !== undefined && !allowed.includes(n)) {
            this.problems.push(`${this.project}:${path}: ${n} must be one of ${allowed.join(", ")}`);
            return undefined;
        }
        return n;
    }

    /** A numeric setting from ./settings.ts: its limits and default, one message format everywhere. */
    setting(o: Record<string, unknown>, setting: NumberSetting): number {
        const value = o[this.leaf(setting.configPath)];
        if (value === undefined || value === "") return setting.default;
        const problem = numberProblem(setting, value);
        if (problem) {
            this.problems.push(`${this.project}:${setting.configPath}: ${problem}`);
            return setting.default;
        }
        return numberOrDefault(setting, value);
    }

    /** An optional string read by `parse`, which returns the value to keep or the problem. */
    custom<T>(o: Record<string, unknown>, path: string, parse: (text: string) => { value: T } | { problem: string }): T | undefined {
        const value = o[this.leaf(path)];
        if (value === undefined || value === "") return undefined;
        if (typeof value !== "string") {
            this.problems.push(`${this.project}:${path}: must be a string, got ${JSON.stringify(value)}`);
            return undefined;
        }
        const parsed = parse(value);
        if ("problem" in parsed) {
            this.problems.push(`${this.project}:${path}: ${parsed.problem}`);
            return undefined;
        }
        return parsed.value;
    }

    /** A text setting from ./settings.ts: its rule and default. */
    text(o: Record<string, unknown>, setting: TextSetting): string {
        const value = o[this.leaf(setting.configPath)];
        if (value === undefined || value === "") return setting.default;
        const problem = textProblem(setting, value);
        if (problem) {
            this.problems.push(`${this.project}:${setting.configPath}: ${problem}`);
            return setting.default;
        }
        return value as string;
    }

    bool(o: Record<string, unknown>, path: string, fallback: boolean): boolean {
        const value = o[this.leaf(path)];
        if (value === undefined) return fallback;
        if (value === true || value === "true") return true;
        if (value === false || value === "false") return false;
        this.problems.push(`${this.project}:${path}: ${JSON.stringify(value)} must be true or false`);
        return fallback;
    }

    oneOf<T extends string>(o: Record<string, unknown>, path: string, allowed: readonly T[], fallback?: T): T | undefined {
        const value = o[this.leaf(path)];
        if (value === undefined) return fallback;
        if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
            this.problems.push(`${this.project}:${path}: ${JSON.stringify(value)} must be one of ${allowed.join(", ")}`);
            return fallback;
        }
        return value as T;
    }

    object<T>(o: Record<string, unknown>, path: string, read: (obj: Record<string, unknown>, path: string) => T): T | undefined {
        const value = o[this.leaf(path)] ?? {};
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            this.problems.push(`${this.project}:${path}: must be a map of settings (YAML object), got ${JSON.stringify(value)}`);
            return undefined;
        }
        // Reads go through a proxy so that keys nobody asked for (typos) are reported.
        const asked = new Set<string>();
        const tracked = new Proxy(value as Record<string, unknown>, {
            get: (target, prop) => {
                if (typeof prop === "string") asked.add(prop);
                return target[prop as string];
            },
        });
        const result = read(tracked, path);
        for (const key of Object.keys(value)) {
            if (!asked.has(key)) {
                const hint = closest(key, [...asked]);
                this.problems.push(`${this.project}:${path}.${key}: unknown setting${hint ? `; did you mean ${path}.${hint}?` : ""}`);
            }
        }
        return result;
    }
}
