/**
 * What the kernel says about each examined interface: link state and counters from sysfs, every
 * address from getifaddrs (os.networkInterfaces). Nothing is sent on the network.
 *
 * getifaddrs has a blind spot: libuv drops the addresses of an interface that is not both UP and
 * RUNNING, so a down or cable-less eth0 would look unaddressed. Only then, `ip -j addr show` (iproute2,
 * present on CBL-Mariner) is asked for the configured addresses, so the report can say "eth0 is down
 * and has 198.18.0.10/24" instead of "eth0 is down and has no address".
 *
 * systeminformation is not used here: its networkInterfaces() takes ~300 ms per call (it spawns
 * helpers), keeps only the first IPv4/IPv6 address of an interface, and everything it would add
 * for EFLOW's eth0 (type, speed, duplex, carrier changes) is a sysfs file away.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces as osNetworkInterfaces } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import type { InterfaceCounters, Ipv4Address, Ipv6Address } from '../report/types.js';
import { ipv4Broadcast, ipv6Scope, netmaskToPrefix } from '../util/address.js';
import { readTextOrNull } from '../util/files.js';
import type { InterfaceObservation } from './types.js';

/** IFF_UP from <linux/if.h>: administratively up (`ip link set up`). */
const IFF_UP = 0x1;

export interface InterfaceSources {
  /** Where sysfs is mounted; tests point it at a fixture tree. @default '/sys' */
  sysRoot?: string;
  /** @default os.networkInterfaces */
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /**
   * Addresses of an interface getifaddrs showed none for (it hides those of down links). @default `ip -j addr show
   * dev NAME`
   */
  configuredAddresses?: (name: string) => Promise<ConfiguredAddress[]>;
}

/** One address as `ip addr` lists it, whatever the link state. */
export interface ConfiguredAddress {
  family: 4 | 6;
  address: string;
  prefixLength: number;
}

export async function observeInterfaces(
  names: string[],
  sources: InterfaceSources = {},
): Promise<InterfaceObservation[]> {
  const sysRoot = sources.sysRoot ?? '/sys';
  let addresses: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
  try {
    addresses = (sources.networkInterfaces ?? osNetworkInterfaces)();
  } catch {
    // getifaddrs failing (it can, with ENOMEM or in odd sandboxes) means "no addresses seen", not a crash.
  }
  const configured = sources.configuredAddresses ?? ipAddrShow;
  return Promise.all(
    names.map((name) => observeOne(name, join(sysRoot, 'class/net'), addresses[name] ?? [], configured)),
  );
}

/** An interface that is not there: every fact unknown. */
export function absentInterface(name: string): InterfaceObservation {
  return {
    name,
    present: false,
    ifindex: null,
    operState: null,
    adminUp: null,
    mac: null,
    mtu: null,
    ipv4: [],
    ipv6: [],
    counters: null,
  };
}

async function observeOne(
  name: string,
  netDir: string,
  infos: NetworkInterfaceInfo[],
  configured: (name: string) => Promise<ConfiguredAddress[]>,
): Promise<InterfaceObservation> {
  const absent = absentInterface(name);
  // A name from the command line or the twin must not walk out of /sys/class/net.
  if (!isPlausibleInterfaceName(name)) return absent;
  const dir = join(netDir, name);
  try {
    await stat(dir);
  } catch {
    return absent;
  }
  const [operState, flags, mac, mtu, ifindex, counters, fallback] = await Promise.all([
    readText(join(dir, 'operstate')),
    readText(join(dir, 'flags')),
    readText(join(dir, 'address')),
    readText(join(dir, 'mtu')),
    readText(join(dir, 'ifindex')),
    readCounters(join(dir, 'statistics')),
    infos.length === 0 ? configured(name).catch(() => []) : Promise.resolve([]),
  ]);
  const flagBits = flags !== null && /^0x[0-9a-f]+$/i.test(flags) ? parseInt(flags, 16) : null;
  return {
    name,
    present: true,
    ifindex: toInt(ifindex),
    operState: operState === '' ? null : operState,
    adminUp: flagBits === null ? null : (flagBits & IFF_UP) !== 0,
    mac: mac === '' ? null : mac,
    mtu: toInt(mtu),
    ...(infos.length > 0 ? splitAddresses(infos) : fromConfigured(fallback)),
    counters,
  };
}

/** Linux names: 1–15 bytes, no '/', no whitespace, not "." or "..". */
function isPlausibleInterfaceName(name: string): boolean {
  return /^[^/\s]{1,15}$/.test(name) && name !== '.' && name !== '..';
}

