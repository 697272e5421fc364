/**
 * The scenario matrix of LAB.md, each run against the real CLI inside its own namespace lab and
 * judged by CONTRACT.md section 4: status, failingComponent, exit code, the finding codes that must
 * be there (with severity and subject) and the ones that must not (root cause first: a layer that
 * cannot work because an earlier one failed is inconclusive and says nothing of its own).
 * Scenarios share no state, so they run concurrently, each with its own lab.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EndpointOutcome, DnsOutcome, Report } from '../../src/report/types.js';
import { createLab, HUB_NAME, INSPECTION_CA_NAME, LAB_ADDR, resolvConf, staticNetworkFile } from './harness.js';
import type { CheckRun, Lab, LabOptions } from './harness.js';
import { check, summary, type Expectation } from './expectations.js';
import { requireLab } from './require-lab.js';

const skip = requireLab();

/** Short probe timeout and deadline keep the suite fast; the lab answers in microseconds. */
const TIMEOUT_MS = 1500;
const DEADLINE_MS = 8000;
const FAST = ['--timeout', String(TIMEOUT_MS), '--deadline', String(DEADLINE_MS)];

const ENDPOINT_OUTCOMES: readonly EndpointOutcome[] = [
  'open',
  'blocked',
  'rejected',
  'unreachable',
  'unresolved',
  'tls-untrusted',
  'tls-failed',
  'skipped',
];
const DNS_OUTCOMES: readonly DnsOutcome[] = [
  'answered',
  'nxdomain',
  'servfail',
  'refused',
  'timeout',
  'malformed',
  'error',
];

interface Scenario {
  id: string;
  title: string;
  lab?: LabOptions;
  /** Faults injected after the lab is up. */
  setup?: (lab: Lab) => Promise<void>;
  /** CLI arguments after the lab's own paths; default: the hub, the lab CA and the fast timings. */
  args?: (lab: Lab) => string[];
  expect: Expectation;
}

const hubSubject = (port: number) => `${HUB_NAME}:${port}`;
const defaultArgs = (lab: Lab) => [...lab.hubArgs(), ...FAST];
const withProtocol = (protocol: string) => (lab: Lab) => [...defaultArgs(lab), '--upstream-protocol', protocol];

function endpointOutcome(report: Report, port: number): EndpointOutcome | undefined {
  return report.components.firewall.endpoints.find((e) => e.host === HUB_NAME && e.port === port)?.outcome;
}

function assertHubEndpoints(report: Report, expected: Record<number, EndpointOutcome>): void {
  for (const [port, outcome] of Object.entries(expected)) {
    assert.equal(endpointOutcome(report, Number(port)), outcome, `endpoint ${hubSubject(Number(port))}`);
  }
}

function assertAllUnresolved(report: Report): void {
  const hub = report.components.firewall.endpoints.filter((e) => e.host === HUB_NAME);
  assert.equal(hub.length, 3, 'the three hub endpoints are still reported');
  for (const e of hub) assert.equal(e.outcome, 'unresolved', `${e.host}:${e.port}`);
}

const IP_QUIET_LATER: Pick<Expectation, 'components' | 'quiet'> = {
  components: { ip: 'unhealthy', dns: 'inconclusive', firewall: 'inconclusive' },
  quiet: ['dns', 'firewall'],
};

const DNS_SERVER_CODES = [
  'DNS_SERVER_UNREACHABLE',
  'DNS_SERVER_NOT_ANSWERING',
  'DNS_SERVER_REFUSED',
  'DNS_SERVER_FAILURE',
];

