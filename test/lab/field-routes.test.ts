/**
 * The field matrix, routes and bridges (CONTRACT 7.5): a container bridge whose subnet swallows
 * the DNS server, one that swallows the hub's address, two default routes where the preferred one
 * leads nowhere (and where both gateways answer), a bridge MTU above eth0's, and a gateway that
 * ignores ping while DNS works beyond it (7.6). Each scenario asserts status, failingComponent and
 * the codes with severity and subject.
 */
import assert from 'node:assert/strict';
import { HUB_NAME, LAB_ADDR } from './harness.js';
import { ETH1_ADDR } from './field-plumbing.js';
import { fieldScenarios, type FieldScenario } from './field-scenario.js';

const SCENARIOS: FieldScenario[] = [
  {
    id: 'R1',
    title: 'docker0 covers the DNS server: the route conflict is the root cause, DNS and firewall inconclusive',
    // 198.18.1.48/28 holds 198.18.1.53 (the lab DNS), not the hub's 198.18.1.10.
    lab: { bridges: [{ name: 'docker0', cidr: '198.18.1.49/28' }] },
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      components: { ip: 'unhealthy', dns: 'inconclusive', firewall: 'inconclusive' },
      present: [
        {
          code: 'IP_ROUTE_CONFLICT',
          severity: 'error',
          subject: LAB_ADDR.dns,
          message: [/DNS server/, /docker0/],
          mentions: [/"bip"/, /daemon\.json/],
        },
      ],
      absent: ['IP_SUBNET_OVERLAP', 'DNS_SERVER_UNREACHABLE', 'DNS_SERVER_NOT_ANSWERING'],
      quiet: ['dns', 'firewall'],
      more: (report) => {
        const route = report.components.ip.routes?.find((r) => r.destination === LAB_ADDR.dns);
        assert.equal(route?.interface, 'docker0');
        assert.equal(route?.bridge, true);
        assert.deepEqual(route?.needs, ['dns', 'container-dns']);
        const bridge = report.components.ip.bridges?.find((b) => b.name === 'docker0');
        assert.deepEqual(
          bridge?.ipv4.map((a) => `${a.subnet}/${a.prefixLength}`),
          ['198.18.1.48/28'],
        );
      },
    },
  },
  {
    id: 'R2',
    title: "a br-… network covers the hub's address: IP_ROUTE_CONFLICT names the hub, DNS is still judged healthy",
    lab: { bridges: [{ cidr: '198.18.1.9/30' }] },
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      components: { ip: 'unhealthy', dns: 'healthy' },
      present: [
        {
          code: 'IP_ROUTE_CONFLICT',
          severity: 'error',
          subject: LAB_ADDR.hub,
          message: [new RegExp(HUB_NAME.replace(/\./g, '\\.')), /br-[0-9a-f]{12}/],
          mentions: [/moby_runtime\.network/],
        },
      ],
      // Root cause first: the hub's ports fail because of the route, so the firewall says no more than info.
      quiet: ['dns', 'firewall'],
      more: (report) => {
        const route = report.components.ip.routes?.find((r) => r.destination === LAB_ADDR.hub);
        assert.match(route?.interface ?? '', /^br-[0-9a-f]{12}$/);
        assert.deepEqual(route?.names, [HUB_NAME]);
      },
    },
  },
  {
    id: 'R3',
    title: "two default routes, the kernel's (eth1, metric 50) leads to a gateway nobody holds while eth0's answers",
    lab: { secondDefaultRoute: true },
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      components: { ip: 'unhealthy', dns: 'inconclusive', firewall: 'inconclusive' },
      present: [
        {
          code: 'IP_MULTIPLE_DEFAULT_ROUTES',
          severity: 'error',
          subject: 'eth1',
          message: [new RegExp(`uses ${ETH1_ADDR.gateway.replace(/\./g, '\\.')} on eth1`), /198\.18\.0\.1 on eth0/],
          mentions: [/RouteMetric=/, /systemctl restart systemd-networkd/],
        },
      ],
      absent: ['IP_GATEWAY_UNREACHABLE'],
      quiet: ['dns', 'firewall'],
      more: (report) => {
        const ip = report.components.ip;
        // The gateway tested is the one of the route the kernel uses.
        assert.equal(ip.defaultGateway?.address, ETH1_ADDR.gateway);
        assert.equal(ip.defaultGateway?.interface, 'eth1');
        const routes = (ip.defaultRoutes ?? []).map(
          (r) => `${r.gateway} ${r.interface} ${r.metric} ${r.inUse} ${r.reachable}`,
        );
        assert.deepEqual(routes, [
          `${ETH1_ADDR.gateway} eth1 50 true false`,
          `${LAB_ADDR.gateway} eth0 100 false true`,
        ]);
      },
    },
  },
  {
    id: 'R4',
    title: 'two default routes whose gateways both answer: a warning naming the one in use; DNS fails behind it',
    lab: { secondDefaultRoute: { gatewayAnswers: true } },
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'degraded', dns: 'unhealthy' },
      present: [
        { code: 'IP_MULTIPLE_DEFAULT_ROUTES', severity: 'warning', subject: 'eth1' },
        { code: 'DNS_SERVER_UNREACHABLE', severity: 'error', subject: LAB_ADDR.dns, mentions: [/Resolve-DnsName/] },
      ],
    },
  },
  {
    id: 'R5',
    title: 'a container bridge with MTU 1500 on an eth0 of 1400',
    lab: { eth0Mtu: 1400, bridges: [{ name: 'docker0', cidr: '198.18.3.1/24', mtu: 1500 }] },
    expect: {
      status: 'degraded',
      failingComponent: null,
      components: { ip: 'degraded', dns: 'healthy', firewall: 'healthy' },
      present: [
        {
          code: 'IP_MTU_MISMATCH',
          severity: 'warning',
          subject: 'docker0',
          message: [/MTU 1500/, /eth0's 1400/],
          mentions: [/com\.docker\.network\.driver\.mtu=1400/, /"mtu": 1400/],
        },
      ],
      absent: ['IP_ROUTE_CONFLICT', 'IP_SUBNET_OVERLAP', 'IP_MTU_BLACKHOLE'],
      quiet: ['dns', 'firewall'],
      more: (report) => {
        assert.equal(report.components.ip.pathMtu?.interfaceMtu, 1400);
        assert.equal(report.components.ip.pathMtu?.largestPassingDf, 1400);
      },
    },
  },
  {
    id: 'R6',
    title: 'the gateway ignores ping (answers ARP) while DNS and the hub work beyond it: info, healthy',
    setup: (lab) => lab.drop({ protocol: 'icmp', address: LAB_ADDR.gateway }),
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { ip: 'healthy', dns: 'healthy', firewall: 'healthy' },
      present: [
        { code: 'IP_GATEWAY_UNREACHABLE', severity: 'info', subject: LAB_ADDR.gateway, message: [/answers ARP/] },
      ],
      more: (report) => assert.equal(report.components.ip.defaultGateway?.arp, true),
    },
  },
];

fieldScenarios('field matrix: routes, bridges, default routes (CONTRACT 7.5, 7.6)', SCENARIOS);
