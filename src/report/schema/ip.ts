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
  problems: Type.Array(Type.String(), { description: 'Problems found while reading the file (bad lines), never thrown.' }),
});

export const InterfaceReportSchema = Type.Object({
  name: Type.String(),
  observed: Type.Optional(
    Type.Boolean({ description: 'false when the deadline came before the interface could be read: nothing below is known.' }),
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
  config: Nullable(NetworkConfigSummarySchema, 'What that file asks for (static Address=, Gateway=, DNS=), for the evidence.'),
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
});

export const IpComponentSchema = Type.Object({
  ...componentStatusFields(),
  interfaces: Type.Array(InterfaceReportSchema),
  defaultGateway: Nullable(GatewayReportSchema),
});
