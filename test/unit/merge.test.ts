import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeSkipped } from '../../src/report/merge.js';
import type { Report } from '../../src/report/types.js';
import { endpoint, healthyInterface, healthyServer } from '../support/observations.js';
import { assertValidReport } from '../support/report-schema.js';

function report(over: Partial<Report>): Report {
  return {
    schemaVersion: 1, agent: { name: 'eflow-netdiag', version: '0.1.0' }, host: null, checkId: '00000000-0000-4000-8000-000000000001',
    trigger: 'schedule', startedAt: '2026-11-26T06:00:00.000Z', durationMs: 500, status: 'healthy', failingComponent: null,
    components: {
      ip: { status: 'healthy', interfaces: [healthyInterface()], defaultGateway: null },
      dns: { status: 'healthy', source: 'resolv.conf', files: [], servers: [healthyServer()] },
      firewall: { status: 'healthy', upstreamProtocol: 'Amqp', endpoints: [endpoint(443)] },
    },
    findings: [], timings: {}, timedOut: [], ...over,
  };
}

const blockedFirewall = report({
  status: 'unhealthy', failingComponent: 'firewall',
  components: { ...report({}).components, firewall: { status: 'unhealthy', upstreamProtocol: 'Amqp', endpoints: [endpoint(443, { outcome: 'blocked' })] } },
  findings: [{ code: 'FW_PORT_BLOCKED', severity: 'error', component: 'firewall', subject: 'hub:443', message: 'dropped', guidance: 'open it' }],
});

test('merge: a DNS-only run keeps the firewall fault it did not look at', () => {
  const dnsOnly = report({
    checkId: '00000000-0000-4000-8000-000000000002', trigger: 'method', startedAt: '2026-11-26T06:05:00.000Z',
    components: { ip: { status: 'skipped', interfaces: [], defaultGateway: null }, dns: report({}).components.dns, firewall: { status: 'skipped', upstreamProtocol: 'Amqp', endpoints: [] } },
  });
  const merged = mergeSkipped(dnsOnly, blockedFirewall);
  assertValidReport(merged);
  assert.equal(merged.status, 'unhealthy');
  assert.equal(merged.failingComponent, 'firewall');
  assert.deepEqual(merged.findings.map((f) => f.code), ['FW_PORT_BLOCKED']);
  assert.equal(merged.checkId, dnsOnly.checkId);
  assert.deepEqual(merged.carriedOver?.map((c) => `${c.component}@${c.checkId}`), [`ip@${blockedFirewall.checkId}`, `firewall@${blockedFirewall.checkId}`]);
});

test('merge: a full run replaces everything and carries nothing', () => {
  const full = report({ checkId: '00000000-0000-4000-8000-000000000003' });
  assert.equal(mergeSkipped(full, blockedFirewall), full);
  assert.equal(mergeSkipped(full, null), full);
});
