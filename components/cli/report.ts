/** The CLI's renderings of progress and summaries: the words about flags live here, not in the engine. */
import { ClusterTarget, ReencryptProgress, ReencryptSummary } from "../reencrypt/types";

/** "server https://..., context c, user u (cluster CA sha256:ab12...)": printed before the first write. */
export function formatTarget(target: ClusterTarget | undefined): string {
    if (!target) return "a cluster the client does not name";
    const parts = [`server ${target.server}`, `context ${target.context ?? "(none)"}`, `user ${target.user ?? "(none)"}`];
    const ca = target.caFingerprint ? `cluster CA sha256:${target.caFingerprint.slice(0, 16)}…` : "no cluster CA in the kubeconfig";
    return `${parts.join(", ")} (${ca})`;
}

export function formatProgress(progress: ReencryptProgress): string {
    const total = progress.totalEstimate !== undefined ? `/${progress.totalEstimate}` : "";
    const eta = progress.etaSeconds !== undefined ? `, ETA ${formatDuration(progress.etaSeconds)}` : "";
    return `[${progress.phase}] ${progress.done}${total} secrets, ${progress.rewritten} rewritten, ${progress.ratePerSecond.toFixed(1)}/s${eta}`;
}

export function formatDuration(seconds: number): string {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatSummaryText(summary: ReencryptSummary): string {
    const lines: string[] = [];
    const marker = `${summary.annotationKey}=${summary.annotationValue}`;
    if (summary.dryRun) {
        lines.push(
            `dry run (${marker}): ${summary.listed} secrets listed, ${summary.alreadyCurrent} already carry the value, ${summary.wouldRewrite} would be rewritten`,
        );
        lines.push(`  KMS Encrypt calls: ${summary.estimatedKmsEncryptCalls}`);
        lines.push(
            summary.estimatedSecondsAtRateCap === null
                ? "  time: no rate cap (--qps 0): bounded by API server latency and --concurrency"
                : `  time at --qps ${summary.qps}: about ${formatDuration(summary.estimatedSecondsAtRateCap)}`,
        );
        lines.push("  nothing was written");
        return lines.join("\n");
    }
    const state = summary.outcome === "stopped" ? "stopped" : summary.outcome === "interrupted" ? "interrupted" : summary.verified ? "done" : "incomplete";
    lines.push(
        `${state} (${marker}${summary.resumed ? ", resumed" : ""}): ${summary.resumed ? "this run: " : ""}` +
            `${summary.listed} listed, ${summary.rewritten} rewritten, ${summary.alreadyCurrent} already current, ${summary.gone} gone, ` +
            `${summary.conflicts} changed by others, ${summary.failedCount} failed`,
    );
    if (summary.earlierRuns) {
        lines.push(`  earlier runs of this checkpoint: ${summary.earlierRuns.listed} listed, ${summary.earlierRuns.rewritten} rewritten`);
    }
    lines.push(
        `  writes: ${summary.writes} (KMS Encrypt calls: ${summary.kmsEncryptCalls}), throttled: ${summary.throttled}, retries: ${summary.retries}, ` +
            `list restarts: ${summary.listRestarts}, took ${formatDuration(summary.durationMs / 1000)}`,
    );
    if (summary.verified) {
        lines.push(
            `  verified: every Secret carries the value (${summary.verification.confirmedByAnnotation}) or was written after the run began ` +
                `(${summary.verification.confirmedByLaterWrite}); leftovers rewritten during verification: ${summary.verification.leftoversRewritten}`,
        );
    } else if (summary.outcome === "stopped") {
        lines.push(`  stopped: ${summary.stopReason}`);
        lines.push("  the checkpoint holds the last completed page: fix the cause, then run again with the same --state and --annotation-value");
    } else if (summary.aborted) {
        lines.push("  stopped before finishing: run again with the same --state and --annotation-value to continue");
    }
    if (summary.failedCount > 0 && summary.failed.length > 0 && summary.remainingCount === 0 && !summary.verified) {
        for (const f of summary.failed) lines.push(`    ${f.namespace}/${f.name}: ${f.reason}`);
    }
    if (summary.remainingCount > 0) {
        lines.push(`  ${summary.remainingCount} Secret(s) still not rewritten after ${summary.verification.rounds} verification round(s):`);
        for (const r of summary.remaining) lines.push(`    ${r.namespace}/${r.name}${r.reason ? `: ${r.reason}` : ""}`);
        if (summary.remainingCount > summary.remaining.length) lines.push(`    ... and ${summary.remainingCount - summary.remaining.length} more`);
    }
    return lines.join("\n");
}
