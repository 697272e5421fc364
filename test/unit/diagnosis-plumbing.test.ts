/**
 * The rules of CONTRACT 7.5 and 7.6 on literal observations, case by case: each bends the healthy
 * VM of test/support/observations.ts into one fault (routes looked up as the check does, by
 * src/examine/ip-routes.ts) and asserts the verdict, the component statuses and every finding's
 * code, severity and subject.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import type { Observations } from '../../src/diagnosis/observations.js';
import type { ComponentName, ComponentStatus, Finding } from '../../src/report/types.js';
import {
  endpoint,
  healthy,
  healthyContainers,
  healthyDefaultRoute,
  healthyInterface,
  healthyServer,
  HUB,
} from '../support/observations.js';
import {
  bridge,
  defaultVia,
  lookUpRoutes,
  probe,
  route,
  sweep,
  withBridge,
  withSecondDefault,
} from '../support/plumbing.js';

interface Case {
  name: string;
  bend: (o: Observations) => void;
  status: 'healthy' | 'degraded' | 'unhealthy';
  failing: ComponentName | null;
  components?: Partial<Record<ComponentName, ComponentStatus>>;
  /** "severity CODE subject", sorted; every finding of the diagnosis, no more. */
  findings: string[];
  /** Extra checks on the findings. */
  more?: (findings: Finding[]) => void;
}

const silent = { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null };
const timeout = (o: Observations, i = 0) => {
  const s = o.dns!.servers[i]!;
  s.queries = s.queries.map((q) => ({ ...q, outcome: 'timeout' as const, rcode: null, answers: [], rttMs: null }));
  s.ping = silent;
};
const unresolveAll = (o: Observations) => {
  o.firewall!.endpoints = o.firewall!.endpoints.map(({ tls: _tls, ...e }) => ({
    ...e,
    outcome: 'unresolved' as const,
    address: null,
    tcpConnectMs: null,
    error: { phase: 'resolve' as const, code: 'EAI_AGAIN', message: 'timeout' },
  }));
};
const staticEth0 = (address: string, gateway: string, over: Parameters<typeof healthyInterface>[0] = {}) =>
  healthyInterface({
    assignment: 'static',
    lease: null,
    config: { dhcp: null, addresses: [address], gateways: [gateway], dns: ['198.18.0.53'], problems: [] },
    ...over,
  });