async function readText(path: string): Promise<string | null> {
  return (await readTextOrNull(path))?.trim() ?? null;
}

function toInt(text: string | null): number | null {
  return text !== null && /^\d+$/.test(text) ? Number(text) : null;
}

const COUNTER_FILES: Record<keyof InterfaceCounters, string> = {
  rxPackets: 'rx_packets',
  rxBytes: 'rx_bytes',
  rxErrors: 'rx_errors',
  rxDropped: 'rx_dropped',
  txPackets: 'tx_packets',
  txBytes: 'tx_bytes',
  txErrors: 'tx_errors',
  txDropped: 'tx_dropped',
};

/** All eight counters, or null when any is unreadable: a half-filled set would read as zeros. */
async function readCounters(dir: string): Promise<InterfaceCounters | null> {
  const entries = await Promise.all(
    Object.entries(COUNTER_FILES).map(async ([key, file]) => [key, toInt(await readText(join(dir, file)))] as const),
  );
  if (entries.some(([, v]) => v === null)) return null;
  return Object.fromEntries(entries) as unknown as InterfaceCounters;
}

function splitAddresses(infos: NetworkInterfaceInfo[]): { ipv4: Ipv4Address[]; ipv6: Ipv6Address[] } {
  const ipv4: Ipv4Address[] = [];
  const ipv6: Ipv6Address[] = [];
  for (const info of infos) {
    // Node 18.0–18.3 reported family as a number; accept both so a stray runtime does not lose addresses.
    const family: unknown = info.family;
    const prefixLength = prefixOf(info);
    if (prefixLength === null) continue;
    if (family === 'IPv4' || family === 4) {
      ipv4.push({ address: info.address, prefixLength, broadcast: ipv4Broadcast(info.address, prefixLength) });
    } else if (family === 'IPv6' || family === 6) {
      ipv6.push({ address: info.address, prefixLength, scope: ipv6Scope(info.address) });
    }
  }
  return { ipv4, ipv6 };
}

function fromConfigured(list: ConfiguredAddress[]): { ipv4: Ipv4Address[]; ipv6: Ipv6Address[] } {
  return {
    ipv4: list
      .filter((a) => a.family === 4)
      .map((a) => ({
        address: a.address,
        prefixLength: a.prefixLength,
        broadcast: ipv4Broadcast(a.address, a.prefixLength),
      })),
    ipv6: list
      .filter((a) => a.family === 6)
      .map((a) => ({ address: a.address, prefixLength: a.prefixLength, scope: ipv6Scope(a.address) })),
  };
}

/** `ip -j addr show dev NAME`; [] when iproute2 is missing, too old for -j, or says anything unexpected. */
export function ipAddrShow(name: string): Promise<ConfiguredAddress[]> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', 'addr', 'show', 'dev', name], { timeout: 2000, maxBuffer: 1 << 20 }, (error, stdout) => {
      resolve(error ? [] : parseIpAddrJson(stdout));
    });
  });
}

export function parseIpAddrJson(text: string): ConfiguredAddress[] {
  let links: unknown;
  try {
    links = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(links)) return [];
  const out: ConfiguredAddress[] = [];
  for (const link of links as unknown[]) {
    const infos: unknown =
      typeof link === 'object' && link !== null ? (link as { addr_info?: unknown }).addr_info : undefined;
    if (!Array.isArray(infos)) continue;
    for (const info of infos as unknown[]) {
      if (typeof info !== 'object' || info === null) continue;
      const { family, local, prefixlen } = info as { family?: unknown; local?: unknown; prefixlen?: unknown };
      if (typeof local !== 'string' || typeof prefixlen !== 'number' || !Number.isInteger(prefixlen)) continue;
      if (family === 'inet' && isIPv4(local) && prefixlen >= 0 && prefixlen <= 32)
        out.push({ family: 4, address: local, prefixLength: prefixlen });
      else if (family === 'inet6' && isIPv6(local) && prefixlen >= 0 && prefixlen <= 128)
        out.push({ family: 6, address: local, prefixLength: prefixlen });
    }
  }
  return out;
}

/** From `cidr` ("198.18.0.10/24"), else by counting the netmask's bits. */
function prefixOf(info: NetworkInterfaceInfo): number | null {
  const fromCidr = info.cidr?.split('/')[1];
  if (fromCidr !== undefined && /^\d{1,3}$/.test(fromCidr)) return Number(fromCidr);
  return netmaskToPrefix(info.netmask);
}
