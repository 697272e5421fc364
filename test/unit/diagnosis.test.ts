import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import type { Observations } from '../../src/diagnosis/observations.js';
import { endpoint, healthy, healthyContainers, healthyInterface, healthyServer, HUB } from '../support/observations.js';

interface Case {
  name: string;
  bend: (o: Observations) => void;
  status: string;
  failing: string | null;
  components?: Partial<Record<'ip' | 'dns' | 'firewall', string>>;
  codes: string[];
  /** code → expected severity */
  severities?: Record<string, string>;
}

const timeoutQueries = (o: Observations, server = 0) => {
  const s = o.dns!.servers[server]!;
  s.queries = s.queries.map((q) => ({ ...q, outcome: 'timeout', rcode: null, answers: [], rttMs: null }));
};
const unresolveAll = (o: Observations) => {
  o.firewall!.endpoints = o.firewall!.endpoints.map(({ tls: _tls, ...e }) => ({
    ...e,
    outcome: 'unresolved',
    address: null,
    error: { phase: 'resolve', code: 'EAI_AGAIN', message: 'timeout' },
  }));
};

const cases: Case[] = [
  {
    name: 'healthy',
    bend: () => {},
    status: 'healthy',
    failing: null,
    codes: [],
    components: { ip: 'healthy', dns: 'healthy', firewall: 'healthy' },
  },
  {
    name: 'interface missing: DNS and firewall inconclusive, no findings of their own',
    bend: (o) => {
      o.ip!.interfaces = [
        healthyInterface({
          present: false,
          operState: null,
          adminUp: null,
          mac: null,
          mtu: null,
          ipv4: [],
          ipv6: [],
          counters: null,
          lease: null,
        }),
      ];
      o.ip!.defaultRoutes = [];
      o.ip!.defaultGateway = null;
      timeoutQueries(o);
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'ip',
    codes: ['IP_INTERFACE_MISSING'],
    components: { ip: 'unhealthy', dns: 'inconclusive', firewall: 'inconclusive' },
  },
  {
    name: 'interface down',
    bend: (o) => {
      o.ip!.interfaces = [healthyInterface({ operState: 'down', adminUp: false, ipv4: [] })];
      o.ip!.defaultRoutes = [];
      o.ip!.defaultGateway = null;
    },
    status: 'unhealthy',
    failing: 'ip',
    codes: ['IP_INTERFACE_DOWN'],
    components: { dns: 'inconclusive', firewall: 'inconclusive' },
  },
  {
    name: 'no address (DHCP) mentions the switch and not the default route',
    bend: (o) => {
      o.config.switchType = 'default';
      o.ip!.interfaces = [healthyInterface({ ipv4: [], lease: null })];
      o.ip!.defaultRoutes = [];
      o.ip!.defaultGateway = null;
    },
    status: 'unhealthy',
    failing: 'ip',
    codes: ['IP_NO_ADDRESS'],
  },
  {
    name: 'link-local only',
    bend: (o) => {
      o.ip!.interfaces = [
        healthyInterface({ ipv4: [{ address: '169.254.10.20', prefixLength: 16, broadcast: '169.254.255.255' }] }),
      ];
      o.ip!.defaultRoutes = [];
    },
    status: 'unhealthy',
    failing: 'ip',
    codes: ['IP_LINK_LOCAL_ONLY'],
  },
  {
    // CONTRACT 7: a warning, since it is usually stale input and must not make ip the failing layer.
    name: 'address mismatch is a warning and does not block DNS',
    bend: (o) => {
      o.config.expectedIp = '198.18.0.99';
    },
    status: 'degraded',
    failing: null,
    codes: ['IP_ADDRESS_MISMATCH'],
    severities: { IP_ADDRESS_MISMATCH: 'warning' },
    components: { ip: 'degraded', dns: 'healthy', firewall: 'healthy' },
  },
  {
    name: 'static without gateway and no default route',
    bend: (o) => {
      o.ip!.interfaces = [
        healthyInterface({
          assignment: 'static',
          lease: null,
          config: { dhcp: null, addresses: ['198.18.0.10/24'], gateways: [], dns: ['198.18.0.53'], problems: [] },
        }),
      ];
      o.ip!.defaultRoutes = [];
      o.ip!.defaultGateway = null;
    },
    status: 'unhealthy',
    failing: 'ip',
    codes: ['IP_STATIC_CONFIG_INCOMPLETE', 'IP_NO_DEFAULT_ROUTE'],
    components: { dns: 'inconclusive' },
  },
  {
    name: 'static without prefix length',
    bend: (o) => {
      o.ip!.interfaces = [
        healthyInterface({
          assignment: 'static',
          lease: null,
          config: { dhcp: null, addresses: ['198.18.0.10'], gateways: ['198.18.0.1'], dns: [], problems: [] },
        }),
      ];
    },
    status: 'unhealthy',
    failing: 'ip',
    codes: ['IP_STATIC_CONFIG_INCOMPLETE'],
  },
  {
    // CONTRACT 7.6: DNS and the hub answer through it, so it only ignores ping (Windows hosts do).
    name: 'gateway ignores ping while DNS and the hub work beyond it: info',
    bend: (o) => {
      o.ip!.defaultGateway = {
        address: '198.18.0.1',
        interface: 'eth0',
        reachable: false,
        rttMs: null,
        ping: { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null },
      };
    },
    status: 'healthy',
    failing: null,
    codes: ['IP_GATEWAY_UNREACHABLE'],
    severities: { IP_GATEWAY_UNREACHABLE: 'info' },
  },
  {
    name: 'gateway ignores ping and nothing beyond it answers: warning',
    bend: (o) => {
      o.ip!.defaultGateway = {
        address: '198.18.0.1',
        interface: 'eth0',
        reachable: false,
        rttMs: null,
        ping: { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null },
      };
      o.dns!.servers[0]!.queries[0]!.outcome = 'timeout';
      unresolveAll(o);
      for (const e of o.firewall!.endpoints) e.tcpConnectMs = null;
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['IP_GATEWAY_UNREACHABLE', 'DNS_SERVER_NOT_ANSWERING'],
    severities: { IP_GATEWAY_UNREACHABLE: 'warning' },
  },
  {
    name: 'interface errors',
    bend: (o) => {
      o.ip!.interfaces = [
        healthyInterface({
          counters: {
            rxPackets: 1000,
            rxBytes: 1,
            rxErrors: 12,
            rxDropped: 0,
            txPackets: 1,
            txBytes: 1,
            txErrors: 0,
            txDropped: 0,
          },
        }),
      ];
    },
    status: 'degraded',
    failing: null,
    codes: ['IP_INTERFACE_ERRORS'],
  },
  {
    name: 'a few drops are normal',
    bend: (o) => {
      o.ip!.interfaces = [
        healthyInterface({
          counters: {
            rxPackets: 100000,
            rxBytes: 1,
            rxErrors: 0,
            rxDropped: 20,
            txPackets: 1,
            txBytes: 1,
            txErrors: 0,
            txDropped: 0,
          },
        }),
      ];
    },
    status: 'healthy',
    failing: null,
    codes: [],
  },
  {
    name: 'no DNS servers (stub without upstream)',
    bend: (o) => {
      o.dns!.resolvers = {
        source: 'systemd-resolved',
        files: ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'],
        servers: [],
        stub: true,
        problems: [],
      };
      o.dns!.servers = [];
      // Docker reads the same files: containers end up asking resolved, which has no upstream either.
      o.dns!.containers = healthyContainers({ source: 'systemd-resolved', addresses: [], servers: [] });
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['DNS_NO_SERVERS'],
    components: { firewall: 'inconclusive' },
  },
  {
    name: 'server unreachable (no ping, no answer)',
    bend: (o) => {
      timeoutQueries(o);
      o.dns!.servers[0]!.ping = { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null };
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['DNS_SERVER_UNREACHABLE'],
    components: { firewall: 'inconclusive' },
  },
  {
    name: 'server pings but drops port 53',
    bend: (o) => {
      timeoutQueries(o);
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['DNS_SERVER_NOT_ANSWERING'],
  },
  {
    name: 'server refused',
    bend: (o) => {
      o.dns!.servers[0]!.queries[0] = {
        name: HUB,
        type: 'A',
        outcome: 'refused',
        rcode: 'REFUSED',
        answers: [],
        rttMs: 1,
        transport: 'udp',
      };
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['DNS_SERVER_REFUSED'],
  },
  {
    name: 'malformed answers are a server failure',
    bend: (o) => {
      o.dns!.servers[0]!.queries[0] = {
        name: HUB,
        type: 'A',
        outcome: 'malformed',
        rcode: null,
        answers: [],
        rttMs: null,
        transport: 'udp',
        detail: 'Header must be 12 bytes',
      };
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['DNS_SERVER_FAILURE'],
  },
  {
    name: 'one of two servers dead: degraded',
    bend: (o) => {
      o.dns!.servers.push(
        healthyServer('198.18.0.54', { ping: { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null } }),
      );
      timeoutQueries(o, 1);
    },
    status: 'degraded',
    failing: null,
    codes: ['DNS_SERVER_UNREACHABLE'],
    severities: { DNS_SERVER_UNREACHABLE: 'warning' },
  },
  {
    name: 'hub name does not exist',
    bend: (o) => {
      o.dns!.servers[0]!.queries[0] = {
        name: HUB,
        type: 'A',
        outcome: 'nxdomain',
        rcode: 'NXDOMAIN',
        answers: [],
        rttMs: 1,
        transport: 'udp',
      };
      o.firewall!.endpoints = o.firewall!.endpoints.map(({ tls: _tls, ...e }) => ({
        ...e,
        outcome: 'unresolved',
        address: null,
        error: { phase: 'resolve', code: 'ENOTFOUND', message: 'x' },
      }));
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['DNS_NAME_NOT_FOUND'],
    components: { firewall: 'inconclusive' },
  },
  {
    name: 'public resolver working is info',
    bend: (o) => {
      o.dns!.servers[0]!.address = '8.8.8.8';
      o.dns!.servers[0]!.public = true;
    },
    status: 'healthy',
    failing: null,
    codes: ['DNS_PUBLIC_SERVER'],
    severities: { DNS_PUBLIC_SERVER: 'info' },
  },
  {
    name: 'public resolver failing is a warning next to its failure',
    bend: (o) => {
      o.dns!.servers[0]!.address = '1.1.1.1';
      o.dns!.servers[0]!.public = true;
      timeoutQueries(o);
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['DNS_SERVER_NOT_ANSWERING', 'DNS_PUBLIC_SERVER'],
    severities: { DNS_PUBLIC_SERVER: 'warning' },
  },
  {
    name: '8883 dropped with Amqp: warning',
    bend: (o) => {
      o.firewall!.endpoints[0] = endpoint(8883, {
        outcome: 'blocked',
        tls: undefined,
        tcpConnectMs: null,
        error: { phase: 'connect', code: 'ETIMEDOUT', message: 'x' },
      });
    },
    status: 'degraded',
    failing: null,
    codes: ['FW_PORT_BLOCKED'],
    severities: { FW_PORT_BLOCKED: 'warning' },
  },
  {
    name: '8883 dropped with Mqtt: error plus the WebSocket fallback',
    bend: (o) => {
      o.config.upstreamProtocol = 'Mqtt';
      o.firewall!.endpoints[0] = endpoint(8883, {
        outcome: 'blocked',
        tls: undefined,
        tcpConnectMs: null,
        error: { phase: 'connect', code: 'ETIMEDOUT', message: 'x' },
      });
    },
    status: 'unhealthy',
    failing: 'firewall',
    codes: ['FW_PORT_BLOCKED', 'FW_PROTOCOL_FALLBACK'],
    severities: { FW_PORT_BLOCKED: 'error', FW_PROTOCOL_FALLBACK: 'warning' },
  },
  {
    name: '5671 rejected with Amqp: error',
    bend: (o) => {
      o.firewall!.endpoints[1] = endpoint(5671, {
        outcome: 'rejected',
        tls: undefined,
        error: { phase: 'connect', code: 'ECONNREFUSED', message: 'x' },
      });
    },
    status: 'unhealthy',
    failing: 'firewall',
    codes: ['FW_PORT_REJECTED', 'FW_PROTOCOL_FALLBACK'],
    severities: { FW_PORT_REJECTED: 'error' },
  },
  {
    name: '5671 rejected with MqttWs: warning',
    bend: (o) => {
      o.config.upstreamProtocol = 'MqttWs';
      o.firewall!.endpoints[1] = endpoint(5671, {
        outcome: 'rejected',
        tls: undefined,
        error: { phase: 'connect', code: 'ECONNREFUSED', message: 'x' },
      });
    },
    status: 'degraded',
    failing: null,
    codes: ['FW_PORT_REJECTED'],
    severities: { FW_PORT_REJECTED: 'warning' },
  },
  {
    name: '443 intercepted: names the issuer',
    bend: (o) => {
      o.firewall!.endpoints[2] = endpoint(443, {
        outcome: 'tls-untrusted',
        tls: {
          handshakeMs: 3,
          protocol: 'TLSv1.3',
          authorized: false,
          authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
          subject: HUB,
          issuer: 'Contoso SSL Inspection CA',
          rootIssuer: 'Contoso SSL Inspection CA',
          validTo: null,
        },
      });
    },
    status: 'unhealthy',
    failing: 'firewall',
    codes: ['FW_TLS_UNTRUSTED'],
  },
  {
    name: 'TLS cut on 443',
    bend: (o) => {
      o.firewall!.endpoints[2] = endpoint(443, {
        outcome: 'tls-failed',
        tls: undefined,
        error: { phase: 'tls', code: 'ECONNRESET', message: 'socket hang up' },
      });
    },
    status: 'unhealthy',
    failing: 'firewall',
    codes: ['FW_TLS_FAILED'],
  },
  {
    name: 'host unreachable on an extra endpoint is an error',
    bend: (o) => {
      o.firewall!.endpoints.push(
        endpoint(8443, {
          host: 'registry.lab',
          role: 'extra',
          outcome: 'unreachable',
          tls: undefined,
          error: { phase: 'connect', code: 'EHOSTUNREACH', message: 'x' },
        }),
      );
    },
    status: 'unhealthy',
    failing: 'firewall',
    codes: ['FW_HOST_UNREACHABLE'],
  },
  {
    name: 'extra endpoint name unknown to the system resolver while DNS works',
    bend: (o) => {
      o.firewall!.endpoints.push(
        endpoint(443, {
          host: 'nope.lab',
          role: 'extra',
          outcome: 'unresolved',
          address: null,
          tls: undefined,
          error: { phase: 'resolve', code: 'ENOTFOUND', message: 'x' },
        }),
      );
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['DNS_NAME_NOT_FOUND'],
  },
  {
    name: 'everything dropped: DNS is the root cause, firewall inconclusive',
    bend: (o) => {
      o.ip!.defaultGateway = {
        address: '198.18.0.1',
        interface: 'eth0',
        reachable: false,
        rttMs: null,
        ping: { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null },
      };
      o.dns!.servers[0]!.ping = { sent: 3, received: 0, lossPercent: 100, rttAvgMs: null };
      timeoutQueries(o);
      unresolveAll(o);
    },
    status: 'unhealthy',
    failing: 'dns',
    codes: ['IP_GATEWAY_UNREACHABLE', 'DNS_SERVER_UNREACHABLE'],
    components: { ip: 'degraded', firewall: 'inconclusive' },
  },
];

for (const c of cases) {
  test(`diagnosis: ${c.name}`, () => {
    const obs = healthy();
    c.bend(obs);
    const d = diagnose(obs);
    assert.equal(d.status, c.status, JSON.stringify(d.findings, null, 1));
    assert.equal(d.failingComponent, c.failing);
    assert.deepEqual([...new Set(d.findings.map((f) => f.code))].sort(), [...c.codes].sort());
    for (const [comp, status] of Object.entries(c.components ?? {}))
      assert.equal(d.components[comp as 'ip'], status, `component ${comp}`);
    for (const [code, sev] of Object.entries(c.severities ?? {}))
      assert.equal(d.findings.find((f) => f.code === code)?.severity, sev, code);
    for (const f of d.findings) {
      assert.ok(f.message.length > 10 && f.guidance.length > 10, `${f.code} has words`);
      assert.ok(f.subject.length > 0);
    }
  });
}

test('diagnosis: inconclusive layers carry no findings and findings are ordered root cause first', () => {
  const obs = healthy();
  obs.ip!.interfaces = [healthyInterface({ ipv4: [] })];
  obs.ip!.defaultRoutes = [];
  obs.dns!.servers[0]!.queries[0]!.outcome = 'timeout';
  const d = diagnose(obs);
  assert.ok(d.findings.every((f) => f.component === 'ip'));
});

test('diagnosis: the untrusted issuer is named in the message and guidance says which CA', () => {
  const obs = healthy();
  obs.firewall!.endpoints[2] = endpoint(443, {
    outcome: 'tls-untrusted',
    tls: {
      handshakeMs: 3,
      protocol: 'TLSv1.3',
      authorized: false,
      authorizationError: 'SELF_SIGNED_CERT_IN_CHAIN',
      subject: HUB,
      issuer: 'Inspect Sub CA',
      rootIssuer: 'Contoso Inspect Root',
      validTo: null,
    },
  });
  const f = diagnose(obs).findings.find((x) => x.code === 'FW_TLS_UNTRUSTED');
  assert.match(f!.message, /Contoso Inspect Root/);
  assert.match(f!.guidance, /--ca-file/);
});

test('diagnosis: a static VM without DNS servers is told to use Set-EflowVmDnsServers', () => {
  const obs = healthy();
  obs.ip!.interfaces = [
    healthyInterface({
      assignment: 'static',
      lease: null,
      config: { dhcp: null, addresses: ['198.18.0.10/24'], gateways: ['198.18.0.1'], dns: [], problems: [] },
    }),
  ];
  obs.dns!.resolvers.servers = [];
  obs.dns!.servers = [];
  const f = diagnose(obs).findings.find((x) => x.code === 'DNS_NO_SERVERS');
  assert.match(f!.guidance, /Set-EflowVmDnsServers/);
});

test('diagnosis: skipped layers stay skipped', () => {
  const obs = healthy();
  obs.dns = null;
  obs.firewall = null;
  const d = diagnose(obs);
  assert.deepEqual(d.components, {
    ip: 'healthy',
    dns: 'skipped',
    proxy: 'skipped',
    firewall: 'skipped',
    clock: 'skipped',
  });
});

test('diagnosis: an interface the deadline kept us from reading is not reported missing', () => {
  const obs = healthy();
  obs.ip!.interfaces = [
    healthyInterface({ observed: false, present: false, ipv4: [], operState: null, adminUp: null }),
  ];
  obs.ip!.defaultRoutes = [];
  obs.ip!.routesObserved = false;
  const d = diagnose(obs);
  assert.equal(d.components.ip, 'inconclusive');
  assert.ok(!d.findings.some((f) => f.component === 'ip'));
  assert.equal(d.components.dns, 'healthy');
});

test('diagnosis: NXDOMAIN advice depends on the name: the hub (typo), a public Azure name (resolver), another name', () => {
  const guidanceFor = (name: string, hub: string | null) => {
    const obs = healthy();
    obs.config.hub = hub;
    obs.dns!.names = [name];
    obs.dns!.servers[0]!.queries = [
      { name, type: 'A', outcome: 'nxdomain', rcode: 'NXDOMAIN', answers: [], rttMs: 1, transport: 'udp' },
    ];
    return diagnose(obs).findings.find((f) => f.code === 'DNS_NAME_NOT_FOUND')!.guidance;
  };
  assert.match(guidanceFor(HUB, HUB), /typos/);
  assert.match(guidanceFor('global.azure-devices-provisioning.net', null), /public Azure name/);
  assert.match(guidanceFor('registry.contoso.internal', HUB), /internal name/);
});

test('diagnosis: ping without NET_RAW is said once, as info, and does not change the verdict', () => {
  const obs = healthy();
  obs.ip!.defaultGateway = {
    address: '198.18.0.1',
    interface: 'eth0',
    reachable: null,
    rttMs: null,
    ping: { error: 'not-permitted' },
  };
  obs.dns!.servers[0]!.ping = { error: 'not-permitted' };
  const d = diagnose(obs);
  assert.equal(d.status, 'healthy');
  const f = d.findings.filter((x) => x.code === 'IP_PING_NOT_PERMITTED');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'info');
  assert.match(f[0]!.message, /gateway 198\.18\.0\.1.*DNS 198\.18\.0\.53/);
  assert.match(f[0]!.guidance, /NET_RAW/);
});

test('diagnosis: a public resolver finding names its provider', () => {
  const obs = healthy();
  obs.dns!.servers[0]!.address = '9.9.9.9';
  obs.dns!.servers[0]!.public = true;
  obs.dns!.servers[0]!.provider = 'Quad9'; // recorded by the probe (public-resolvers.ts)
  const f = diagnose(obs).findings.find((x) => x.code === 'DNS_PUBLIC_SERVER');
  assert.match(f!.message, /9\.9\.9\.9 is a public DNS resolver \(Quad9\)/);
});
