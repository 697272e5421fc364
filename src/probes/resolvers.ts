/**
 * Which DNS servers the VM uses: resolv.conf's `nameserver` lines, and when those name only the
 * systemd-resolved stub (EFLOW's default), the upstream list resolved keeps in its own file of the
 * same format. Reads files and never throws: unreadable files and bad lines become `problems`.
 */
import { isIP } from 'node:net';
import { canonicalIp } from '../util/address.js';
import { readTextOrProblem, readUtf8, type ReadText } from '../util/files.js';
import { quote } from '../util/text.js';
import type { ResolverConfig } from './types.js';

/** systemd-resolved's stub listeners: 127.0.0.53 (full stub) and 127.0.0.54 (proxy, since v251). */
export const RESOLVED_STUBS: readonly string[] = ['127.0.0.53', '127.0.0.54'];
/** glibc reads at most this many nameserver lines (MAXNS); further ones are never asked. */
export const GLIBC_MAXNS = 3;
/** resolv.conf is a few lines: past this, the rest is not read. */
const MAX_TEXT_CHARS = 1024 * 1024;
const MAX_PROBLEM_CHARS = 200;

/** Keywords glibc understands besides nameserver; they do not concern us. */
const OTHER_KEYWORDS = new Set(['search', 'domain', 'options', 'sortlist', 'lookup', 'family']);
const ZONE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The address as a comparable key: IPv6 compressed and lower-cased, the zone kept. */
function addressKey(address: string): string {
  return canonicalIp(address) ?? address.toLowerCase();
}

/** Why `address` is not a nameserver address glibc accepts, or null when it is one. */
function addressProblem(address: string): string | null {
  const parts = address.split('%');
  const ip = parts[0] ?? '';
  const family = isIP(ip);
  if (family === 0) return 'is not an IPv4 or IPv6 address';
  if (parts.length > 1) {
    if (family !== 6) return 'has a %zone, which only IPv6 addresses take';
    if (parts.length > 2 || !ZONE.test(parts[1] ?? '')) return 'has an invalid %zone';
  }
  return null;
}

function dedupe(servers: readonly string[]): string[] {
  const seen = new Set<string>();
  return servers.filter((s) => {
    const key = addressKey(s);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The nameserver addresses of a resolv.conf-format text, in file order, duplicates removed. */
export function parseResolvConf(text: string): { servers: string[]; problems: string[] } {
  const servers: string[] = [];
  const problems: string[] = [];
  const source = typeof text === 'string' ? text : '';
  if (source.length > MAX_TEXT_CHARS) problems.push(`only the first ${MAX_TEXT_CHARS} characters were read`);
  const lines = source.slice(0, MAX_TEXT_CHARS).split(/\r?\n/);
  lines.forEach((raw, i) => {
    const n = i + 1;
    // glibc: '#' or ';' starts a comment at the beginning of a line; trailing ones are ignored too
    // because only the first word after the keyword is read.
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const [keyword = '', value, ...rest] = line.split(/\s+/);
    if (keyword === 'nameserver') {
      if (value === undefined || value.startsWith('#') || value.startsWith(';')) {
        problems.push(`line ${n}: nameserver without an address`);
        return;
      }
      const why = addressProblem(value);
      if (why) {
        problems.push(`line ${n}: nameserver ${quote(value, MAX_PROBLEM_CHARS)} ${why}`);
        return;
      }
      servers.push(value);
      const extra = rest.filter((w) => w !== '');
      if (extra.length && !extra[0]?.startsWith('#') && !extra[0]?.startsWith(';')) {
        problems.push(`line ${n}: text after the address is ignored: ${quote(extra.join(' '), MAX_PROBLEM_CHARS)}`);
      }
      return;
    }
    if (!OTHER_KEYWORDS.has(keyword)) problems.push(`line ${n}: not understood: ${quote(line, MAX_PROBLEM_CHARS)}`);
  });
  const unique = dedupe(servers);
  if (unique.length < servers.length) problems.push('some nameservers are listed more than once');
  if (unique.length > GLIBC_MAXNS) {
    problems.push(
      `${unique.length} nameservers are listed; the system resolver (glibc) only asks the first ${GLIBC_MAXNS}`,
    );
  }
  return { servers: unique, problems };
}

function isStub(address: string): boolean {
  return RESOLVED_STUBS.includes(address);
}

/**
 * The servers the VM's resolver asks. When resolv.conf names only the local systemd-resolved stub,
 * the real servers are its upstreams in `resolvedConfPath` (possibly none: DNS_NO_SERVERS).
 */
export async function readResolvers(
  resolvConfPath: string,
  resolvedConfPath: string,
  readFile: ReadText = readUtf8,
): Promise<ResolverConfig> {
  const main = await readTextOrProblem(resolvConfPath, readFile);
  if ('problem' in main) {
    return { source: 'resolv.conf', files: [resolvConfPath], servers: [], stub: false, problems: [main.problem] };
  }
  const parsed = parseResolvConf(main.text);
  const problems = parsed.problems.map((p) => `${resolvConfPath}: ${p}`);
  const stubOnly = parsed.servers.length > 0 && parsed.servers.every(isStub);
  if (!stubOnly) {
    return { source: 'resolv.conf', files: [resolvConfPath], servers: parsed.servers, stub: false, problems };
  }

  const files = [resolvConfPath, resolvedConfPath];
  const upstream = await readTextOrProblem(resolvedConfPath, readFile);
  if ('problem' in upstream) {
    return { source: 'systemd-resolved', files, servers: [], stub: true, problems: [...problems, upstream.problem] };
  }
  const resolved = parseResolvConf(upstream.text);
  problems.push(...resolved.problems.map((p) => `${resolvedConfPath}: ${p}`));
  // resolved never lists its own stub as an upstream; if it does, asking it would only ask itself.
  const loops = resolved.servers.filter(isStub);
  if (loops.length)
    problems.push(`${resolvedConfPath}: lists the stub ${loops.join(', ')} as its own upstream; ignored`);
  return {
    source: 'systemd-resolved',
    files,
    servers: resolved.servers.filter((s) => !isStub(s)),
    stub: true,
    problems,
  };
}
