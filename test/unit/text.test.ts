import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderText } from '../../src/report/text.js';
import type { Report } from '../../src/report/types.js';
import { endpoint, healthyServer, HUB } from '../support/observations.js';
import { assertValidReport } from '../support/report-schema.js';
import { makeReport } from '../support/reports.js';

function report(over: Partial<Report> = {}): Report {
  return makeReport({ checkId: '00000000-0000-4000-8000-00000000000a', trigger: 'cli', ...over });
}

test('text: the literal report used here is a valid Report', () => assertValidReport(report()));

test('text: a healthy report says so on its first line and lists each layer', () => {
  const lines = renderText(report()).split('\n');
  assert.match(lines[0]!, /^HEALTHY/);
  assert.ok(
    lines.some((l) => /^IP\s+healthy/.test(l)) &&
      lines.some((l) => /^DNS\s+healthy/.test(l)) &&
      lines.some((l) => /^Firewall\s+healthy/.test(l)),
  );
  assert.ok(lines.some((l) => l.includes(`${HUB}:8883`) && l.includes('open')));
});

test('text: verdict, then the failing layer with its next step, then other findings, then the evidence', () => {
  const text = renderText(
    report({
      status: 'unhealthy',
      failingComponent: 'dns',
      components: {
        ...report().components,
        dns: {
          status: 'unhealthy',
          source: 'resolv.conf',
          files: ['/etc/resolv.conf'],
          servers: [healthyServer('198.18.0.53', { ping: { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null } })],
        },
        firewall: {
          status: 'inconclusive',
          inconclusiveBecause: 'dns',
          upstreamProtocol: 'Amqp',
          endpoints: [endpoint(443, { outcome: 'unresolved', address: null, tls: undefined })],
        },
      },
      findings: [
        {
          code: 'IP_GATEWAY_UNREACHABLE',
          severity: 'warning',
          component: 'ip',
          subject: '198.18.0.1',
          message: 'gateway silent',
          guidance: 'check the switch',
        },
        {
          code: 'DNS_SERVER_UNREACHABLE',
          severity: 'error',
          component: 'dns',
          subject: '198.18.0.53',
          message: 'server silent',
          guidance: 'use Set-EflowVmDnsServers',
        },
      ],
      timedOut: ['dns 198.18.0.53 x'],
    }),
  );
  // indexOf is -1 for a missing piece, which would pass any "comes before" check: each must be there.
  const at = (s: string) => {
    const i = text.indexOf(s);
    assert.ok(i >= 0, `the text has ${JSON.stringify(s)}:\n${text}`);
    return i;
  };
  assert.match(text, /^UNHEALTHY: the first broken layer is DNS/);
  assert.ok(at('DNS_SERVER_UNREACHABLE') < at('IP_GATEWAY_UNREACHABLE'), 'the root cause comes before other findings');
  assert.ok(at('Next step: use Set-EflowVmDnsServers') > 0);
  assert.ok(at('IP_GATEWAY_UNREACHABLE') < at('\nIP '), 'findings come before the evidence');
  assert.match(text, /Firewall\s+inconclusive \(cannot be judged while DNS is broken\)/);
  assert.match(text, /Cut short by the deadline: dns 198\.18\.0\.53 x/);
});
