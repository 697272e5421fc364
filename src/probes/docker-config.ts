/**
 * /etc/docker/daemon.json as dockerd reads it, so the report can say "dockerd will refuse to start
 * with this file" before the operator restarts it, and which `dns`, `mtu` and `bip` containers get.
 *
 * dockerd's rules (moby `daemon/config/config.go`, `getConflictFreeConfiguration`, `Validate`,
 * `findConfigurationConflicts`; checked against v20.10.0, v23.0.0 … v28.5 and master):
 * - The file is strict JSON (Go's encoding/json): no comments, no trailing commas, no single
 *   quotes. Invalid UTF-8 is refused.
 * - Since v23: a UTF-8 or UTF-16 byte order mark is honoured (`unicode.BOMOverride`), and a file
 *   that is empty or only whitespace is an empty configuration. v20.10 refused both (the decoder
 *   failed with "EOF" / "invalid character 'ï'").
 * - The top level must be an object (`json.Unmarshal` into a map); a bare `null` is accepted as
 *   an empty configuration.
 * - Every key must be a known option ("the following directives don't match any configuration
 *   option"); Go's case-insensitive field matching never comes into play because of that check.
 *   No dockerd option has an upper-case letter, an underscore or a space, so such a key is
 *   certainly refused; other unknown keys depend on the version and are not judged here.
 * - `dns`: an array of IP address strings (`[]string` + `opts.ValidateIPAddress` up to v24,
 *   `[]net.IP` since v25, `[]netip.Addr` on master); `null` means unset.
 * - `mtu`: an integer (Go `int`: `1400.0` and `1.4e3` are refused); negative is refused
 *   ("invalid default MTU"); 0 means the default (1500).
 * - `bip`: a CIDR "address/prefix" (`net.ParseCIDR` in `daemon/daemon_unix.go`, at network
 *   controller start: a bad value stops dockerd too).
 * A problem dockerd would refuse makes the state `invalid` (DNS_CONTAINER_CONFIG_INVALID); one only
 * some versions refuse is a `problems` sentence unless `engineVersion` says which applies.
 */
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { parseCidr, parseIp } from '../util/address.js';
import { errorCode, errorMessage } from '../util/errors.js';
import { isPlainObject } from '../util/json.js';
import { quote } from '../util/text.js';

export const DEFAULT_DAEMON_JSON = '/etc/docker/daemon.json';

export interface DockerDaemonConfig {
  path: string;
  /**
   * `absent`: no file (dockerd uses its defaults); `unreadable`: it exists but could not be read
   * (what dockerd sees is unknown); `ok`: dockerd accepts it; `invalid`: dockerd refuses to start.
   */
  state: 'absent' | 'unreadable' | 'ok' | 'invalid';
  /** `dns` as written, null when not set (or the file is not `ok`). */
  dns: string[] | null;
  /** `mtu`, null when not set (or not `ok`). 0 means dockerd's default (1500). */
  mtu: number | null;
  /** `bip` (the default bridge's address and prefix), null when not set. */
  bip: string | null;
  /** Why dockerd refuses the file (state `invalid`) or why it could not be read; else null. */
  reason: string | null;
  /** Everything worth telling that does not stop dockerd (or stops only some versions). */
  problems: string[];
}

/** Reads a file as bytes: the encoding is part of what is checked. */
export type ReadBytes = (path: string) => Promise<Uint8Array>;

const readBytesDefault: ReadBytes = (path) => readFile(path);

/** daemon.json is a few hundred bytes; past this it is not read (and dockerd would be slow too). */
const MAX_BYTES = 1024 * 1024;

