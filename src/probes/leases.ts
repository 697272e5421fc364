/**
 * systemd-networkd's DHCP lease files, `/run/systemd/netif/leases/<ifindex>`: which server gave the
 * VM its address, and until when. The format is networkd's private KEY=VALUE file; networkd up to
 * v251 writes LIFETIME in seconds, later versions as a timespan ("1d", "12h 30min"). Reads files and
 * never throws: a missing or unreadable lease is null.
 */
import { readFile as fsReadFile, stat as fsStat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { DhcpLease } from '../report/types.js';
import { netmaskToPrefix as anyNetmaskToPrefix } from '../util/address.js';
import { unquote } from '../util/text.js';
import type { ParsedLease } from './types.js';

/** The file system calls readLeaseFor makes, injectable for tests. */
export interface LeaseFs {
  readFile(path: string): Promise<string>;
  stat(path: string): Promise<{ mtime: Date }>;
}

const defaultFs: LeaseFs = {
  readFile: (path) => fsReadFile(path, 'utf8'),
  stat: (path) => fsStat(path),
};

/** A lease file is a few hundred bytes; past this the rest is not read. */
const MAX_TEXT_CHARS = 64 * 1024;

/** Seconds per unit of a systemd timespan (systemd.time(7)); "m" is minutes, "M" months. */
const TIMESPAN_UNITS: ReadonlyMap<string, number> = new Map([
  ...['us', 'usec', 'µs', 'μs'].map((u) => [u, 1e-6] as const),
  ...['ms', 'msec'].map((u) => [u, 1e-3] as const),
  ...['', 's', 'sec', 'second', 'seconds'].map((u) => [u, 1] as const),
  ...['m', 'min', 'minute', 'minutes'].map((u) => [u, 60] as const),
  ...['h', 'hr', 'hour', 'hours'].map((u) => [u, 3600] as const),
  ...['d', 'day', 'days'].map((u) => [u, 86_400] as const),
  ...['w', 'week', 'weeks'].map((u) => [u, 604_800] as const),
  ...['M', 'month', 'months'].map((u) => [u, 2_629_800] as const),
  ...['y', 'year', 'years'].map((u) => [u, 31_557_600] as const),
]);

/** `86400`, `1d`, `12h 30min`, `1.5h` → seconds; null for anything else (including `infinity`). */
export function parseTimespanSeconds(value: string): number | null {
  const v = value.trim();
  if (v === '' || v.length > 100) return null;
  const part = /(\d+(?:\.\d+)?)\s*([A-Za-zµμ]*)\s*/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(v); m; m = part.exec(v)) {
    const factor = TIMESPAN_UNITS.get(m[2] ?? '');
    if (factor === undefined) return null;
    total += Number(m[1]) * factor;
    consumed = part.lastIndex;
  }
  if (consumed !== v.length || !Number.isFinite(total)) return null;
  return Math.round(total);
}

function ipv4OrNull(value: string | undefined): string | null {
  return value !== undefined && isIP(value) === 4 ? value : null;
}

/** The parts of a lease file the report uses. Unknown keys and malformed lines are skipped. */
export function parseLease(text: string): ParsedLease {
  const values = new Map<string, string>();
  const source = typeof text === 'string' ? text.slice(0, MAX_TEXT_CHARS) : '';
  for (const raw of source.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    // The last assignment wins, as with any env-style file.
    values.set(line.slice(0, eq).trim(), unquote(line.slice(eq + 1)));
  }
  const list = (key: string) => (values.get(key) ?? '').split(/[\s,]+/).filter((a) => isIP(a) === 4);
  const mask = values.get('NETMASK');
  const lifetime = values.get('LIFETIME');
  return {
    server: ipv4OrNull(values.get('SERVER_ADDRESS')),
    address: ipv4OrNull(values.get('ADDRESS')),
    prefixLength: mask === undefined ? null : netmaskToPrefix(mask),
    router: list('ROUTER')[0] ?? null,
    dns: [...new Set(list('DNS'))],
    lifetimeSeconds: lifetime === undefined ? null : parseTimespanSeconds(lifetime),
  };
}

function isEmpty(lease: ParsedLease): boolean {
  return (
    lease.address === null &&
    lease.server === null &&
    lease.router === null &&
    lease.dns.length === 0 &&
    lease.lifetimeSeconds === null
  );
}

/**
 * The lease networkd holds for interface `ifindex`, or null when there is none (not DHCP, not yet
 * bound, unreadable, or nothing recognisable in it). The expiry is the file's modification time
 * (networkd rewrites the file on every bind and renewal) plus LIFETIME.
 */
/** A contiguous IPv4 netmask (NETMASK=) → prefix length; null for anything else. */
export function netmaskToPrefix(mask: string): number | null {
  return isIP(mask) === 4 ? anyNetmaskToPrefix(mask) : null;
}

export async function readLeaseFor(dir: string, ifindex: number, fs: LeaseFs = defaultFs): Promise<DhcpLease | null> {
  if (!Number.isInteger(ifindex) || ifindex <= 0) return null;
  const file = join(dir, String(ifindex));
  let text: string;
  try {
    text = await fs.readFile(file);
  } catch {
    return null;
  }
  const parsed = parseLease(text);
  if (isEmpty(parsed)) return null;
  let expiry: string | null = null;
  if (parsed.lifetimeSeconds !== null) {
    try {
      const { mtime } = await fs.stat(file);
      const ms = mtime.getTime() + parsed.lifetimeSeconds * 1000;
      // Date's range is ±8.64e15 ms; a nonsense LIFETIME must not become a RangeError.
      if (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15) expiry = new Date(ms).toISOString();
    } catch {
      expiry = null;
    }
  }
  return {
    file,
    server: parsed.server,
    address: parsed.address,
    prefixLength: parsed.prefixLength,
    router: parsed.router,
    dns: parsed.dns,
    expiry,
  };
}
