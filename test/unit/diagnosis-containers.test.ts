/**
 * The containers' DNS rules (CONTRACT 7.5): DNS_CONTAINER_SERVERS_DIFFER, _CONFIG_INVALID and
 * _SERVER_FAILED on literal observations, including daemon.json files parsed for real
 * (docker-config.ts: garbage, comments, wrong types) and servers worked out by moby's rules
 * (container-dns.ts), so what reaches the rule is what the probes would give it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import type { Observations } from '../../src/diagnosis/observations.js';
import { containerDns } from '../../src/probes/container-dns.js';
import { parseDaemonJson } from '../../src/probes/docker-config.js';
import type {
  ComponentName,
  ComponentStatus,
  ContainerDnsReport,
  DnsServerReport,
  Finding,
} from '../../src/report/types.js';
import { healthy, healthyContainers, healthyServer } from '../support/observations.js';

const silent = (address: string): DnsServerReport => ({
  ...healthyServer(address),
  ping: { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null },
  queries: healthyServer(address).queries.map((q) => ({
    ...q,
    outcome: 'timeout' as const,
    rcode: null,
    answers: [],
    rttMs: null,
  })),
});
const refusing = (address: string): DnsServerReport => ({
  ...healthyServer(address),
  queries: healthyServer(address).queries.map((q) => ({
    ...q,
    outcome: 'refused' as const,
    rcode: 'REFUSED',
    answers: [],
  })),
});

/** The containers' part as examineDns builds it from a daemon.json text and the VM's resolv.conf. */
function fromFiles(daemonJson: string | null, resolvConf: string, tests: DnsServerReport[]): ContainerDnsReport {
  const daemon =
    daemonJson === null
      ? {
          path: '/etc/docker/daemon.json',
          state: 'absent' as const,
          dns: null,
          mtu: null,
          bip: null,
          reason: null,
          problems: [],
        }
      : parseDaemonJson(daemonJson, { path: '/etc/docker/daemon.json' });
  const c = containerDns({ daemon, resolvConf, resolvedConf: null });
  return {
    source: c.source,
    addresses: c.servers,
    servers: tests.filter((t) => c.servers.includes(t.address)),
    untested: c.servers.filter((s) => !tests.some((t) => t.address === s)),
    fallbackPublic: c.fallbackPublic,
    network: c.network,
    rules: c.rules,
    hostLoopback: c.hostLoopback,
    ignored: c.ignored,
    note: c.note,
    daemonConfig: {
      path: daemon.path,
      state: daemon.state,
      dns: daemon.dns,
      mtu: daemon.mtu,
      bip: daemon.bip,
      reason: daemon.reason,
      problems: daemon.problems,
    },
  };
}

interface Case {
  name: string;
  bend: (o: Observations) => void;
  status: 'healthy' | 'degraded' | 'unhealthy';
  failing: ComponentName | null;
  components?: Partial<Record<ComponentName, ComponentStatus>>;
  findings: string[];
  more?: (f: Finding[]) => void;
}

const VM_RESOLV = 'nameserver 198.18.0.53\n';

