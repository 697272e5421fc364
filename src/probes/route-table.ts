/**
 * The whole routing table, from the kernel's own files in /proc (no `ip route` to spawn, the same
 * files in every VM and container), and the lookup the kernel does for a destination: which
 * interface and next hop a packet to the gateway, a DNS server or the hub would really take.
 *
 * What the files hold, as read from Linux 6.x (see test/unit/route-table.test.ts for real output):
 * - `/proc/net/route` lists the IPv4 **main** table only. The **local** table (the host's own
 *   addresses, 127.0.0.0/8, broadcasts), which the kernel consults first, is not in it, so a
 *   destination that is one of the VM's own addresses must be recognised from the addresses the
 *   caller passes in (`localAddresses`); it is then `local` (delivered via `lo`, never sent).
 *   That is what makes "gateway == own address" visible: the kernel accepts `default via <own
 *   address>`, the "gateway" then answers ping from the VM itself and nothing leaves it.
 *   Reject routes (`unreachable`, `prohibit`) have RTF_REJECT and device `*`; `blackhole` (and
 *   `throw`) have device `*` without RTF_REJECT: both kinds drop the packet locally.
 * - `/proc/net/ipv6_route` lists every IPv6 table, the local one included (RTF_LOCAL entries, one
 *   per own address, shown on the device that holds it), and the kernel's ::/0 "null entry" on lo
 *   (metric 0xffffffff, reject), which only stands for "no route" and is left out here.
 *   Unreachable, prohibit and blackhole routes all appear as RTF_REJECT on lo.
 *
 * Not modelled: policy routing (`ip rule`, VRFs, fwmark/uid/source selectors: the lookup assumes
 * the default rules local → main → default, which is what EFLOW's VM has); IPv4 routes in tables
 * other than main (they are not in /proc/net/route); multipath routes beyond their first next
 * hop (/proc/net/route prints only that one); TOS-specific routes; the route cache and learned
 * PMTU exceptions.
 */
import type { ReadText } from '../util/files.js';
import { readUtf8, unreadableReason } from '../util/files.js';
import { canonicalIp, hexToIpv6, inSubnet, littleEndianHexToIpv4, networkOf, parseIp } from '../util/address.js';

/** Route flags from <linux/route.h> and <linux/ipv6_route.h>. */
const RTF_UP = 0x0001;
const RTF_GATEWAY = 0x0002;
const RTF_REJECT = 0x0200;
const RTF_CACHE = 0x01000000;
const RTF_LOCAL = 0x80000000;
/** The kernel's "no route" sentinel in the IPv6 table (ip6_null_entry). */
const IPV6_NULL_METRIC = 0xffffffff;
/** A routing table of a VM has tens of lines; past this, the rest is not read. */
const MAX_ROUTES = 10_000;

/**
 * One route. `type`: `unicast` (delivered on `interface`, via `gateway` or on-link), `local` (an
 * address of this host: IPv6 only, IPv4 has none in /proc), `reject` (unreachable/prohibit, and
 * IPv6 blackhole: the sender gets an error), `blackhole` (IPv4 blackhole or throw: dropped
 * silently), `multicast` (ff00::/8).
 */
export interface Route {
  family: 4 | 6;
  /** The network address, canonical text. */
  destination: string;
  prefixLength: number;
  /** The next hop, or null for an on-link route. */
  gateway: string | null;
  /** The device, or null for an IPv4 route without one (blackhole, unreachable…: `*` in /proc). */
  interface: string | null;
  metric: number;
  type: 'unicast' | 'local' | 'reject' | 'blackhole' | 'multicast';
}

/** The routes of both files, in table order, and what could not be read. */
export interface RouteTable {
  routes: Route[];
  /** Unreadable files and malformed lines, as sentences. */
  problems: string[];
}

/** A default route (prefix length 0) and whether the kernel uses it for its family. */
export interface DefaultRouteEntry {
  family: 4 | 6;
  /** null for `default dev ppp0` (on-link default, no next hop to test). */
  gateway: string | null;
  interface: string | null;
  metric: number;
  /** The one the kernel uses: lowest metric, then the first in table order (per family). */
  inUse: boolean;
}

