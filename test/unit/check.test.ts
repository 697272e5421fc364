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
    readRouteTable: async () => ({
      routes: [
        {
          family: 4,
          destination: '0.0.0.0',
          prefixLength: 0,
          gateway: '198.18.0.1',
          interface: 'eth0',
          metric: 0,
          type: 'unicast',
        },
        {
          family: 4,
          destination: '198.18.0.0',
          prefixLength: 24,
          gateway: null,
          interface: 'eth0',
          metric: 0,
          type: 'unicast',
        },
      ],
      problems: [],
    }),
    readNeighbours: async () => [
      { address: '198.18.0.1', interface: 'eth0', mac: '00:15:5d:00:00:fe', complete: true },
    ],
    observeBridges: async () => [],
    readContainerDns: async (paths) => ({
      daemon: {
        path: paths.daemonConfig,
        state: 'absent',
        dns: null,
        mtu: null,
        bip: null,
        reason: null,
        problems: [],
      },
      containers: {
        source: 'resolv.conf',
        servers: ['198.18.0.53', '198.18.0.54'],
        fallbackPublic: false,
        network: 'user-defined',
        rules: 'v20.10-v25',
        hostLoopback: [],
        ignored: [],
        note: 'the VM servers',
      },
    }),
    pingDf: async (target, ctx) => ({
      target,
      interfaceMtu: ctx.interfaceMtu ?? 1500,
      largestPassingDf: ctx.interfaceMtu ?? 1500,
      smallestFailingDf: null,
      reportedMtu: null,
      probed: [{ size: ctx.interfaceMtu ?? 1500, outcome: 'reply', mtu: null, from: null, rttMs: 0.1 }],
    }),
    arping: async (address, iface) => ({
      address,
      interface: iface,
      conflict: false,
      conflictingMac: null,
      flavour: 'iputils',
    }),
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

// ---------- the VM's plumbing (CONTRACT 7.5): what is probed, how often, and in parallel ----------

const route4 = (destination: string, prefixLength: number, gateway: string | null, iface: string, metric = 0) =>
  ({ family: 4, destination, prefixLength, gateway, interface: iface, metric, type: 'unicast' }) as const;

test('check: the gateway pinged is the one of the default route the kernel uses, from its own NIC; the other is pinged too', async () => {
  const pinged: string[] = [];
  const deps: CheckDeps = {
    ...healthyDeps(),
    readRouteTable: async () => ({
      routes: [
        route4('0.0.0.0', 0, '198.18.0.1', 'eth0', 100),
        route4('0.0.0.0', 0, '198.18.2.1', 'eth1', 50),
        route4('198.18.0.0', 24, null, 'eth0'),
        route4('198.18.2.0', 24, null, 'eth1'),
      ],
      problems: [],
    }),
    ping: async (host, o) => {
      pinged.push(`${host}${o.interface ? ` -I ${o.interface}` : ''}`);
      return { sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.1 };
    },
  };
  const report = await runCheck(config(), deps, { trigger: 'cli' });
  assertValidReport(report);
  assert.equal(report.components.ip.defaultGateway?.address, '198.18.2.1');
  assert.equal(report.components.ip.defaultGateway?.interface, 'eth1');
  assert.ok(pinged.includes('198.18.2.1 -I eth1') && pinged.includes('198.18.0.1 -I eth0'), pinged.join(', '));
  assert.deepEqual(
    report.components.ip.defaultRoutes?.map((r) => `${r.gateway} ${r.inUse}`),
    ['198.18.2.1 true', '198.18.0.1 false'],
  );
});

