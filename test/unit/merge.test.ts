import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeSkipped } from '../../src/module/merge-skipped.js';
import type { Report } from '../../src/report/types.js';
import { endpoint } from '../support/observations.js';
import { assertValidReport } from '../support/report-schema.js';
import { healthyComponents, makeReport, skippedClock, skippedProxy } from '../support/reports.js';

/** A healthy scheduled check with no gateway, no resolver file and only port 443. */
function report(over: Partial<Report>): Report {
  const healthy = healthyComponents();
  return makeReport({
    components: {
      ip: { ...healthy.ip, defaultGateway: null },
      dns: { ...healthy.dns, files: [] },
      firewall: { ...healthy.firewall, endpoints: [endpoint(443)] },
      proxy: skippedProxy(),
      clock: skippedClock(),
    },
    ...over,
  });
}

const blockedFirewall = report({
  status: 'unhealthy',
  failingComponent: 'firewall',
  components: {
    ...report({}).components,
    firewall: { status: 'unhealthy', upstreamProtocol: 'Amqp', endpoints: [endpoint(443, { outcome: 'blocked' })] },
    proxy: skippedProxy(),
    clock: skippedClock(),
  },
  findings: [
    {
      code: 'FW_PORT_BLOCKED',
      severity: 'error',
      component: 'firewall',
      subject: 'hub:443',
      message: 'dropped',
      guidance: 'open it',
    },
  ],
});

test('merge: the literal reports used here are valid Reports', () => {
  assertValidReport(report({}));
  assertValidReport(blockedFirewall);
});

test('merge: a DNS-only run keeps the firewall fault it did not look at', () => {
  const dnsOnly = report({
    checkId: '00000000-0000-4000-8000-000000000002',
    trigger: 'method',
    startedAt: '2026-11-26T06:05:00.000Z',
    components: {
      ip: { status: 'skipped', interfaces: [], defaultGateway: null },
      dns: report({}).components.dns,
      firewall: { status: 'skipped', upstreamProtocol: 'Amqp', endpoints: [] },
      proxy: skippedProxy(),
      clock: skippedClock(),
    },
  });
  const merged = mergeSkipped(dnsOnly, blockedFirewall);
  assertValidReport(merged);
  assert.equal(merged.status, 'unhealthy');
  assert.equal(merged.failingComponent, 'firewall');
  assert.deepEqual(
    merged.findings.map((f) => f.code),
    ['FW_PORT_BLOCKED'],
  );
  assert.equal(merged.checkId, dnsOnly.checkId);
  assert.deepEqual(
    merged.carriedOver?.map((c) => `${c.component}@${c.checkId}`),
    [`ip@${blockedFirewall.checkId}`, `firewall@${blockedFirewall.checkId}`],
  );
});

test('merge: a full run replaces everything and carries nothing', () => {
  const full = report({ checkId: '00000000-0000-4000-8000-000000000003' });
  assert.equal(mergeSkipped(full, blockedFirewall), full);
  assert.equal(mergeSkipped(full, null), full);
});
