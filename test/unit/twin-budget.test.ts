/**
 * The reported section stays inside IoT Hub's 32 KB (src/module/twin-budget.ts with the
 * projection's own fitting in src/report/twin.ts): the acknowledgements get a share, the report
 * the rest, and each fits itself into its share.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACKS_BUDGET_BYTES, REPORTED_MAX_BYTES, fitAcks, reportBudget } from '../../src/module/twin-budget.js';
import { fitReport, reportToTwin, reportedSize, type JsonObject } from '../../src/report/twin.js';
import { assertValidReport } from '../support/report-schema.js';
import { endpoint, healthyInterface } from '../support/observations.js';
import { makeReport, skippedClock, skippedProxy } from '../support/reports.js';

describe('the reported section stays inside 32 KB', () => {
  const bigAck = (i: number): JsonObject => ({ value: `/${'x'.repeat(4000)}${i}`, ac: 200, av: 3, ad: 'applied' });

  test('leaves normal acknowledgements exact, and shortens the longest ones beyond the budget', () => {
    const small: JsonObject = { timeoutMs: { value: 2000, ac: 200, av: 2, ad: 'applied' } };
    assert.equal(fitAcks(small), small);
    const acks: JsonObject = { ...small };
    for (let i = 0; i < 5; i++) acks[`path${i}`] = bigAck(i);
    const fitted = fitAcks(acks);
    assert.ok(reportedSize(fitted) <= ACKS_BUDGET_BYTES, `${reportedSize(fitted)} bytes`);
    assert.deepEqual(fitted['timeoutMs'], small['timeoutMs'], 'small ones untouched');
    assert.match(String((fitted['path0'] as JsonObject)['ad']), /shortened/);
    assert.equal((fitted['path0'] as JsonObject)['ac'], 200);
  });

  test("the report's share is what the others leave, never below 4 KB", () => {
    assert.equal(reportBudget(1000, 24 * 1024), 24 * 1024);
    assert.ok(reportBudget(20 * 1024, 24 * 1024) < 24 * 1024);
    assert.equal(reportBudget(40 * 1024, 24 * 1024), 4096);
  });

  test('fits any report projection into its budget: evidence strings first, then findings (counted)', () => {
    const base = healthyInterface({ name: 'eth0', configFile: `/${'n'.repeat(4000)}` });
    const healthy = makeReport();
    const report = makeReport({
      trigger: 'method',
      status: 'unhealthy',
      failingComponent: 'firewall',
      components: {
        ip: { status: 'healthy', interfaces: [base], defaultGateway: null },
        dns: healthy.components.dns,
        firewall: { status: 'unhealthy', upstreamProtocol: 'Amqp', endpoints: [endpoint(443)] },
        proxy: skippedProxy(),
        clock: skippedClock(),
      },
      findings: Array.from(
        { length: 60 },
        (_, i) =>
          ({
            code: 'FW_PORT_REJECTED',
            severity: i < 10 ? 'error' : 'warning',
            component: 'firewall',
            subject: `h${i}:1`,
            message: 'm'.repeat(400),
            guidance: 'g'.repeat(400),
          }) as const,
      ),
    });
    assertValidReport(report);
    const budget = 12 * 1024;
    // reportToTwin fits itself; fitReport on its output must change nothing more.
    const doc = reportToTwin(report, report.startedAt, budget);
    assert.deepEqual(fitReport(doc, budget), doc);
    assert.ok(reportedSize(doc) <= budget, `${reportedSize(doc)} bytes`);
    const kept = doc['findings'] as JsonObject[];
    assert.equal(kept.length + (doc['findingsOmitted'] as number), 60);
    assert.ok(kept.length > 0 && kept.every((f, i) => i >= 10 || f['severity'] === 'error'), 'most severe kept first');
    assert.ok(reportedSize(doc) < REPORTED_MAX_BYTES);
  });
});
