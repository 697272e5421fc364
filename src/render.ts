/**
 * `eflow-netdiag render [FILE|-]` (CONTRACT.md 8.3): the text of `check` for the support engineer
 * who is not on the VM, from what the cloud side has:
 * - a Report (`check --json`, a saved getLastReport payload);
 * - a direct-method response `{status, payload}` (`az iot hub invoke-module-method … | eflow-netdiag render`);
 * - a module twin (`az iot hub module-twin show`, whole or its `properties.reported`): the compact
 *   form, rendered with what it holds (twin-text.ts).
 * Bad input is a one-line message: exit 64 for arguments, 65 (EX_DATAERR) for data that cannot be
 * read or is none of the above. Never a stack trace.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from './cli.js';
import { renderText } from './report/text.js';
import { isModuleTwin, renderTwin } from './report/twin-text.js';
import type { Report } from './report/types.js';
import { errorCode } from './util/errors.js';
import { isPlainObject, type JsonObject } from './util/json.js';
import { clip } from './util/text.js';

/** The input cannot be read or is not something render knows (exit 65). */
export class DataError extends Error {
  override name = 'DataError';
}

/** A sizeable twin or report is well under this; anything bigger is not one. */
const MAX_INPUT_BYTES = 8 * 1024 * 1024;

const isArrayAt = (o: Record<string, unknown>, key: string) => Array.isArray(o[key]);
const objectAt = (o: Record<string, unknown>, key: string): Record<string, unknown> | null => {
  const v = o[key];
  return isPlainObject(v) ? v : null;
};

/** The shape renderText reads, checked field by field so a wrong document is named, not crashed on. */
function asReport(value: Record<string, unknown>): Report {
  const problem = (what: string): never => {
    throw new DataError(`this looks like a Report but ${what}`);
  };
  if (value['schemaVersion'] !== 1) problem(`its schemaVersion is ${JSON.stringify(value['schemaVersion'])}, not 1`);
  if (typeof value['status'] !== 'string') problem('it has no status');
  const agent = objectAt(value, 'agent');
  if (!agent || typeof agent['version'] !== 'string') problem('it has no agent.version');
  if (!isArrayAt(value, 'findings')) problem('it has no findings array');
  for (const f of value['findings'] as unknown[]) {
    if (
      !isPlainObject(f) ||
      ['code', 'severity', 'subject', 'message', 'guidance'].some((k) => typeof f[k] !== 'string')
    )
      problem('a finding lacks code, severity, subject, message or guidance');
  }
  const components = objectAt(value, 'components') ?? problem('it has no components');
  const layer = (name: string, lists: string[]) => {
    const c = objectAt(components, name) ?? problem(`components.${name} is missing`);
    if (typeof c['status'] !== 'string') problem(`components.${name}.status is missing`);
    for (const l of lists) if (!isArrayAt(c, l)) problem(`components.${name}.${l} is not an array`);
  };
  layer('ip', ['interfaces']);
  layer('dns', ['servers', 'files']);
  layer('firewall', ['endpoints']);
  // Reports written before the proxy and clock layers existed: those layers were not examined.
  const filled: Record<string, unknown> = {
    ...components,
    proxy: objectAt(components, 'proxy') ?? { status: 'skipped', url: null, source: null, sources: [], connect: [] },
    clock: objectAt(components, 'clock') ?? {
      status: 'skipped',
      offsetMs: null,
      reference: null,
      synchronized: null,
      syncSource: null,
    },
  };
  const proxy = filled['proxy'] as Record<string, unknown>;
  if (typeof proxy['status'] !== 'string' || !isArrayAt(proxy, 'connect')) problem('components.proxy is malformed');
  if (typeof (filled['clock'] as Record<string, unknown>)['status'] !== 'string')
    problem('components.clock is malformed');
  return { timedOut: [], ...value, components: filled } as unknown as Report;
}

/** What the JSON is, and its text. */
export function renderDocument(value: unknown): string {
  if (!isPlainObject(value))
    throw new DataError('expected a JSON object: a Report, a method response or a module twin');
  // A direct-method response: {status, payload}.
  if (typeof value['status'] === 'number' && 'payload' in value) {
    const payload = value['payload'];
    if (isPlainObject(payload) && isPlainObject(payload['error'])) {
      const e = payload['error'];
      throw new DataError(
        `the method answered ${value['status']}: ` +
          `${typeof e['code'] === 'string' ? e['code'] : 'error'}${typeof e['message'] === 'string' ? `: ${e['message']}` : ''}`,
      );
    }
    if (value['status'] !== 200) throw new DataError(`the method answered ${value['status']}, with no Report`);
    return renderDocument(payload);
  }
  // `az iot hub module-twin show`: the twin document.
  const properties = objectAt(value, 'properties');
  const reported = properties ? objectAt(properties, 'reported') : null;
  if (reported) return renderDocument(reported);
  if (isPlainObject(value['components'])) return renderText(asReport(value));
  const twin = withoutMetadata(value);
  if (isModuleTwin(twin)) return renderTwin(twin);
  throw new DataError('not a Report, a direct-method response or an eflow-netdiag module twin');
}

/** A twin as `az` prints it carries $metadata and $version: not part of what the module wrote. */
function withoutMetadata(value: Record<string, unknown>): JsonObject {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('$'))) as JsonObject;
}

export function renderInput(text: string, source: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new DataError(`${source} is not JSON (${clip(why.replace(/\s+/g, ' '), 120)})`);
  }
  return renderDocument(value);
}

export interface RenderIo {
  stdout: (text: string) => void;
  /** Reads standard input to its end; null when it is a terminal (nothing piped in). */
  readStdin: () => Promise<string | null>;
}

export async function readInput(args: string[], io: RenderIo): Promise<{ text: string; source: string }> {
  const files = args.filter((a) => a === '-' || !a.startsWith('-'));
  const flags = args.filter((a) => a !== '-' && a.startsWith('-'));
  if (flags.length) throw new UsageError(`render: unknown option ${flags[0]}; usage: eflow-netdiag render [FILE|-]`);
  if (files.length > 1) throw new UsageError('render: one FILE at most (or - for standard input)');
  const file = files[0] ?? '-';
  if (file === '-') {
    const text = await io.readStdin();
    if (text === null)
      throw new UsageError('render: nothing piped in; give a FILE, or pipe a Report, a method response or a twin');
    return { text, source: 'standard input' };
  }
  let buffer: Buffer;
  try {
    buffer = await readFile(file);
  } catch (err) {
    throw new DataError(`cannot read ${file} (${errorCode(err) ?? 'unreadable'})`);
  }
  if (buffer.length > MAX_INPUT_BYTES) throw new DataError(`${file} is larger than ${MAX_INPUT_BYTES} bytes`);
  return { text: buffer.toString('utf8'), source: file };
}

export async function runRenderCommand(args: string[], io: RenderIo): Promise<number> {
  const { text, source } = await readInput(args, io);
  io.stdout(renderInput(text, source));
  return 0;
}
