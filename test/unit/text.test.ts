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

test("text: the VM's plumbing and the containers' DNS are shown under IP and DNS; a report without them still renders", () => {
  const r = report();
  r.components.ip = {
    ...r.components.ip,
    defaultRoutes: [
      { family: 4, gateway: '198.18.2.1', interface: 'eth1', metric: 50, inUse: true, reachable: false, arp: false },
      { family: 4, gateway: '198.18.0.1', interface: 'eth0', metric: 100, inUse: false, reachable: true, arp: true },
    ],
    routes: [
      {
        destination: '198.18.1.53',
        needs: ['dns'],
        names: [],
        kind: 'on-link',
        interface: 'docker0',
        gateway: null,
        matched: '198.18.1.48/28',
        metric: 0,
        bridge: true,
      },
    ],
    bridges: [
      {
        name: 'docker0',
        kind: 'docker-default',
        mtu: 1500,
        operState: 'up',
        ipv4: [{ address: '198.18.1.49', prefixLength: 28, subnet: '198.18.1.48' }],
        ipv6: [],
        members: [],
      },
    ],
    pathMtuSweeps: [
      {
        target: '198.18.0.1',
        role: 'gateway',
        interfaceMtu: 1500,
        largestPassingDf: 1280,
        smallestFailingDf: 1400,
        reportedMtu: null,
        probed: [
          { size: 1500, outcome: 'no-reply', mtu: null, from: null, rttMs: null },
          { size: 1400, outcome: 'no-reply', mtu: null, from: null, rttMs: null },
          { size: 1280, outcome: 'reply', mtu: null, from: null, rttMs: 0.1 },
        ],
      },
    ],
    duplicateAddress: [
      {
        address: '198.18.0.10',
        interface: 'eth0',
        conflict: true,
        conflictingMac: '02:00:00:00:00:99',
        flavour: 'iputils',
      },
    ],
  };
  r.components.dns = {
    ...r.components.dns,
    containers: {
      source: 'daemon.json',
      addresses: ['198.18.1.54'],
      servers: [healthyServer('198.18.1.54')],
      untested: [],
      fallbackPublic: false,
      network: 'user-defined',
      rules: 'v20.10-v25',
      hostLoopback: [],
      ignored: [],
      note: 'daemon.json "dns" is used as written.',
      daemonConfig: {
        path: '/etc/docker/daemon.json',
        state: 'ok',
        dns: ['198.18.1.54'],
        mtu: null,
        bip: null,
        reason: null,
        problems: [],
      },
    },
  };
  assertValidReport(r);
  const text = renderText(r);
  assert.match(
    text,
    /default routes: 198\.18\.2\.1 dev eth1 metric 50 in use \(no answer\); 198\.18\.0\.1 dev eth0 metric 100 \(answers\)/,
  );
  assert.match(
    text,
    /route to 198\.18\.1\.53 \(DNS\): on-link dev docker0 \[198\.18\.1\.48\/28\] <- a container bridge/,
  );
  assert.match(text, /bridge docker0 \(docker-default\): 198\.18\.1\.48\/28, mtu 1500/);
  assert.match(
    text,
    /path MTU to 198\.18\.0\.1 \(gateway, 1500 on the interface\): 1280 passes, 1500 no-reply, 1400 no-reply/,
  );
  assert.match(text, /duplicate address 198\.18\.0\.10 on eth0: ANOTHER HOST ANSWERS \(02:00:00:00:00:99\)/);
  assert.match(text, /containers \(azure-iot-edge, v20\.10-v25 rules\) use 198\.18\.1\.54, from daemon\.json/);
  assert.match(text, /\n {6}198\.18\.1\.54: ping 3\/3/);
  // An earlier version's report has none of these fields.
  const old = report();
  assert.doesNotMatch(renderText(old), /route to|path MTU|containers \(/);
});
