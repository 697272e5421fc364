/**
 * runCheck() with fake probes: the deadline is a hard bound even when probes ignore their
 * signal, every started probe is accounted for, and the report matches the schema.
 */
import assert from 'node:assert/strict';
import { createSecureContext } from 'node:tls';
import { test } from 'node:test';
import { runCheck, type CheckDeps } from '../../src/check.js';
import { endpointTargets } from '../../src/config/targets.js';
import { resolveSync } from '../../src/config/resolve.js';
import type { CheckConfig } from '../../src/config/types.js';
import { healthyServer, HUB } from '../support/observations.js';
import { assertValidReport } from '../support/report-schema.js';

/** Lab names only: never a default public endpoint (DPS, MCR), even with fake probes. */
function config(over: Partial<CheckConfig> = {}): CheckConfig {
  return {
    ...resolveSync({ env: {} }),
    hub: HUB,
    dps: HUB,
    registries: [],
    systemdDir: '/nonexistent/systemd',
    aziotConfig: '/nonexistent/config.toml',
    timeoutMs: 200,
    deadlineMs: 800,
    ...over,
  };
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

function healthyDeps(): CheckDeps {
  return {
    observeInterfaces: async (names) =>
      names.map((name, i) => ({
        name,
        present: true,
        ifindex: i + 2,
        operState: 'up',
        adminUp: true,
        mac: '00:15:5d:00:00:01',
        mtu: 1500,
        ipv4: [{ address: '198.18.0.10', prefixLength: 24, broadcast: '198.18.0.255' }],
        ipv6: [],
        counters: null,
      })),
    readDefaultRoutes: async () => [{ gateway: '198.18.0.1', interface: 'eth0', metric: 0, family: 4 }],
    readNetworkd: async () => ({ files: [], problems: [] }),
    readLease: async () => null,
    readResolvers: async () => ({
      source: 'resolv.conf',
      files: ['/etc/resolv.conf'],
      servers: ['198.18.0.53', '198.18.0.54'],
      stub: false,
      problems: [],
    }),
    ping: async () => ({ sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.1 }),
    queryDns: async (server, name) => healthyServer(server).queries.map((q) => ({ ...q, name }))[0]!,
    loadTrust: async () => ({ secureContext: createSecureContext(), problems: [] }),
    hostInfo: async () => null,
    probeEndpoint: async (t) => ({
      host: t.host,
      port: t.port,
      protocol: t.protocol,
      address: '198.18.1.10',
      outcome: 'open',
      resolveMs: 1,
      tcpConnectMs: 1,
      tls: {
        handshakeMs: 2,
        protocol: 'TLSv1.3',
        authorized: true,
        authorizationError: null,
        subject: t.host,
        issuer: 'Lab CA',
        rootIssuer: 'Lab CA',
        validTo: null,
      },
    }),
  };
}

test('check: healthy fake probes give a healthy, schema-valid report', async () => {
  const report = await runCheck(config(), healthyDeps(), { trigger: 'cli' });
  assertValidReport(report);
  assert.equal(report.status, 'healthy');
  assert.deepEqual(report.timedOut, []);
  assert.equal(report.components.firewall.endpoints.length, 3);
  assert.equal(report.components.dns.servers.length, 2);
});

test('check: probes that hang and ignore their signal are cut at the deadline and all accounted for', async () => {
  const deps: CheckDeps = {
    ...healthyDeps(),
    ping: () => never(),
    queryDns: () => never(),
    probeEndpoint: () => never(),
    readLease: () => never(),
  };
  const cfg = config({ endpoints: [{ host: 'registry.lab', port: 443 }] });
  const started = performance.now();
  const report = await runCheck(cfg, deps, { trigger: 'cli' });
  const took = performance.now() - started;
  assertValidReport(report);
  // A functional bound (the check must not wait for hung probes), not a speed target.
  assert.ok(took < cfg.deadlineMs + 500, `returned after ${took} ms`);
  assert.equal(report.components.firewall.endpoints.length, endpointTargets(cfg).length);
  for (const s of report.components.dns.servers) {
    assert.equal(s.queries.length, 1);
    assert.equal(s.queries[0]!.outcome, 'timeout');
  }
  const expected = [
    'ping gateway 198.18.0.1',
    'ping dns 198.18.0.53',
    'ping dns 198.18.0.54',
    `dns 198.18.0.53 ${HUB}`,
    `dns 198.18.0.54 ${HUB}`,
    `connect ${HUB}:8883`,
    `connect ${HUB}:5671`,
    `connect ${HUB}:443`,
    'connect registry.lab:443',
    'lease eth0',
  ];
  assert.deepEqual([...report.timedOut].sort(), expected.sort());
  assert.equal(report.status, 'unhealthy');
  assert.equal(report.failingComponent, 'dns');
});

test('check: a probe that returns its own timed-out result when aborted is counted as cut short', async () => {
  const deps: CheckDeps = {
    ...healthyDeps(),
    queryDns: (_server, name, type, ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener('abort', () =>
          resolve({ name, type, outcome: 'timeout', rcode: null, answers: [], rttMs: null, transport: 'udp' }),
        );
      }),
  };
  const report = await runCheck(config({ deadlineMs: 600 }), deps, { trigger: 'cli' });
  assert.ok(report.timedOut.includes(`dns 198.18.0.53 ${HUB}`), report.timedOut.join(', '));
  assert.equal(report.components.dns.servers[0]!.queries[0]!.outcome, 'timeout');
});

test('check: an outside abort (SIGTERM) ends the check at once', async () => {
  const controller = new AbortController();
  const deps: CheckDeps = { ...healthyDeps(), probeEndpoint: () => never() };
  const pending = runCheck(config({ deadlineMs: 60_000 }), deps, { trigger: 'schedule', signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  const report = await pending;
  assert.equal(report.components.firewall.endpoints.length, 3);
  assert.ok(report.timedOut.some((n) => n.startsWith('connect ')));
});

test('check: components not asked for are skipped and their probes never start', async () => {
  let pinged = 0;
  const deps: CheckDeps = { ...healthyDeps(), ping: async (...a) => (pinged++, healthyDeps().ping(...a)) };
  const report = await runCheck(config({ components: ['firewall'] }), deps, { trigger: 'method' });
  assertValidReport(report);
  assert.equal(pinged, 0);
  assert.equal(report.components.ip.status, 'skipped');
  assert.equal(report.components.dns.status, 'skipped');
  assert.equal(report.components.firewall.status, 'healthy');
});

test('check: DPS is tested on 443 alone when no hub is known, and custom endpoints are deduplicated', () => {
  const targets = endpointTargets({
    ...config({ hub: null, dps: null, registries: ['acr.lab'] }),
    endpoints: [
      { host: 'global.azure-devices-provisioning.net', port: 443 },
      { host: 'acr.lab', port: 443 },
      { host: 'other.lab', port: 8443 },
    ],
  });
  assert.deepEqual(
    targets.map((t) => `${t.host}:${t.port}:${t.role}`),
    ['global.azure-devices-provisioning.net:443:dps', 'acr.lab:443:registry', 'other.lab:8443:custom'],
  );
});