const cases: Case[] = [
  {
    name: 'no daemon.json: containers use the VM server, tested once, nothing to say',
    bend: (o) => (o.dns!.containers = fromFiles(null, VM_RESOLV, o.dns!.servers)),
    status: 'healthy',
    failing: null,
    findings: [],
  },
  {
    name: 'daemon.json dns names another server that works: info naming both sides and what was tested',
    bend: (o) => (o.dns!.containers = fromFiles('{"dns": ["198.18.1.54"]}', VM_RESOLV, [healthyServer('198.18.1.54')])),
    status: 'healthy',
    failing: null,
    findings: ['info DNS_CONTAINER_SERVERS_DIFFER azure-iot-edge'],
    more: (f) =>
      assert.match(
        f[0]!.message,
        /will use 198\.18\.1\.54 \(from daemon\.json\), not the VM's 198\.18\.0\.53; tested: 198\.18\.1\.54/,
      ),
  },
  {
    name: "daemon.json names a silent server, the containers' only one: an error of the DNS layer, the firewall still judged",
    bend: (o) => (o.dns!.containers = fromFiles('{"dns": ["198.18.1.54"]}', VM_RESOLV, [silent('198.18.1.54')])),
    status: 'unhealthy',
    failing: 'dns',
    components: { dns: 'unhealthy', firewall: 'healthy' },
    findings: ['error DNS_CONTAINER_SERVER_FAILED 198.18.1.54', 'info DNS_CONTAINER_SERVERS_DIFFER azure-iot-edge'],
    more: (f) => {
      const failed = f.find((x) => x.code === 'DNS_CONTAINER_SERVER_FAILED')!;
      assert.match(failed.message, /does not answer at all/);
      assert.match(failed.guidance, /Resolve-DnsName lab-hub\.azure-devices\.net -Server 198\.18\.1\.54/);
      assert.match(failed.guidance, /correct "dns" in \/etc\/docker\/daemon\.json/);
    },
  },
  {
    name: 'one of two container servers refuses: a warning (the other works)',
    bend: (o) =>
      (o.dns!.containers = fromFiles('{"dns": ["198.18.1.54", "198.18.1.55"]}', VM_RESOLV, [
        refusing('198.18.1.54'),
        healthyServer('198.18.1.55'),
      ])),
    status: 'degraded',
    failing: null,
    findings: ['info DNS_CONTAINER_SERVERS_DIFFER azure-iot-edge', 'warning DNS_CONTAINER_SERVER_FAILED 198.18.1.54'],
    more: (f) => assert.match(f.find((x) => x.severity === 'warning')!.message, /refuses the queries/),
  },
  {
    name: "Docker's public fallback on a network that blocks public resolvers: an error that says to set dns in daemon.json",
    bend: (o) => {
      // The VM asks a local resolver on ::1, which Docker (v20.10–v25) drops: it falls back to Google.
      o.dns!.resolvers.servers = ['::1'];
      o.dns!.servers = [healthyServer('::1')];
      o.dns!.containers = fromFiles(null, 'nameserver ::1\n', [silent('8.8.8.8'), silent('8.8.4.4')]);
    },
    status: 'unhealthy',
    failing: 'dns',
    findings: [
      'error DNS_CONTAINER_SERVER_FAILED 8.8.4.4',
      'error DNS_CONTAINER_SERVER_FAILED 8.8.8.8',
      'info DNS_CONTAINER_SERVERS_DIFFER azure-iot-edge',
    ],
    more: (f) => {
      const failed = f.find((x) => x.code === 'DNS_CONTAINER_SERVER_FAILED')!;
      assert.match(failed.message, /Docker's public fallback/);
      assert.match(failed.guidance, /"dns": \[/);
      assert.match(f.find((x) => x.code === 'DNS_CONTAINER_SERVERS_DIFFER')!.guidance, /Google's public DNS/);
    },
  },
  {
    name: "the containers' first three servers are the VM's dead ones while the VM's fourth works: the containers are worse off",
    bend: (o) => {
      const vm = ['198.18.1.1', '198.18.1.2', '198.18.1.3', '198.18.1.4'];
      o.dns!.resolvers.servers = vm;
      o.dns!.servers = [silent(vm[0]!), silent(vm[1]!), silent(vm[2]!), healthyServer(vm[3])];
      o.dns!.containers = healthyContainers({ addresses: vm.slice(0, 3), servers: o.dns!.servers.slice(0, 3) });
    },
    status: 'unhealthy',
    failing: 'dns',
    findings: [
      'error DNS_CONTAINER_SERVER_FAILED 198.18.1.1',
      'error DNS_CONTAINER_SERVER_FAILED 198.18.1.2',
      'error DNS_CONTAINER_SERVER_FAILED 198.18.1.3',
      'info DNS_CONTAINER_SERVERS_DIFFER azure-iot-edge',
      'warning DNS_SERVER_UNREACHABLE 198.18.1.1',
      'warning DNS_SERVER_UNREACHABLE 198.18.1.2',
      'warning DNS_SERVER_UNREACHABLE 198.18.1.3',
    ],
  },
  {
    name: 'a daemon.json with comments: dockerd refuses it',
    bend: (o) =>
      (o.dns!.containers = fromFiles('{\n // site DNS\n "dns": ["198.18.0.53"]\n}', VM_RESOLV, o.dns!.servers)),
    status: 'unhealthy',
    failing: 'dns',
    components: { firewall: 'healthy' },
    findings: ['error DNS_CONTAINER_CONFIG_INVALID /etc/docker/daemon.json'],
    more: (f) => {
      assert.match(f[0]!.message, /not valid JSON \(it has comments/);
      assert.match(f[0]!.guidance, /dockerd --validate --config-file \/etc\/docker\/daemon\.json/);
    },
  },
  {
    name: 'dns of the wrong type ("dns": "198.18.0.53"): dockerd refuses it, a clear finding',
    bend: (o) => (o.dns!.containers = fromFiles('{"dns": "198.18.0.53"}', VM_RESOLV, o.dns!.servers)),
    status: 'unhealthy',
    failing: 'dns',
    findings: ['error DNS_CONTAINER_CONFIG_INVALID /etc/docker/daemon.json'],
    more: (f) => assert.match(f[0]!.message, /"dns" must be an array of IP addresses/),
  },
  {
    name: 'binary garbage as daemon.json: refused, never a crash',
    bend: (o) => (o.dns!.containers = fromFiles('\u0000\u0001\u00ff{{{', VM_RESOLV, o.dns!.servers)),
    status: 'unhealthy',
    failing: 'dns',
    findings: ['error DNS_CONTAINER_CONFIG_INVALID /etc/docker/daemon.json'],
  },
  {
    name: 'the VM has no server at all: DNS_NO_SERVERS; the containers repeat nothing',
    bend: (o) => {
      o.dns!.resolvers.servers = [];
      o.dns!.servers = [];
      o.dns!.containers = fromFiles(null, '# nothing\n', []);
    },
    status: 'unhealthy',
    failing: 'dns',
    // Docker's fallback differs from "none", and was not tested (the check never asks 8.8.8.8 then).
    findings: ['error DNS_NO_SERVERS /etc/resolv.conf', 'info DNS_CONTAINER_SERVERS_DIFFER azure-iot-edge'],
    more: (f) => assert.match(f.find((x) => x.severity === 'info')!.message, /not tested: 8\.8\.8\.8, 8\.8\.4\.4/),
  },
  {
    name: 'containers left with no server while the VM resolves: an error for azure-iot-edge',
    bend: (o) => {
      o.dns!.containers = healthyContainers({
        source: 'systemd-resolved',
        addresses: [],
        servers: [],
        note: 'The embedded resolver forwards to the stub, which has no upstream.',
      });
    },
    status: 'unhealthy',
    failing: 'dns',
    findings: ['error DNS_CONTAINER_SERVER_FAILED azure-iot-edge', 'info DNS_CONTAINER_SERVERS_DIFFER azure-iot-edge'],
  },
  {
    name: 'servers that could not be tested are named, and no failure is made up for them',
    bend: (o) => {
      o.dns!.containers = healthyContainers({ addresses: ['198.18.1.54'], servers: [], untested: ['198.18.1.54'] });
    },
    status: 'healthy',
    failing: null,
    findings: ['info DNS_CONTAINER_SERVERS_DIFFER azure-iot-edge'],
    more: (f) => assert.match(f[0]!.message, /not tested: 198\.18\.1\.54/),
  },
];

for (const c of cases) {
  test(`container DNS rules: ${c.name}`, () => {
    const obs = healthy();
    c.bend(obs);
    const d = diagnose(obs);
    assert.deepEqual(
      d.findings.map((f) => `${f.severity} ${f.code} ${f.subject}`).sort(),
      [...c.findings].sort(),
      JSON.stringify(
        d.findings.map((f) => f.message),
        null,
        1,
      ),
    );
    assert.equal(d.status, c.status);
    assert.equal(d.failingComponent, c.failing);
    for (const [component, status] of Object.entries(c.components ?? {}))
      assert.equal(d.components[component as ComponentName], status, `components.${component}`);
    c.more?.(d.findings);
  });
}
