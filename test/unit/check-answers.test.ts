/**
 * Whole checks (runCheck with the real endpoint, proxy and exchange probes) against loopback peers
 * that answer badly: garbage after CONNECT, a proxy that closes mid-status-line, a 1 MB header, a
 * Date that is not a date, bytes that are no CONNACK. Each gives a clear finding in a schema-valid
 * report, never a throw or a hang. The ip and DNS layers are fakes; nothing leaves loopback.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { runCheck } from '../../src/check.js';
import { resolveSync } from '../../src/config/resolve.js';
import type { CheckConfig } from '../../src/config/types.js';
import { probeEndpoint } from '../../src/probes/endpoint.js';
import { probeThroughProxy } from '../../src/probes/proxy-endpoint.js';
import { loadTrust } from '../../src/probes/trust.js';
import type { CheckDeps } from '../../src/probes/types.js';
import type { Finding, Report } from '../../src/report/types.js';
import { healthyServer } from '../support/observations.js';
import { createCa, issueServerCert, removeCa } from '../support/pki.js';
import { tcpServer, tlsServer } from '../support/proxy-lab.js';
import { assertValidReport } from '../support/report-schema.js';
import { healthyRouteTable } from '../support/plumbing.js';

/** Not a loopback name: the proxy would be bypassed for one (no_proxy's loopback rule). */
const HOST = 'hub.lab';
const DATE = () => new Date().toUTCString();

/** How each loopback peer behaves once TLS is up: the hub's good answers unless a case bends one. */
type Peer = (socket: TLSSocket, data: Buffer) => void;
const GOOD: Record<number, Peer> = {
  8883: (s) => s.end(Buffer.from([0x20, 0x02, 0x00, 0x05])),
  5671: (s) => s.end(Buffer.from('AMQP\x03\x01\x00\x00', 'latin1')),
  443: (s) => s.end(`HTTP/1.1 404 Not Found\r\nDate: ${DATE()}\r\nContent-Length: 0\r\n\r\n`),
};

async function hub(t: TestContext, peers: Partial<Record<number, Peer>>) {
  const ca = createCa('eflow-netdiag Answers Test Root');
  t.after(() => removeCa(ca));
  const cert = issueServerCert(ca, [HOST, '127.0.0.1']);
  const ports: Record<number, number> = {};
  for (const port of [8883, 5671, 443]) {
    const peer = peers[port] ?? GOOD[port]!;
    const server = await tlsServer(t, cert, (socket) => socket.once('data', (d: Buffer) => peer(socket, d)));
    ports[port] = server.port;
  }
  return { ca, ports };
}

function config(caFile: string, over: Partial<CheckConfig> = {}): CheckConfig {
  return {
    ...resolveSync({ env: {} }),
    hub: HOST,
    dps: HOST,
    registries: [],
    caFile,
    aziotConfig: '/nonexistent/config.toml',
    systemdDir: '/nonexistent/systemd',
    timeoutMs: 800,
    deadlineMs: 4000,
    ...over,
  };
}

/** Fake ip/DNS, the real TLS probes with each hub port mapped to its loopback server. */
function deps(ports: Record<number, number>): CheckDeps {
  return {
    observeInterfaces: async (names) =>
      names.map((name) => ({
        name,
        present: true,
        ifindex: 2,
        operState: 'up',
        adminUp: true,
        mac: '00:15:5d:00:00:01',
        mtu: 1500,
        ipv4: [{ address: '198.18.0.10', prefixLength: 24, broadcast: '198.18.0.255' }],
        ipv6: [],
        counters: null,
      })),
    readRouteTable: async () => healthyRouteTable(),
    readNetworkd: async () => ({ files: [], problems: [] }),
    readLease: async () => null,
    readResolvers: async () => ({
      source: 'resolv.conf',
      files: ['/etc/resolv.conf'],
      servers: ['198.18.0.53'],
      stub: false,
      problems: [],
    }),
    ping: async () => ({ sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.1 }),
    queryDns: async (server, name) => ({ ...healthyServer(server).queries[0]!, name }),
    loadTrust: (caFile) => loadTrust(caFile),
    hostInfo: async () => null,
    probeEndpoint: async (target, ctx) => {
      const report = await probeEndpoint({ ...target, port: ports[target.port] ?? target.port }, ctx);
      return { ...report, port: target.port };
    },
    probeThroughProxy: (target, url, ctx) => probeThroughProxy(target, url, ctx),
    // hub.lab is the loopback servers; the proxy's address is a literal.
    newLookup: () => async () => '127.0.0.1',
  };
}

const codes = (r: Report, component: Finding['component']) =>
  r.findings.filter((f) => f.component === component).map((f) => `${f.code} ${f.severity}`);

async function checked(cfg: CheckConfig, d: CheckDeps): Promise<Report> {
  const report = await runCheck(cfg, d, { trigger: 'cli' });
  assertValidReport(report);
  return report;
}

