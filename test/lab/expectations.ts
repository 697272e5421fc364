/**
 * What a lab scenario expects of the Report, and the one check of it, shared by the base matrix
 * (scenarios.test.ts) and the field matrix (field-*.test.ts): status, failingComponent, exit code,
 * the finding codes that must be there (with severity and subject) and the ones that must not
 * (root cause first: a layer that cannot work because an earlier one failed says nothing of its own).
 */
import assert from 'node:assert/strict';
import type {
  ComponentName,
  ComponentStatus,
  Finding,
  OverallStatus,
  Report,
  Severity,
} from '../../src/report/types.js';
import type { CheckRun } from './harness.js';

export const EXIT_CODE: Record<OverallStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

export interface ExpectedFinding {
  code: string;
  severity: Severity;
  subject?: string;
  /** Patterns the message must match (the actual and expected values, the issuer seen…). */
  message?: RegExp[];
  /** Patterns the message or the guidance must match (what to set, where to look). */
  mentions?: RegExp[];
}

export interface Expectation {
  status: OverallStatus;
  failingComponent: ComponentName | null;
  components?: Partial<Record<ComponentName, ComponentStatus>>;
  present?: ExpectedFinding[];
  /** Codes that must not appear at all. */
  absent?: string[];
  /** Components that must carry no error or warning finding (root cause first). */
  quiet?: ComponentName[];
  /** Anything else to check in the report. */
  more?: (report: Report, run: CheckRun) => void;
}

export function summary(findings: Finding[]): string {
  return (
    findings.map((f) => `${f.severity} ${f.code} [${f.component}] ${f.subject}: ${f.message}`).join('\n  ') || '(none)'
  );
}

export function check(report: Report, run: CheckRun, expect: Expectation): void {
  const findings = report.findings;
  assert.equal(report.status, expect.status, 'status');
  assert.equal(report.failingComponent, expect.failingComponent, 'failingComponent');
  for (const [component, status] of Object.entries(expect.components ?? {})) {
    assert.equal(report.components[component as ComponentName].status, status, `components.${component}.status`);
  }
  for (const want of expect.present ?? []) {
    const matches = findings.filter(
      (f) => f.code === want.code && (want.subject === undefined || f.subject === want.subject),
    );
    assert.ok(matches.length > 0, `missing ${want.code}${want.subject ? ` for ${want.subject}` : ''}`);
    for (const f of matches) {
      assert.equal(f.severity, want.severity, `severity of ${f.code} ${f.subject}`);
      for (const pattern of want.message ?? []) assert.match(f.message, pattern, `message of ${f.code}`);
      for (const pattern of want.mentions ?? [])
        assert.match(`${f.message}\n${f.guidance}`, pattern, `message or guidance of ${f.code}`);
      assert.ok(f.guidance.trim().length > 0, `${f.code} has no guidance`);
    }
  }
  for (const code of expect.absent ?? []) {
    assert.ok(!findings.some((f) => f.code === code), `unexpected ${code}`);
  }
  for (const component of expect.quiet ?? []) {
    const noisy = findings.filter((f) => f.component === component && f.severity !== 'info');
    assert.deepEqual(
      noisy.map((f) => f.code),
      [],
      `${component} should say nothing of its own`,
    );
  }
  if (expect.status === 'healthy') {
    assert.deepEqual(
      findings.filter((f) => f.severity !== 'info').map((f) => f.code),
      [],
      'a healthy report has no errors or warnings',
    );
  }
  expect.more?.(report, run);
  // Last, so a process that printed its report but would not exit still shows every content failure.
  assert.equal(
    run.killed,
    false,
    `the CLI printed its report but had to be killed ${run.durationMs} ms after it started`,
  );
  assert.equal(run.exitCode, EXIT_CODE[expect.status], 'exit code');
}
