#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * reencrypt-secrets: rewrite every Secret so the API server seals it again
 * with the current KMS key version. A break-glass tool that needs no Pulumi:
 * flags in, engine, summary and exit code out.
 *
 * Exit codes: 0 every Secret rewritten and verified (or a dry run finished);
 * 1 some Secrets remain (listed, with the server's reason, e.g. a write denied
 * by an admission webhook) or the run was interrupted (SIGINT/SIGTERM: the
 * checkpoint and summary are written first); 2 usage, kubeconfig, checkpoint,
 * connection or permission error, or a run stopped early (rejected
 * credentials, the error budget, a disk that cannot take the checkpoint).
 *
 * The shebang caps V8's young generation: a long busy run otherwise keeps
 * growing it, and peak memory would grow with the number of Secrets
 * (BENCHMARKS.md). `npm run reencrypt` passes the same flag.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { createKubernetesSecretsClient, loadKubeConfig } from "../kube";
import { annotationKeyProblem, annotationValueProblem, ClusterTarget, reencryptSecrets, ReencryptSummary, SecretsClient } from "../reencrypt";
import type { CheckpointFileSystem } from "../reencrypt/checkpoint";
import {
    CliOnlySetting,
    describeLimits,
    eachTuning,
    EXEC_TIMEOUT,
    numberProblem,
    REENCRYPT_IDENTITY,
    REENCRYPT_TUNING,
    REENCRYPT_TUNING_NAMES,
    ReencryptTuning,
} from "../config";
import { formatProgress, formatSummaryText, formatTarget } from "./report";

export const EXIT_OK = 0;
export const EXIT_SECRETS_REMAIN = 1;
export const EXIT_ERROR = 2;

const PROGRESS_INTERVAL_MS = 2000;

/** A flag's help line: the name and argument padded to a column, then the text (wrapped by the caller's terminal). */
function flagLine(flag: string, text: string): string {
    return `  ${flag.padEnd(24)}  ${text}`;
}

function tuningLine(setting: CliOnlySetting): string {
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
    flagLine("--kubeconfig PATH", "kubeconfig file (default $KUBECONFIG, then ~/.kube/config); an empty value is refused"),
    flagLine("--context NAME", "kubeconfig context (default: current-context); an empty value is refused"),
    ...REENCRYPT_TUNING_NAMES.map((name) => tuningLine(REENCRYPT_TUNING[name])),
    tuningLine(EXEC_TIMEOUT),
    flagLine(
        "--state FILE",
        "checkpoint file: a stopped run started again with the same file, cluster and value continues where it stopped; removed once the run " +
            "verifies. A file that is not such a checkpoint (of this cluster and value) is refused, never overwritten; a second run on it is refused",
    ),
    flagLine("--dry-run", "count what would be rewritten, the KMS calls and the time at the rate cap; write nothing"),
    flagLine("--output text|json", "summary format on stdout (default text; json prints exactly one object)"),
    flagLine("--help", "show this help"),
    "",
    'Needs RBAC "list" and "patch" on "secrets" in all namespaces. Before writing it prints the',
    "server, context and user it writes to. Ctrl-C (SIGINT/SIGTERM) stops promptly, saving the",
    "checkpoint and the summary; a second Ctrl-C quits at once.",
    "Exit status: 0 all rewritten and verified; 1 some remain (listed with the server's reason)",
    "or interrupted; 2 usage, kubeconfig, checkpoint, connection or permission error, or a run",
    "stopped early (rejected credentials, the error budget, a full disk): the summary says why.",
].join("\n");

export interface Writable {
    write(chunk: string): unknown;
}

export interface ClientSource {
    kubeconfigPath?: string;
    context?: string;
    execTimeoutMs: number;
    signal?: AbortSignal;
}

export type ClientFactory = (source: ClientSource, tuning: ReencryptTuning) => SecretsClient & { close?(): void };

export interface CliIO {
    stdout: Writable;
    stderr: Writable;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    /** Builds the client from kubeconfig flags; tests may inject a fake. */
    createClient?: ClientFactory;
    /** Clock for progress throttling; tests may inject one. */
    now?: () => number;
    /** File access for the checkpoint; tests inject EROFS/ENOSPC. */
    checkpointFileSystem?: CheckpointFileSystem;
}

