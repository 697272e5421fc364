/**
 * The telemetry summary of a Report (CONTRACT.md 5.4): at most 4 KB, so each message costs one
 * metered IoT Hub block. Findings are trimmed from the least severe end when needed, and the
 * number left out is said.
 */
import type { Report } from './types.js';

export const TELEMETRY_MAX_BYTES = 4096;

export interface TelemetrySummary {
  schemaVersion: 1;
  checkId: string;
  trigger: Report['trigger'];
  startedAt: string;
  durationMs: number;
  status: Report['status'];
  failingComponent: Report['failingComponent'];
  findings: Array<{ code: string; severity: string; component: string; subject: string }>;
  findingsOmitted: number;
  timings: Record<string, number>;
}

export function telemetrySummary(report: Report): TelemetrySummary {
  const rank = { error: 0, warning: 1, info: 2 } as const;
  const all = [...report.findings]
    .sort((a, b) => rank[a.severity] - rank[b.severity])
    .map((f) => ({ code: f.code, severity: f.severity, component: f.component, subject: f.subject.slice(0, 200) }));
  const summary: TelemetrySummary = {
    schemaVersion: 1,
    checkId: report.checkId,
    trigger: report.trigger,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    status: report.status,
    failingComponent: report.failingComponent,
    findings: all,
    findingsOmitted: 0,
    timings: report.timings,
  };
  while (Buffer.byteLength(JSON.stringify(summary)) > TELEMETRY_MAX_BYTES && summary.findings.length > 0) {
    summary.findings = summary.findings.slice(0, -1);
    summary.findingsOmitted = all.length - summary.findings.length;
  }
  return summary;
}

/** A stable fingerprint of what an operator would call "the same state", for telemetry "onChange". */
export function stateFingerprint(report: Report): string {
  const codes = report.findings.map((f) => `${f.code}@${f.subject}:${f.severity}`).sort();
  return JSON.stringify([report.status, report.failingComponent, codes]);
}
