/**
 * What probes share. A probe measures and never judges, never throws for a network or file
 * problem (it returns it as data), and stops promptly when its AbortSignal fires.
 */
import type { X509Certificate } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import type {
  DhcpLease,
  DnsQueryReport,
  EndpointReport,
  HostInfo,
  InterfaceReport,
  NetworkConfigSummary,
  PingOutcome,
} from '../report/types.js';
import type { EndpointProtocol } from '../report/vocabulary.js';
import type { ArpingResult } from './arping.js';
import type { BridgeObservation } from './bridges.js';
import type { ContainerDns } from './container-dns.js';
import type { PathMtuResult } from './df-ping.js';
import type { DockerDaemonConfig } from './docker-config.js';
import type { Neighbour } from './neighbours.js';
import type { RouteTable } from './route-table.js';
import type { ExchangeKind, WebSocketProtocol } from './exchange.js';
import type { ProxiedContext, ProxiedEndpointResult, ProxiedTarget } from './proxy-endpoint.js';
import type { ProxySource, ProxySourceComponent } from './proxy-sources.js';
import type { TimeSyncState } from './time-sync.js';

/** Per-probe context: the signal fires at the probe's timeout or the check's deadline. */
export interface ProbeContext {
  signal: AbortSignal;
  timeoutMs: number;
}

/** What the interfaces probe saw of one interface, before any config file is consulted. */
export type InterfaceObservation = Pick<
  InterfaceReport,
  'name' | 'observed' | 'present' | 'operState' | 'adminUp' | 'mac' | 'mtu' | 'ipv4' | 'ipv6' | 'counters'
> & {
  /** Names the DHCP lease file (/run/systemd/netif/leases/<ifindex>). */
  ifindex: number | null;
};

/** A parsed systemd-networkd `.network` file: what it asks for, and which interfaces it matches. */
export interface NetworkdFile extends NetworkConfigSummary {
  path: string;
  /** [Match] Name= globs (empty = matches any name). */
  matchNames: string[];
  /** [Match] MACAddress= values, lower case. */
  matchMacs: string[];
  /**
   * Other [Match] settings as written ("Type=ether", "Driver=hv_netvsc"): not evaluated, but they
   * count for networkd's rule that a file with no [Match] setting at all is ignored.
   */
  matchOther: string[];
}

export type ParsedLease = Omit<DhcpLease, 'file' | 'expiry'> & {
  /** LIFETIME= in seconds, null when absent. */
  lifetimeSeconds: number | null;
};

/** Servers named by the resolver configuration, after following the systemd-resolved stub. */
export interface ResolverConfig {
  source: 'resolv.conf' | 'systemd-resolved';
  files: string[];
  servers: string[];
  /** true when resolv.conf names only the 127.0.0.53 stub. */
  stub: boolean;
  /** Unreadable files or malformed lines, as sentences. */
  problems: string[];
}

export interface PingOptions extends ProbeContext {
  count: number;
  /** Send from this interface (`ping -I`): tests the NIC of one default route, whatever the kernel would pick. */
  interface?: string | null;
}

/** What one endpoint probe is asked to test. */
export interface EndpointTarget {
  host: string;
  port: number;
  protocol: EndpointProtocol;
  /** The application exchange after TLS (CONTRACT 7.2); absent or null: TLS alone. */
  exchange?: ExchangeKind | null;
  /** The subprotocol of a websocket exchange. @default 'mqtt' */
  webSocketProtocol?: WebSocketProtocol;
  /** The hub name a device puts in its MQTT username and Host header. @default host */
  exchangeHost?: string;
}

/** Resolves a host name to one address the way the VM does; rejects with an errno-like code. */
export type Lookup = (host: string, signal: AbortSignal) => Promise<string>;

export interface EndpointContext extends ProbeContext {
  /** From loadTrust(): shared by every probe of a check. */
  secureContext: SecureContext;
  /** @default the probe's own: /etc/hosts, then the servers of resolv.conf */
  lookup?: Lookup;
  /**
   * Node's bundled (Mozilla) roots, parsed: asked only for a chain whose root the VM's store does
   * not hold, to say whether it is a genuine public chain (evidence; they never make a chain trusted).
   */
  publicRoots?: () => readonly X509Certificate[];
  /** The wall clock for the Date comparison. @default Date.now */
  now?: () => number;
  /** Random bytes for the MQTT client id and the WebSocket key. @default crypto.randomBytes */
  randomBytes?: (size: number) => Buffer;
}