const cases: Case[] = [
  // ---- static-config sanity ----
  {
    name: 'a static 169.254 address with a working path: a warning, and the layers above are judged',
    bend: (o) => {
      o.ip!.interfaces = [
        staticEth0('169.254.44.2/24', '169.254.44.1', {
          ipv4: [{ address: '169.254.44.2', prefixLength: 24, broadcast: '169.254.44.255' }],
        }),
      ];
      o.ip!.defaultRoutes = [healthyDefaultRoute({ gateway: '169.254.44.1' })];
      o.ip!.defaultGateway = { address: '169.254.44.1', interface: 'eth0', reachable: true, rttMs: 0.2 };
    },
    status: 'degraded',
    failing: null,
    components: { ip: 'degraded', dns: 'healthy', firewall: 'healthy' },
    findings: ['warning IP_LINK_LOCAL_STATIC eth0'],
  },
  {
    name: 'a DHCP 169.254 address is still IP_LINK_LOCAL_ONLY and blocks',
    bend: (o) => {
      o.ip!.interfaces = [healthyInterface({ ipv4: [{ address: '169.254.3.4', prefixLength: 16, broadcast: null }] })];
      o.ip!.defaultRoutes = [];
      o.ip!.defaultGateway = null;
    },
    status: 'unhealthy',
    failing: 'ip',
    components: { dns: 'inconclusive', firewall: 'inconclusive' },
    findings: ['error IP_LINK_LOCAL_ONLY eth0'],
  },
  {
    name: 'a static Gateway= outside the prefix that networkd could not install: IP_GATEWAY_INVALID, not IP_NO_DEFAULT_ROUTE',
    bend: (o) => {
      o.ip!.interfaces = [staticEth0('198.18.0.10/24', '172.10.0.1')];
      o.ip!.defaultRoutes = [];
      o.ip!.defaultGateway = null;
    },
    status: 'unhealthy',
    failing: 'ip',
    components: { dns: 'inconclusive', firewall: 'inconclusive' },
    findings: ['error IP_GATEWAY_INVALID 172.10.0.1'],
    more: (f) => {
      assert.match(f[0]!.message, /outside every prefix configured on eth0 \(198\.18\.0\.0\/24\)/);
      assert.match(f[0]!.guidance, /Deploy-Eflow .*-ip4GatewayAddress/);
      assert.doesNotMatch(f[0]!.guidance, /Add-EflowVmEndpoint -ip4Address/);
    },
  },
  {
    name: "the gateway is the VM's own address (iotedge-eflow#221): own-address, blocking",
    bend: (o) => {
      o.ip!.interfaces = [staticEth0('198.18.0.10/24', '198.18.0.10')];
      o.ip!.defaultRoutes = [healthyDefaultRoute({ gateway: '198.18.0.10' })];
      o.ip!.defaultGateway = { address: '198.18.0.10', interface: 'eth0', reachable: true, rttMs: 0.01 };
    },
    status: 'unhealthy',
    failing: 'ip',
    components: { dns: 'inconclusive' },
    findings: ['error IP_GATEWAY_INVALID 198.18.0.10'],
    more: (f) => assert.match(f[0]!.message, /VM’s own address/),
  },
  {
    name: 'the kernel gateway is the network address of a DHCP prefix: the DHCP server is told',
    bend: (o) => {
      o.ip!.defaultRoutes = [healthyDefaultRoute({ gateway: '198.18.0.0' })];
      o.ip!.defaultGateway = { address: '198.18.0.0', interface: 'eth0', reachable: false, rttMs: null, ping: silent };
    },
    status: 'unhealthy',
    failing: 'ip',
    findings: ['error IP_GATEWAY_INVALID 198.18.0.0'],
    more: (f) => {
      assert.match(f[0]!.message, /network address/);
      assert.match(f[0]!.guidance, /Set-DhcpServerV4OptionValue -Router/);
    },
  },
  {
    name: 'the broadcast address as gateway',
    bend: (o) => {
      o.ip!.defaultRoutes = [healthyDefaultRoute({ gateway: '198.18.0.255' })];
      o.ip!.defaultGateway = { address: '198.18.0.255', interface: 'eth0', reachable: true, rttMs: 0.1 };
    },
    status: 'unhealthy',
    failing: 'ip',
    findings: ['error IP_GATEWAY_INVALID 198.18.0.255'],
  },
  {
    name: 'a /32 with an on-link gateway outside it is a point-to-point design, not a fault',
    bend: (o) => {
      o.ip!.interfaces = [healthyInterface({ ipv4: [{ address: '198.18.0.10', prefixLength: 32, broadcast: null }] })];
      o.ip!.defaultRoutes = [healthyDefaultRoute({ gateway: '198.18.9.1' })];
      o.ip!.defaultGateway = { address: '198.18.9.1', interface: 'eth0', reachable: true, rttMs: 0.1 };
    },
    status: 'healthy',
    failing: null,
    findings: [],
  },
  // ---- several default routes ----
  {
    name: 'two default routes, both gateways answer: a warning naming the one in use',
    bend: (o) => {
      withSecondDefault(o);
    },
    status: 'degraded',
    failing: null,
    components: { ip: 'degraded', dns: 'healthy', firewall: 'healthy' },
    findings: ['warning IP_MULTIPLE_DEFAULT_ROUTES eth1'],
    more: (f) => assert.match(f[0]!.message, /the kernel uses 198\.18\.2\.1 on eth1 \(metric 50, answers\)/),
  },
  {
    name: "the route in use leads to a gateway that answers neither ARP nor ping while eth0's does: error, blocking",
    bend: (o) => {
      withSecondDefault(o, { reachable: false, arp: false, ping: silent });
      o.ip!.defaultGateway = { address: '198.18.2.1', interface: 'eth1', reachable: false, rttMs: null, ping: silent };
      timeout(o);
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'ip',
    components: { dns: 'inconclusive', firewall: 'inconclusive' },
    findings: ['error IP_MULTIPLE_DEFAULT_ROUTES eth1'],
    more: (f) => {
      assert.match(f[0]!.guidance, /Traffic leaves by eth1, whose gateway is not there, while eth0's is/);
      assert.match(f[0]!.guidance, /sudo ip route change default via 198\.18\.0\.1 dev eth0/);
    },
  },
  {
    name: 'the gateway in use was not tested (ping not permitted, no ARP entry): a warning, not an error',
    bend: (o) => {
      withSecondDefault(o, { reachable: null, arp: null, ping: { error: 'not-permitted' } });
    },
    status: 'degraded',
    failing: null,
    findings: ['info IP_PING_NOT_PERMITTED ping', 'warning IP_MULTIPLE_DEFAULT_ROUTES eth1'],
  },
  {
    name: 'several default routes on interfaces the check does not examine are none of its business',
    bend: (o) => {
      o.config.interfaces = ['eth0'];
      o.ip!.defaultRoutes = [
        healthyDefaultRoute({ interface: 'wlan0', gateway: '198.18.7.1' }),
        healthyDefaultRoute({ interface: 'wlan1', gateway: '198.18.8.1', inUse: false, metric: 200 }),
      ];
    },
    status: 'healthy',
    failing: null,
    findings: [],
  },
  // ---- routes of the needed destinations ----
  {
    name: 'docker0 covers the only DNS server: IP_ROUTE_CONFLICT, blocking; DNS says nothing of its own',
    bend: (o) => {
      withBridge(o, bridge('docker0', '198.18.0.49', 28));
      timeout(o);
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'ip',
    components: { dns: 'inconclusive', firewall: 'inconclusive' },
    findings: ['error IP_ROUTE_CONFLICT 198.18.0.53', 'warning IP_SUBNET_OVERLAP docker0'],
    more: (f) => {
      const c = f.find((x) => x.code === 'IP_ROUTE_CONFLICT')!;
      assert.match(
        c.message,
        /The DNS server \(198\.18\.0\.53\) is routed into the container bridge docker0 by the route 198\.18\.0\.48\/28/,
      );
      assert.match(c.guidance, /"bip"/);
    },
  },
  {
    name: 'a bridge covers one of two DNS servers: that server is explained by IP, the other works, DNS stays healthy',
    bend: (o) => {
      o.dns!.resolvers.servers = ['198.18.1.53', '198.18.9.53'];
      o.dns!.servers = [healthyServer('198.18.1.53'), healthyServer('198.18.9.53')];
      o.dns!.containers = healthyContainers({ addresses: ['198.18.1.53', '198.18.9.53'], servers: o.dns!.servers });
      timeout(o, 1);
      withBridge(o, bridge('br-0123456789ab', '198.18.9.1', 24));
    },
    status: 'unhealthy',
    failing: 'ip',
    components: { ip: 'unhealthy', dns: 'healthy', firewall: 'healthy' },
    findings: ['error IP_ROUTE_CONFLICT 198.18.9.53'],
  },
  {
    name: "a br-… network covers the hub's address: the hub is named; not blocking",
    bend: (o) => withBridge(o, bridge('br-0123456789ab', '198.18.1.9', 30)),
    status: 'unhealthy',
    failing: 'ip',
    components: { dns: 'healthy' },
    findings: ['error IP_ROUTE_CONFLICT 198.18.1.10'],
    more: (f) => {
      assert.match(f[0]!.message, new RegExp(`The hub ${HUB.replace(/\./g, '\\.')} \\(198\\.18\\.1\\.10\\)`));
      assert.match(f[0]!.guidance, /moby_runtime\.network\.ipam\.config/);
    },
  },
  {
    name: 'a blackhole route for the hub: IP_ROUTE_CONFLICT says it is dropped',
    bend: (o) => o.ip!.routeTable.push(route('198.18.1.0', 24, { interface: null, type: 'blackhole' })),
    status: 'unhealthy',
    failing: 'ip',
    findings: ['error IP_ROUTE_CONFLICT 198.18.1.10'],
    more: (f) => assert.match(f[0]!.message, /drops it \(blackhole route 198\.18\.1\.0\/24/),
  },
  {
    name: 'a VPN tunnel takes the hub: an unexpected interface',
    bend: (o) => o.ip!.routeTable.push(route('198.18.1.0', 24, { interface: 'tun0' })),
    status: 'unhealthy',
    failing: 'ip',
    findings: ['error IP_ROUTE_CONFLICT 198.18.1.10'],
    more: (f) => assert.match(f[0]!.message, /routed into tun0 .* not out through eth0/),
  },
  {
    name: 'an IPv6 DNS server on a VM without IPv6 routing is an unreachable server, not a route conflict',
    bend: (o) => {
      o.dns!.resolvers.servers = ['198.18.0.53', '2001:db8::53'];
      o.dns!.servers = [healthyServer('198.18.0.53'), healthyServer('2001:db8::53')];
      o.dns!.containers = null;
      timeout(o, 1);
    },
    status: 'degraded',
    failing: null,
    findings: ['warning DNS_SERVER_UNREACHABLE 2001:db8::53'],
  },
  {
    name: 'a second EFLOW NIC with a route to the hub is a NIC, not a conflict',
    bend: (o) => o.ip!.routeTable.push(route('198.18.1.0', 24, { interface: 'eth1' })),
    status: 'healthy',
    failing: null,
    findings: [],
  },
  // ---- bridges ----
  {
    name: "a Docker bridge overlapping eth0's subnet without taking a needed destination: a warning",
    bend: (o) => withBridge(o, bridge('docker0', '198.18.0.129', 25)),
    status: 'degraded',
    failing: null,
    findings: ['warning IP_SUBNET_OVERLAP docker0'],
    more: (f) =>
      assert.match(f[0]!.message, /docker0 \(198\.18\.0\.128\/25\) overlaps eth0's subnet 198\.18\.0\.0\/24/),
  },
  {
    name: "a bridge that is not Docker's (virbr0) is the operator's business",
    bend: (o) => withBridge(o, bridge('virbr0', '198.18.0.129', 25, { mtu: 9000 })),
    status: 'healthy',
    failing: null,
    findings: [],
  },
  {
    name: "docker0's MTU above eth0's: IP_MTU_MISMATCH names both",
    bend: (o) => {
      o.ip!.interfaces = [healthyInterface({ mtu: 1400 })];
      withBridge(o, bridge('docker0', '198.18.3.1', 24, { mtu: 1500 }));
    },
    status: 'degraded',
    failing: null,
    findings: ['warning IP_MTU_MISMATCH docker0'],
    more: (f) => assert.match(f[0]!.guidance, /com\.docker\.network\.driver\.mtu=1400/),
  },
  {
    name: "a container's veth above eth0's MTU on a bridge that fits",
    bend: (o) => {
      o.ip!.interfaces = [healthyInterface({ mtu: 1400 })];
      withBridge(
        o,
        bridge('br-0123456789ab', '198.18.3.1', 24, { mtu: 1400, members: [{ name: 'veth1', mtu: 1500 }] }),
      );
    },
    status: 'degraded',
    failing: null,
    findings: ['warning IP_MTU_MISMATCH br-0123456789ab'],
  },
  {
    name: 'bridge and eth0 with the same MTU: nothing',
    bend: (o) => withBridge(o, bridge('docker0', '198.18.3.1', 24)),
    status: 'healthy',
    failing: null,
    findings: [],
  },
  // ---- path MTU ----
  {
    name: 'big DF pings vanish without "fragmentation needed" and TLS stalls after connect: IP_MTU_BLACKHOLE',
    bend: (o) => {
      o.ip!.pathMtu = [
        sweep('198.18.0.1', 'gateway', [
          probe(1500, 'no-reply'),
          probe(1400, 'no-reply'),
          probe(1280, 'reply'),
          probe(576, 'reply'),
        ]),
      ];
      o.firewall!.endpoints[2] = endpoint(443, {
        outcome: 'tls-failed',
        tls: undefined,
        error: { phase: 'tls', code: 'ETIMEDOUT', message: 'tls got no answer within 3000 ms' },
      });
    },
    status: 'unhealthy',
    failing: 'ip',
    components: { dns: 'healthy' },
    // Root cause first: the firewall judge keeps its word on the stall to info (the MTU explains it).
    findings: ['error IP_MTU_BLACKHOLE eth0', 'info FW_TLS_FAILED lab-hub.azure-devices.net:443'],
    more: (f) => {
      const hole = f.find((x) => x.code === 'IP_MTU_BLACKHOLE')!;
      assert.match(hole.message, /Packets of 1400 bytes to 198\.18\.0\.1 vanish while 1280 bytes pass/);
      assert.match(hole.guidance, /MTUBytes=1280/);
    },
  },
  {
    name: 'a path that reports its MTU (frag-needed) is path MTU discovery working: no black hole',
    bend: (o) => {
      o.ip!.pathMtu = [
        sweep('198.18.0.1', 'gateway', [
          probe(1500, 'frag-needed', { mtu: 1400 }),
          probe(1400, 'reply'),
          probe(576, 'reply'),
        ]),
      ];
      o.firewall!.endpoints[2] = endpoint(443, {
        outcome: 'tls-failed',
        tls: undefined,
        error: { phase: 'tls', code: 'ETIMEDOUT', message: 'stalled' },
      });
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: ['error FW_TLS_FAILED lab-hub.azure-devices.net:443'],
  },
  {
    name: 'big DF pings vanish but no TLS stalls: nothing (ICMP may be rate-limited)',
    bend: (o) => {
      o.ip!.pathMtu = [sweep('198.18.0.1', 'gateway', [probe(1500, 'no-reply'), probe(1280, 'reply')])];
    },
    status: 'healthy',
    failing: null,
    findings: [],
  },
  {
    name: 'a TLS reset (not a stall) with a black-holed path is not an MTU symptom',
    bend: (o) => {
      o.ip!.pathMtu = [sweep('198.18.0.1', 'gateway', [probe(1500, 'no-reply'), probe(1280, 'reply')])];
      o.firewall!.endpoints[2] = endpoint(443, {
        outcome: 'tls-failed',
        tls: undefined,
        error: { phase: 'tls', code: 'ECONNRESET', message: 'reset' },
      });
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: ['error FW_TLS_FAILED lab-hub.azure-devices.net:443'],
  },
  // ---- duplicate address ----
  {
    name: "another host answers ARP for the VM's address: IP_ADDRESS_CONFLICT with its MAC; the rest still judged",
    bend: (o) => {
      o.ip!.duplicateAddress = [
        {
          address: '198.18.0.10',
          interface: 'eth0',
          conflict: true,
          conflictingMac: '02:00:c6:12:1e:99',
          flavour: 'iputils',
        },
      ];
    },
    status: 'unhealthy',
    failing: 'ip',
    components: { dns: 'healthy', firewall: 'healthy' },
    findings: ['error IP_ADDRESS_CONFLICT 198.18.0.10'],
    more: (f) => assert.match(f[0]!.message, /MAC 02:00:c6:12:1e:99/),
  },
  {
    name: 'arping not permitted is not "no duplicate": said as info',
    bend: (o) => {
      o.ip!.duplicateAddress = [
        {
          address: '198.18.0.10',
          interface: 'eth0',
          conflict: null,
          conflictingMac: null,
          flavour: 'iputils',
          error: 'not-permitted',
          detail: 'socket: Operation not permitted',
        },
      ];
    },
    status: 'healthy',
    failing: null,
    findings: ['info IP_PING_NOT_PERMITTED ping'],
    more: (f) => assert.match(f[0]!.message, /arping 198\.18\.0\.10/),
  },
  // ---- the gateway that ignores ping (7.6) ----
  {
    name: 'the gateway ignores ping but answers ARP and the hub connects through it: info',
    bend: (o) => {
      o.ip!.defaultGateway = {
        address: '198.18.0.1',
        interface: 'eth0',
        reachable: false,
        rttMs: null,
        ping: silent,
        arp: true,
      };
    },
    status: 'healthy',
    failing: null,
    findings: ['info IP_GATEWAY_UNREACHABLE 198.18.0.1'],
    more: (f) => assert.match(f[0]!.message, /but it answers ARP; lab-hub\.azure-devices\.net:8883 beyond it works/),
  },
  {
    name: 'only an on-link DNS server works (not beyond the gateway), nothing connects: still a warning',
    bend: (o) => {
      o.ip!.defaultGateway = {
        address: '198.18.0.1',
        interface: 'eth0',
        reachable: false,
        rttMs: null,
        ping: silent,
        arp: false,
      };
      for (const e of o.firewall!.endpoints)
        Object.assign(e, { outcome: 'blocked', tcpConnectMs: null, tls: undefined });
    },
    status: 'unhealthy',
    failing: 'firewall',
    findings: [
      'error FW_PORT_BLOCKED lab-hub.azure-devices.net:443',
      'error FW_PORT_BLOCKED lab-hub.azure-devices.net:5671',
      'warning FW_PORT_BLOCKED lab-hub.azure-devices.net:8883',
      'warning IP_GATEWAY_UNREACHABLE 198.18.0.1',
    ],
    more: (f) => assert.match(f.find((x) => x.code === 'IP_GATEWAY_UNREACHABLE')!.message, /nor ARP/),
  },
];

for (const c of cases) {
  test(`plumbing rules: ${c.name}`, () => {
    const obs = healthy();
    c.bend(obs);
    const d = diagnose(lookUpRoutes(obs));
    const got = d.findings.map((f) => `${f.severity} ${f.code} ${f.subject}`).sort();
    assert.deepEqual(
      got,
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

test('the healthy observations with their routes looked up: healthy, the table made of the right kinds', () => {
  const obs = lookUpRoutes(healthy());
  assert.equal(diagnose(obs).status, 'healthy');
  assert.deepEqual(
    obs.ip!.routes.map((r) => `${r.destination} ${r.needs.join('+')} ${r.kind} ${r.interface}`),
    [
      '198.18.0.1 gateway on-link eth0',
      '198.18.0.53 dns+container-dns on-link eth0',
      '198.18.1.10 endpoint gateway eth0',
    ],
  );
});

test('the route table is kept as read: a default via another gateway is the one looked up', () => {
  const obs = healthy();
  obs.ip!.routeTable = [defaultVia('198.18.0.254'), route('198.18.0.0', 24)];
  lookUpRoutes(obs);
  assert.equal(obs.ip!.routes.find((r) => r.destination === '198.18.1.10')?.gateway, '198.18.0.254');
});