class UsageError extends Error {}

interface CliArgs extends ReencryptTuning {
    annotationKey: string;
    annotationValue: string;
    kubeconfigPath?: string;
    context?: string;
    execTimeoutSeconds: number;
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
                ...Object.fromEntries(REENCRYPT_TUNING_NAMES.map((name) => [REENCRYPT_TUNING[name].flag.slice(2), { type: "string" as const }])),
                [EXEC_TIMEOUT.flag.slice(2)]: { type: "string" },
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
        // An empty value would silently fall back to the default kubeconfig or context: another cluster, perhaps.
        if (values.kubeconfig === "") throw new UsageError("--kubeconfig is empty: give the kubeconfig file to use (or leave the flag out for $KUBECONFIG)");
        if (values.context === "") throw new UsageError("--context is empty: give the context name (or leave the flag out for current-context)");
        if (values.state === "") throw new UsageError("--state is empty: give the checkpoint file's path (or leave the flag out for no checkpoint)");
    }
    return {
        annotationKey,
        annotationValue: annotationValue ?? "",
        kubeconfigPath: (values.kubeconfig as string | undefined) || env.KUBECONFIG || undefined,
        context: values.context as string | undefined,
        ...eachTuning((setting) => tuningFlag(setting as CliOnlySetting, values[(setting as CliOnlySetting).flag.slice(2)] as string | undefined)),
        execTimeoutSeconds: tuningFlag(EXEC_TIMEOUT, values[EXEC_TIMEOUT.flag.slice(2)] as string | undefined),
        statePath: values.state ? path.resolve(values.state as string) : undefined,
        dryRun: values["dry-run"] === true,
        output: output as "text" | "json",
        help,
    };
}

/** A tuning flag, validated by the settings model with the CLI's limits (settings.ts records why they differ). */
function tuningFlag(setting: CliOnlySetting, raw: string | undefined): number {
    if (raw === undefined) return setting.default;
    const trimmed = raw.trim();
    // Only plain decimal numbers: "1e3" or "0x10" are not what anyone means on a command line.
    const problem = /^\d+(\.\d+)?$/.test(trimmed) ? numberProblem(setting, Number(trimmed), "cli") : `"${raw}" must be ${describeLimits(setting, "cli")}`;
    if (problem) throw new UsageError(`${setting.flag}: ${problem.replace(/^"?[\d.]+"? must/, `"${raw}" must`)}`);
    return Number(trimmed);
}

const defaultClientFactory: ClientFactory = (source, tuning) =>
    createKubernetesSecretsClient(
        loadKubeConfig({ kubeconfigPath: source.kubeconfigPath, context: source.context }, { execTimeoutMs: source.execTimeoutMs, signal: source.signal }),
        { concurrency: tuning.concurrency, requestTimeoutMs: tuning.requestTimeoutSeconds * 1000, maxPageBytes: tuning.maxPageMiB * 1024 * 1024 },
    );

/** `--output json` as given on the command line, read before parsing: usage errors must be JSON too. */
function wantsJson(argv: string[]): boolean {
    const i = argv.lastIndexOf("--output");
    return argv.includes("--output=json") || (i >= 0 && argv[i + 1] === "json");
}

