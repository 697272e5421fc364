/**
 * Where a device's proxy is configured (CONTRACT 7.1), read from every place IoT Edge takes it:
 *
 * | component         | where                                                   | variable read first |
 * |-------------------|---------------------------------------------------------|---------------------|
 * | `process`         | this process's environment (passed in)                  | `https_proxy`       |
 * | `edgeAgent`       | `/etc/aziot/config.toml` `[agent.env]`                  | `https_proxy`       |
 * | `aziot-edged`     | `/etc/systemd/system/aziot-edged.service.d/*.conf`      | `HTTPS_PROXY`       |
 * | `aziot-identityd` | `/etc/systemd/system/aziot-identityd.service.d/*.conf`  | `HTTPS_PROXY`       |
 * | `docker`          | `/etc/systemd/system/docker.service.d/*.conf`           | `HTTPS_PROXY`       |
 *
 * The variable read first is the one the consuming program prefers when both spellings are set:
 * the aziot daemons (http-common `get_proxy_uri`) and dockerd (Go's httpproxy) read HTTPS_PROXY
 * first; edgeAgent's setting is written `https_proxy` in config.toml by the IoT Edge docs and by
 * `iotedge check`, and .NET and curl read the lower case first. Both spellings set to different
 * values is reported as a problem of that source.
 *
 * Each source is `set` (names a proxy), `unset` (could be read and names none) or `unknown` (its
 * file or directory is absent or unreadable): an unknown source is no evidence of a difference.
 *
 * Secrets: config.toml holds connection strings and keys, and a proxy URL may hold a password.
 * Only `https_proxy`/`no_proxy` are taken from any file; the parsed document is dropped at once;
 * URLs are returned masked; a TOML syntax error is reported by line and column only (the parser's
 * message quotes the offending line).
 *
 * systemd: only drop-ins under /etc/systemd/system are read (the place `systemctl edit`, the IoT
 * Edge proxy doc and EFLOW's Set-EadProxy write), in systemd's order (all `*.conf` sorted by file
 * name, later assignments win), `[Service]` only. `Environment=` is read as systemd does: several
 * assignments per line, double or single quotes anywhere in a word, backslash escapes, an empty
 * assignment resetting the list, continuation lines ending in `\`, `%%` for a literal `%`; an
 * assignment with an unknown specifier (a percent-encoded password written `%40` rather than
 * `%%40`) makes systemd ignore the whole line, and so it is ignored here and said so.
 * `EnvironmentFile=` is followed (its values override `Environment=`, as systemd does), taking only
 * the proxy variables from it; a `-` prefix makes an absent file harmless; a glob is not expanded
 * and makes the source `unknown`. The unit files themselves, /run and /usr/lib drop-ins and
 * `UnsetEnvironment=` are not read.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { errorCode } from '../util/errors.js';
import { readUtf8, unreadableReason, type ReadText } from '../util/files.js';
import { readDirNames, type ReadDir } from './fs-seams.js';
import { parseProxyUrl, type ProxyUrlInfo } from './proxy-url.js';

export type ProxySourceComponent = 'process' | 'edgeAgent' | 'aziot-edged' | 'aziot-identityd' | 'docker';

export const PROXY_UNITS = ['aziot-edged', 'aziot-identityd', 'docker'] as const;
export type ProxyUnit = (typeof PROXY_UNITS)[number];

export interface ProxySource {
  component: ProxySourceComponent;
  /** The proxy URL, password masked; null when none is set or the source is unknown. */
  url: string | null;
  state: 'set' | 'unset' | 'unknown';
  /** Why it is unknown: the file/directory does not exist, or could not be read. */
  unknownReason?: 'absent' | 'unreadable';
  /** The environment variable, or the files, the value was read from (what was looked at when unset). */
  origin: string[];
  /** The URL as parsed (masked, password-free), for PROXY_URL_INVALID; null when not set. */
  parsed: ProxyUrlInfo | null;
  /** no_proxy / NO_PROXY of the same source (no secrets in it), or null. */
  noProxy: string | null;
  /** Sentences about what could not be read or was ignored; never a secret. */
  problems: string[];
}

export interface ProxySourcesOptions {
  /** The process environment, passed in (never read from process.env here). */
  env: Readonly<Record<string, string | undefined>>;
  /** @default '/etc/aziot/config.toml' */
  configToml?: string;
  /** @default '/etc/systemd/system' */
  systemdDir?: string;
  units?: readonly ProxyUnit[];
  /**
   * Prefix of every path read (config.toml, drop-ins, EnvironmentFile= targets), for fixture trees;
   * paths are reported without it, as on the device. @default ''
   */
  root?: string;
  readText?: ReadText;
  readDir?: ReadDir;
  /**
   * When given, receives each set source's URL as written (password and all), for the one probe
   * that must send it (Proxy-Authorization). Never part of the returned sources.
   */
  rawUrls?: Map<ProxySourceComponent, string>;
}