const SCENARIOS: Scenario[] = [
  {
    id: '1',
    title: 'healthy: DHCP with a lease, dnsmasq answering, all ports open, trusted TLS',
    args: (lab) => [...defaultArgs(lab), '--expected-ip', LAB_ADDR.vm],
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { ip: 'healthy', dns: 'healthy', firewall: 'healthy' },
      more: (report) => {
        const eth0 = report.components.ip.interfaces.find((i) => i.name === 'eth0');
        assert.equal(eth0?.present, true);
        assert.equal(eth0?.assignment, 'dhcp');
        assert.deepEqual(
          eth0?.ipv4.map((a) => `${a.address}/${a.prefixLength}`),
          [`${LAB_ADDR.vm}/${LAB_ADDR.prefixLength}`],
        );
        assert.equal(eth0?.lease?.address, LAB_ADDR.vm);
        assert.equal(report.components.ip.defaultGateway?.address, LAB_ADDR.gateway);
        assert.equal(report.components.ip.defaultGateway?.reachable, true);
        assert.equal(report.components.dns.source, 'resolv.conf');
        const server = report.components.dns.servers.find((s) => s.address === LAB_ADDR.dns);
        const a = server?.queries.find((q) => q.name === HUB_NAME && q.type === 'A');
        assert.equal(a?.outcome, 'answered');
        assert.deepEqual(a?.answers, [LAB_ADDR.hub]);
        assertHubEndpoints(report, { 8883: 'open', 5671: 'open', 443: 'open' });
        for (const e of report.components.firewall.endpoints) {
          assert.equal(e.address, LAB_ADDR.hub);
          assert.equal(e.tls?.authorized, true, `${e.host}:${e.port} tls`);
        }
      },
    },
  },
  {
    id: '2',
    title: 'interface missing',
    setup: (lab) => lab.deleteInterface(),
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      ...IP_QUIET_LATER,
      present: [{ code: 'IP_INTERFACE_MISSING', severity: 'error', subject: 'eth0' }],
      absent: ['IP_INTERFACE_DOWN', 'IP_NO_ADDRESS'],
      more: (report) => assert.equal(report.components.ip.interfaces.find((i) => i.name === 'eth0')?.present, false),
    },
  },
  {
    id: '3',
    title: 'interface down',
    setup: (lab) => lab.linkDown(),
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      ...IP_QUIET_LATER,
      present: [{ code: 'IP_INTERFACE_DOWN', severity: 'error', subject: 'eth0' }],
      absent: ['IP_INTERFACE_MISSING'],
    },
  },
  {
    id: '4-dhcp',
    title: 'no IPv4 address, DHCP config (no lease)',
    lab: { vmAddress: null, lease: null },
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      ...IP_QUIET_LATER,
      present: [{ code: 'IP_NO_ADDRESS', severity: 'error', subject: 'eth0' }],
      absent: ['IP_INTERFACE_MISSING', 'IP_INTERFACE_DOWN', 'IP_STATIC_CONFIG_INCOMPLETE'],
      more: (report) =>
        assert.equal(report.components.ip.interfaces.find((i) => i.name === 'eth0')?.assignment, 'dhcp'),
    },
  },
  {
    id: '4-static',
    title: 'no IPv4 address, complete static config',
    lab: { vmAddress: null, lease: null, networkFiles: { '10-eth0.network': staticNetworkFile() } },
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      ...IP_QUIET_LATER,
      present: [{ code: 'IP_NO_ADDRESS', severity: 'error', subject: 'eth0' }],
      absent: ['IP_INTERFACE_MISSING', 'IP_INTERFACE_DOWN', 'IP_STATIC_CONFIG_INCOMPLETE'],
      more: (report) =>
        assert.equal(report.components.ip.interfaces.find((i) => i.name === 'eth0')?.assignment, 'static'),
    },
  },
  {
    id: '5',
    title: 'address differs from the expected one',
    args: (lab) => [...defaultArgs(lab), '--expected-ip', '198.18.0.20'],
    expect: {
      // CONTRACT 7: a warning, since it is usually stale input; it must not make ip the failing
      // layer while the path to Azure works.
      status: 'degraded',
      failingComponent: null,
      components: { ip: 'degraded', dns: 'healthy', firewall: 'healthy' },
      present: [
        {
          code: 'IP_ADDRESS_MISMATCH',
          severity: 'warning',
          subject: 'eth0',
          message: [/198\.18\.0\.10\b/, /198\.18\.0\.20\b/],
        },
      ],
      // The address works: DNS and the firewall are fine and must not invent problems.
      quiet: ['dns', 'firewall'],
    },
  },
  {
    id: '6',
    title: 'static config without a gateway',
    lab: {
      lease: null,
      defaultRoute: false,
      networkFiles: { '10-eth0.network': staticNetworkFile({ gateway: null }) },
    },
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      ...IP_QUIET_LATER,
      present: [{ code: 'IP_STATIC_CONFIG_INCOMPLETE', severity: 'error', subject: 'eth0' }],
      absent: ['IP_NO_ADDRESS'],
      more: (report) =>
        assert.equal(report.components.ip.interfaces.find((i) => i.name === 'eth0')?.assignment, 'static'),
    },
  },
  {
    id: '7',
    title: 'no default route',
    setup: (lab) => lab.deleteDefaultRoute(),
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      ...IP_QUIET_LATER,
      present: [{ code: 'IP_NO_DEFAULT_ROUTE', severity: 'error' }],
      absent: ['IP_NO_ADDRESS', 'IP_STATIC_CONFIG_INCOMPLETE'],
      more: (report) => assert.equal(report.components.ip.defaultGateway, null),
    },
  },
  {
    id: '8',
    title: 'resolv.conf with no servers',
    lab: { resolvConf: '# written by the eflow-netdiag lab: no servers\noptions ndots:1\n' },
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'inconclusive' },
      present: [{ code: 'DNS_NO_SERVERS', severity: 'error' }],
      quiet: ['ip', 'firewall'],
      more: assertAllUnresolved,
    },
  },
  {
    id: '9',
    title: 'DNS server unreachable',
    lab: { resolvConf: resolvConf(LAB_ADDR.nowhere), serverAddresses: [LAB_ADDR.nowhere] },
    setup: (lab) => lab.drop({ protocol: 'all', address: LAB_ADDR.nowhere }),
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'inconclusive' },
      present: [{ code: 'DNS_SERVER_UNREACHABLE', severity: 'error', subject: LAB_ADDR.nowhere }],
      absent: ['DNS_SERVER_NOT_ANSWERING', 'DNS_NAME_NOT_FOUND'],
      quiet: ['ip', 'firewall'],
      more: assertAllUnresolved,
    },
  },
  {
    id: '10',
    title: 'DNS server pings but drops port 53',
    setup: (lab) => lab.drop({ protocol: 'dns', address: LAB_ADDR.dns }),
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'inconclusive' },
      present: [{ code: 'DNS_SERVER_NOT_ANSWERING', severity: 'error', subject: LAB_ADDR.dns }],
      absent: ['DNS_SERVER_UNREACHABLE', 'DNS_NAME_NOT_FOUND'],
      quiet: ['ip', 'firewall'],
      more: assertAllUnresolved,
    },
  },
  {
    id: '11',
    title: 'DNS server answers REFUSED',
    lab: { dnsmasq: [], scriptedDns: [{ address: LAB_ADDR.dns, mode: 'refused' }] },
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'inconclusive' },
      present: [{ code: 'DNS_SERVER_REFUSED', severity: 'error', subject: LAB_ADDR.dns }],
      absent: ['DNS_SERVER_UNREACHABLE', 'DNS_SERVER_NOT_ANSWERING', 'DNS_NAME_NOT_FOUND'],
      quiet: ['ip', 'firewall'],
      more: (report) => {
        const server = report.components.dns.servers.find((s) => s.address === LAB_ADDR.dns);
        assert.ok(
          server?.queries.some((q) => q.outcome === 'refused'),
          'a query with outcome refused',
        );
        assertAllUnresolved(report);
      },
    },
  },
  {
    id: '12',
    title: 'one of two DNS servers dead: degraded, not unhealthy',
    lab: { resolvConf: resolvConf(LAB_ADDR.dns, LAB_ADDR.dns2), serverAddresses: [LAB_ADDR.dns2] },
    setup: (lab) => lab.drop({ protocol: 'all', address: LAB_ADDR.dns2 }),
    expect: {
      status: 'degraded',
      failingComponent: null,
      components: { ip: 'healthy', dns: 'degraded', firewall: 'healthy' },
      present: [{ code: 'DNS_SERVER_UNREACHABLE', severity: 'warning', subject: LAB_ADDR.dns2 }],
      quiet: ['ip', 'firewall'],
      more: (report) => {
        assert.ok(!report.findings.some((f) => f.severity === 'error'), 'no error findings');
        assert.ok(
          !report.findings.some((f) => f.subject === LAB_ADDR.dns && f.severity !== 'info'),
          'the working server is fine',
        );
        assertHubEndpoints(report, { 8883: 'open', 5671: 'open', 443: 'open' });
      },
    },
  },
  {
    id: '13',
    title: 'hub name does not exist (NXDOMAIN)',
    // DPS and the registry named as the hub (tested once, under its role): no public default.
    args: (lab) => [
      ...['--hub', 'no-such-hub.azure-devices.net', '--ca-file', lab.paths.caFile],
      ...['--dps', 'no-such-hub.azure-devices.net', '--registry', 'no-such-hub.azure-devices.net'],
      ...FAST,
    ],
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'inconclusive' },
      present: [{ code: 'DNS_NAME_NOT_FOUND', severity: 'error', message: [/no-such-hub\.azure-devices\.net/] }],
      absent: DNS_SERVER_CODES,
      quiet: ['ip', 'firewall'],
      more: (report) => {
        const endpoints = report.components.firewall.endpoints;
        assert.equal(endpoints.length, 3);
        for (const e of endpoints) assert.equal(e.outcome, 'unresolved', `${e.host}:${e.port}`);
      },
    },
  },
  {
    id: '14',
    title: 'resolv.conf names only the 127.0.0.53 stub, upstreams in the systemd-resolved file',
    lab: { resolvConf: resolvConf('127.0.0.53'), resolvedConf: resolvConf(LAB_ADDR.dns) },
    // The stub itself, as systemd-resolved would be: the check's own lookups go through it.
    setup: async (lab) => void (await lab.startDnsmasq({ ns: 'vm', address: '127.0.0.53', upstream: LAB_ADDR.dns })),
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { ip: 'healthy', dns: 'healthy', firewall: 'healthy' },
      more: (report) => {
        assert.equal(report.components.dns.source, 'systemd-resolved');
        assert.deepEqual(
          report.components.dns.servers.map((s) => s.address),
          [LAB_ADDR.dns],
        );
        assertHubEndpoints(report, { 8883: 'open', 5671: 'open', 443: 'open' });
      },
    },
  },
  {
    id: '14-no-upstream',
    title: 'the 127.0.0.53 stub with no upstream in the systemd-resolved file',
    lab: { resolvConf: resolvConf('127.0.0.53'), resolvedConf: '# no upstream servers\n' },
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'inconclusive' },
      present: [{ code: 'DNS_NO_SERVERS', severity: 'error' }],
      quiet: ['ip', 'firewall'],
      more: (report) => {
        assert.equal(report.components.dns.source, 'systemd-resolved');
        assertAllUnresolved(report);
      },
    },
  },
  {
    id: '15-mqtt',
    title: '8883 dropped, upstream protocol Mqtt (the port in use)',
    setup: (lab) => lab.drop({ protocol: 'tcp', address: LAB_ADDR.hub, port: 8883 }),
    args: withProtocol('Mqtt'),
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      components: { ip: 'healthy', dns: 'healthy', firewall: 'unhealthy' },
      present: [
        { code: 'FW_PORT_BLOCKED', severity: 'error', subject: hubSubject(8883) },
        // 443 works, so MqttWs is a way out: the contract asks to say so.
        { code: 'FW_PROTOCOL_FALLBACK', severity: 'warning', mentions: [/MqttWs/] },
      ],
      absent: ['FW_PORT_REJECTED', 'FW_TLS_UNTRUSTED'],
      quiet: ['ip', 'dns'],
      more: (report) => assertHubEndpoints(report, { 8883: 'blocked', 5671: 'open', 443: 'open' }),
    },
  },
  {
    id: '15-amqp',
    title: '8883 dropped, upstream protocol Amqp (not the port in use)',
    setup: (lab) => lab.drop({ protocol: 'tcp', address: LAB_ADDR.hub, port: 8883 }),
    args: withProtocol('Amqp'),
    expect: {
      status: 'degraded',
      failingComponent: null,
      components: { ip: 'healthy', dns: 'healthy', firewall: 'degraded' },
      present: [{ code: 'FW_PORT_BLOCKED', severity: 'warning', subject: hubSubject(8883) }],
      absent: ['FW_PROTOCOL_FALLBACK', 'FW_PORT_REJECTED'],
      quiet: ['ip', 'dns'],
      more: (report) => assertHubEndpoints(report, { 8883: 'blocked', 5671: 'open', 443: 'open' }),
    },
  },
  {
    id: '16-amqp',
    title: '5671 rejected, upstream protocol Amqp (the port in use)',
    setup: (lab) => lab.reject({ protocol: 'tcp', address: LAB_ADDR.hub, port: 5671 }),
    args: withProtocol('Amqp'),
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      components: { ip: 'healthy', dns: 'healthy', firewall: 'unhealthy' },
      present: [
        { code: 'FW_PORT_REJECTED', severity: 'error', subject: hubSubject(5671) },
        { code: 'FW_PROTOCOL_FALLBACK', severity: 'warning', mentions: [/AmqpWs/] },
      ],
      absent: ['FW_PORT_BLOCKED', 'FW_TLS_UNTRUSTED'],
      quiet: ['ip', 'dns'],
      more: (report) => assertHubEndpoints(report, { 8883: 'open', 5671: 'rejected', 443: 'open' }),
    },
  },
  {
    id: '16-mqtt',
    title: '5671 rejected, upstream protocol Mqtt (not the port in use)',
    setup: (lab) => lab.reject({ protocol: 'tcp', address: LAB_ADDR.hub, port: 5671 }),
    args: withProtocol('Mqtt'),
    expect: {
      status: 'degraded',
      failingComponent: null,
      components: { ip: 'healthy', dns: 'healthy', firewall: 'degraded' },
      present: [{ code: 'FW_PORT_REJECTED', severity: 'warning', subject: hubSubject(5671) }],
      absent: ['FW_PROTOCOL_FALLBACK', 'FW_PORT_BLOCKED'],
      quiet: ['ip', 'dns'],
      more: (report) => assertHubEndpoints(report, { 8883: 'open', 5671: 'rejected', 443: 'open' }),
    },
  },
  {
    id: '17',
    title: '443 intercepted by a certificate from an unknown CA',
    lab: { hub: { ports: { 443: 'untrusted' } } },
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      components: { ip: 'healthy', dns: 'healthy', firewall: 'unhealthy' },
      present: [
        {
          code: 'FW_TLS_UNTRUSTED',
          severity: 'error',
          subject: hubSubject(443),
          message: [new RegExp(INSPECTION_CA_NAME)],
        },
      ],
      absent: ['FW_PORT_BLOCKED', 'FW_PORT_REJECTED'],
      quiet: ['ip', 'dns'],
      more: (report) => {
        assertHubEndpoints(report, { 8883: 'open', 5671: 'open', 443: 'tls-untrusted' });
        const tls = report.components.firewall.endpoints.find((e) => e.port === 443)?.tls;
        assert.equal(tls?.authorized, false);
      },
    },
  },
];

