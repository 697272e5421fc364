/**
 * What the twin holds (CONTRACT.md 8.1): every layer in a compact form made only of what is stable
 * while nothing is wrong, so two checks of an unchanged device project to the same document but
 * for lastCheck; and the history fields (8.2) where the twin carries them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  clockToTwin,
  dnsToTwin,
  findingKey,
  firewallToTwin,
  ipToTwin,
  proxyToTwin,
  reportToTwin,
  reportedSize,
  stableView,
  type JsonObject,
} from '../../src/report/twin.js';
import type { Finding, Report } from '../../src/report/types.js';
import { endpoint, healthyGateway, healthyInterface, healthyServer, HUB } from '../support/observations.js';
import { assertValidReport } from '../support/report-schema.js';
import { healthyComponents, makeReport } from '../support/reports.js';

/** A healthy check of a VM with a proxy and a clock reading, every moving value set from `n`. */
function checkOf(n: number, over: Partial<Report> = {}): Report {
  const c = healthyComponents();
  c.ip.interfaces = [
    healthyInterface({
      counters: {
        rxPackets: 1000 * n,
        rxBytes: 100_000 * n,
        rxErrors: 0,
        rxDropped: 0,
        txPackets: 900 * n,
        txBytes: 90_000 * n,
        txErrors: 0,
        txDropped: 0,
      },
      lease: { ...healthyInterface().lease!, expiry: new Date(Date.UTC(2026, 10, 27, n)).toISOString() },
    }),
  ];
  c.ip.defaultGateway = healthyGateway({
    rttMs: 0.1 * n,
    ping: { sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.1 * n },
  });
  c.dns.servers = [
    healthyServer('198.18.0.53', {
      ping: { sent: 3, received: 3 - (n % 2), lossPercent: n % 2 ? 33.3 : 0, rttAvgMs: 0.2 * n },
      queries: healthyServer().queries.map((q) => ({ ...q, rttMs: n, answers: [`198.18.1.${10 + (n % 5)}`] })),
    }),
  ];
  c.firewall.endpoints = [8883, 5671, 443].map((port) =>
    endpoint(port, { tcpConnectMs: n, resolveMs: n, address: `198.18.1.${10 + (n % 5)}` }),
  );
  c.proxy = {
    status: 'healthy',
    url: 'http://proxy.lab:3128',
    source: '--proxy',
    sources: [{ component: 'process', url: 'http://proxy.lab:3128' }],
    connect: [{ host: HUB, port: 443, outcome: 'established', httpStatus: 200, ms: n }],
  };
  c.clock = {
    status: 'healthy',
    offsetMs: 10 * n,
    reference: `${HUB}:443`,
    synchronized: true,
    syncSource: 'systemd-timesyncd',
  };
  return makeReport({
    checkId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    startedAt: new Date(Date.UTC(2026, 10, 26, 6, n)).toISOString(),
    durationMs: 400 + n,
    components: c,
    timings: { ip: n, dns: n, firewall: n },
    vantage: 'host',
    ...over,
  });
}

const SINCE = '2026-11-26T05:00:00.000Z';

