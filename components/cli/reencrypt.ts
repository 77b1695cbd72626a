#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * reencrypt-secrets: rewrite every Secret so the API server seals it again
 * with the current KMS key version. A break-glass tool that needs no Pulumi:
 * flags in, engine, summary and exit code out.
 *
 * Exit codes: 0 every Secret rewritten and verified (or a dry run finished);
 * 1 some Secrets remain (listed) or the run was interrupted; 2 usage,
 * kubeconfig, connection or permission error.
 *
 * The shebang caps V8's young generation: a long busy run otherwise keeps
 * growing it, and peak memory would grow with the number of Secrets
 * (BENCHMARKS.md). `npm run reencrypt` passes the same flag.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { createKubernetesSecretsClient, loadKubeConfig } from "../kube";
import { annotationKeyProblem, annotationValueProblem, reencryptSecrets, ReencryptSummary, SecretsClient } from "../reencrypt";
import { describeLimits, NumberSetting, numberProblem, REENCRYPT_IDENTITY, REENCRYPT_TUNING, ReencryptTuning } from "../settings";
import { formatProgress, formatSummaryText } from "./report";

export const EXIT_OK = 0;
export const EXIT_SECRETS_REMAIN = 1;
export const EXIT_ERROR = 2;

const PROGRESS_INTERVAL_MS = 2000;

/** A flag's help line: the name and argument padded to a column, then the text (wrapped by the caller's terminal). */
function flagLine(flag: string, text: string): string {
    return `  ${flag.padEnd(24)}  ${text}`;
}

function tuningLine(setting: NumberSetting & { flag: string }): string {
    return flagLine(`${setting.flag} N`, `${setting.doc} ${describeLimits(setting, "cli").replace(/^a /, "A ")}.`);
}

export const USAGE = [
    "Usage: reencrypt-secrets --annotation-value VALUE [options]",
    "",
    "Rewrites every Secret in every namespace (one annotation with a new value per",
    "Secret) so kube-apiserver encrypts it again with the current KMS key version.",
    "Only Secret metadata is read; Secret values never reach this tool.",
    "",
    "Options:",
    flagLine(
        "--annotation-value VALUE",
        "required: a value no Secret carries yet, e.g. the rotation time 20220101-010101 (reusing an old value rewrites nothing)",
    ),
    flagLine(`${REENCRYPT_IDENTITY.annotationKey.flag} KEY`, `${REENCRYPT_IDENTITY.annotationKey.doc} Default ${REENCRYPT_IDENTITY.annotationKey.default}.`),
    flagLine("--kubeconfig PATH", "kubeconfig file (default $KUBECONFIG, then ~/.kube/config)"),
    flagLine("--context NAME", "kubeconfig context (default: current-context)"),
    tuningLine(REENCRYPT_TUNING.concurrency),
    tuningLine(REENCRYPT_TUNING.qps),
    tuningLine(REENCRYPT_TUNING.pageSize),
    flagLine(
        "--state FILE",
        "checkpoint file: a killed run started again with the same file and value continues where it stopped; removed once the run verifies",
    ),
    flagLine("--dry-run", "count what would be rewritten, the KMS calls and the time at the rate cap; write nothing"),
    flagLine("--output text|json", "summary format on stdout (default text; json prints exactly one object)"),
    flagLine("--help", "show this help"),
    "",
    'Needs RBAC "list" and "patch" on "secrets" in all namespaces.',
    "Exit status: 0 all rewritten and verified; 1 some remain (listed); 2 usage,",
    "connection or permission error.",
].join("\n");

export interface Writable {
    write(chunk: string): unknown;
}

export type ClientFactory = (source: { kubeconfigPath?: string; context?: string }, concurrency: number) => SecretsClient & { close?(): void };

export interface CliIO {
    stdout: Writable;
    stderr: Writable;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    /** Builds the client from kubeconfig flags; tests may inject a fake. */
    createClient?: ClientFactory;
    /** Clock for progress throttling; tests may inject one. */
    now?: () => number;
}

class UsageError extends Error {}