type Vars = Map<string, string>;
type RawSink = ((raw: string) => void) | undefined;

/** The value of the first non-empty spelling, and a problem when the other spelling differs. */
function pick(vars: Vars, names: readonly [string, string]): { value: string | null; clash: string | null } {
  const [first, second] = names;
  const a = vars.get(first) || null;
  const b = vars.get(second) || null;
  const clash =
    a !== null && b !== null && a.trim() !== b.trim()
      ? `${first} and ${second} are both set, to different values; ${first} is the one used`
      : null;
  return { value: a ?? b, clash };
}

function finish(
  component: ProxySourceComponent,
  vars: Vars,
  order: 'lower' | 'upper',
  origin: string[],
  problems: string[],
  sink?: RawSink,
): ProxySource {
  const proxyNames: [string, string] =
    order === 'lower' ? ['https_proxy', 'HTTPS_PROXY'] : ['HTTPS_PROXY', 'https_proxy'];
  const noNames: [string, string] = order === 'lower' ? ['no_proxy', 'NO_PROXY'] : ['NO_PROXY', 'no_proxy'];
  const proxy = pick(vars, proxyNames);
  const noProxy = pick(vars, noNames);
  // A clash message names variables only, never their values: they may hold a password.
  if (proxy.clash) problems.push(proxy.clash);
  if (noProxy.clash) problems.push(noProxy.clash);
  const parsed = proxy.value === null ? null : parseProxyUrl(proxy.value);
  if (proxy.value !== null) sink?.(proxy.value);
  return {
    component,
    url: parsed?.url ?? null,
    state: parsed === null ? 'unset' : 'set',
    origin,
    parsed,
    noProxy: noProxy.value,
    problems,
  };
}

function unknown(component: ProxySourceComponent, origin: string[], error: unknown, problem: string): ProxySource {
  return {
    component,
    url: null,
    state: 'unknown',
    unknownReason: errorCode(error) === 'ENOENT' ? 'absent' : 'unreadable',
    origin,
    parsed: null,
    noProxy: null,
    problems: [problem],
  };
}

const PROXY_VARS = new Set(['https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']);

/** The process's own setting. */
export function proxyFromEnvironment(env: Readonly<Record<string, string | undefined>>, sink?: RawSink): ProxySource {
  const vars: Vars = new Map();
  for (const name of PROXY_VARS) {
    const value = env[name];
    if (typeof value === 'string') vars.set(name, value);
  }
  const origin = ['https_proxy', 'HTTPS_PROXY'].filter((n) => (env[n] ?? '') !== '');
  return finish('process', vars, 'lower', origin.length > 0 ? origin : ['https_proxy', 'HTTPS_PROXY'], [], sink);
}

// --- config.toml ----------------------------------------------------------------------------------

export interface AgentEnvProxy {
  /** The proxy variables found in [agent.env] (raw values: may hold a password; never report). */
  vars: Map<string, string>;
  /** true when the text is not TOML at all (then nothing can be said of [agent.env]). */
  invalid: boolean;
  problems: string[];
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * The proxy variables of `[agent.env]` in an aziot config.toml text. Nothing else of the document
 * is kept. Never throws: invalid TOML is a problem naming the line and column only.
 */
export function agentEnvFromToml(text: string, path = 'config.toml'): AgentEnvProxy {
  const vars = new Map<string, string>();
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : '';
    problems.push(`${path} is not valid TOML${where}, so its [agent.env] could not be read`);
    return { vars, invalid: true, problems };
  }
  const agent = isTable(doc) ? doc['agent'] : undefined;
  const env = isTable(agent) ? agent['env'] : undefined;
  if (agent !== undefined && !isTable(agent)) problems.push(`${path}: "agent" is not a table`);
  if (env !== undefined && !isTable(env)) problems.push(`${path}: [agent] "env" is not a table`);
  if (isTable(env)) {
    for (const name of PROXY_VARS) {
      const value = env[name];
      if (value === undefined) continue;
      if (typeof value === 'string') vars.set(name, value);
      else problems.push(`${path}: [agent.env] ${name} is not a string, so edgeAgent gets no usable value`);
    }
  }
  return { vars, invalid: false, problems };
}

