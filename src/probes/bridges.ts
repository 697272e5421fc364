/**
 * Container bridges as the kernel shows them in sysfs: every interface with a `bridge/` directory
 * under /sys/class/net/<name> is a Linux bridge. Docker names its default network's bridge
 * `docker0` and a user-defined network's `br-<first 12 hex digits of the network id>`; that is
 * what the `azure-iot-edge` network (created by aziot-edged) gets, since IoT Edge sets no
 * `com.docker.network.bridge.name`. Which `br-…` is azure-iot-edge cannot be told without the
 * Docker API, so every bridge is listed with its kind.
 *
 * Addresses come from getifaddrs first; a bridge with no container attached has no carrier
 * (docker0 is usually NO-CARRIER), and getifaddrs then hides its addresses, so for a bridge that
 * shows none, `ip -j addr show` is asked (the same fallback as src/probes/interfaces.ts).
 * Nothing is sent on the network. Never throws.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { networkInterfaces as osNetworkInterfaces } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { networkOf, netmaskToPrefix } from '../util/address.js';
import { ipAddrShow } from './interfaces.js';
import type { ConfiguredAddress } from './interfaces.js';

/** One address of a bridge and the subnet it makes directly reachable through the bridge. */
export interface BridgeAddress {
  address: string;
  prefixLength: number;
  /** The network address: `subnet`/`prefixLength` is what the kernel routes into the bridge. */
  subnet: string;
}

export interface BridgeObservation {
  name: string;
  /** `docker-default` (docker0), `docker-network` (br-<12 hex>, a user-defined network), `other`. */
  kind: 'docker-default' | 'docker-network' | 'other';
  mtu: number | null;
  /** sysfs operstate: `down` on a bridge with no container attached is normal. */
  operState: string | null;
  ipv4: BridgeAddress[];
  /** Link-local fe80::/10 addresses are left out: every bridge has one and it routes nothing. */
  ipv6: BridgeAddress[];
  /** Interfaces enslaved to the bridge (containers' veth ends), with their MTU. */
  members: Array<{ name: string; mtu: number | null }>;
}

export interface BridgeSources {
  /** Where sysfs is mounted; tests point it at a fixture tree. @default '/sys' */
  sysRoot?: string;
  /** @default fs.promises.readdir */
  listDir?: (path: string) => Promise<string[]>;
  /** @default fs.promises.readFile (utf8) */
  readText?: (path: string) => Promise<string>;
  /** Resolves when `path` exists (any kind), rejects otherwise. @default fs.promises.stat */
  exists?: (path: string) => Promise<unknown>;
  /** @default os.networkInterfaces */
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** For a bridge getifaddrs showed no address for. @default `ip -j addr show dev NAME` */
  configuredAddresses?: (name: string) => Promise<ConfiguredAddress[]>;
}

/** A bridge of tens of containers has tens of members; a sane bound on what is listed. */
const MAX_MEMBERS = 256;
const MAX_BRIDGES = 256;

export function bridgeKind(name: string): BridgeObservation['kind'] {
  if (name === 'docker0') return 'docker-default';
  if (/^br-[0-9a-f]{12}$/.test(name)) return 'docker-network';
  return 'other';
}

/** Linux names: 1–15 bytes, no '/', no whitespace, not "." or "..". */
function isPlausibleName(name: string): boolean {
  return /^[^/\s]{1,15}$/.test(name) && name !== '.' && name !== '..';
}

function toInt(text: string | null): number | null {
  return text !== null && /^\d+$/.test(text) ? Number(text) : null;
}

function toBridgeAddress(family: 4 | 6, address: string, prefixLength: number): BridgeAddress | null {
  const subnet = networkOf(address, prefixLength);
  if (subnet === null) return null;
  if (family === 6 && /^fe[89ab]/i.test(address)) return null;
  return { address, prefixLength, subnet };
}

function fromInfos(infos: readonly NetworkInterfaceInfo[]): ConfiguredAddress[] {
  const out: ConfiguredAddress[] = [];
  for (const info of infos) {
    const family: unknown = info.family;
    const fromCidr = info.cidr?.split('/')[1];
    const prefixLength =
      fromCidr !== undefined && /^\d{1,3}$/.test(fromCidr) ? Number(fromCidr) : netmaskToPrefix(info.netmask);
    if (prefixLength === null) continue;
    if (family === 'IPv4' || family === 4) out.push({ family: 4, address: info.address, prefixLength });
    else if (family === 'IPv6' || family === 6) out.push({ family: 6, address: info.address, prefixLength });
  }
  return out;
}

/** Every bridge in sysfs, sorted by name. An unreadable sysfs gives an empty list. */
export async function observeBridges(sources: BridgeSources = {}): Promise<BridgeObservation[]> {
  const netDir = join(sources.sysRoot ?? '/sys', 'class/net');
  const listDir = sources.listDir ?? ((p: string) => readdir(p));
  const readText = sources.readText ?? ((p: string) => readFile(p, 'utf8'));
  const exists = sources.exists ?? ((p: string) => stat(p));
  const configured = sources.configuredAddresses ?? ipAddrShow;
  const read = async (path: string): Promise<string | null> => {
    try {
      return (await readText(path)).trim();
    } catch {
      return null;
    }
  };
  const isDir = async (path: string): Promise<boolean> => {
    try {
      await exists(path);
      return true;
    } catch {
      return false;
    }
  };

  let names: string[];
  try {
    names = (await listDir(netDir)).filter(isPlausibleName).sort();
  } catch {
    return [];
  }
  let addresses: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
  try {
    addresses = (sources.networkInterfaces ?? osNetworkInterfaces)();
  } catch {
    // getifaddrs failing means "no addresses seen"; the ip fallback still runs per bridge.
  }

  const flags = await Promise.all(names.map((n) => isDir(join(netDir, n, 'bridge'))));
  const bridges = names.filter((_, i) => flags[i]).slice(0, MAX_BRIDGES);
  return Promise.all(
    bridges.map(async (name): Promise<BridgeObservation> => {
      const dir = join(netDir, name);
      const seen = fromInfos(addresses[name] ?? []);
      const [mtu, operState, memberNames, list] = await Promise.all([
        read(join(dir, 'mtu')),
        read(join(dir, 'operstate')),
        listDir(join(dir, 'brif')).catch(() => [] as string[]),
        seen.length > 0 ? Promise.resolve(seen) : configured(name).catch(() => [] as ConfiguredAddress[]),
      ]);
      const members = await Promise.all(
        memberNames
          .filter(isPlausibleName)
          .sort()
          .slice(0, MAX_MEMBERS)
          .map(async (m) => ({ name: m, mtu: toInt(await read(join(netDir, m, 'mtu'))) })),
      );
      const pick = (family: 4 | 6): BridgeAddress[] =>
        list
          .filter((a) => a.family === family)
          .map((a) => toBridgeAddress(family, a.address, a.prefixLength))
          .filter((a): a is BridgeAddress => a !== null);
      return {
        name,
        kind: bridgeKind(name),
        mtu: toInt(mtu),
        operState: operState === '' ? null : operState,
        ipv4: pick(4),
        ipv6: pick(6),
        members,
      };
    }),
  );
}