/** Scenario 18: everything dropped. Short timings, two servers, two names and an extra endpoint. */
const EVERYTHING_DEADLINE_MS = 3000;
/** Node start-up and JSON output on a loaded two-core runner; the report itself must be on time. */
const PROCESS_MARGIN_MS = 3000;
const EXTRA_ENDPOINT = { host: LAB_ADDR.hub, port: 8443 };
const OTHER_NAME = 'lab-dps.azure-devices.net';

SCENARIOS.push({
  id: '18',
  title: 'everything dropped: returns within its deadline with every probe accounted for',
  lab: {
    resolvConf: resolvConf(LAB_ADDR.dns, LAB_ADDR.dns2),
    dnsmasq: [{ address: LAB_ADDR.dns }, { address: LAB_ADDR.dns2 }],
  },
  setup: (lab) => lab.drop({ protocol: 'all' }),
  args: (lab) => [
    ...lab.hubArgs(),
    '--timeout',
    '1000',
    '--deadline',
    String(EVERYTHING_DEADLINE_MS),
    '--dns-name',
    HUB_NAME,
    '--dns-name',
    OTHER_NAME,
    '--endpoint',
    `${EXTRA_ENDPOINT.host}:${EXTRA_ENDPOINT.port}`,
  ],
  expect: {
    status: 'unhealthy',
    // The silent gateway is only a warning (many do not answer ping); the dead DNS is the error.
    // The firewall's status is left open: the IP-literal endpoint needs no DNS and is really blocked.
    failingComponent: 'dns',
    components: { ip: 'degraded', dns: 'unhealthy' },
    present: [
      { code: 'IP_GATEWAY_UNREACHABLE', severity: 'warning' },
      { code: 'DNS_SERVER_UNREACHABLE', severity: 'error', subject: LAB_ADDR.dns },
      { code: 'DNS_SERVER_UNREACHABLE', severity: 'error', subject: LAB_ADDR.dns2 },
    ],
    more: (report, run) => {
      const servers = report.components.dns.servers;
      assert.deepEqual(servers.map((s) => s.address).sort(), [LAB_ADDR.dns, LAB_ADDR.dns2]);
      for (const server of servers) {
        for (const name of [HUB_NAME, OTHER_NAME]) {
          const queries = server.queries.filter((q) => q.name === name);
          assert.ok(queries.length > 0, `${server.address} has no query for ${name}`);
          for (const q of queries)
            assert.ok(DNS_OUTCOMES.includes(q.outcome), `${server.address} ${name} ${q.type}: ${q.outcome}`);
          assert.ok(
            queries.every((q) => q.outcome !== 'answered'),
            'nothing can answer',
          );
        }
        assert.ok('error' in server.ping || server.ping.received === 0, `${server.address} ping got through`);
      }
      const endpoints = report.components.firewall.endpoints.map((e) => `${e.host}:${e.port}`).sort();
      assert.deepEqual(
        endpoints,
        [hubSubject(443), hubSubject(5671), hubSubject(8883), `${EXTRA_ENDPOINT.host}:${EXTRA_ENDPOINT.port}`].sort(),
      );
      for (const e of report.components.firewall.endpoints) {
        assert.ok(ENDPOINT_OUTCOMES.includes(e.outcome), `${e.host}:${e.port} outcome ${e.outcome}`);
        assert.notEqual(e.outcome, 'open');
      }
      assert.ok(
        report.durationMs <= EVERYTHING_DEADLINE_MS + 250,
        `report.durationMs ${report.durationMs} > deadline ${EVERYTHING_DEADLINE_MS}`,
      );
      assert.ok(
        run.durationMs <= EVERYTHING_DEADLINE_MS + PROCESS_MARGIN_MS,
        `the process took ${run.durationMs} ms for a ${EVERYTHING_DEADLINE_MS} ms deadline`,
      );
    },
  },
});