/** edgeAgent's setting from config.toml `[agent.env]`. */
export async function proxyFromAziotConfig(
  path: string,
  readText: ReadText = readUtf8,
  sink?: RawSink,
): Promise<ProxySource> {
  let text: string;
  try {
    text = await readText(path);
  } catch (error) {
    return unknown('edgeAgent', [path], error, `${path} ${unreadableReason(error)}`);
  }
  const { vars, invalid, problems } = agentEnvFromToml(text, path);
  if (invalid) return unknown('edgeAgent', [path], null, problems.join('; '));
  return finish('edgeAgent', vars, 'lower', [path], problems, sink);
}

// --- systemd --------------------------------------------------------------------------------------

/** systemd's unit specifiers (systemd.unit(5), "Specifiers"); `%` followed by anything else is an error. */
const SPECIFIERS = new Set('aAbBCdEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY'.split(''));

/** One logical line of a unit file: its number and text, continuations joined. */
interface LogicalLine {
  line: number;
  text: string;
}

/** Unit-file lines after systemd's rules: comments (# ;) dropped, `\`-continued lines joined with a space. */
export function unitFileLines(text: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  let pending: LogicalLine | null = null;
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    const trimmed = line.trim();
    // Comment lines are skipped even in the middle of a continued line (systemd.syntax(7)).
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    if (pending === null && trimmed === '') continue;
    const continued = /\\$/.test(line);
    const body = continued ? line.slice(0, -1) : line;
    if (pending === null) pending = { line: i + 1, text: body };
    else pending.text += ` ${body}`;
    if (!continued) {
      out.push({ line: pending.line, text: pending.text.trim() });
      pending = null;
    }
  }
  if (pending !== null) out.push({ line: pending.line, text: pending.text.trim() });
  return out;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', s: ' ' };

/**
 * Splits an Environment= value into words as systemd's extract_first_word (unquote + C unescape)
 * does: whitespace separates words, '…' and "…" quote anywhere inside a word, a backslash escapes.
 * Returns null when a quote is not closed (systemd then ignores the line).
 */
export function splitSystemdWords(value: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quote === null && /\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    word ??= '';
    if (c === '\\' && i + 1 < value.length) {
      const next = value[++i]!;
      if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
        word += String.fromCharCode(parseInt(value.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        word += ESCAPES[next] ?? next;
      }
      continue;
    }
    if (quote !== null && c === quote) {
      quote = null;
      continue;
    }
    if (quote === null && (c === '"' || c === "'")) {
      quote = c;
      continue;
    }
    word += c;
  }
  if (quote !== null) return null;
  if (word !== null) words.push(word);
  return words;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `%%` → `%`; the first unknown specifier (which makes systemd ignore the line), or null. */
function resolveSpecifiers(text: string): { text: string; bad: string | null; kept: string | null } {
  let out = '';
  let kept: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '%') {
      out += '%';
      i++;
    } else if (next !== undefined && SPECIFIERS.has(next)) {
      // A real specifier (%n, %H…) expands at load time; kept as written, said so.
      kept ??= `%${next}`;
      out += `%${next}`;
      i++;
    } else {
      return { text, bad: `%${next ?? ''}`, kept };
    }
  }
  return { text: out, bad: null, kept };
}

export interface UnitEnvironment {
  /** The proxy variables the unit's processes get (raw values: may hold a password; never report). */
  vars: Map<string, string>;
  /** EnvironmentFile= paths in effect, in order; a leading `-` kept. */
  environmentFiles: string[];
  problems: string[];
}

/**
 * The proxy variables a set of drop-ins gives a unit, from `Environment=` lines in `[Service]`,
 * and the `EnvironmentFile=` paths to read next. `files` must be in systemd's order (by file name).
 */
