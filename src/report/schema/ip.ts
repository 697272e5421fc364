/** The IP layer of the Report (CONTRACT.md 3.1). */
import { Type } from '@sinclair/typebox';
import { Milliseconds, Nullable, StringEnum, componentStatusFields } from './helpers.js';

export const Ipv4AddressSchema = Type.Object({
  address: Type.String({ format: 'ipv4' }),
  prefixLength: Type.Integer({ minimum: 0, maximum: 32 }),
  broadcast: Nullable(Type.String()),
});

export const Ipv6AddressSchema = Type.Object({
  address: Type.String(),
  prefixLength: Type.Integer({ minimum: 0, maximum: 128 }),
  scope: StringEnum(['host', 'link', 'site', 'global'] as const),
});

const Counter = Type.Integer({ minimum: 0 });
export const InterfaceCountersSchema = Type.Object({
  rxPackets: Counter,
  rxBytes: Counter,
  rxErrors: Counter,
  rxDropped: Counter,
  txPackets: Counter,
  txBytes: Counter,
  txErrors: Counter,
  txDropped: Counter,
});

export const DhcpLeaseSchema = Type.Object({
  file: Type.String({ description: 'The lease file it came from.' }),
  server: Nullable(Type.String(), 'DHCP server that granted the lease (SERVER_ADDRESS).'),
  address: Nullable(Type.String()),
  prefixLength: Nullable(Type.Integer()),
  router: Nullable(Type.String()),
  dns: Type.Array(Type.String()),
  expiry: Nullable(Type.String(), 'ISO time the lease runs out (file time + LIFETIME), or null when unknown.'),
});

export const NetworkConfigSummarySchema = Type.Object({
  dhcp: Nullable(Type.String()),
  addresses: Type.Array(Type.String()),
  gateways: Type.Array(Type.String()),
  dns: Type.Array(Type.String()),
  problems: Type.Array(Type.String(), {
    description: 'Problems found while reading the file (bad lines), never ' + 'thrown.',
  }),
});

export const InterfaceReportSchema = Type.Object({
  name: Type.String(),
  observed: Type.Optional(
    Type.Boolean({
      description: 'false when the deadline came before the interface could be read: nothing below is ' + 'known.',
    }),
  ),
  present: Type.Boolean(),
  operState: Nullable(Type.String(), 'Kernel operstate: up, down, unknown, dormant, lowerlayerdown… null when absent.'),
  adminUp: Nullable(Type.Boolean(), 'Administratively up (IFF_UP); null when absent.'),
  mac: Nullable(Type.String()),
  mtu: Nullable(Type.Integer()),
  ipv4: Type.Array(Ipv4AddressSchema),
  ipv6: Type.Array(Ipv6AddressSchema),
  assignment: StringEnum(['dhcp', 'static', 'unknown'] as const),
  configFile: Nullable(Type.String(), 'The systemd-networkd .network file that matches this interface, or null.'),
  config: Nullable(
    NetworkConfigSummarySchema,
    'What that file asks for (static Address=, Gateway=, DNS=), for the ' + 'evidence.',
  ),
  lease: Nullable(DhcpLeaseSchema),
  counters: Nullable(InterfaceCountersSchema),
});

export const PingStatsSchema = Type.Object({
  sent: Type.Integer({ minimum: 0 }),
  received: Type.Integer({ minimum: 0 }),
  lossPercent: Type.Number({ minimum: 0, maximum: 100 }),
  rttAvgMs: Milliseconds(),
});

export const PingErrorSchema = Type.Object({
  error: StringEnum(['not-permitted', 'unavailable'] as const),
  detail: Type.Optional(Type.String()),
});

export const PingOutcomeSchema = Type.Union([PingStatsSchema, PingErrorSchema]);

export const GatewayReportSchema = Type.Object({
  address: Type.String(),
  interface: Type.String(),
  reachable: Nullable(Type.Boolean(), 'null when not tested (no ping available or not permitted).'),
  rttMs: Milliseconds(),
  ping: Type.Optional(PingOutcomeSchema),
  arp: Type.Optional(
    Nullable(
      Type.Boolean(),
      'The gateway answered ARP after the ping (a complete neighbour entry): it is there even when it ignores ping. ' +
        'null when unknown.',
    ),
  ),
});

export const DefaultRouteReportSchema = Type.Object({
  family: Type.Union([Type.Literal(4), Type.Literal(6)]),
  gateway: Nullable(Type.String(), 'The next hop; null for a default route without one (default dev ppp0).'),
  interface: Nullable(Type.String()),
  metric: Type.Integer({ minimum: 0 }),
  inUse: Type.Boolean({ description: 'The one the kernel uses for its family: lowest metric, then table order.' }),
  reachable: Nullable(
    Type.Boolean(),
    'Its gateway answered ping from its own interface (ping -I) or ARP; null when not tested (IPv6, no gateway, ' +
      'ping not permitted).',
  ),
  arp: Nullable(Type.Boolean(), 'The gateway answered ARP; null when unknown.'),
  ping: Type.Optional(PingOutcomeSchema),
});