/**
 * Where the kernel would send a packet to `destination`. `kind`:
 * - `local`: one of the host's own addresses (or loopback): delivered to the host itself;
 * - `gateway`: via `gateway` on `interface`; `on-link`: straight to the destination on `interface`;
 * - `unreachable`: a reject route matched (the sender gets ENETUNREACH/EACCES);
 * - `blackhole`: a blackhole route matched (dropped silently);
 * - `none`: no route at all (ENETUNREACH); also for text that is not an address.
 * For `local`, `interface` is the interface that holds the address when known (the packet itself
 * goes through `lo`), else `lo`.
 */
export interface RouteLookup {
  destination: string;
  kind: 'local' | 'gateway' | 'on-link' | 'unreachable' | 'blackhole' | 'none';
  interface: string | null;
  gateway: string | null;
  /** The matched route as "198.18.0.0/24", "default", or null when none matched (or local). */
  matched: string | null;
  metric: number | null;
}

/** An address of the host itself and, when known, the interface that holds it. */
export interface LocalAddress {
  address: string;
  interface?: string | null;
}

function isHex(s: string | undefined, length: number): s is string {
  return s !== undefined && s.length === length && /^[0-9a-fA-F]+$/.test(s);
}

function parseHex(s: string | undefined, maxLength: number): number | null {
  if (s === undefined || s.length === 0 || s.length > maxLength || !/^[0-9a-fA-F]+$/.test(s)) return null;
  return parseInt(s, 16);
}

function parseDecimal(s: string | undefined): number | null {
  return s !== undefined && /^\d{1,10}$/.test(s) ? Number(s) : null;
}

/** Bits set in an IPv4 mask as printed in /proc (little-endian hex); null when not contiguous. */
function maskPrefix(hex: string): number | null {
  const mask = littleEndianHexToIpv4(hex);
  const bits = mask
    .split('.')
    .map((o) => Number(o).toString(2).padStart(8, '0'))
    .join('');
  if (!/^1*0*$/.test(bits)) return null;
  const zero = bits.indexOf('0');
  return zero === -1 ? 32 : zero;
}

/**
 * Every route of IPv4 `/proc/net/route` (the main table). Columns are found by the header's
 * names; lines that do not parse are skipped and counted in `problems`, never thrown.
 */
export function parseIpv4RouteTable(text: string): RouteTable {
  const lines = (typeof text === 'string' ? text : '').split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.trim().split(/\s+/) ?? [];
  const at = (name: string): number => header.indexOf(name);
  const cols = {
    iface: at('Iface'),
    dest: at('Destination'),
    gw: at('Gateway'),
    flags: at('Flags'),
    metric: at('Metric'),
    mask: at('Mask'),
  };
  if (lines.length === 0) return { routes: [], problems: [] };
  if (Object.values(cols).some((i) => i < 0)) return { routes: [], problems: ['no route table header'] };
  const routes: Route[] = [];
  let bad = 0;
  for (const line of lines.slice(1, MAX_ROUTES + 1)) {
    const f = line.trim().split(/\s+/);
    const iface = f[cols.iface];
    const dest = f[cols.dest];
    const gw = f[cols.gw];
    const mask = f[cols.mask];
    const flags = parseHex(f[cols.flags], 8);
    const metric = parseDecimal(f[cols.metric]);
    const prefixLength = isHex(mask, 8) ? maskPrefix(mask) : null;
    if (!iface || flags === null || metric === null || prefixLength === null || !isHex(dest, 8) || !isHex(gw, 8)) {
      bad += 1;
      continue;
    }
    if ((flags & RTF_UP) === 0) continue;
    const gateway = (flags & RTF_GATEWAY) !== 0 ? littleEndianHexToIpv4(gw) : null;
    const noDevice = iface === '*';
    const type: Route['type'] = (flags & RTF_REJECT) !== 0 ? 'reject' : noDevice ? 'blackhole' : 'unicast';
    routes.push({
      family: 4,
      // The kernel keeps the destination masked already; mask again so a hand-made line is still sane.
      destination: canonicalNetwork(littleEndianHexToIpv4(dest), prefixLength),
      prefixLength,
      gateway,
      interface: noDevice ? null : iface,
      metric,
      type,
    });
  }
  return { routes, problems: bad > 0 ? [`${bad} line(s) of the IPv4 route table could not be read`] : [] };
}

