/**
 * What probes share. A probe measures and never judges, never throws for a network or file
 * problem (it returns it as data), and stops promptly when its AbortSignal fires.
 */
import type { DhcpLease, InterfaceReport } from '../report/types.js';

/** Per-probe context: the signal fires at the probe's timeout or the check's deadline. */
export interface ProbeContext {
  signal: AbortSignal;
  timeoutMs: number;
}

/** What the interfaces probe saw of one interface, before any config file is consulted. */
export type InterfaceObservation = Pick<
  InterfaceReport,
  'name' | 'present' | 'operState' | 'adminUp' | 'mac' | 'mtu' | 'ipv4' | 'ipv6' | 'counters'
> & {
  /** Names the DHCP lease file (/run/systemd/netif/leases/<ifindex>). */
  ifindex: number | null;
};

/** One default route from the kernel routing table. */
export interface DefaultRoute {
  gateway: string;
  interface: string;
  metric: number;
  family: 4 | 6;
}

/** A parsed systemd-networkd `.network` file. */
export interface NetworkdFile {
  path: string;
  /** [Match] Name= globs (empty = matches any name). */
  matchNames: string[];
  /** [Match] MACAddress= values, lower case. */
  matchMacs: string[];
  /**
   * Other [Match] settings as written ("Type=ether", "Driver=hv_netvsc"): not evaluated, but they
   * count for networkd's rule that a file with no [Match] setting at all is ignored.
   */
  matchOther?: string[];
  /** [Network] DHCP= value as written (yes, no, ipv4, ipv6, true…), null when absent. */
  dhcp: string | null;
  /** Address= values as written ("198.18.0.10/24"), from [Network] and [Address] sections. */
  addresses: string[];
  /** Gateway= values from [Network] and [Route] sections. */
  gateways: string[];
  dns: string[];
  /** Lines that could not be understood, with their line number. */
  problems: string[];
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