export function unitEnvironment(files: ReadonlyArray<{ name: string; text: string }>): UnitEnvironment {
  const vars = new Map<string, string>();
  let environmentFiles: string[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let section: string | null = null;
    for (const { line, text } of unitFileLines(file.text)) {
      const header = /^\[([^\]]+)\]$/.exec(text);
      if (header) {
        section = header[1]!;
        continue;
      }
      if (section !== 'Service') continue;
      const m = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(text);
      if (!m) continue;
      const [, key, value = ''] = m;
      const where = `${file.name} line ${line}`;
      if (key === 'Environment') {
        if (value === '') {
          vars.clear(); // an empty assignment resets the list
          continue;
        }
        const spec = resolveSpecifiers(value);
        if (spec.bad !== null) {
          // The character after the % is not echoed: it may be part of a password.
          problems.push(
            `${where}: systemd ignores this Environment= line: it has a % that starts no specifier (a literal % is ` +
              `written %%)`,
          );
          continue;
        }
        if (spec.kept !== null) problems.push(`${where}: the specifier ${spec.kept} is not expanded here`);
        const words = splitSystemdWords(spec.text);
        if (words === null) {
          problems.push(`${where}: systemd ignores this Environment= line: a quote is not closed`);
          continue;
        }
        for (const word of words) {
          const eq = word.indexOf('=');
          const name = eq === -1 ? word : word.slice(0, eq);
          if (eq === -1 || !ENV_NAME.test(name)) {
            problems.push(`${where}: systemd ignores an invalid assignment (not NAME=value)`);
            continue;
          }
          if (PROXY_VARS.has(name)) vars.set(name, word.slice(eq + 1));
        }
      } else if (key === 'EnvironmentFile') {
        if (value === '') environmentFiles = [];
        else environmentFiles.push(value.trim());
      }
    }
  }
  return { vars, environmentFiles, problems };
}

/**
 * The proxy variables of an EnvironmentFile= text (systemd's env-file syntax: NAME=value lines,
 * quotes and escapes as in Environment=, comments, continuations; no shell `export`).
 */
export function environmentFileVars(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const { text: line } of unitFileLines(text)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m || !PROXY_VARS.has(m[1]!)) continue;
    const words = splitSystemdWords(m[2]!);
    vars.set(m[1]!, words === null ? m[2]!.trim() : words.join(' '));
  }
  return vars;
}

/** One unit's setting from its drop-ins. */
export async function proxyFromUnit(
  unit: ProxyUnit,
  systemdDir: string,
  readText: ReadText = readUtf8,
  readDir: ReadDir = readDirNames,
  sink?: RawSink,
): Promise<ProxySource> {
  const dir = `${systemdDir.replace(/\/+$/, '')}/${unit}.service.d`;
  let names: string[];
  try {
    names = (await readDir(dir)).filter((n) => n.endsWith('.conf')).sort();
  } catch (error) {
    return unknown(unit, [dir], error, `${dir} ${unreadableReason(error)}`);
  }
  const files: Array<{ name: string; text: string }> = [];
  for (const name of names) {
    const path = `${dir}/${name}`;
    try {
      files.push({ name: path, text: await readText(path) });
    } catch (error) {
      // One unreadable drop-in could override any other: the unit's setting is unknown.
      return unknown(unit, [path], error, `${path} ${unreadableReason(error)}`);
    }
  }
  const env = unitEnvironment(files);
  const origin = files.map((f) => f.name);
  for (const entry of env.environmentFiles) {
    const optional = entry.startsWith('-');
    const path = optional ? entry.slice(1) : entry;
    if (/[*?[]/.test(path)) return unknown(unit, [path], null, `EnvironmentFile=${entry}: a glob is not followed here`);
    try {
      const fileVars = environmentFileVars(await readText(path));
      for (const [k, v] of fileVars) env.vars.set(k, v); // EnvironmentFile= wins over Environment=
      origin.push(path);
    } catch (error) {
      if (optional && errorCode(error) === 'ENOENT') continue;
      return unknown(unit, [path], error, `EnvironmentFile ${path} ${unreadableReason(error)}`);
    }
  }
  return finish(unit, env.vars, 'upper', origin.length > 0 ? origin : [dir], env.problems, sink);
}

/** Every source of CONTRACT 7.1, in the table's order; never throws. */
export async function discoverProxySources(opts: ProxySourcesOptions): Promise<ProxySource[]> {
  const root = (opts.root ?? '').replace(/\/+$/, '');
  const baseRead = opts.readText ?? readUtf8;
  const baseDir = opts.readDir ?? readDirNames;
  const readText: ReadText = (path) => baseRead(`${root}${path}`);
  const readDir: ReadDir = (path) => baseDir(`${root}${path}`);
  const systemdDir = opts.systemdDir ?? '/etc/systemd/system';
  const units = opts.units ?? PROXY_UNITS;
  const sink = (component: ProxySourceComponent): RawSink =>
    opts.rawUrls === undefined ? undefined : (raw) => opts.rawUrls?.set(component, raw);
  const [config, ...fromUnits] = await Promise.all([
    proxyFromAziotConfig(opts.configToml ?? '/etc/aziot/config.toml', readText, sink('edgeAgent')),
    ...units.map((u) => proxyFromUnit(u, systemdDir, readText, readDir, sink(u))),
  ]);
  return [proxyFromEnvironment(opts.env, sink('process')), config, ...fromUnits];
}