describe('the twin holds only what is stable while nothing is wrong', () => {
  test('the literal reports are valid Reports', () => {
    assertValidReport(checkOf(1));
    assertValidReport(checkOf(2));
  });

  test('two checks of an unchanged device differ only in lastCheck', () => {
    const a = reportToTwin(checkOf(1), SINCE);
    const b = reportToTwin(checkOf(2), SINCE);
    assert.notDeepEqual(a['lastCheck'], b['lastCheck']);
    assert.deepEqual({ ...a, lastCheck: null }, { ...b, lastCheck: null });
    assert.deepEqual(stableView(a), stableView(b));
  });

  test('none of the moving values is in it: round trips, durations, counters, ping loss, offset, lease expiry, resolved address', () => {
    const text = JSON.stringify({ ...reportToTwin(checkOf(3), SINCE), lastCheck: null });
    for (const key of [
      'rttMs',
      'rttAvgMs',
      'tcpConnectMs',
      'resolveMs',
      'handshakeMs',
      'counters',
      'offsetMs',
      'lossPercent',
      'pingLossPercent',
      'expiry',
      'leaseExpiry',
      'timings',
      'durationMs',
      '"ms"',
    ])
      assert.ok(!text.includes(key.startsWith('"') ? key : `"${key}"`), `${key} is not in the twin`);
    assert.ok(!text.includes('198.18.1.13'), 'the address an open endpoint resolved to is not in it');
  });

  test('every layer is there, in its compact form', () => {
    const doc = reportToTwin(checkOf(1), SINCE);
    assert.deepEqual(doc['ip'], {
      status: 'healthy',
      interfaces: [
        {
          name: 'eth0',
          present: true,
          operState: 'up',
          mac: '00:15:5d:4e:15:2c',
          mtu: 1500,
          ipv4: ['198.18.0.10/24'],
          assignment: 'dhcp',
          configFile: '/etc/systemd/network/10-eth0.network',
          leaseServer: '198.18.0.1',
        },
      ],
      defaultGateway: { address: '198.18.0.1', interface: 'eth0', reachable: true },
    });
    assert.deepEqual(doc['dns'], {
      status: 'healthy',
      source: 'resolv.conf',
      servers: [{ address: '198.18.0.53', public: false, ping: 'answered', outcomes: `${HUB}:answered` }],
    });
    assert.deepEqual(doc['proxy'], {
      status: 'healthy',
      url: 'http://proxy.lab:3128',
      source: '--proxy',
      sources: [{ component: 'process', url: 'http://proxy.lab:3128' }],
      connect: [{ host: HUB, port: 443, outcome: 'established', httpStatus: 200 }],
    });
    assert.deepEqual((doc['firewall'] as JsonObject)['endpoints'], [
      { host: HUB, port: 8883, protocol: 'mqtt', role: 'hub', outcome: 'open' },
      { host: HUB, port: 5671, protocol: 'amqp', role: 'hub', outcome: 'open' },
      { host: HUB, port: 443, protocol: 'https', role: 'hub', outcome: 'open' },
    ]);
    assert.deepEqual(doc['clock'], {
      status: 'healthy',
      reference: `${HUB}:443`,
      synchronized: true,
      syncSource: 'systemd-timesyncd',
    });
    assert.equal(doc['vantage'], 'host');
  });

  test('a failing endpoint carries its evidence: the address it reached, the error, the issuer seen', () => {
    const r = checkOf(1);
    r.components.firewall.endpoints[1] = endpoint(5671, {
      outcome: 'rejected',
      tls: undefined,
      address: '198.18.1.99',
      error: { phase: 'connect', code: 'ECONNREFUSED', message: 'refused' },
    });
    r.components.firewall.endpoints[2] = endpoint(443, {
      outcome: 'tls-untrusted',
      tls: { ...endpoint(443).tls!, authorized: false, issuer: 'Corp Proxy CA', rootIssuer: 'Corp Root' },
    });
    const eps = firewallToTwin(r.components.firewall)['endpoints'] as JsonObject[];
    assert.deepEqual(eps[1], {
      host: HUB,
      port: 5671,
      protocol: 'amqp',
      role: 'hub',
      outcome: 'rejected',
      address: '198.18.1.99',
      error: 'ECONNREFUSED',
      tlsIssuer: null,
    });
    assert.equal(eps[2]!['tlsIssuer'], 'Corp Root');
  });

  test('ping is a word: answered, no answer, or why it could not be asked', () => {
    const words = [
      { sent: 3, received: 1, lossPercent: 66.7, rttAvgMs: 1 },
      { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null },
      { error: 'not-permitted' as const },
    ].map(
      (ping) =>
        (
          dnsToTwin({ ...healthyComponents().dns, servers: [healthyServer('198.18.0.53', { ping })] })[
            'servers'
          ] as JsonObject[]
        )[0]!['ping'],
    );
    assert.deepEqual(words, ['answered', 'no answer', 'not-permitted']);
  });

  test('an inconclusive layer says why', () => {
    const ip = ipToTwin({ ...healthyComponents().ip, status: 'inconclusive', inconclusiveBecause: 'deadline' });
    assert.equal(ip['inconclusiveBecause'], 'deadline');
    assert.equal(
      clockToTwin({ ...healthyComponents().clock, status: 'inconclusive', inconclusiveBecause: 'firewall' })[
        'inconclusiveBecause'
      ],
      'firewall',
    );
    assert.ok(!('inconclusiveBecause' in proxyToTwin(healthyComponents().proxy)));
  });

  test('the host given (the module inventory) replaces the report host', () => {
    const host = { os: 'Azure Linux 3.0', kernel: '6.6.44.1-2.azl3', cpus: 4 };
    assert.deepEqual(reportToTwin(checkOf(1), SINCE, undefined, host)['host'], host);
  });
});

describe('history in the twin (CONTRACT.md 8.2)', () => {
  const blocked: Finding = {
    code: 'FW_PORT_BLOCKED',
    severity: 'error',
    component: 'firewall',
    subject: `${HUB}:5671`,
    message: 'No answer connecting within 3000 ms.',
    guidance: 'Ask the network team.',
  };
  const errorsFinding: Finding = {
    code: 'IP_INTERFACE_ERRORS',
    severity: 'warning',
    component: 'ip',
    subject: 'eth0',
    message: 'Interface eth0 shows 12 rx errors.',
    guidance: 'Compare the MTU.',
  };

  test('each finding carries its since; statusSince and lastStatusChangeAt the status start', () => {
    const r = checkOf(5, { status: 'unhealthy', failingComponent: 'firewall', findings: [blocked, errorsFinding] });
    const doc = reportToTwin(r, { statusSince: SINCE, since: new Map([[findingKey(blocked), SINCE]]) });
    const findings = doc['findings'] as JsonObject[];
    assert.deepEqual(
      findings.map((f) => [f['code'], f['since']]),
      [
        ['FW_PORT_BLOCKED', SINCE],
        ['IP_INTERFACE_ERRORS', r.startedAt],
      ],
    );
    assert.equal(doc['statusSince'], SINCE);
    assert.equal(doc['lastStatusChangeAt'], SINCE);
  });

  test("a finding's words may quote a figure that moves: stableView leaves them out, the twin itself has them", () => {
    const history = { statusSince: SINCE, since: new Map([[findingKey(errorsFinding), SINCE]]) };
    const a = reportToTwin(checkOf(1, { status: 'degraded', findings: [errorsFinding] }), history);
    const b = reportToTwin(
      checkOf(2, {
        status: 'degraded',
        findings: [{ ...errorsFinding, message: 'Interface eth0 shows 19 rx errors.' }],
      }),
      history,
    );
    assert.deepEqual(stableView(a), stableView(b));
    assert.notDeepEqual(a['findings'], b['findings']);
    assert.ok(!('lastCheck' in stableView(a)));
  });

  test('a steady document is small: a heartbeat patch (lastCheck alone) fits one 512-byte block with room to spare', () => {
    const doc = reportToTwin(checkOf(1), SINCE);
    const heartbeat = { lastCheck: doc['lastCheck'] ?? null };
    assert.ok(reportedSize(heartbeat) < 256, `${reportedSize(heartbeat)} bytes`);
  });
});
