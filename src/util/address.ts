/**
 * IP address arithmetic in one place: parsing to a number, RFC 5952 text, prefixes, subnets.
 * Addresses are held as bigint so IPv4 and IPv6 share every rule (containment, overlap, scope).
 */
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export interface ParsedIp {
  family: Family;
  value: bigint;
  /** The %zone of a link-local IPv6 address, without the %. */
  zone: string | null;
}

/** A network as `address/prefixLength`. */
export interface Cidr {
  address: string;
  prefixLength: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** "fe80::1" → eight 16-bit groups (an embedded dotted quad counts as two); null when not IPv6 text. */
export function expandIpv6(text: string): number[] | null {
  const halves = text.toLowerCase().split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined): number[] | null => {
    if (part === undefined || part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (isIPv4(piece)) {
        const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
        out.push(a * 256 + b, c * 256 + d);
      } else if (/^[0-9a-f]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const fill = 8 - head.length - tail.length;
  return fill < 1 ? null : [...head, ...new Array<number>(fill).fill(0), ...tail];
}

/** An IPv4 or IPv6 address (IPv6 with an optional %zone) as a number; null for anything else. */
export function parseIp(text: string): ParsedIp | null {
  const trimmed = text.trim();
  if (isIPv4(trimmed)) return { family: 4, value: ipv4Value(trimmed), zone: null };
  const [ip = '', zone, ...more] = trimmed.split('%');
  if (more.length > 0 || !isIPv6(ip)) return null;
  const groups = expandIpv6(ip);
  if (groups === null) return null;
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
  return { family: 6, value, zone: zone === undefined || zone === '' ? null : zone };
}

/** Eight 16-bit groups → RFC 5952 text: lower case, the longest run of two or more zero groups as "::". */
export function formatIpv6Groups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestLen < 2) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLen).join(':')}`;
}

/** A number back to text in the family's canonical form. */
export function formatIp(family: Family, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - i * 16)) & 0xffffn));
  return formatIpv6Groups(groups);
}

/**
 * One text per address, so lists can be compared: IPv4 as is, IPv6 compressed and lower case.
 * `unmap` turns ::ffff:a.b.c.d into a.b.c.d; the %zone is kept unless `dropZone`. Null when not an address.
 */
export function canonicalIp(text: string, opts: { unmap?: boolean; dropZone?: boolean } = {}): string | null {
  const ip = parseIp(text);
  if (ip === null) return null;
  if (ip.family === 4) return formatIp(4, ip.value);
  if (opts.unmap && ip.value >> 32n === 0xffffn) return formatIp(4, ip.value & 0xffffffffn);
  const base = formatIp(6, ip.value);
  return ip.zone !== null && !opts.dropZone ? `${base}%${ip.zone}` : base;
}

/** "010012C6" → "198.18.0.1": /proc/net/route prints the u32 in host (little-endian) byte order. */
export function littleEndianHexToIpv4(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

/** 32 hex digits (as in /proc/net/ipv6_route) → RFC 5952 text. */
export function hexToIpv6(hex: string): string {
  return formatIpv6Groups(Array.from({ length: 8 }, (_, i) => parseInt(hex.slice(i * 4, i * 4 + 4), 16)));
}

/** A contiguous netmask (IPv4 dotted or IPv6 text) → its prefix length; null for anything else. */
export function netmaskToPrefix(netmask: string): number | null {
  const ip = parseIp(netmask);
  if (ip === null) return null;
  const bits = ip.value.toString(2).padStart(BITS[ip.family], '0');
  if (!/^1*0*$/.test(bits)) return null;
  const firstZero = bits.indexOf('0');
  return firstZero === -1 ? BITS[ip.family] : firstZero;
}

function mask(family: Family, prefixLength: number): bigint {
  const bits = BigInt(BITS[family]);
  const p = BigInt(Math.max(0, Math.min(BITS[family], prefixLength)));
  return ((1n << p) - 1n) << (bits - p);
}

/** The network address of `address/prefixLength` as text; null when not an address. */
export function networkOf(address: string, prefixLength: number): string | null {
  const ip = parseIp(address);
  return ip === null ? null : formatIp(ip.family, ip.value & mask(ip.family, prefixLength));
}

/** The directed broadcast of an IPv4 subnet; null for /31 and /32, which have none (RFC 3021). */
export function ipv4Broadcast(address: string, prefixLength: number): string | null {
  const ip = parseIp(address);
  if (ip === null || ip.family !== 4 || prefixLength < 0 || prefixLength > 30) return null;
  return formatIp(4, (ip.value & mask(4, prefixLength)) | (~mask(4, prefixLength) & 0xffffffffn));
}

/** Scope by address range: ::1 host, fe80::/10 link, fec0::/10 site (deprecated, still seen), else global. */
export function ipv6Scope(address: string): 'host' | 'link' | 'site' | 'global' {
  const ip = parseIp(address);
  if (ip === null || ip.family !== 6) return 'global';
  if (ip.value === 1n) return 'host';
  const top10 = ip.value >> 118n;
  if (top10 === 0x3fan) return 'link';
  if (top10 === 0x3fbn) return 'site';
  return 'global';
}

/** Whether `address` lies inside `network/prefixLength` (same family only). */
export function inSubnet(address: string, network: string, prefixLength: number): boolean {
  const a = parseIp(address);
  const n = parseIp(network);
  if (a === null || n === null || a.family !== n.family) return false;
  const m = mask(a.family, prefixLength);
  return (a.value & m) === (n.value & m);
}

/** Whether two networks share any address: one contains the other's network address. */
export function subnetsOverlap(a: Cidr, b: Cidr): boolean {
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  return inSubnet(a.address, b.address, shorter) && inSubnet(b.address, a.address, shorter);
}

/** 169.254.0.0/16 (RFC 3927): self-assigned when DHCP did not answer, or set by hand. */
export function isLinkLocalIpv4(address: string): boolean {
  return inSubnet(address, '169.254.0.0', 16);
}

/** "198.18.0.10/24" → {address, prefixLength}; a bare address gets the family's full length. Null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const [address = '', prefix, ...more] = text.trim().split('/');
  const ip = parseIp(address);
  if (ip === null || more.length > 0) return null;
  if (prefix === undefined) return { address, prefixLength: BITS[ip.family] };
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > BITS[ip.family]) return null;
  return { address, prefixLength: Number(prefix) };
}