test("check: a server both the VM and the containers use is asked once, and the containers' own one is asked too", async () => {
  const asked = new Map<string, number>();
  const deps: CheckDeps = {
    ...healthyDeps(),
    queryDns: async (server, name) => {
      asked.set(server, (asked.get(server) ?? 0) + 1);
      return healthyServer(server).queries.map((q) => ({ ...q, name }))[0]!;
    },
    readContainerDns: async (paths) => ({
      daemon: {
        path: paths.daemonConfig,
        state: 'ok',
        dns: ['198.18.0.53', '198.18.1.99'],
        mtu: null,
        bip: null,
        reason: null,
        problems: [],
      },
      containers: {
        source: 'daemon.json',
        servers: ['198.18.0.53', '198.18.1.99'],
        fallbackPublic: false,
        network: 'user-defined',
        rules: 'v20.10-v25',
        hostLoopback: [],
        ignored: [],
        note: 'daemon.json "dns" is used as written.',
      },
    }),
  };
  const report = await runCheck(config(), deps, { trigger: 'cli' });
  assertValidReport(report);
  assert.deepEqual(Object.fromEntries(asked), { '198.18.0.53': 1, '198.18.0.54': 1, '198.18.1.99': 1 });
  const c = report.components.dns.containers;
  assert.deepEqual(
    c?.servers.map((s) => s.address),
    ['198.18.0.53', '198.18.1.99'],
  );
  assert.deepEqual(c?.untested, []);
  // The shared server's result is the VM's, not a second probe.
  assert.deepEqual(c?.servers[0], report.components.dns.servers[0]);
});

test('check: when the examined interface does not carry the default route, nothing beyond it is probed', async () => {
  const calls: string[] = [];
  const deps: CheckDeps = {
    ...healthyDeps(),
    ping: async (host) => (calls.push(`ping ${host}`), { sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.1 }),
    queryDns: async (server, name) => (calls.push(`dns ${server}`), { ...healthyServer(server).queries[0]!, name }),
    pingDf: async (target) => {
      calls.push(`df ${target}`);
      throw new Error('must not run');
    },
    readContainerDns: async (paths) => ({
      daemon: {
        path: paths.daemonConfig,
        state: 'absent',
        dns: null,
        mtu: null,
        bip: null,
        reason: null,
        problems: [],
      },
      containers: {
        source: 'docker-default',
        servers: ['8.8.8.8', '8.8.4.4'],
        fallbackPublic: true,
        network: 'user-defined',
        rules: 'v20.10-v25',
        hostLoopback: [],
        ignored: [],
        note: "Docker's public fallback.",
      },
    }),
  };
  // A workstation: `--interface lo`, its own default route on another NIC.
  const report = await runCheck(config({ interfaces: ['lo'] }), deps, { trigger: 'cli' });
  assertValidReport(report);
  assert.ok(!calls.some((c) => c.startsWith('ping 198.18.0.1') || c.startsWith('df ')), calls.join(', '));
  assert.ok(!calls.some((c) => c.includes('8.8.')), calls.join(', '));
  assert.deepEqual(report.components.dns.containers?.untested, ['8.8.8.8', '8.8.4.4']);
  assert.deepEqual(report.components.ip.pathMtuSweeps, []);
});

test('check: DF sweeps and arping run alongside the gateway ping, not after it', async () => {
  let release: () => void = () => {};
  const plumbingStarted = new Promise<void>((resolve) => (release = resolve));
  let started = 0;
  const seen = () => {
    started += 1;
    if (started === 3) release(); // two sweeps (gateway, a DNS server) and one arping
  };
  const base = healthyDeps();
  const deps: CheckDeps = {
    ...base,
    // The gateway's ping answers only once every plumbing probe has started: serial would deadlock.
    ping: async (host, o) => {
      if (host === '198.18.0.1') await plumbingStarted;
      return base.ping(host, o);
    },
    pingDf: async (target, ctx) => (seen(), base.pingDf!(target, ctx)),
    arping: async (address, iface, ctx) => (seen(), base.arping!(address, iface, ctx)),
  };
  const report = await runCheck(config({ deadlineMs: 5000 }), deps, { trigger: 'cli' });
  assert.deepEqual(report.timedOut, []);
  assert.equal(report.components.ip.defaultGateway?.reachable, true);
  assert.equal(report.components.ip.pathMtuSweeps?.length, 2);
  assert.equal(report.components.ip.duplicateAddress?.[0]?.conflict, false);
});