export const ROUTE_NEEDS = ['gateway', 'dns', 'container-dns', 'endpoint', 'proxy'] as const;

export const RouteReportSchema = Type.Object(
  {
    destination: Type.String(),
    needs: Type.Array(StringEnum(ROUTE_NEEDS), { description: 'Why the check needs this destination.' }),
    names: Type.Array(Type.String(), { description: 'The host names behind an endpoint or proxy address.' }),
    kind: StringEnum(['local', 'gateway', 'on-link', 'unreachable', 'blackhole', 'none'] as const),
    interface: Nullable(Type.String(), 'The interface the kernel would send it by (for local: the one holding it).'),
    gateway: Nullable(Type.String()),
    matched: Nullable(Type.String(), 'The route that matched: "default", "172.17.0.0/16", or null.'),
    metric: Nullable(Type.Integer({ minimum: 0 })),
    bridge: Type.Boolean({ description: 'The interface is a container bridge (docker0, br-…).' }),
  },
  { description: 'The route the kernel would use, looked up in the routing table read for this check (no traffic).' },
);

export const BridgeAddressSchema = Type.Object({
  address: Type.String(),
  prefixLength: Type.Integer({ minimum: 0, maximum: 128 }),
  subnet: Type.String({ description: 'The network the kernel routes into the bridge (subnet/prefixLength).' }),
});

export const BridgeReportSchema = Type.Object({
  name: Type.String(),
  kind: StringEnum(
    ['docker-default', 'docker-network', 'other'] as const,
    'docker0; br-<12 hex> (a user-defined ' + 'network such as azure-iot-edge); another bridge.',
  ),
  mtu: Nullable(Type.Integer()),
  operState: Nullable(Type.String(), 'down on a bridge with no container attached is normal.'),
  ipv4: Type.Array(BridgeAddressSchema),
  ipv6: Type.Array(BridgeAddressSchema),
  members: Type.Array(Type.Object({ name: Type.String(), mtu: Nullable(Type.Integer()) })),
});

export const DfProbeSchema = Type.Object({
  size: Type.Integer({ minimum: 0, description: 'The whole IP packet, bytes.' }),
  outcome: StringEnum(['reply', 'frag-needed', 'too-big-local', 'no-reply', 'unreachable', 'error'] as const),
  mtu: Nullable(Type.Integer(), 'The MTU a hop ("fragmentation needed") or the local stack named.'),
  from: Nullable(Type.String()),
  rttMs: Milliseconds(),
  error: Type.Optional(StringEnum(['not-permitted', 'unavailable'] as const)),
  detail: Type.Optional(Type.String()),
});

export const PathMtuReportSchema = Type.Object({
  target: Type.String(),
  role: StringEnum(['gateway', 'dns'] as const),
  interfaceMtu: Type.Integer(),
  largestPassingDf: Nullable(Type.Integer(), "The largest don't-fragment ping that got a reply."),
  smallestFailingDf: Nullable(Type.Integer(), 'The smallest that did not (frag-needed, refused locally, or no reply).'),
  reportedMtu: Nullable(Type.Integer(), 'The smallest MTU a hop or the local stack reported.'),
  probed: Type.Array(DfProbeSchema, { description: 'Largest size first.' }),
  error: Type.Optional(StringEnum(['not-permitted', 'unavailable'] as const)),
  detail: Type.Optional(Type.String()),
});

export const DuplicateAddressReportSchema = Type.Object({
  address: Type.String(),
  interface: Type.String(),
  conflict: Nullable(Type.Boolean(), 'Another host answered ARP for the address (arping -D); null when not known.'),
  conflictingMac: Nullable(Type.String()),
  flavour: Nullable(StringEnum(['iputils', 'busybox', 'habets'] as const)),
  error: Type.Optional(StringEnum(['not-permitted', 'unavailable'] as const)),
  detail: Type.Optional(Type.String()),
});

export const IpComponentSchema = Type.Object({
  ...componentStatusFields(),
  interfaces: Type.Array(InterfaceReportSchema),
  defaultGateway: Nullable(GatewayReportSchema, 'The gateway of the default route the kernel uses.'),
  // Added with CONTRACT 7.5; optional so that reports of earlier versions stay valid (render).
  defaultRoutes: Type.Optional(Type.Array(DefaultRouteReportSchema, { description: 'Every default route.' })),
  routes: Type.Optional(
    Type.Array(RouteReportSchema, {
      description:
        'The route of every destination the check needs: gateways, DNS servers, endpoint and proxy ' + 'addresses.',
    }),
  ),
  bridges: Type.Optional(Type.Array(BridgeReportSchema, { description: 'Container bridges of the VM.' })),
  pathMtu: Type.Optional(
    Nullable(PathMtuReportSchema, "The don't-fragment sweep that limits the path most (the gateway's when equal)."),
  ),
  pathMtuSweeps: Type.Optional(
    Type.Array(PathMtuReportSchema, { description: 'Every sweep run (gateway, a DNS server).' }),
  ),
  duplicateAddress: Type.Optional(
    Type.Array(DuplicateAddressReportSchema, { description: 'Duplicate address detection for each IPv4 address.' }),
  ),
});