/** "20.10.24", "24.0.9+azure-1", "v25.0.3" → [major, minor]; null when not a version. */
export function parseEngineVersion(version: string | null | undefined): [number, number] | null {
  const m = /^v?(\d{1,4})\.(\d{1,4})/.exec(typeof version === 'string' ? version.trim() : '');
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function atLeast(v: [number, number], major: number, minor = 0): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

/** Go's bytes.TrimSpace: ASCII and Unicode white space. */
function isBlank(text: string): boolean {
  return /^[\s\u0085]*$/u.test(text);
}

function decode(bytes: Uint8Array): { text: string; bom: string | null } | { error: string } {
  try {
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(3)), bom: 'UTF-8' };
    if (bytes[0] === 0xff && bytes[1] === 0xfe)
      return { text: new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2)), bom: 'UTF-16 LE' };
    if (bytes[0] === 0xfe && bytes[1] === 0xff)
      return { text: new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2)), bom: 'UTF-16 BE' };
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), bom: null };
  } catch {
    return { error: 'is not valid UTF-8 text (dockerd refuses it)' };
  }
}

/**
 * The raw number tokens written as the value of a `"mtu"` key anywhere in the text. JSON.parse
 * turns `1400.0` into 1400, which Go refuses for an int, so the source text decides.
 */
function rawMtuTokens(text: string): string[] {
  return [...text.matchAll(/"mtu"\s*:\s*(-?[0-9][0-9.eE+-]*)/g)].map((m) => m[1] ?? '');
}

interface Verdict {
  invalid: string[];
  problems: string[];
}

function checkKeys(config: Record<string, unknown>, v: Verdict): void {
  for (const key of Object.keys(config)) {
    if (/[A-Z_\s]/.test(key) || key === '') {
      const hint = /^[A-Za-z_-]+$/.test(key)
        ? ` (options are lower case with dashes, e.g. "${key.toLowerCase().replace(/_/g, '-')}")`
        : '';
      v.invalid.push(`the key ${quote(key)} is not a dockerd option${hint}; dockerd refuses unknown keys`);
    }
  }
}

function checkDns(value: unknown, v: Verdict): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    v.invalid.push(`"dns" must be an array of IP addresses, like ["198.18.0.53"]; it is ${describe(value)}`);
    return null;
  }
  const out: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') {
      v.invalid.push(`"dns" entry ${i + 1} must be an IP address string; it is ${describe(entry)}`);
      return;
    }
    if (entry === '') {
      // v20.10–v24 refuse it (ValidateIPAddress); v25+ decode it as "no address" and skip it.
      v.problems.push(
        `"dns" entry ${i + 1} is an empty string: dockerd up to v24 refuses it, later versions ignore it`,
      );
      return;
    }
    const ip = parseIp(entry);
    if (ip === null || entry.trim() !== entry || (ip.zone !== null && ip.family === 6)) {
      v.invalid.push(`"dns" entry ${i + 1} ${quote(entry)} is not an IP address`);
      return;
    }
    out.push(entry);
  });
  return out;
}

function checkMtu(value: unknown, raw: string[], v: Verdict): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    v.invalid.push(`"mtu" must be a whole number, like 1400; it is ${describe(value)}`);
    return null;
  }
  if (!Number.isInteger(value) || raw.some((t) => /[.eE]/.test(t))) {
    v.invalid.push(
      `"mtu" must be written as a whole number (dockerd refuses ${raw.find((t) => /[.eE]/.test(t)) ?? String(value)})`,
    );
    return null;
  }
  if (value < 0) {
    v.invalid.push(`"mtu" is ${value}: dockerd refuses a negative MTU`);
    return null;
  }
  if (value > 0 && value < 68)
    v.problems.push(`"mtu" is ${value}, below the IPv4 minimum of 68: networks will fail to start`);
  if (value > 65535) v.problems.push(`"mtu" is ${value}, above any link's maximum: networks will fail to start`);
  return value;
}