describe('a proxy that answers CONNECT badly: PROXY_UNREACHABLE, the path behind it not judged', () => {
  const BAD_PROXIES: Array<[string, (s: Socket) => void, RegExp]> = [
    ['garbage after CONNECT', (s) => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'), /not HTTP/],
    ['closes mid-status-line', (s) => s.end('HTTP/1.1 20'), /before the end of its answer/],
    [
      'a 1 MB header',
      (s) => {
        s.write('HTTP/1.1 200 Connection established\r\nX-Pad: ');
        s.write(Buffer.alloc(1024 * 1024, 0x61));
      },
      /larger than 16384 bytes/,
    ],
    ['never answers', () => {}, /did not answer CONNECT within 800 ms/],
  ];
  for (const [name, behave, detail] of BAD_PROXIES) {
    test(name, async (t) => {
      const { ca, ports } = await hub(t, {});
      const proxy = await tcpServer(t, (s) => s.once('data', () => behave(s)));
      const cfg = config(ca.certFile, {
        proxy: `http://${HOST}:${proxy.port}`,
        proxySource: '--proxy',
        upstreamProtocol: 'AmqpWs',
      });
      const r = await checked(cfg, deps(ports));
      assert.deepEqual(codes(r, 'proxy'), ['PROXY_UNREACHABLE error']);
      assert.equal(r.failingComponent, 'proxy');
      assert.equal(r.components.firewall.status, 'inconclusive');
      assert.match(r.findings.find((f) => f.code === 'PROXY_UNREACHABLE')?.message ?? '', detail);
      assert.equal(r.components.proxy.connect[0]?.phase, 'answer');
    });
  }
});

describe('an endpoint that answers the exchange badly', () => {
  test('a Date that is not a date: the exchange is fine, the clock has nothing to measure', async (t) => {
    const { ca, ports } = await hub(t, {
      443: (s) => s.end('HTTP/1.1 404 Not Found\r\nDate: yesterday at noon\r\nContent-Length: 0\r\n\r\n'),
    });
    const r = await checked(config(ca.certFile), deps(ports));
    assert.equal(r.status, 'healthy', JSON.stringify(r.findings));
    const e = r.components.firewall.endpoints.find((x) => x.port === 443);
    assert.equal(e?.httpDate, 'yesterday at noon');
    assert.equal(e?.application?.clock, null);
    assert.equal(r.components.clock.offsetMs, null);
    assert.equal(r.components.clock.status, 'inconclusive');
  });

  test('a 1 MB header on 443: read up to the limit, and its status line still says an HTTP server answered', async (t) => {
    const { ca, ports } = await hub(t, {
      443: (s) => {
        s.write('HTTP/1.1 200 OK\r\nX-Pad: ');
        s.write(Buffer.alloc(1024 * 1024, 0x61));
      },
    });
    const r = await checked(config(ca.certFile), deps(ports));
    assert.equal(r.status, 'healthy', JSON.stringify(r.findings));
    const app = r.components.firewall.endpoints.find((x) => x.port === 443)?.application;
    assert.equal(app?.outcome, 'ok');
    assert.equal(app?.httpStatus, 200);
    assert.ok((app?.bytesReceived ?? Infinity) <= 16 * 1024, 'bounded');
  });

  test('a 1 MB answer on 8883 that is not MQTT: unexpected, bounded, FW_PROTOCOL_BLOCKED', async (t) => {
    const { ca, ports } = await hub(t, { 8883: (s) => s.write(Buffer.alloc(1024 * 1024, 0x61)) });
    const r = await checked(config(ca.certFile, { upstreamProtocol: 'Mqtt' }), deps(ports));
    assert.ok(codes(r, 'firewall').includes('FW_PROTOCOL_BLOCKED error'), JSON.stringify(codes(r, 'firewall')));
    const app = r.components.firewall.endpoints.find((x) => x.port === 8883)?.application;
    assert.equal(app?.outcome, 'unexpected');
  });

  test('bytes that are no CONNACK on 8883 (Mqtt in use): FW_PROTOCOL_BLOCKED error', async (t) => {
    const { ca, ports } = await hub(t, { 8883: (s) => s.end(Buffer.from('\x16\x03\x03garbage!', 'latin1')) });
    const r = await checked(config(ca.certFile, { upstreamProtocol: 'Mqtt' }), deps(ports));
    assert.ok(codes(r, 'firewall').includes('FW_PROTOCOL_BLOCKED error'), JSON.stringify(codes(r, 'firewall')));
  });

  test('a peer that never answers the exchange: the check still ends before its deadline', async (t) => {
    const silent: Peer = () => {};
    const { ca, ports } = await hub(t, { 8883: silent, 5671: silent, 443: silent });
    const cfg = config(ca.certFile);
    const r = await checked(cfg, deps(ports));
    // A silent peer after TLS is not proof of a block: the exchange timed out, TLS decides.
    assert.equal(r.status, 'healthy', JSON.stringify(r.findings));
    assert.ok(r.components.firewall.endpoints.every((e) => e.application?.outcome === 'timeout'));
    assert.ok(r.durationMs < cfg.deadlineMs, `${r.durationMs} ms`);
  });
});
