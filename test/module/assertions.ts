/**
 * What the module publishes, checked against the Report it came from: the method response (a
 * schema-valid Report), the twin's compact form (CONTRACT.md 5.2), the telemetry summary (5.4),
 * and its logs (5.5: structured, no secrets, no crash).
 */
import assert from 'node:assert/strict';
import type { Report } from '../../src/report/types.js';
import type { MethodResult, TelemetryEvent } from '../hub/emulator.js';
import type { JsonObject } from '../hub/twin-rules.js';
import { twinSectionSize, TWIN_LIMITS } from '../hub/twin-rules.js';
import { assertValidReport } from '../support/report-schema.js';
import type { ModuleProcess } from './module-harness.js';
import { secretLeaks, summaryOf } from './module-harness.js';

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objects(v: unknown, what: string): JsonObject[] {
  assert.ok(Array.isArray(v), `${what} is an array`);
  for (const item of v) assert.ok(isObject(item), `${what} holds objects`);
  return v as JsonObject[];
}

/** A 200 method result carrying a schema-valid Report; returns the Report. */
export function reportFrom(result: MethodResult): Report {
  assert.equal(result.status, 200, `status 200, got ${result.status}: ${result.rawPayload.slice(0, 500)}`);
  assertValidReport(result.payload);
  return result.payload as Report;
}

/** A refusal shaped `{error: {code, message}}`; returns the error. */
export function errorFrom(result: MethodResult, status = 400): { code: string; message: string } {
  assert.equal(result.status, status, `status ${status}, got ${result.status}: ${result.rawPayload.slice(0, 500)}`);
  assert.ok(isObject(result.payload), `an object payload: ${result.rawPayload}`);
  const error = result.payload['error'];
  assert.ok(isObject(error), `payload.error is an object: ${result.rawPayload}`);
  assert.equal(typeof error['code'], 'string');
  assert.equal(typeof error['message'], 'string');
  assert.ok((error['message'] as string).length > 0);
  return error as { code: string; message: string };
}

/** The reported properties hold exactly this report's verdict and evidence, in compact form. */
export function assertTwinShowsReport(reported: JsonObject, report: Report): void {
  assert.equal(reported['schemaVersion'], 1);
  assert.equal(reported['status'], report.status);
  // IoT Hub deletes a property patched to null, so "no failing component" is an absent key.
  assert.equal(reported['failingComponent'], report.failingComponent ?? undefined);
  assert.deepEqual(reported['lastCheck'], {
    checkId: report.checkId,
    trigger: report.trigger,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
  });
  assert.equal(typeof reported['lastStatusChangeAt'], 'string');

  const ip = reported['ip'];
  const dns = reported['dns'];
  const fw = reported['firewall'];
  assert.ok(isObject(ip) && isObject(dns) && isObject(fw), 'ip, dns and firewall are objects');
  assert.equal(ip['status'], report.components.ip.status);
  assert.deepEqual(
    objects(ip['interfaces'], 'ip.interfaces').map((i) => i['name']),
    report.components.ip.interfaces.slice(0, 8).map((i) => i.name),
  );
  assert.equal(dns['status'], report.components.dns.status);
  assert.deepEqual(
    objects(dns['servers'], 'dns.servers').map((s) => s['address']),
    report.components.dns.servers.slice(0, 8).map((s) => s.address),
  );
  assert.equal(fw['status'], report.components.firewall.status);
  const outcomes = new Map(report.components.firewall.endpoints.map((e) => [`${e.host}:${e.port}`, e.outcome]));
  for (const e of objects(fw['endpoints'], 'firewall.endpoints')) {
    assert.equal(
      e['outcome'],
      outcomes.get(`${String(e['host'])}:${String(e['port'])}`),
      `outcome of ${String(e['host'])}:${String(e['port'])}`,
    );
  }

  const findings = objects(reported['findings'], 'findings');
  const omitted = reported['findingsOmitted'];
  assert.equal(typeof omitted, 'number');
  assert.equal(
    findings.length + (omitted as number),
    report.findings.length,
    'every finding is in the twin or counted as omitted',
  );
  const inReport = new Set(report.findings.map((f) => `${f.code}|${f.severity}|${f.component}|${f.subject}`));
  for (const f of findings) {
    for (const key of ['code', 'severity', 'component', 'subject', 'message', 'guidance'])
      assert.equal(typeof f[key], 'string', `finding.${key}`);
    assert.ok(
      inReport.has(`${String(f['code'])}|${String(f['severity'])}|${String(f['component'])}|${String(f['subject'])}`),
      `finding ${String(f['code'])} is from this report`,
    );
  }
  assert.ok(twinSectionSize(reported) <= TWIN_LIMITS.maxSectionBytes, 'the reported section fits 32 KB');
}

/** One telemetry message for this report, as CONTRACT.md 5.4 describes it. */
export function assertTelemetryOf(event: TelemetryEvent, report: Report): void {
  assert.equal(event.outputName, 'diagnostics');
  assert.equal(event.contentType, 'application/json');
  assert.equal(event.contentEncoding, 'utf-8');
  assert.equal(event.properties['status'], report.status);
  assert.equal(event.properties['failingComponent'], report.failingComponent ?? 'none');
  assert.ok(event.body.length <= 4096, `body ${event.body.length} bytes, at most 4096`);
  const s = summaryOf(event);
  assert.equal(s['schemaVersion'], 1);
  assert.equal(s['checkId'], report.checkId);
  assert.equal(s['trigger'], report.trigger);
  assert.equal(s['startedAt'], report.startedAt);
  assert.equal(s['durationMs'], report.durationMs);
  assert.equal(s['status'], report.status);
  assert.equal(s['failingComponent'], report.failingComponent);
  assert.ok(isObject(s['timings']), 'timings');
  const sent = objects(s['findings'], 'summary findings');
  for (const f of sent) {
    // Subjects are shortened in the summary to keep it inside one 4 KB block.
    const from = report.findings.some(
      (r) => r.code === f['code'] && r.severity === f['severity'] && r.subject.startsWith(String(f['subject'])),
    );
    assert.ok(from, `summary finding ${String(f['code'])} ${String(f['subject'])} is from this report`);
  }
  assert.equal(
    sent.length + (typeof s['findingsOmitted'] === 'number' ? s['findingsOmitted'] : 0),
    report.findings.length,
  );
}

/**
 * The module is alive and its stderr is IoT Edge log lines only, with no secret and no sign of an
 * uncaught exception or unhandled rejection.
 */
export function assertHealthyLogs(proc: ModuleProcess, keys: string[], opts: { alive?: boolean } = {}): void {
  if (opts.alive !== false) assert.equal(proc.running, true, `module ${proc.moduleId} is still running`);
  assert.deepEqual(proc.strayLines(), [], 'every stderr line is an IoT Edge log line');
  assert.ok(proc.logs().length > 0, 'the module logged something');
  assert.deepEqual(secretLeaks(proc.stderr, keys), [], 'no secret in the logs');
  const crashes = proc.logs().filter((l) => /uncaught|unhandled/i.test(String(l.msg ?? '')));
  assert.deepEqual(crashes, [], 'no uncaught exception or unhandled rejection');
}
