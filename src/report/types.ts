/**
 * The Report's TypeScript types, derived from its one definition in src/report/schema/ (TypeBox),
 * from which schema/report.schema.json is generated too: the types and the published schema
 * cannot drift apart. Only types are imported from there, so TypeBox is not loaded at run time.
 */
import type { Static } from '@sinclair/typebox';
import type { FindingCode } from '../findings/catalogue.js';
import type {
  ContainerDnsSchema,
  DaemonConfigReportSchema,
  DnsComponentSchema,
  DnsQueryReportSchema,
  DnsServerReportSchema,
} from './schema/dns.js';
import type { FindingSchema } from './schema/finding.js';
import type {
  ApplicationSchema,
  EndpointErrorSchema,
  EndpointReportSchema,
  FirewallComponentSchema,
  TlsReportSchema,
} from './schema/firewall.js';
import type {
  BridgeReportSchema,
  DefaultRouteReportSchema,
  DfProbeSchema,
  DuplicateAddressReportSchema,
  PathMtuReportSchema,
  RouteReportSchema,
  DhcpLeaseSchema,
  GatewayReportSchema,
  InterfaceCountersSchema,
  InterfaceReportSchema,
  IpComponentSchema,
  Ipv4AddressSchema,
  Ipv6AddressSchema,
  NetworkConfigSummarySchema,
  PingErrorSchema,
  PingOutcomeSchema,
  PingStatsSchema,
} from './schema/ip.js';
import type { ProxyComponentSchema, ProxyConnectSchema, ProxySourceSchema } from './schema/proxy.js';
import type { ClockComponentSchema } from './schema/clock.js';
import type { CarriedOverSchema, HostInfoSchema, ReportSchema } from './schema/report.js';

export * from './vocabulary.js';

export type Ipv4Address = Static<typeof Ipv4AddressSchema>;
export type Ipv6Address = Static<typeof Ipv6AddressSchema>;
export type InterfaceCounters = Static<typeof InterfaceCountersSchema>;
export type DhcpLease = Static<typeof DhcpLeaseSchema>;
export type NetworkConfigSummary = Static<typeof NetworkConfigSummarySchema>;
export type InterfaceReport = Static<typeof InterfaceReportSchema>;
export type PingStats = Static<typeof PingStatsSchema>;
export type PingError = Static<typeof PingErrorSchema>;
export type PingOutcome = Static<typeof PingOutcomeSchema>;
export type GatewayReport = Static<typeof GatewayReportSchema>;
export type IpComponent = Static<typeof IpComponentSchema>;
export type DefaultRouteReport = Static<typeof DefaultRouteReportSchema>;
export type RouteReport = Static<typeof RouteReportSchema>;
export type BridgeReport = Static<typeof BridgeReportSchema>;
export type DfProbeReport = Static<typeof DfProbeSchema>;
export type PathMtuReport = Static<typeof PathMtuReportSchema>;
export type DuplicateAddressReport = Static<typeof DuplicateAddressReportSchema>;

export type DnsQueryReport = Static<typeof DnsQueryReportSchema>;
export type DnsServerReport = Static<typeof DnsServerReportSchema>;
export type DnsComponent = Static<typeof DnsComponentSchema>;
export type ContainerDnsReport = Static<typeof ContainerDnsSchema>;
export type DaemonConfigReport = Static<typeof DaemonConfigReportSchema>;

export type TlsReport = Static<typeof TlsReportSchema>;
export type ApplicationReport = Static<typeof ApplicationSchema>;
export type EndpointError = Static<typeof EndpointErrorSchema>;
export type EndpointReport = Static<typeof EndpointReportSchema>;
export type FirewallComponent = Static<typeof FirewallComponentSchema>;

export type ProxySource = Static<typeof ProxySourceSchema>;
export type ProxyConnect = Static<typeof ProxyConnectSchema>;
export type ProxyComponent = Static<typeof ProxyComponentSchema>;
export type ClockComponent = Static<typeof ClockComponentSchema>;

/** A finding; its code is narrowed from the schema's enum to the catalogue's own union. */
export type Finding = Omit<Static<typeof FindingSchema>, 'code'> & { code: FindingCode };
export type HostInfo = Static<typeof HostInfoSchema>;
export type CarriedOver = Static<typeof CarriedOverSchema>;
export type Report = Omit<Static<typeof ReportSchema>, 'findings'> & { findings: Finding[] };
