/**
 * The proxy URL as the IoT Edge components read it, and `no_proxy`.
 *
 * Parsing. IoT Edge's host daemons (aziot-edged, aziot-identityd: Rust, hyper + hyper-proxy via
 * iot-identity-service `http-common/src/proxy.rs`), the container engine (moby: Go) and edgeAgent /
 * edgeHub (.NET) all take `http://[user[:password]@]host[:port]`. Decisions:
 * - The scheme must be `http`. `https://` and other schemes are well formed but wrong (the IoT Edge
 *   proxy doc: the daemon and runtime containers "should always use HTTP to connect to the proxy";
 *   iotedge #7091): that is a result (`valid: false, problem: 'scheme'`), never a throw.
 * - No scheme at all (`proxy:3128`) is `problem: 'no-scheme'`: Go would assume http, hyper's Uri
 *   would not, and CONTRACT 7.1 asks for an `http://host:port` URL.
 * - No port means 80, the `http` scheme's default, which is what hyper's HttpConnector, Go's
 *   transport (canonicalAddr) and .NET's Uri use. curl alone defaults a proxy to 1080; it is not
 *   what IoT Edge runs. `portDefaulted` says when 80 was assumed.
 * - A path (`http://proxy:3128/`) is ignored, as all three clients ignore it.
 * - Credentials are percent-decoded for `Proxy-Authorization: Basic`, as http-common does.
 *
 * Secrets. Nothing this module returns holds the password: `url` is masked (`user:***@`), error
 * sentences are our own (the WHATWG URL parser is not used: its errors carry the input), and the
 * header value is computed on demand by `proxyAuthorization` from the caller's raw text.
 *
 * no_proxy follows Go's golang.org/x/net/http/httpproxy (what dockerd uses to pull images), since
 * it is the one precisely specified and tested reader among the components; see `noProxyMatch`.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { inSubnet, parseCidr, parseIp } from '../util/address.js';
import { quote } from '../util/text.js';

export const DEFAULT_PROXY_PORT = 80;

export type ProxyUrlProblem = 'empty' | 'no-scheme' | 'scheme' | 'no-host' | 'host' | 'port' | 'syntax';

/** A proxy URL as read, safe to log and report: it never holds the password. */
export interface ProxyUrlInfo {
  /** The URL with any password replaced by `***`, as written otherwise (trimmed). */
  url: string;
  /** true when it is a usable `http://host[:port]` proxy URL. */
  valid: boolean;
  problem: ProxyUrlProblem | null;
  /** Why it is not valid, as a sentence (no secrets), or null. */
  detail: string | null;
  /** Lower case, without `://`; null when there is none. */
  scheme: string | null;
  /** Lower case; IPv6 without brackets. */
  host: string | null;
  port: number | null;
  /** true when the URL named no port and 80 was assumed. */
  portDefaulted: boolean;
  /** The user name as written (still percent-encoded), or null. */
  username: string | null;
  hasPassword: boolean;
}

interface Split {
  scheme: string | null;
  userinfo: string | null;
  hostport: string;
}

/**
 * scheme://userinfo@hostport/rest, without judging any part. The userinfo is everything before the
 * LAST `@` of the text, even past a `/`, `?` or `#`: an unencoded `@` or `/` in a password is a
 * common mistake, and the mask must cover the whole password whatever it holds.
 */
