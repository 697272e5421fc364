/**
 * The telemetry summary of a Report (CONTRACT.md 5.4): at most 4 KB, so each message costs one
 * metered IoT Hub block. Findings are trimmed from the least severe end when needed, and the
 * number left out is said.
 */
import { mostSevereFirst } from '../findings/order.js';
import { popUntil } from '../util/fit.js';
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
  /**
   * The clock offset moves every check, so it is carried here and not in the twin (CONTRACT 8.1); null when not
   * measured.
   */
  clockOffsetMs: number | null;
}

/** Inside one metered 4 KB block. */
export function fitsOneMessage(value: unknown): boolean {
  return Buffer.byteLength(JSON.stringify(value)) <= TELEMETRY_MAX_BYTES;
}

export function telemetrySummary(report: Report): TelemetrySummary {
  const all = mostSevereFirst(report.findings).map((f) => ({
    code: f.code,
    severity: f.severity,
    component: f.component,
    subject: f.subject.slice(0, 200),
  }));
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
    clockOffsetMs: report.components.clock.offsetMs,
  };
  summary.findingsOmitted = popUntil(summary.findings, () => fitsOneMessage(summary));
  return summary;
}

/** A stable fingerprint of what an operator would call "the same state", for telemetry "onChange". */
export function stateFingerprint(report: Report): string {
  const codes = report.findings.map((f) => `${f.code}@${f.subject}:${f.severity}`).sort();
  return JSON.stringify([report.status, report.failingComponent, codes]);
}