/**
 * Beyond the matrix: the machine's own name is not in /etc/hosts, so looking it up goes to DNS; the
 * first server REFUSEs names it does not know (a forwarder with no upstream) and the second is dead,
 * so such a lookup waits out the resolver's timeouts (2 x 5 s). Whatever the check (or a library it
 * uses) asks the system resolver, the deadline must hold and eth0 must not be called missing.
 */
SCENARIOS.push({
  id: '18-slow-resolver',
  title: 'hostname not in /etc/hosts and the second DNS server dead: the deadline holds, no false IP findings',
  lab: {
    hostsFile: '127.0.0.1 localhost\n::1 localhost\n',
    dnsmasq: [{ address: LAB_ADDR.dns, localDomains: [] }],
    resolvConf: resolvConf(LAB_ADDR.dns, LAB_ADDR.dns2),
    serverAddresses: [LAB_ADDR.dns2],
  },
  setup: (lab) => lab.drop({ protocol: 'all', address: LAB_ADDR.dns2 }),
  args: (lab) => [...lab.hubArgs(), '--timeout', '1000', '--deadline', String(EVERYTHING_DEADLINE_MS)],
  expect: {
    status: 'degraded',
    failingComponent: null,
    components: { ip: 'healthy', dns: 'degraded' },
    present: [{ code: 'DNS_SERVER_UNREACHABLE', severity: 'warning', subject: LAB_ADDR.dns2 }],
    absent: ['IP_INTERFACE_MISSING', 'IP_NO_ADDRESS', 'IP_NO_DEFAULT_ROUTE'],
    more: (report) => {
      assert.ok(
        report.durationMs <= EVERYTHING_DEADLINE_MS + 250,
        `report.durationMs ${report.durationMs} > deadline ${EVERYTHING_DEADLINE_MS}`,
      );
      assert.equal(report.components.ip.interfaces.find((i) => i.name === 'eth0')?.present, true);
    },
  },
});