export interface Trust {
  secureContext: SecureContext;
  /** Sentences about the ca-file or the system bundle that could not be used; never thrown. */
  problems: string[];
  /** The VM's CA bundle in the context, or null when none was found. */
  systemBundle?: string | null;
  /** Node's bundled roots, parsed on demand (evidence for an unverified chain; see tls-chain.ts). */
  publicRoots?: () => readonly X509Certificate[];
}

/**
 * The probes one check uses: the port between runCheck and the world. src/deps.ts wires the real
 * ones; tests and the bench pass their own.
 */
export interface CheckDeps {
  observeInterfaces(names: string[]): Promise<InterfaceObservation[]>;
  /** The whole routing table (route-table.ts): default routes, and the lookups of every needed destination. */
  readRouteTable(): Promise<RouteTable>;
  readNetworkd(dir: string): Promise<{ files: NetworkdFile[]; problems: string[] }>;
  readLease(dir: string, ifindex: number): Promise<DhcpLease | null>;
  readResolvers(resolvConf: string, resolvedConf: string): Promise<ResolverConfig>;
  ping(host: string, opts: PingOptions): Promise<PingOutcome>;
  queryDns(server: string, name: string, type: 'A' | 'AAAA', ctx: ProbeContext): Promise<DnsQueryReport>;
  loadTrust(caFile: string | null): Promise<Trust>;
  hostInfo(): Promise<HostInfo | null>;
  probeEndpoint(target: EndpointTarget, ctx: EndpointContext): Promise<EndpointReport>;
  /** A system-resolver lookup for one check (shared per host); default: the probe's own. */
  newLookup?(timeoutMs: number): Lookup;
  // The VM's plumbing (CONTRACT 7.5). Optional: a port without one simply does not examine it.
  /** The IPv4 neighbour table (/proc/net/arp), read after the gateway pings: did the gateway answer ARP? */
  readNeighbours?(): Promise<Neighbour[]>;
  /** Container bridges (docker0, br-…) from sysfs. */
  observeBridges?(): Promise<BridgeObservation[]>;
  /** daemon.json and the servers containers on azure-iot-edge will use, by moby's rules. */
  readContainerDns?(paths: ContainerDnsPaths): Promise<{ daemon: DockerDaemonConfig; containers: ContainerDns }>;
  /** Don't-fragment pings at the interface MTU and below (df-ping.ts, the staged sweep). */
  pingDf?(target: string, opts: DfContext): Promise<PathMtuResult>;
  /** Duplicate address detection (arping -D), bounded at 500 ms. */
  arping?(address: string, iface: string, ctx: { signal: AbortSignal }): Promise<ArpingResult>;
  /**
   * Where the device's proxy is configured (CONTRACT 7.1): this process's environment and the IoT
   * Edge host settings. Absent: only the check's own proxy option is known.
   */
  proxySources?(request: ProxySourcesRequest): Promise<ProxySource[]>;
  /** CONNECT → TLS → exchange through a proxy. Absent: 443 is tested direct. */
  probeThroughProxy?: (target: ProxiedTarget, proxyUrl: string, ctx: ProxiedContext) => Promise<ProxiedEndpointResult>;
  /** What the VM's time service says. Absent: unknown. */
  readTimeSync?(ctx: ProbeContext): Promise<TimeSyncState>;
  /** The wall clock (ms since the epoch) for the clock comparison. @default Date.now */
  now?: () => number;
}

export interface ContainerDnsPaths {
  daemonConfig: string;
  resolvConf: string;
  resolvedConf: string;
}

export interface DfContext extends ProbeContext {
  interfaceMtu: number | null;
}

export interface ProxySourcesRequest {
  /** config.toml, for edgeAgent's [agent.env]. */
  configToml: string;
  /** Where the drop-ins of aziot-edged, aziot-identityd and docker are. */
  systemdDir: string;
  /** Receives each set source's URL as written (see ProxySourcesOptions.rawUrls). */
  rawUrls: Map<ProxySourceComponent, string>;
}