/**
 * Every route of `/proc/net/ipv6_route` (no header: dest, dest_len, src, src_len, next_hop,
 * metric, refcnt, use, flags, iface; all hex). Cache entries and the kernel's null entry are left
 * out. Source-specific routes (src_len > 0, rare) are kept as if they had no source.
 */
export function parseIpv6RouteTable(text: string): RouteTable {
  const routes: Route[] = [];
  let bad = 0;
  const lines = (typeof text === 'string' ? text : '').split('\n').filter((l) => l.trim() !== '');
  for (const line of lines.slice(0, MAX_ROUTES)) {
    const f = line.trim().split(/\s+/);
    const [dest, destLenHex, , , nextHop, metricHex, , , flagsHex, iface] = f;
    const metric = parseHex(metricHex, 8);
    const flags = parseHex(flagsHex, 8);
    const prefixLength = parseHex(destLenHex, 2);
    if (
      f.length < 10 ||
      !iface ||
      metric === null ||
      flags === null ||
      prefixLength === null ||
      prefixLength > 128 ||
      !isHex(dest, 32) ||
      !isHex(nextHop, 32)
    ) {
      bad += 1;
      continue;
    }
    const reject = (flags & RTF_REJECT) !== 0;
    // The kernel prints IPv6 reject routes (unreachable, prohibit, blackhole) without RTF_UP.
    if (((flags & RTF_UP) === 0 && !reject) || (flags & RTF_CACHE) !== 0) continue;
    if (reject && prefixLength === 0 && metric === IPV6_NULL_METRIC && iface === 'lo') continue;
    const destination = canonicalNetwork(hexToIpv6(dest), prefixLength);
    const gateway = (flags & RTF_GATEWAY) !== 0 && !/^0+$/.test(nextHop) ? hexToIpv6(nextHop) : null;
    const type: Route['type'] = reject
      ? 'reject'
      : (flags & RTF_LOCAL) !== 0
        ? 'local'
        : inSubnet(destination, 'ff00::', 8)
          ? 'multicast'
          : 'unicast';
    routes.push({ family: 6, destination, prefixLength, gateway, interface: iface, metric, type });
  }
  return { routes, problems: bad > 0 ? [`${bad} line(s) of the IPv6 route table could not be read`] : [] };
}

/** The network address of `address/prefixLength`, canonical text. */
function canonicalNetwork(address: string, prefixLength: number): string {
  return networkOf(address, prefixLength) ?? address;
}

export interface RouteTablePaths {
  ipv4?: string;
  ipv6?: string;
}

/**
 * Both tables, IPv4 then IPv6, in table order. A missing IPv6 file (IPv6 disabled) is normal and
 * not a problem; any other unreadable file is. Never throws.
 */
export async function readRouteTable(read: ReadText = readUtf8, paths: RouteTablePaths = {}): Promise<RouteTable> {
  const ipv4Path = paths.ipv4 ?? '/proc/net/route';
  const ipv6Path = paths.ipv6 ?? '/proc/net/ipv6_route';
  const one = async (path: string, parse: (t: string) => RouteTable, optional: boolean): Promise<RouteTable> => {
    try {
      const text = await read(path);
      const table = parse(text);
      return { routes: table.routes, problems: table.problems.map((p) => `${path}: ${p}`) };
    } catch (error) {
      const reason = unreadableReason(error);
      return { routes: [], problems: optional && reason === 'does not exist' ? [] : [`${path} ${reason}`] };
    }
  };
  const [v4, v6] = await Promise.all([
    one(ipv4Path, parseIpv4RouteTable, false),
    one(ipv6Path, parseIpv6RouteTable, true),
  ]);
  return { routes: [...v4.routes, ...v6.routes], problems: [...v4.problems, ...v6.problems] };
}