function checkBip(value: unknown, v: Verdict): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') {
    v.invalid.push(`"bip" must be a string like "172.26.0.1/16"; it is ${describe(value)}`);
    return null;
  }
  const cidr = value.includes('/') ? parseCidr(value) : null;
  if (cidr === null || !isIPv4(cidr.address)) {
    v.invalid.push(`"bip" ${quote(value)} is not an IPv4 address with a prefix length, like "172.26.0.1/16"`);
    return null;
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${quote(value, 40)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * Judges daemon.json's content as dockerd would. `engineVersion` (dockerd's, e.g. "24.0.9") picks
 * the rules that changed between versions; unknown, only what every version from v20.10 refuses
 * is `invalid`. Pure; never throws.
 */
export function parseDaemonJson(
  content: Uint8Array | string,
  opts: { path?: string; engineVersion?: string | null } = {},
): DockerDaemonConfig {
  const path = opts.path ?? DEFAULT_DAEMON_JSON;
  const version = parseEngineVersion(opts.engineVersion);
  const result = (
    state: DockerDaemonConfig['state'],
    reason: string | null,
    problems: string[],
  ): DockerDaemonConfig => ({
    path,
    state,
    dns: null,
    mtu: null,
    bip: null,
    reason,
    problems,
  });
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  if (!(bytes instanceof Uint8Array)) return result('invalid', 'could not be read as bytes', []);
  if (bytes.length > MAX_BYTES) return result('invalid', `is larger than ${MAX_BYTES} bytes; not read`, []);

  const decoded = decode(bytes);
  if ('error' in decoded) return result('invalid', decoded.error, []);
  const problems: string[] = [];
  if (decoded.bom !== null) {
    const why = `starts with a ${decoded.bom} byte order mark, which dockerd before v23 refuses`;
    if (version !== null && !atLeast(version, 23)) return result('invalid', why, []);
    problems.push(`${why} (v23 and later accept it)`);
  }
  const text = decoded.text;
  if (isBlank(text)) {
    const why = 'is empty, which dockerd before v23 refuses ("EOF")';
    if (version !== null && !atLeast(version, 23)) return result('invalid', why, []);
    return result('ok', null, [
      ...problems,
      ...(version === null ? [`${why}; v23 and later read it as no settings`] : []),
    ]);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const comment = /^\s*(\/\/|\/\*|#)/m.test(text) ? ' (it has comments, which JSON does not allow)' : '';
    return result('invalid', `is not valid JSON${comment}: ${errorMessage(error)}`, problems);
  }
  if (parsed === null) return result('ok', null, problems);
  if (!isPlainObject(parsed))
    return result('invalid', `must hold a JSON object ({…}); it holds ${describe(parsed)}`, problems);

  const verdict: Verdict = { invalid: [], problems };
  checkKeys(parsed, verdict);
  const dns = checkDns(parsed['dns'], verdict);
  const mtu = checkMtu(parsed['mtu'], rawMtuTokens(text), verdict);
  const bip = checkBip(parsed['bip'], verdict);
  if (Array.isArray(dns) && dns.length === 0 && Array.isArray(parsed['dns']) && parsed['dns'].length === 0) {
    verdict.problems.push('"dns" is an empty list: containers get the host-derived servers, as without it');
  }
  if (verdict.invalid.length > 0) {
    return { ...result('invalid', verdict.invalid.join('; '), verdict.problems) };
  }
  return { path, state: 'ok', dns, mtu, bip, reason: null, problems: verdict.problems };
}

/** Reads and judges daemon.json (default /etc/docker/daemon.json). Never throws. */
export async function readDaemonConfig(
  path: string = DEFAULT_DAEMON_JSON,
  opts: { readBytes?: ReadBytes; engineVersion?: string | null } = {},
): Promise<DockerDaemonConfig> {
  let bytes: Uint8Array;
  try {
    bytes = await (opts.readBytes ?? readBytesDefault)(path);
  } catch (error) {
    const code = errorCode(error);
    const base = { path, dns: null, mtu: null, bip: null, problems: [] };
    if (code === 'ENOENT') return { ...base, state: 'absent', reason: null };
    // EISDIR and the like: dockerd cannot read it either and refuses to start.
    if (code === 'EISDIR') return { ...base, state: 'invalid', reason: 'is a directory, not a file' };
    return { ...base, state: 'unreadable', reason: `could not be read (${code ?? errorMessage(error)})` };
  }
  return parseDaemonJson(bytes, { path, engineVersion: opts.engineVersion ?? null });
}
