/**
 * Literal observations of a healthy EFLOW VM, to be bent into each fault by the diagnosis tests.
 */
import type { Observations } from '../../src/diagnosis/observations.js';
import type {
  ContainerDnsReport,
  DefaultRouteReport,
  DnsServerReport,
  EndpointReport,
  GatewayReport,
  InterfaceReport,
} from '../../src/report/types.js';

export const HUB = 'lab-hub.azure-devices.net';

export function healthyInterface(over: Partial<InterfaceReport> = {}): InterfaceReport {
  return {
    name: 'eth0',
    present: true,
    operState: 'up',
    adminUp: true,
    mac: '00:15:5d:4e:15:2c',
    mtu: 1500,
    ipv4: [{ address: '198.18.0.10', prefixLength: 24, broadcast: '198.18.0.255' }],
    ipv6: [{ address: 'fe80::215:5dff:fe4e:152c', prefixLength: 64, scope: 'link' }],
    assignment: 'dhcp',
    configFile: '/etc/systemd/network/10-eth0.network',
    config: { dhcp: 'yes', addresses: [], gateways: [], dns: [], problems: [] },
    lease: {
      file: '/run/systemd/netif/leases/2',
      server: '198.18.0.1',
      address: '198.18.0.10',
      prefixLength: 24,
      router: '198.18.0.1',
      dns: ['198.18.0.53'],
      expiry: '2026-11-27T06:00:00.000Z',
    },
    counters: {
      rxPackets: 1000,
      rxBytes: 100000,
      rxErrors: 0,
      rxDropped: 0,
      txPackets: 900,
      txBytes: 90000,
      txErrors: 0,
      txDropped: 0,
    },
    ...over,
  };
}

/** eth0's default route, in use, its gateway answering ping and ARP. */
export function healthyDefaultRoute(over: Partial<DefaultRouteReport> = {}): DefaultRouteReport {
  return {
    family: 4,
    gateway: '198.18.0.1',
    interface: 'eth0',
    metric: 100,
    inUse: true,
    reachable: true,
    arp: true,
    ping: { sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.1 },
    ...over,
  };
}

/** What containers on azure-iot-edge use when daemon.json has no `dns`: the VM's own server, tested once. */
export function healthyContainers(over: Partial<ContainerDnsReport> = {}): ContainerDnsReport {
  return {
    source: 'resolv.conf',
    addresses: ['198.18.0.53'],
    servers: [healthyServer()],
    untested: [],
    fallbackPublic: false,
    network: 'user-defined',
    rules: 'v20.10-v25',
    hostLoopback: [],
    ignored: [],
    note: "The embedded resolver (127.0.0.11) forwards to the host's nameservers.",
    daemonConfig: {
      path: '/etc/docker/daemon.json',
      state: 'absent',
      dns: null,
      mtu: null,
      bip: null,
      reason: null,
      problems: [],
    },
    ...over,
  };
}

/** eth0's default gateway, answering pings. */
export function healthyGateway(over: Partial<GatewayReport> = {}): GatewayReport {
  return { address: '198.18.0.1', interface: 'eth0', reachable: true, rttMs: 0.1, ...over };
}

export function healthyServer(address = '198.18.0.53', over: Partial<DnsServerReport> = {}): DnsServerReport {
  return {
    address,
    public: false,
    provider: null,
    ping: { sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.2 },
    queries: [
      {
        name: HUB,
        type: 'A',
        outcome: 'answered',
        rcode: 'NOERROR',
        answers: ['198.18.1.10'],
        rttMs: 1,
        transport: 'udp',
      },
    ],
    ...over,
  };
}

/** Overrides; `undefined` removes an optional field (an endpoint that never got to TLS has no `tls`). */
type Bend<T> = { [K in keyof T]?: T[K] | undefined };

/** What is left of `value` once the keys set to undefined are dropped. */
function withoutUndefined<T extends object>(value: Bend<T>): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function endpoint(port: number, over: Bend<EndpointReport> = {}): EndpointReport {
  const protocol = port === 8883 ? 'mqtt' : port === 5671 ? 'amqp' : port === 443 ? 'https' : 'custom';
  return withoutUndefined<EndpointReport>({
    host: HUB,
    port,
    protocol,
    role: 'hub',
    address: '198.18.1.10',
    outcome: 'open',
    resolveMs: 1,
    tcpConnectMs: 1,
    tls: {
      handshakeMs: 5,
      protocol: 'TLSv1.3',
      authorized: true,
      authorizationError: null,
      subject: HUB,
      issuer: 'Lab CA',
      rootIssuer: 'Lab CA',
      validTo: 'Dec 26 00:00:00 2026 GMT',
    },
    ...over,
  });
}

export function healthy(): Observations {
  return {
    config: {
      interfaces: ['eth0'],
      hub: HUB,
      expectedIp: null,
      switchType: null,
      upstreamProtocol: 'Amqp',
      dnsNames: [HUB],
      timeoutMs: 3000,
    },
    ip: {
      interfaces: [healthyInterface()],
      defaultRoutes: [healthyDefaultRoute()],
      defaultGateway: healthyGateway(),
      routeTable: [
        {
          family: 4,
          destination: '0.0.0.0',
          prefixLength: 0,
          gateway: '198.18.0.1',
          interface: 'eth0',
          metric: 100,
          type: 'unicast',
        },
        {
          family: 4,
          destination: '198.18.0.0',
          prefixLength: 24,
          gateway: null,
          interface: 'eth0',
          metric: 100,
          type: 'unicast',
        },
      ],
      routes: [],
      bridges: [],
      pathMtu: [],
      duplicateAddress: [],
    },
    dns: {
      resolvers: {
        source: 'resolv.conf',
        files: ['/etc/resolv.conf'],
        servers: ['198.18.0.53'],
        stub: false,
        problems: [],
      },
      servers: [healthyServer()],
      names: [HUB],
      containers: healthyContainers(),
    },
    proxy: null,
    firewall: { endpoints: [endpoint(8883), endpoint(5671), endpoint(443)], trustProblems: [] },
    clock: null,
  };
}
