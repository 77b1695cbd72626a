/** Human-readable renderings of progress and summaries, shared by the CLI and anything else printing them. */
import { ReencryptProgress, ReencryptSummary } from "../reencrypt/types";

export function formatProgress(p: ReencryptProgress): string {
    const total = p.totalEstimate !== undefined ? `/${p.totalEstimate}` : "";
    const eta = p.etaSeconds !== undefined ? `, ETA ${formatDuration(p.etaSeconds)}` : "";
    return `[${p.phase}] ${p.done}${total} secrets, ${p.rewritten} rewritten, ${p.ratePerSecond.toFixed(1)}/s${eta}`;
}

export function formatDuration(seconds: number): string {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatSummaryText(s: ReencryptSummary): string {
    const lines: string[] = [];
    const marker = `${s.annotationKey}=${s.annotationValue}`;
    if (s.dryRun) {
        lines.push(`dry run (${marker}): ${s.listed} secrets listed, ${s.alreadyCurrent} already carry the value, ${s.wouldRewrite} would be rewritten`);
        lines.push(`  KMS Encrypt calls: ${s.estimatedKmsEncryptCalls}`);
        lines.push(
            s.estimatedSecondsAtRateCap === null
                ? "  time: no rate cap (--qps 0): bounded by API server latency and --concurrency"
                : `  time at --qps ${s.qps}: about ${formatDuration(s.estimatedSecondsAtRateCap)}`,
        );
        lines.push("  nothing was written");
        return lines.join("\n");
    }
    lines.push(
        `${s.aborted ? "interrupted" : s.verified ? "done" : "incomplete"} (${marker}${s.resumed ? ", resumed" : ""}): ` +
            `${s.listed} listed, ${s.rewritten} rewritten, ${s.alreadyCurrent} already current, ${s.gone} gone, ` +
            `${s.conflicts} changed by others, ${s.failedCount} failed`,
    );
    lines.push(
        `  writes: ${s.writes} (KMS Encrypt calls: ${s.kmsEncryptCalls}), throttled: ${s.throttled}, retries: ${s.retries}, ` +
            `list restarts: ${s.listRestarts}, took ${formatDuration(s.durationMs / 1000)}`,
    );
    if (s.verified) {
        lines.push(
            `  verified: every Secret carries the value (${s.verification.confirmedByAnnotation}) or was written after the run began ` +
                `(${s.verification.confirmedByLaterWrite}); leftovers rewritten during verification: ${s.verification.leftoversRewritten}`,
        );
    } else if (s.aborted) {
        lines.push("  stopped before finishing: run again with the same --state and --annotation-value to continue");
    }
    if (s.remainingCount > 0) {
        lines.push(`  ${s.remainingCount} Secret(s) still not rewritten after ${s.verification.rounds} verification round(s):`);
        for (const r of s.remaining) lines.push(`    ${r.namespace}/${r.name}${r.reason ? `: ${r.reason}` : ""}`);
        if (s.remainingCount > s.remaining.length) lines.push(`    ... and ${s.remainingCount - s.remaining.length} more`);
    }
    return lines.join("\n");
}
