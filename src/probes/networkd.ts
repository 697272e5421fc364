/**
 * systemd-networkd `.network` files: what the VM's interfaces are configured to be (DHCP or a
 * static Address/Gateway/DNS), and which file applies to an interface, with networkd's own rules:
 * files in lexical filename order, the first whose [Match] section matches wins, empty files and
 * files without any [Match] setting are skipped. Reads files and never throws.
 */
import { readFile as fsReadFile, readdir as fsReaddir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, join } from 'node:path';
import { unreadableReason } from '../util/files.js';
import { quote, unquote } from '../util/text.js';
import type { NetworkdFile } from './types.js';

/** The file system calls readNetworkdDir makes, injectable for tests. */
export interface NetworkdFs {
  readdir(dir: string): Promise<string[]>;
  readFile(path: string): Promise<string>;
}

const defaultFs: NetworkdFs = {
  readdir: (dir) => fsReaddir(dir),
  readFile: (path) => fsReadFile(path, 'utf8'),
};

/** Real files are a few hundred bytes; past this the rest is not read. */
const MAX_TEXT_CHARS = 1024 * 1024;
const MAX_FILES = 500;

/** DHCP= values that turn DHCPv4 on (systemd's boolean spellings, plus ipv4 and the old "both"). */
const DHCP4_ON = new Set(['yes', 'true', 'on', '1', 'y', 't', 'ipv4', 'both']);
const DHCP_VALUES = new Set([...DHCP4_ON, 'no', 'false', 'off', '0', 'n', 'f', 'ipv6']);
/** [Match] keys we evaluate; any other one is kept as written and assumed to hold. */
const MATCH_EVALUATED = new Set(['Name', 'MACAddress']);
/** Route gateway placeholders networkd fills in from DHCP or router advertisements. */
const GATEWAY_PLACEHOLDERS = new Set(['_dhcp4', '_ipv6ra', '_dhcp']);

/** `00-15-5D-4E-15-2C`, `0015.5d4e.152c` and `00:15:5d:4e:15:2c` all become the last form. */
export function normalizeMac(value: string): string | null {
  const v = value.trim().toLowerCase();
  let hex: string | null = null;
  if (/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/.test(v)) hex = v.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(v)) hex = v.replace(/\./g, '');
  return hex ? (hex.match(/../g) ?? []).join(':') : null;
}