function split(text: string): Split {
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  const rest = schemeMatch ? text.slice(schemeMatch[0].length) : text;
  const at = rest.lastIndexOf('@');
  const afterUser = at === -1 ? rest : rest.slice(at + 1);
  const authorityEnd = afterUser.search(/[/?#]/);
  return {
    scheme: schemeMatch ? schemeMatch[1]!.toLowerCase() : null,
    userinfo: at === -1 ? null : rest.slice(0, at),
    hostport: authorityEnd === -1 ? afterUser : afterUser.slice(0, authorityEnd),
  };
}

function maskUserinfo(userinfo: string): string {
  const colon = userinfo.indexOf(':');
  return colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***`;
}

/**
 * `text` with the password of its userinfo replaced by `***`. Works on malformed text too: the
 * userinfo is whatever precedes the last `@`. A "port" that is not a number is masked as well:
 * without an `@` (`http://user:secret`), a password sits exactly there.
 */
export function maskProxyUrl(text: string): string {
  const trimmed = text.trim();
  const s = split(trimmed);
  const prefix = s.scheme === null ? '' : trimmed.slice(0, trimmed.indexOf('://') + 3);
  const userLength = s.userinfo === null ? 0 : s.userinfo.length + 1;
  const user = s.userinfo === null ? '' : `${maskUserinfo(s.userinfo)}@`;
  const tail = trimmed.slice(prefix.length + userLength + s.hostport.length);
  const colon = s.hostport.startsWith('[') ? s.hostport.indexOf(']:') + 1 : s.hostport.lastIndexOf(':');
  const port = colon <= 0 ? '' : s.hostport.slice(colon + 1);
  const hostport = port !== '' && !/^\d+$/.test(port) ? `${s.hostport.slice(0, colon)}:***` : s.hostport;
  return `${prefix}${user}${hostport}${tail}`;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

function parseHostPort(hostport: string): { host: string; port: string | null } | { error: ProxyUrlProblem } {
  let host: string;
  let portText: string | null = null;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close === -1) return { error: 'host' };
    host = hostport.slice(1, close);
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return { error: 'syntax' };
    if (after.startsWith(':')) portText = after.slice(1);
    if (!isIPv6(host)) return { error: 'host' };
  } else {
    const colon = hostport.lastIndexOf(':');
    host = colon === -1 ? hostport : hostport.slice(0, colon);
    if (colon !== -1) portText = hostport.slice(colon + 1);
    if (host === '') return { error: 'no-host' };
    if (!isIPv4(host) && !HOSTNAME.test(host)) return { error: 'host' };
  }
  if (host === '') return { error: 'no-host' };
  return { host: host.toLowerCase(), port: portText === '' ? null : portText };
}

/** Characters no URL holds unencoded: whitespace, quotes, controls and the RFC 3986 "unwise" set. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const UNSAFE_CHAR = /[\s"'<>\\^`{|}\x00-\x1f\x7f]/;

const PROBLEM_WORDS: Record<ProxyUrlProblem, string> = {
  empty: 'the proxy URL is empty',
  'no-scheme': 'the proxy URL has no scheme: write it as http://host:port',
  scheme: 'the proxy must be reached over plain HTTP (http://host:port)',
  'no-host': 'the proxy URL names no host',
  host: 'the proxy URL has an invalid host',
  port: 'the proxy URL has an invalid port (1-65535)',
  syntax: 'the proxy URL is not of the form http://host:port',
};

/** Reads a proxy URL; never throws. See the module comment for the rules. */
export function parseProxyUrl(text: string): ProxyUrlInfo {
  const trimmed = text.trim();
  const url = maskProxyUrl(trimmed);
  const info: ProxyUrlInfo = {
    url,
    valid: false,
    problem: null,
    detail: null,
    scheme: null,
    host: null,
    port: null,
    portDefaulted: false,
    username: null,
    hasPassword: false,
  };
  const fail = (problem: ProxyUrlProblem, extra?: string): ProxyUrlInfo => {
    info.problem = problem;
    info.detail = extra ? `${PROBLEM_WORDS[problem]}; ${extra}` : PROBLEM_WORDS[problem];
    return info;
  };
  if (trimmed === '') return fail('empty');
  // Whitespace, quotes or control characters inside: a copy-paste or quoting mistake.
  if (UNSAFE_CHAR.test(trimmed)) return fail('syntax', `it contains ${describeOdd(trimmed)}`);

  const s = split(trimmed);
  info.scheme = s.scheme;
  if (s.userinfo !== null) {
    const colon = s.userinfo.indexOf(':');
    info.username = colon === -1 ? s.userinfo : s.userinfo.slice(0, colon);
    info.hasPassword = colon !== -1;
    // Clients end the authority at the first / ? or #, so such a character must be percent-encoded.
    const odd = /[/?#]/.exec(s.userinfo)?.[0];
    if (odd !== undefined)
      return fail(
        'syntax',
        `the user name or password contains an unencoded "${odd}" (write it as ${encodeURIComponent(odd)})`,
      );
  }
  const hp = parseHostPort(s.hostport);
  if ('error' in hp) {
    if (s.scheme === null) return fail('no-scheme');
    return fail(hp.error, hp.error === 'host' ? `read ${quote(hostOnly(s.hostport), 80)}` : undefined);
  }
  info.host = hp.host;
  if (hp.port === null) {
    info.portDefaulted = true;
    info.port = s.scheme === 'https' ? 443 : DEFAULT_PROXY_PORT;
  } else if (/^\d{1,5}$/.test(hp.port) && Number(hp.port) >= 1 && Number(hp.port) <= 65535) {
    info.port = Number(hp.port);
  } else {
    // Not echoed: maskProxyUrl has already hidden a port that is not a number.
    return fail('port');
  }
  if (s.scheme === null) return fail('no-scheme');
  if (s.scheme !== 'http') return fail('scheme', `this one uses ${s.scheme}://`);
  info.valid = true;
  return info;
}

function hostOnly(hostport: string): string {
  const colon = hostport.startsWith('[') ? hostport.indexOf(']') + 1 : hostport.lastIndexOf(':');
  return colon <= 0 ? hostport : hostport.slice(0, colon);
}

function describeOdd(text: string): string {
  const ch = UNSAFE_CHAR.exec(text)?.[0] ?? '';
  if (ch === ' ') return 'a space';
  if (ch === '"' || ch === "'") return 'a quote';
  return `the character U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % is taken literally rather than refused
  }
}

/**
 * The `Proxy-Authorization` value (`Basic …`) for a raw proxy URL with credentials, or null when
 * it has none. The only place the password is read; its result must never be reported.
 */
export function proxyAuthorization(rawUrl: string): string | null {
  const s = split(rawUrl.trim());
  if (s.userinfo === null) return null;
  const colon = s.userinfo.indexOf(':');
  const user = decodeLoosely(colon === -1 ? s.userinfo : s.userinfo.slice(0, colon));
  const password = colon === -1 ? '' : decodeLoosely(s.userinfo.slice(colon + 1));
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * What makes two proxy settings the same proxy: scheme, user, host and effective port, lower
 * case; null when there is no host. The password is left out: it cannot be compared without
 * being kept, so two settings that differ only in the password compare equal.
 */
export function proxyIdentity(info: ProxyUrlInfo): string | null {
  if (info.host === null) return null;
  const user = info.username === null ? '' : `${decodeLoosely(info.username)}@`;
  const host = isIPv6(info.host) ? `[${info.host}]` : info.host;
  return `${info.scheme ?? 'http'}://${user}${host}:${info.port ?? DEFAULT_PROXY_PORT}`;
}

// --- no_proxy -------------------------------------------------------------------------------------

export type NoProxyEntry =
  | { kind: 'all'; entry: string }
  | { kind: 'cidr'; entry: string; address: string; prefixLength: number }
  | { kind: 'ip'; entry: string; address: string; port: number | null }
  /** `suffix` starts with a dot; `matchSelf` is false for entries written with a leading dot. */
  | { kind: 'domain'; entry: string; suffix: string; matchSelf: boolean; port: number | null };

/**
 * Parses a no_proxy list the way Go's httpproxy does: comma separated, trimmed, lower case, empty
 * items skipped; `*` alone means every host; `a.b.c.d/n` and `v6/n` are networks; an IP literal
 * (`[v6]:port` with a port) is one address; anything else is a domain, where `example.com`
 * matches that name and every subdomain, `.example.com` and `*.example.com` only subdomains.
 * A `:port` suffix restricts an entry to that port. Unreadable entries are skipped, as Go does.
 */
export function parseNoProxy(text: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return [{ kind: 'all', entry }];
    if (entry.includes('/')) {
      const cidr = parseCidr(entry);
      if (cidr !== null) entries.push({ kind: 'cidr', entry, address: cidr.address, prefixLength: cidr.prefixLength });
      continue;
    }
    let host = entry;
    let port: number | null = null;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      host = bracketed[1]!;
      port = bracketed[2] === undefined ? null : Number(bracketed[2]);
    } else if (!isIPv6(entry)) {
      const m = /^(.*):(\d+)$/.exec(entry);
      if (m) {
        host = m[1]!;
        port = Number(m[2]);
      }
    }
    if (host === '') continue;
    if (parseIp(host) !== null) {
      entries.push({ kind: 'ip', entry, address: host, port });
      continue;
    }
    let suffix = host.startsWith('*.') ? host.slice(1) : host;
    const matchSelf = !suffix.startsWith('.');
    if (matchSelf) suffix = `.${suffix}`;
    if (suffix === '.') continue;
    entries.push({ kind: 'domain', entry, suffix, matchSelf, port });
  }
  return entries;
}

export interface NoProxyDecision {
  /** true: go direct, not through the proxy. */
  bypass: boolean;
  /** The no_proxy entry that matched, as written (lower case), or null. */
  entry: string | null;
  /** Why: an entry matched, `localhost`/loopback (never proxied by Go), or no entry matched. */
  reason: 'entry' | 'loopback' | 'no-match';
}

function sameIp(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== null && y !== null && x.family === y.family && x.value === y.value;
}

/**
 * Whether a connection to `host:port` bypasses the proxy under `noProxy` (Go's httpproxy rules,
 * see parseNoProxy). Like Go, `localhost` and loopback addresses never use a proxy. Domain entries
 * are compared with names only, never with an IP literal host (as Go's current code does), and
 * without resolving anything. Differences worth knowing when reading a device: curl also
 * matches `.example.com` against `example.com` itself and supports CIDR only since 7.86;
 * aziot-identityd ignores no_proxy altogether (http-common builds its proxy with Intercept::All).
 */
export function noProxyMatch(noProxy: string | null, host: string, port: number): NoProxyDecision {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  const ip = parseIp(name);
  if (name === 'localhost' || (ip !== null && isLoopback(name)))
    return { bypass: true, entry: null, reason: 'loopback' };
  for (const e of parseNoProxy(noProxy ?? '')) {
    switch (e.kind) {
      case 'all':
        return { bypass: true, entry: e.entry, reason: 'entry' };
      case 'cidr':
        if (ip !== null && inSubnet(name, e.address, e.prefixLength))
          return { bypass: true, entry: e.entry, reason: 'entry' };
        break;
      case 'ip':
        if (ip !== null && sameIp(name, e.address) && (e.port === null || e.port === port))
          return { bypass: true, entry: e.entry, reason: 'entry' };
        break;
      case 'domain':
        if (ip === null && (name.endsWith(e.suffix) || (e.matchSelf && name === e.suffix.slice(1))))
          if (e.port === null || e.port === port) return { bypass: true, entry: e.entry, reason: 'entry' };
        break;
    }
  }
  return { bypass: false, entry: null, reason: 'no-match' };
}

function isLoopback(address: string): boolean {
  return inSubnet(address, '127.0.0.0', 8) || sameIp(address, '::1');
}