describe('LAB.md scenario matrix', { skip, concurrency: 5 }, () => {
  for (const scenario of SCENARIOS) {
    test(`${scenario.id}. ${scenario.title}`, { timeout: 90_000 }, async () => {
      const lab = await createLab({ label: `scenario ${scenario.id}`, ...scenario.lab });
      let run: CheckRun | undefined;
      try {
        await scenario.setup?.(lab);
        run = await lab.runCheck((scenario.args ?? defaultArgs)(lab));
        assert.ok(run.report !== null, `no JSON report (exit ${run.exitCode}, ${run.parseError})`);
        check(run.report, run, scenario.expect);
        assert.deepEqual(run.schemaErrors, [], 'the report matches schema/report.schema.json');
      } catch (err) {
        if (err instanceof Error) {
          const details =
            `\n--- scenario ${scenario.id}: exit ${run?.exitCode ?? '-'}${run?.killed ? ' (killed: no exit)' : ''} in ${run?.durationMs ?? '-'} ms` +
            `\n  status: ${run?.report?.status ?? '-'}, failingComponent: ${run?.report?.failingComponent ?? '-'}, report.durationMs: ${run?.report?.durationMs ?? '-'}` +
            `\n  components: ${run?.report ? JSON.stringify(Object.fromEntries(Object.entries(run.report.components).map(([k, v]) => [k, v.status]))) : '-'}` +
            `\n  findings: ${run?.report ? summary(run.report.findings) : '-'}` +
            `\n  stderr: ${run?.stderr.slice(-2000) ?? '-'}` +
            (run?.report ? '' : `\n  stdout: ${run?.stdout.slice(0, 2000) ?? '-'}`) +
            `\n--- servers\n${lab.serverLogs().slice(-3000)}`;
          // node:test prints the stack, which was fixed when the error was made.
          err.message += details;
          err.stack = `${err.stack ?? ''}${details}`;
        }
        throw err;
      } finally {
        await lab.destroy();
      }
    });
  }
});