/** Lowest metric first; Array.prototype.sort is stable, so equal metrics keep table order. */
function byMetric(a: Route, b: Route): number {
  return a.metric - b.metric;
}

/** Every default route, per family lowest metric first, the one the kernel uses marked. */
export function defaultRoutes(routes: readonly Route[]): DefaultRouteEntry[] {
  const out: DefaultRouteEntry[] = [];
  for (const family of [4, 6] as const) {
    const candidates = routes.filter((r) => r.family === family && r.prefixLength === 0 && r.type === 'unicast');
    const sorted = [...candidates].sort(byMetric);
    // A reject/blackhole default with a lower metric wins over them: then none is in use.
    const blocking = routes.find(
      (r) =>
        r.family === family &&
        r.prefixLength === 0 &&
        (r.type === 'reject' || r.type === 'blackhole') &&
        (sorted[0] === undefined || r.metric < sorted[0].metric),
    );
    sorted.forEach((r, i) =>
      out.push({
        family,
        gateway: r.gateway,
        interface: r.interface,
        metric: r.metric,
        inUse: i === 0 && blocking === undefined,
      }),
    );
  }
  return out;
}

function routeLabel(r: Route): string {
  return r.prefixLength === 0 ? 'default' : `${r.destination}/${r.prefixLength}`;
}

const IPV4_LOOPBACK = { network: '127.0.0.0', prefixLength: 8 };

/**
 * The route the kernel would pick for `destination` (an IPv4 or IPv6 literal; an IPv6 %zone
 * restricts the lookup to that interface, as the kernel's scope id does): the local table first
 * (own addresses, loopback), then the longest matching prefix, then the lowest metric, then table
 * order. IPv4-mapped IPv6 addresses are looked up as IPv4. Never throws.
 */
export function lookupRoute(
  routes: readonly Route[],
  destination: string,
  opts: { localAddresses?: readonly LocalAddress[] } = {},
): RouteLookup {
  const none = (kind: RouteLookup['kind']): RouteLookup => ({
    destination,
    kind,
    interface: null,
    gateway: null,
    matched: null,
    metric: null,
  });
  const text = typeof destination === 'string' ? destination.trim() : '';
  const parsed = parseIp(text);
  if (parsed === null) return none('none');
  const address = canonicalIp(text, { unmap: true, dropZone: true });
  if (address === null) return none('none');
  const family = parseIp(address)?.family ?? parsed.family;
  const zone = parsed.zone;

  const own = (opts.localAddresses ?? []).find(
    (l) => canonicalIp(l.address, { unmap: true, dropZone: true }) === address,
  );
  if (own !== undefined) {
    return { destination, kind: 'local', interface: own.interface ?? 'lo', gateway: null, matched: null, metric: null };
  }
  if (family === 4 && inSubnet(address, IPV4_LOOPBACK.network, IPV4_LOOPBACK.prefixLength)) {
    return { destination, kind: 'local', interface: 'lo', gateway: null, matched: null, metric: null };
  }

  const candidates = routes.filter(
    (r) =>
      r.family === family &&
      inSubnet(address, r.destination, r.prefixLength) &&
      (zone === null || r.interface === zone || r.interface === null || r.type === 'reject'),
  );
  // IPv6: the local table is consulted before main, whatever the prefix lengths.
  const local = candidates.find((r) => r.type === 'local');
  if (local !== undefined) {
    return { destination, kind: 'local', interface: local.interface, gateway: null, matched: null, metric: null };
  }
  const best = [...candidates.filter((r) => r.type !== 'multicast')].sort(
    (a, b) => b.prefixLength - a.prefixLength || a.metric - b.metric,
  )[0];
  if (best === undefined) return none('none');
  const base = { destination, matched: routeLabel(best), metric: best.metric };
  if (best.type === 'reject') return { ...base, kind: 'unreachable', interface: null, gateway: null };
  if (best.type === 'blackhole') return { ...base, kind: 'blackhole', interface: null, gateway: null };
  if (best.gateway !== null) return { ...base, kind: 'gateway', interface: best.interface, gateway: best.gateway };
  return { ...base, kind: 'on-link', interface: best.interface, gateway: null };
}
