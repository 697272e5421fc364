/**
 * The telemetry summary (CONTRACT.md 5.4): the contract's fields, at most 4 KB however many findings
 * there are (with a count of those left out), and a state fingerprint for telemetry "onChange".
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TELEMETRY_MAX_BYTES, stateFingerprint, telemetrySummary } from '../../src/report/telemetry.js';
import type { Finding, Report, Severity } from '../../src/report/types.js';
import { healthyGateway } from '../support/observations.js';
import { assertValidReport } from '../support/report-schema.js';
import { healthyComponents, makeReport, skippedClock, skippedProxy } from '../support/reports.js';

/** DNS broken, the firewall not judged: the report the telemetry tests start from. */
function report(over: Partial<Report> = {}): Report {
  const healthy = healthyComponents();
  return makeReport({
    checkId: '7d3e9b10-2c4f-4a6b-8e1d-5f0a9c8b7e21',
    trigger: 'method',
    durationMs: 812,
    status: 'unhealthy',
    failingComponent: 'dns',
    components: {
      ip: { ...healthy.ip, defaultGateway: healthyGateway({ rttMs: 0.3 }) },
      dns: { ...healthy.dns, status: 'unhealthy' },
      firewall: { ...healthy.firewall, status: 'inconclusive' },
      proxy: skippedProxy(),
      clock: skippedClock(),
    },
    findings: [
      {
        code: 'DNS_SERVER_NOT_ANSWERING',
        severity: 'error',
        component: 'dns',
        subject: '198.18.0.53',
        message: 'queries timed out after 3000 ms (ping 0.4 ms)',
        guidance: 'ask the network team to allow DNS to 198.18.0.53',
      },
      {
        code: 'DNS_PUBLIC_SERVER',
        severity: 'info',
        component: 'dns',
        subject: '8.8.8.8',
        message: 'a public resolver is configured',
        guidance: 'prefer the corporate resolver',
      },
    ],
    timings: { ip: 15, dns: 3010, firewall: 120 },
    ...over,
  });
}