export async function main(argv: string[], io: CliIO): Promise<number> {
    const env = io.env ?? {};
    let args: CliArgs;
    try {
        args = parseCliArgs(argv, env);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.stderr.write(`reencrypt-secrets: ${err.message}\nRun reencrypt-secrets --help for usage.\n`);
        if (wantsJson(argv)) io.stdout.write(`${JSON.stringify({ error: err.message, exitCode: EXIT_ERROR })}\n`);
        return EXIT_ERROR;
    }
    if (args.help) {
        io.stdout.write(`${USAGE}\n`);
        return EXIT_OK;
    }

    const log = (line: string) => io.stderr.write(`reencrypt-secrets: ${line}\n`);
    let target: ClusterTarget | undefined;
    const fail = (message: string): number => {
        log(`error: ${message}`);
        if (args.output === "json") io.stdout.write(`${JSON.stringify({ error: message, exitCode: EXIT_ERROR, ...(target ? { target } : {}) })}\n`);
        return EXIT_ERROR;
    };

    let client: (SecretsClient & { close?(): void }) | undefined;
    try {
        const tuning = eachTuning((_, name) => args[name]);
        client = (io.createClient ?? defaultClientFactory)(
            { kubeconfigPath: args.kubeconfigPath, context: args.context, execTimeoutMs: args.execTimeoutSeconds * 1000, signal: io.signal },
            tuning,
        );
        target = client.target;
        // Before anything is written (and in a dry run too): which cluster, as whom.
        log(`${args.dryRun ? "dry run against" : "writing to"} ${formatTarget(target)}`);
        const summary: ReencryptSummary = await reencryptSecrets(client, {
            annotationKey: args.annotationKey,
            annotationValue: args.annotationValue,
            concurrency: args.concurrency,
            qps: args.qps,
            pageSize: args.pageSize,
            errorBudget: args.errorBudget,
            stallTimeoutMs: args.stallTimeoutSeconds * 1000,
            statePath: args.statePath,
            dryRun: args.dryRun,
            signal: io.signal,
            now: io.now,
            checkpointFileSystem: io.checkpointFileSystem,
            progressIntervalMs: PROGRESS_INTERVAL_MS,
            // Short runs stay quiet; long ones report at most every couple of seconds.
            onProgress: (p) => {
                if (p.elapsedMs >= PROGRESS_INTERVAL_MS) log(formatProgress(p));
            },
            log,
        });
        const exitCode =
            summary.outcome === "verified" || summary.outcome === "dryRun" ? EXIT_OK : summary.outcome === "stopped" ? EXIT_ERROR : EXIT_SECRETS_REMAIN;
        io.stdout.write(args.output === "json" ? `${JSON.stringify({ ...summary, target, exitCode })}\n` : `${formatSummaryText(summary)}\n`);
        for (const warning of summary.warnings) log(`warning: ${warning}`);
        if (summary.stopReason) log(`error: ${summary.stopReason}`);
        return exitCode;
    } catch (err) {
        return fail((err as Error).message ?? String(err));
    } finally {
        client?.close?.();
    }
}

/** Exit status when a second SIGINT/SIGTERM quits at once (128 + SIGINT, as shells report it). */
export const EXIT_QUIT_AT_ONCE = 130;

if (require.main === module) {
    const argv = process.argv.slice(2);
    const json = wantsJson(argv);
    /** A last word for the ways out that skip main's own reporting: one line, and one JSON object in JSON mode. */
    const lastWord = (message: string, code: number) => {
        process.stderr.write(`reencrypt-secrets: ${message}\n`);
        if (json) process.stdout.write(`${JSON.stringify({ error: message, exitCode: code })}\n`);
    };
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = (signal: NodeJS.Signals) => {
        interrupts++;
        if (interrupts > 1) {
            lastWord(
                `${signal} again: quitting at once; the checkpoint is the last one saved (run again with the same --state to continue)`,
                EXIT_QUIT_AT_ONCE,
            );
            process.exit(EXIT_QUIT_AT_ONCE);
        }
        process.stderr.write(`reencrypt-secrets: ${signal}: cancelling requests, saving the checkpoint and the summary (again to quit at once)\n`);
        controller.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // A fault of this tool, not of the input: one line (PLAN_DEBUG-style traces only on request), exit 2 like any other error.
    const unexpected = (err: unknown) => {
        const detail = process.env.REENCRYPT_DEBUG ? ((err as Error)?.stack ?? String(err)) : ((err as Error)?.message ?? String(err));
        lastWord(`unexpected error (a bug; REENCRYPT_DEBUG=1 shows where): ${detail}`, EXIT_ERROR);
        process.exit(EXIT_ERROR);
    };
    process.on("uncaughtException", unexpected);
    main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal }).then((code) => {
        process.exitCode = code;
    }, unexpected);
}
