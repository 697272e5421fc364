import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderText } from '../../src/report/text.js';
import type { Report } from '../../src/report/types.js';
import { endpoint, healthyInterface, healthyServer, HUB } from '../support/observations.js';

function report(over: Partial<Report> = {}): Report {
  return {
    schemaVersion: 1, agent: { name: 'eflow-netdiag', version: '0.1.0' }, host: null, checkId: '00000000-0000-4000-8000-00000000000a',
    trigger: 'cli', startedAt: '2026-11-26T06:00:00.000Z', durationMs: 500, status: 'healthy', failingComponent: null,
    components: {
      ip: { status: 'healthy', interfaces: [healthyInterface()], defaultGateway: { address: '198.18.0.1', interface: 'eth0', reachable: true, rttMs: 0.1 } },
      dns: { status: 'healthy', source: 'resolv.conf', files: ['/etc/resolv.conf'], servers: [healthyServer()] },
      firewall: { status: 'healthy', upstreamProtocol: 'Amqp', endpoints: [endpoint(8883), endpoint(5671), endpoint(443)] },
    },
    findings: [], timings: {}, timedOut: [], ...over,
  };
}

test('text: a healthy report says so on its first line and lists each layer', () => {
  const lines = renderText(report()).split('\n');
  assert.match(lines[0]!, /^HEALTHY/);
  assert.ok(lines.some((l) => /^IP\s+healthy/.test(l)) && lines.some((l) => /^DNS\s+healthy/.test(l)) && lines.some((l) => /^Firewall\s+healthy/.test(l)));
  assert.ok(lines.some((l) => l.includes(`${HUB}:8883`) && l.includes('open')));
});

test('text: verdict, then the failing layer with its next step, then other findings, then the evidence', () => {
  const text = renderText(report({
    status: 'unhealthy', failingComponent: 'dns',
    components: {
      ...report().components,
      dns: { status: 'unhealthy', source: 'resolv.conf', files: ['/etc/resolv.conf'], servers: [healthyServer('198.18.0.53', { ping: { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null } })] },
      firewall: { status: 'inconclusive', upstreamProtocol: 'Amqp', endpoints: [endpoint(443, { outcome: 'unresolved', address: null, tls: undefined })] },
    },
    findings: [
      { code: 'IP_GATEWAY_UNREACHABLE', severity: 'warning', component: 'ip', subject: '198.18.0.1', message: 'gateway silent', guidance: 'check the switch' },
      { code: 'DNS_SERVER_UNREACHABLE', severity: 'error', component: 'dns', subject: '198.18.0.53', message: 'server silent', guidance: 'use Set-EflowVmDnsServers' },
    ],
    timedOut: ['dns 198.18.0.53 x'],
  }));
  const at = (s: string) => text.indexOf(s);
  assert.match(text, /^UNHEALTHY: the first broken layer is DNS/);
  assert.ok(at('DNS_SERVER_UNREACHABLE') < at('IP_GATEWAY_UNREACHABLE'), 'the root cause comes before other findings');
  assert.ok(at('Next step: use Set-EflowVmDnsServers') > 0);
  assert.ok(at('IP_GATEWAY_UNREACHABLE') < at('\nIP '), 'findings come before the evidence');
  assert.match(text, /Firewall\s+inconclusive \(cannot be judged while DNS is broken\)/);
  assert.match(text, /Cut short by the deadline: dns 198\.18\.0\.53 x/);
});