function finding(i: number, severity: Severity, subjectLength = 60): Finding {
  return {
    code:
      severity === 'error' ? 'FW_PORT_BLOCKED' : severity === 'warning' ? 'FW_PROTOCOL_FALLBACK' : 'DNS_PUBLIC_SERVER',
    severity,
    component: severity === 'info' ? 'dns' : 'firewall',
    subject: `${i}-${'h'.repeat(subjectLength)}.example:443`,
    message: 'm'.repeat(2000),
    guidance: 'g'.repeat(2000),
  };
}

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe('telemetrySummary', () => {
  test('the literal reports used here are valid Reports', () => {
    assertValidReport(report());
    assertValidReport(report({ findings: Array.from({ length: 200 }, (_, i) => finding(i, 'error', 400)) }));
  });

  test('carries the fields of CONTRACT.md 5.4, copied from the report', () => {
    const r = report();
    const s = telemetrySummary(r);
    assert.deepEqual(Object.keys(s).sort(), [
      'checkId',
      'clockOffsetMs',
      'durationMs',
      'failingComponent',
      'findings',
      'findingsOmitted',
      'schemaVersion',
      'startedAt',
      'status',
      'timings',
      'trigger',
    ]);
    assert.equal(s.schemaVersion, 1);
    assert.equal(s.checkId, r.checkId);
    assert.equal(s.trigger, 'method');
    assert.equal(s.startedAt, r.startedAt);
    assert.equal(s.durationMs, 812);
    assert.equal(s.status, 'unhealthy');
    assert.equal(s.failingComponent, 'dns');
    assert.deepEqual(s.timings, { ip: 15, dns: 3010, firewall: 120 });
    assert.equal(s.findingsOmitted, 0);
  });

  test('findings are compact: code, severity, component and subject only', () => {
    const s = telemetrySummary(report());
    assert.deepEqual(s.findings, [
      { code: 'DNS_SERVER_NOT_ANSWERING', severity: 'error', component: 'dns', subject: '198.18.0.53' },
      { code: 'DNS_PUBLIC_SERVER', severity: 'info', component: 'dns', subject: '8.8.8.8' },
    ]);
    assert.ok(!JSON.stringify(s).includes('allow DNS'), 'no guidance text');
  });

  test('a healthy report: no findings, failingComponent null', () => {
    const s = telemetrySummary(report({ status: 'healthy', failingComponent: null, findings: [] }));
    assert.deepEqual(s.findings, []);
    assert.equal(s.failingComponent, null);
    assert.ok(bytes(s) <= TELEMETRY_MAX_BYTES);
  });

  test('the limit is one 4 KB metered block', () => assert.equal(TELEMETRY_MAX_BYTES, 4096));

  for (const subjectLength of [10, 60, 400, 5000]) {
    test(`200 findings with ${subjectLength}-character subjects stay within 4096 bytes and say how many were left out`, () => {
      const r = report({ findings: Array.from({ length: 200 }, (_, i) => finding(i, 'error', subjectLength)) });
      const s = telemetrySummary(r);
      assert.ok(bytes(s) <= TELEMETRY_MAX_BYTES, `${bytes(s)} bytes`);
      assert.ok(s.findings.length > 0, 'keeps some findings');
      assert.ok(s.findingsOmitted > 0);
      assert.equal(s.findings.length + s.findingsOmitted, 200);
      for (const f of s.findings) assert.ok(f.subject.length <= 256, 'subjects are shortened');
      // The kept findings are the report's, in its order.
      assert.deepEqual(
        s.findings.map((f) => f.subject.slice(0, 8)),
        r.findings.slice(0, s.findings.length).map((f) => f.subject.slice(0, 8)),
      );
    });
  }

  test('it keeps as many findings as fit (one more would not)', () => {
    const r = report({ findings: Array.from({ length: 200 }, (_, i) => finding(i, 'error')) });
    const s = telemetrySummary(r);
    const next = r.findings[s.findings.length]!;
    const withOneMore = {
      ...s,
      findings: [
        ...s.findings,
        { code: next.code, severity: next.severity, component: next.component, subject: next.subject },
      ],
    };
    assert.ok(bytes(withOneMore) > TELEMETRY_MAX_BYTES);
  });

  test('errors are kept before warnings and info when trimming', {}, () => {
    const findings = [
      ...Array.from({ length: 150 }, (_, i) => finding(i, 'info')),
      ...Array.from({ length: 50 }, (_, i) => finding(150 + i, 'warning')),
      finding(200, 'error'),
      finding(201, 'error'),
    ];
    const s = telemetrySummary(report({ findings }));
    assert.ok(bytes(s) <= TELEMETRY_MAX_BYTES);
    assert.deepEqual(
      s.findings.slice(0, 2).map((f) => f.severity),
      ['error', 'error'],
    );
  });
});

describe('stateFingerprint', () => {
  const base = report();

  test('equal for the same state seen by another check (id, time, duration, messages, finding order)', () => {
    const again = report({
      checkId: '00000000-1111-4222-8333-444444444444',
      trigger: 'schedule',
      startedAt: '2026-11-26T06:05:00.000Z',
      durationMs: 3,
      findings: [...base.findings]
        .reverse()
        .map((f) => ({ ...f, message: `${f.message} (rtt 12 ms)`, guidance: 'other words' })),
      timings: { ip: 1, dns: 2, firewall: 3 },
    });
    assert.equal(stateFingerprint(again), stateFingerprint(base));
  });

  const changes: Array<[string, (r: Report) => void]> = [
    ["a finding's code changes", (r) => (r.findings[0]!.code = 'DNS_SERVER_UNREACHABLE')],
    ["a finding's severity changes", (r) => (r.findings[0]!.severity = 'warning')],
    ['a finding is added', (r) => r.findings.push({ ...r.findings[1]!, subject: '1.1.1.1' })],
    ['a finding clears', (r) => r.findings.pop()],
    ['the subject moves to another server', (r) => (r.findings[0]!.subject = '198.18.0.54')],
    ['the status changes', (r) => (r.status = 'degraded')],
    ['the failing component changes', (r) => (r.failingComponent = 'firewall')],
  ];
  for (const [name, change] of changes) {
    test(`different when ${name}`, () => {
      const r = structuredClone(base);
      change(r);
      assert.notEqual(stateFingerprint(r), stateFingerprint(base));
    });
  }
});