/** "198.18.0.10/24" or "198.18.0.10" (no prefix: the diagnosis reports that) or an IPv6 form. */
function isAddressValue(value: string): boolean {
  const [ip = '', prefix, ...more] = value.split('/');
  const family = isIP(ip);
  if (family === 0 || more.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** DNS= accepts `ADDR`, `ADDR:PORT`, `[ADDR6]:PORT`, each optionally `%ifname` and `#server-name`. */
function isDnsValue(value: string): boolean {
  let v = value.split('#')[0] ?? '';
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?(%[^%]+)?$/.exec(v);
  if (bracketed) return isIP((bracketed[1] ?? '').split('%')[0] ?? '') === 6;
  v = v.split('%')[0] ?? '';
  if (isIP(v)) return true;
  const withPort = /^([\d.]+):(\d{1,5})$/.exec(v);
  return withPort !== null && isIP(withPort[1] ?? '') === 4;
}

function emptyFile(path: string): NetworkdFile {
  return {
    path,
    matchNames: [],
    matchMacs: [],
    matchOther: [],
    dhcp: null,
    addresses: [],
    gateways: [],
    dns: [],
    problems: [],
  };
}

/**
 * Parses one `.network` file. systemd syntax: `[Section]` headers, `Key=Value` lines, `#`/`;`
 * comments, a trailing backslash continues a line, list settings accumulate over repeated keys
 * and an empty assignment resets them.
 */
export function parseNetworkFile(text: string, path: string): NetworkdFile {
  const file = emptyFile(path);
  const source = typeof text === 'string' ? text : '';
  if (source.length > MAX_TEXT_CHARS) file.problems.push(`only the first ${MAX_TEXT_CHARS} characters were read`);
  const physical = source.slice(0, MAX_TEXT_CHARS).split(/\r?\n/);

  let section: string | null = null;
  for (let i = 0; i < physical.length; i++) {
    const n = i + 1;
    let line = (physical[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    // Continuation lines; comment lines inside a continuation are skipped (systemd.syntax(7)).
    while (line.endsWith('\\') && i + 1 < physical.length) {
      const next = (physical[++i] ?? '').trim();
      if (next.startsWith('#') || next.startsWith(';')) continue;
      line = `${line.slice(0, -1)} ${next}`.trim();
    }
    if (line.endsWith('\\')) line = line.slice(0, -1).trim();

    if (line.startsWith('[')) {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m) {
        file.problems.push(`line ${n}: bad section header ${quote(line)}`);
        section = null;
      } else {
        section = (m[1] ?? '').trim();
      }
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      file.problems.push(`line ${n}: not a Key=Value line: ${quote(line)}`);
      continue;
    }
    if (section === null) {
      file.problems.push(`line ${n}: ${quote(line)} is outside any section`);
      continue;
    }
    const key = line.slice(0, eq).trim();
    const value = unquote(line.slice(eq + 1).trim());
    assign(file, section, key, value, n);
  }
  if (!hasMatchSettings(file)) {
    file.problems.push('no [Match] setting: systemd-networkd ignores this file (Name=* would match every interface)');
  }
  return file;
}

function words(value: string): string[] {
  return value.split(/\s+/).filter(Boolean);
}

function assign(file: NetworkdFile, section: string, key: string, value: string, n: number): void {
  const problem = (what: string) => file.problems.push(`line ${n}: ${what}`);
  switch (`${section}.${key}`) {
    case 'Match.Name':
      if (value === '') file.matchNames = [];
      else file.matchNames.push(...words(value));
      return;
    case 'Match.MACAddress': {
      if (value === '') {
        file.matchMacs = [];
        return;
      }
      for (const w of words(value)) {
        const mac = normalizeMac(w);
        if (mac) file.matchMacs.push(mac);
        else problem(`MACAddress ${quote(w)} is not a MAC address`);
      }
      return;
    }
    case 'Network.DHCP': {
      const v = value.toLowerCase();
      if (v !== '' && !DHCP_VALUES.has(v)) problem(`DHCP=${quote(value)} is not one of yes, no, ipv4, ipv6`);
      file.dhcp = value === '' ? null : value;
      return;
    }
    case 'Network.Address':
    case 'Address.Address':
      if (value === '') {
        if (section === 'Network') file.addresses = [];
        return;
      }
      if (isAddressValue(value)) file.addresses.push(value);
      else problem(`Address=${quote(value)} is not an address`);
      return;
    case 'Network.Gateway':
    case 'Route.Gateway':
      if (value === '') {
        if (section === 'Network') file.gateways = [];
        return;
      }
      if (isIP(value.split('%')[0] ?? '') || GATEWAY_PLACEHOLDERS.has(value)) file.gateways.push(value);
      else problem(`Gateway=${quote(value)} is not an address`);
      return;
    case 'Network.DNS':
      if (value === '') {
        file.dns = [];
        return;
      }
      for (const w of words(value)) {
        if (isDnsValue(w)) file.dns.push(w);
        else problem(`DNS ${quote(w)} is not an address`);
      }
      return;
    default:
      if (section === 'Match' && !MATCH_EVALUATED.has(key)) (file.matchOther ??= []).push(`${key}=${value}`);
  }
}

/** Byte order, as systemd sorts file names (strcmp), not the locale's order. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every `*.network` file of `dir`, parsed, in the order networkd considers them. */
export async function readNetworkdDir(
  dir: string,
  fs: NetworkdFs = defaultFs,
): Promise<{ files: NetworkdFile[]; problems: string[] }> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    return { files: [], problems: [`${dir} ${unreadableReason(err)}`] };
  }
  const problems: string[] = [];
  let networkNames = names
    .filter((n) => typeof n === 'string' && n.endsWith('.network') && n !== '.network')
    .sort(byName);
  if (networkNames.length > MAX_FILES) {
    problems.push(`${dir} holds ${networkNames.length} .network files; only the first ${MAX_FILES} were read`);
    networkNames = networkNames.slice(0, MAX_FILES);
  }
  const files: NetworkdFile[] = [];
  for (const name of networkNames) {
    const path = join(dir, name);
    let text: string;
    try {
      text = await fs.readFile(path);
    } catch (err) {
      problems.push(`${path} ${unreadableReason(err)}`);
      continue;
    }
    // networkd skips empty files: that is how a vendor file is masked (also via a link to /dev/null).
    if (text === '') continue;
    files.push(parseNetworkFile(text, path));
  }
  return { files, problems };
}

/** fnmatch(3) without flags: `*`, `?`, `[...]` and `[!...]`, backslash escapes. */
export function globMatches(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i] ?? '');
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = close;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`${re}$`, 's').test(name);
  } catch {
    return pattern === name;
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Name= is a list of globs; a leading `!` inverts the whole list (systemd.network(5)). */
function namesMatch(patterns: readonly string[], ifname: string): boolean {
  const first = patterns[0];
  if (first === undefined) return true;
  const inverted = first.startsWith('!');
  const globs = inverted ? [first.slice(1), ...patterns.slice(1)].filter(Boolean) : [...patterns];
  const any = globs.some((g) => globMatches(g, ifname));
  return inverted ? !any : any;
}

/** networkd ignores a file whose [Match] section sets nothing ("add Name=* to match all"). */
export function hasMatchSettings(file: NetworkdFile): boolean {
  return file.matchNames.length > 0 || file.matchMacs.length > 0 || (file.matchOther?.length ?? 0) > 0;
}

/**
 * The file networkd applies to the interface: the first, in lexical file-name order, whose Name=
 * and MACAddress= match. Other [Match] conditions (Type=, Driver=…) are not evaluated: assumed to hold.
 */
export function matchNetworkFile(files: NetworkdFile[], ifname: string, mac: string | null): NetworkdFile | null {
  const ordered = [...files].sort((a, b) => byName(basename(a.path), basename(b.path)));
  const linkMac = mac ? normalizeMac(mac) : null;
  for (const file of ordered) {
    if (!hasMatchSettings(file)) continue;
    if (!namesMatch(file.matchNames, ifname)) continue;
    if (file.matchMacs.length > 0 && (linkMac === null || !file.matchMacs.includes(linkMac))) continue;
    return file;
  }
  return null;
}

/** DHCP(v4) when DHCP= enables it; static when Address= is set without it; otherwise unknown. */
export function assignmentOf(file: NetworkdFile | null): 'dhcp' | 'static' | 'unknown' {
  if (!file) return 'unknown';
  if (file.dhcp !== null && DHCP4_ON.has(file.dhcp.trim().toLowerCase())) return 'dhcp';
  if (file.addresses.length > 0) return 'static';
  return 'unknown';
}