interface CliArgs extends ReencryptTuning {
    annotationKey: string;
    annotationValue: string;
    kubeconfigPath?: string;
    context?: string;
    statePath?: string;
    dryRun: boolean;
    output: "text" | "json";
    help: boolean;
}

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = {}): CliArgs {
    let values: Record<string, string | boolean | undefined>;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                kubeconfig: { type: "string" },
                context: { type: "string" },
                "annotation-key": { type: "string" },
                "annotation-value": { type: "string" },
                concurrency: { type: "string" },
                qps: { type: "string" },
                "page-size": { type: "string" },
                state: { type: "string" },
                "dry-run": { type: "boolean" },
                output: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    const help = values.help === true;
    const annotationKey = (values["annotation-key"] as string | undefined) ?? REENCRYPT_IDENTITY.annotationKey.default;
    const annotationValue = values["annotation-value"] as string | undefined;
    const output = (values.output as string | undefined) ?? "text";
    if (!help) {
        if (annotationValue === undefined) {
            throw new UsageError("--annotation-value is required: a value no Secret carries yet, e.g. the rotation time 20220101-010101");
        }
        const keyProblem = annotationKeyProblem(annotationKey);
        if (keyProblem) throw new UsageError(`--annotation-key: ${keyProblem}`);
        const valueProblem = annotationValueProblem(annotationValue);
        if (valueProblem) throw new UsageError(`--annotation-value: ${valueProblem}`);
        if (output !== "text" && output !== "json") throw new UsageError(`--output must be text or json, got "${output}"`);
    }
    return {
        annotationKey,
        annotationValue: annotationValue ?? "",
        kubeconfigPath: (values.kubeconfig as string | undefined) || env.KUBECONFIG || undefined,
        context: values.context as string | undefined,
        concurrency: tuningFlag(REENCRYPT_TUNING.concurrency, values.concurrency as string | undefined),
        qps: tuningFlag(REENCRYPT_TUNING.qps, values.qps as string | undefined),
        pageSize: tuningFlag(REENCRYPT_TUNING.pageSize, values["page-size"] as string | undefined),
        statePath: values.state ? path.resolve(values.state as string) : undefined,
        dryRun: values["dry-run"] === true,
        output: output as "text" | "json",
        help,
    };
}

/** A tuning flag, validated by the settings model with the CLI's limits (settings.ts records why they differ). */
function tuningFlag(setting: NumberSetting & { flag: string }, raw: string | undefined): number {
    if (raw === undefined) return setting.default;
    const trimmed = raw.trim();
    // Only plain decimal numbers: "1e3" or "0x10" are not what anyone means on a command line.
    const problem = /^\d+(\.\d+)?$/.test(trimmed) ? numberProblem(setting, Number(trimmed), "cli") : `"${raw}" must be ${describeLimits(setting, "cli")}`;
    if (problem) throw new UsageError(`${setting.flag}: ${problem.replace(/^[\d.]+ must/, `"${raw}" must`)}`);
    return Number(trimmed);
}

const defaultClientFactory: ClientFactory = (source, concurrency) => createKubernetesSecretsClient(loadKubeConfig(source), { concurrency });

export async function main(argv: string[], io: CliIO): Promise<number> {
    const env = io.env ?? {};
    let args: CliArgs;
    try {
        args = parseCliArgs(argv, env);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.stderr.write(`reencrypt-secrets: ${err.message}\nRun reencrypt-secrets --help for usage.\n`);
        return EXIT_ERROR;
    }
    if (args.help) {
        io.stdout.write(`${USAGE}\n`);
        return EXIT_OK;
    }

    const log = (line: string) => io.stderr.write(`reencrypt-secrets: ${line}\n`);
    const fail = (message: string): number => {
        log(`error: ${message}`);
        if (args.output === "json") io.stdout.write(`${JSON.stringify({ error: message })}\n`);
        return EXIT_ERROR;
    };

    let client: (SecretsClient & { close?(): void }) | undefined;
    try {
        client = (io.createClient ?? defaultClientFactory)({ kubeconfigPath: args.kubeconfigPath, context: args.context }, args.concurrency);
        const summary: ReencryptSummary = await reencryptSecrets(client, {
            annotationKey: args.annotationKey,
            annotationValue: args.annotationValue,
            concurrency: args.concurrency,
            qps: args.qps,
            pageSize: args.pageSize,
            statePath: args.statePath,
            dryRun: args.dryRun,
            signal: io.signal,
            now: io.now,
            progressIntervalMs: PROGRESS_INTERVAL_MS,
            // Short runs stay quiet; long ones report at most every couple of seconds.
            onProgress: (p) => {
                if (p.elapsedMs >= PROGRESS_INTERVAL_MS) log(formatProgress(p));
            },
            log,
        });
        io.stdout.write(args.output === "json" ? `${JSON.stringify(summary)}\n` : `${formatSummaryText(summary)}\n`);
        for (const warning of summary.warnings) log(`warning: ${warning}`);
        return summary.outcome === "verified" || summary.outcome === "dryRun" ? EXIT_OK : EXIT_SECRETS_REMAIN;
    } catch (err) {
        return fail((err as Error).message ?? String(err));
    } finally {
        client?.close?.();
    }
}

if (require.main === module) {
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = (signal: NodeJS.Signals) => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        process.stderr.write(`reencrypt-secrets: ${signal}: finishing writes in flight, then stopping (again to quit at once)\n`);
        controller.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal }).then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            process.stderr.write(`reencrypt-secrets: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
            process.exitCode = EXIT_ERROR;
        },
    );
}
