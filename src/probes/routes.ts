/**
 * Default routes from the kernel's own tables in /proc, not from `ip route`: no process to spawn,
 * no iproute2 output format to track, and the same files exist in every container and VM.
 */
import { hexToIpv6, littleEndianHexToIpv4 } from '../util/address.js';
import { readUtf8, type ReadText } from '../util/files.js';
import type { DefaultRoute } from './types.js';

/** Route flags from <linux/route.h>. */
const RTF_UP = 0x0001;
const RTF_GATEWAY = 0x0002;
const RTF_REJECT = 0x0200;

/**
 * Parses IPv4 `/proc/net/route`. A default route is Destination 00000000 with Mask 00000000,
 * up, and via a gateway (a default route without a next hop has no gateway to test).
 * Addresses are 32-bit hex in host byte order, which is little-endian on every platform EFLOW runs.
 * Malformed lines are skipped, never thrown.
 */
export function parseProcNetRoute(text: string): DefaultRoute[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.trim().split(/\s+/) ?? [];
  // Column positions come from the header, so a kernel that adds or moves a column still parses.
  const at = (name: string): number => header.indexOf(name);
  const cols = {
    iface: at('Iface'),
    dest: at('Destination'),
    gw: at('Gateway'),
    flags: at('Flags'),
    metric: at('Metric'),
    mask: at('Mask'),
  };
  if (Object.values(cols).some((i) => i < 0)) return [];

  const routes: DefaultRoute[] = [];
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/);
    const iface = f[cols.iface];
    const dest = f[cols.dest];
    const gw = f[cols.gw];
    const mask = f[cols.mask];
    const flags = parseHex(f[cols.flags], 8);
    const metric = parseDecimal(f[cols.metric]);
    if (!iface || flags === null || metric === null || !isHex(dest, 8) || !isHex(mask, 8) || !isHex(gw, 8)) continue;
    if (parseInt(dest, 16) !== 0 || parseInt(mask, 16) !== 0) continue;
    if ((flags & RTF_UP) === 0 || (flags & RTF_GATEWAY) === 0 || (flags & RTF_REJECT) !== 0) continue;
    const gateway = littleEndianHexToIpv4(gw);
    if (gateway === '0.0.0.0') continue;
    routes.push({ gateway, interface: iface, metric, family: 4 });
  }
  return routes;
}

/**
 * Parses `/proc/net/ipv6_route` (no header: dest, dest_len, src, src_len, next_hop, metric,
 * refcnt, use, flags, iface; all hex). A default route is ::/0 with a non-zero next hop; the
 * kernel also lists a ::/0 "unreachable" route on lo, which has neither.
 */
export function parseProcNetIpv6Route(text: string): DefaultRoute[] {
  const routes: DefaultRoute[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, destLen, , , nextHop, metricHex, , , flagsHex, iface] = f;
    const metric = parseHex(metricHex, 8);
    const flags = parseHex(flagsHex, 8);
    if (!iface || metric === null || flags === null || !isHex(dest, 32) || !isHex(nextHop, 32) || !isHex(destLen, 2))
      continue;
    if (!/^0+$/.test(dest) || parseInt(destLen, 16) !== 0 || /^0+$/.test(nextHop)) continue;
    if ((flags & RTF_UP) === 0 || (flags & RTF_REJECT) !== 0) continue;
    routes.push({ gateway: hexToIpv6(nextHop), interface: iface, metric, family: 6 });
  }
  return routes;
}

/**
 * Every default route (IPv4 then IPv6 tables), lowest metric first — the one the kernel uses.
 * An unreadable table counts as empty (no IPv6 on the host is normal); this never throws.
 */
export async function readDefaultRoutes(readFile: ReadText = readUtf8): Promise<DefaultRoute[]> {
  const read = async (path: string, parse: (text: string) => DefaultRoute[]): Promise<DefaultRoute[]> => {
    try {
      return parse(await readFile(path));
    } catch {
      return [];
    }
  };
  const [v4, v6] = await Promise.all([
    read('/proc/net/route', parseProcNetRoute),
    read('/proc/net/ipv6_route', parseProcNetIpv6Route),
  ]);
  // Array.prototype.sort is stable, so equal metrics keep IPv4 before IPv6 and the table's order.
  return [...v4, ...v6].sort((a, b) => a.metric - b.metric);
}

function isHex(s: string | undefined, length: number): s is string {
  return s !== undefined && s.length === length && /^[0-9a-fA-F]+$/.test(s);
}

function parseHex(s: string | undefined, maxLength: number): number | null {
  if (s === undefined || s.length === 0 || s.length > maxLength || !/^[0-9a-fA-F]+$/.test(s)) return null;
  return parseInt(s, 16);
}

function parseDecimal(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return null;
  return Number(s);
}
