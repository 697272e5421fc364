/**
 * The Report of CONTRACT.md section 3 (schemaVersion 1). These types are the public shape:
 * add fields freely, never rename or remove one without a schemaVersion bump.
 */

export type ComponentName = 'ip' | 'dns' | 'firewall';
export const COMPONENTS: readonly ComponentName[] = ['ip', 'dns', 'firewall'];

export type OverallStatus = 'healthy' | 'degraded' | 'unhealthy';
export type ComponentStatus = OverallStatus | 'inconclusive' | 'skipped';
export type Severity = 'error' | 'warning' | 'info';
export type Trigger = 'cli' | 'startup' | 'schedule' | 'method' | 'linkChange' | 'configChange';
export type UpstreamProtocol = 'Amqp' | 'AmqpWs' | 'Mqtt' | 'MqttWs';
export type SwitchType = 'external' | 'internal' | 'default';

export interface Ipv4Address {
  address: string;
  prefixLength: number;
  broadcast: string | null;
}

export interface Ipv6Address {
  address: string;
  prefixLength: number;
  scope: 'host' | 'link' | 'site' | 'global';
}

export interface InterfaceCounters {
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  txDropped: number;
}

export interface DhcpLease {
  /** The lease file it came from. */
  file: string;
  /** DHCP server that granted the lease (SERVER_ADDRESS). */
  server: string | null;
  address: string | null;
  prefixLength: number | null;
  router: string | null;
  dns: string[];
  /** ISO time the lease runs out (file time + LIFETIME), or null when unknown. */
  expiry: string | null;
}

export interface InterfaceReport {
  name: string;
  /** false when the deadline came before the interface could be read: nothing below is known. */
  observed?: boolean;
  present: boolean;
  /** Kernel operstate: up, down, unknown, dormant, lowerlayerdown… null when absent. */
  operState: string | null;
  /** Administratively up (IFF_UP); null when absent. */
  adminUp: boolean | null;
  mac: string | null;
  mtu: number | null;
  ipv4: Ipv4Address[];
  ipv6: Ipv6Address[];
  assignment: 'dhcp' | 'static' | 'unknown';
  /** The systemd-networkd `.network` file that matches this interface, or null. */
  configFile: string | null;
  /** What that file asks for (static Address=, Gateway=, DNS=), for the evidence. */
  config: NetworkConfigSummary | null;
  lease: DhcpLease | null;
  counters: InterfaceCounters | null;
}

export interface NetworkConfigSummary {
  dhcp: string | null;
  addresses: string[];
  gateways: string[];
  dns: string[];
  /** Problems found while reading the file (bad lines), never thrown. */
  problems: string[];
}

export interface PingStats {
  sent: number;
  received: number;
  lossPercent: number;
  rttAvgMs: number | null;
}
export interface PingError {
  error: 'not-permitted' | 'unavailable';
  detail?: string;
}
export type PingOutcome = PingStats | PingError;

export interface GatewayReport {
  address: string;
  interface: string;
  /** null when not tested (no ping available or not permitted). */
  reachable: boolean | null;
  rttMs: number | null;
  ping?: PingOutcome;
}

export interface IpComponent {
  status: ComponentStatus;
  interfaces: InterfaceReport[];
  defaultGateway: GatewayReport | null;
}

export type DnsOutcome = 'answered' | 'nxdomain' | 'servfail' | 'refused' | 'timeout' | 'malformed' | 'error';

export interface DnsQueryReport {
  name: string;
  type: 'A' | 'AAAA';
  outcome: DnsOutcome;
  /** The RCODE string from the answer (NOERROR, NXDOMAIN…), null when there was no usable answer. */
  rcode: string | null;
  answers: string[];
  rttMs: number | null;
  transport: 'udp' | 'tcp';
  /** Why it was classified so (malformed answer, socket error), for the evidence. */
  detail?: string;
}

export interface DnsServerReport {
  address: string;
  public: boolean;
  ping: PingOutcome;
  queries: DnsQueryReport[];
}

export interface DnsComponent {
  status: ComponentStatus;
  source: 'resolv.conf' | 'systemd-resolved';
  /** The file(s) the servers were read from. */
  files: string[];
  servers: DnsServerReport[];
}

export type EndpointProtocol = 'amqp' | 'mqtt' | 'https' | 'custom';
export type EndpointOutcome =
  'open' | 'blocked' | 'rejected' | 'unreachable' | 'unresolved' | 'tls-untrusted' | 'tls-failed' | 'skipped';

export interface TlsReport {
  handshakeMs: number | null;
  protocol: string | null;
  authorized: boolean;
  authorizationError: string | null;
  subject: string | null;
  issuer: string | null;
  /** The top of the chain the server presented: the CA a TLS-inspecting proxy signs with. */
  rootIssuer?: string | null;
  validTo: string | null;
}

export interface EndpointReport {
  host: string;
  port: number;
  protocol: EndpointProtocol;
  /** Why it is tested: the hub's ports, DPS's (no hub known), or an extra --endpoint. */
  role?: 'hub' | 'dps' | 'extra';
  address: string | null;
  outcome: EndpointOutcome;
  resolveMs: number | null;
  tcpConnectMs: number | null;
  tls?: TlsReport;
  /** The phase that failed and the errno-like code, for the evidence. */
  error?: { phase: 'resolve' | 'connect' | 'tls'; code: string; message: string };
}

export interface FirewallComponent {
  status: ComponentStatus;
  upstreamProtocol: UpstreamProtocol;
  endpoints: EndpointReport[];
}

export interface Finding {
  code: string;
  severity: Severity;
  component: ComponentName;
  subject: string;
  message: string;
  guidance: string;
}

/** The OS the check ran on. */
export interface HostInfo {
  hostname: string;
  distro: string;
  release: string;
  kernel: string;
  arch: string;
}

export interface Report {
  schemaVersion: 1;
  agent: { name: 'eflow-netdiag'; version: string };
  /** The OS the check ran on; null when it could not be read in time. */
  host: HostInfo | null;
  checkId: string;
  trigger: Trigger;
  startedAt: string;
  durationMs: number;
  status: OverallStatus;
  failingComponent: ComponentName | null;
  components: {
    ip: IpComponent;
    dns: DnsComponent;
    firewall: FirewallComponent;
  };
  findings: Finding[];
  /** Wall time of each probe family, for telemetry and the bench. */
  timings: Record<string, number>;
  /** Layers this check skipped, shown from an earlier check (module state after a partial runDiagnostics). */
  carriedOver?: Array<{ component: ComponentName; checkId: string; startedAt: string }>;
  /** Probes still running when the deadline fired, by name (they are reported as timed out). */
  timedOut: string[];
}
