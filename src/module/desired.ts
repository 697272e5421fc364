/**
 * Desired properties (CONTRACT.md 5.1): each key is validated on its own; a bad value is refused
 * and the previous one kept. Every key gets an acknowledgement in reported properties following
 * the IoT Plug and Play writable-property convention: {value, ac, av, ad}.
 */
import { MODULE_SETTINGS, OPTIONS, settingFromEnv, type TelemetryMode } from '../config/options.js';
import { ConfigError } from '../config/types.js';
import { maskSecrets } from '../log.js';
import type { JsonObject, JsonValue } from '../report/twin.js';
import { REPORT_KEYS } from '../report/twin.js';

export type { TelemetryMode };

export interface ModuleSettings {
  intervalSeconds: number;
  telemetry: TelemetryMode;
  heartbeatSeconds: number;
}

export const MODULE_DEFAULTS: ModuleSettings = {
  intervalSeconds: MODULE_SETTINGS.intervalSeconds.default,
  telemetry: MODULE_SETTINGS.telemetry.default,
  heartbeatSeconds: MODULE_SETTINGS.heartbeatSeconds.default,
};

type Parser = (option: string, value: unknown) => JsonValue;

/** Every desired key the module understands, with its validator. */
const PARSERS: ReadonlyMap<string, Parser> = new Map<string, Parser>([
  ...OPTIONS.filter((o) => o.key !== 'aziotConfig').map((o): [string, Parser] => [
    o.key,
    (name, x) => o.parse(name, x) as JsonValue,
  ]),
  ...Object.values(MODULE_SETTINGS).map((m): [string, Parser] => [m.key, (name, x) => m.parse(name, x)]),
]);

export const DESIRED_KEYS: readonly string[] = [...PARSERS.keys()];

/** Accepted desired values by key: the module's configuration layer between flags and environment. */
export type AppliedDesired = Readonly<Record<string, JsonValue>>;

export interface DesiredUpdate {
  applied: AppliedDesired;
  /** Acknowledgements to merge into reported properties (null removes an old one). */
  acks: JsonObject;
  /** Whether the configuration in effect changed (then a check runs with trigger configChange). */
  changed: boolean;
  /** Keys that could not be acknowledged because they collide with the report's own keys. */
  ignored: string[];
}

/** A value as an acknowledgement may echo it: a proxy URL's password (desired `proxy`) masked. */
function masked(value: JsonValue): JsonValue {
  if (typeof value === 'string') return maskSecrets(value);
  if (Array.isArray(value)) return value.map(masked);
  return value;
}

function ack(value: JsonValue, ac: number, av: number, ad: string): JsonObject {
  return { value: masked(value), ac, av, ad: maskSecrets(ad).slice(0, 512) };
}

/**
 * A raw value safe to echo back into the twin: scalars as they are, anything nested as bounded JSON text (depth
 * limit).
 */
function echo(value: unknown): JsonValue {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  return text.length > 256 ? `${text.slice(0, 253)}...` : text;
}

/**
 * The reported name of a desired key's acknowledgement: the key itself, as IoT Plug and Play has
 * it, except for a desired key that is also a section of the report (`proxy`: the proxy to test vs
 * the proxy component), whose acknowledgement is `<key>Ack` so neither overwrites the other.
 */
export function ackName(key: string): string {
  return (REPORT_KEYS as readonly string[]).includes(key) ? `${key}Ack` : key;
}

/** Refusals of unknown keys are bounded so typos cannot push the reported section over 32 KB. */
const MAX_UNKNOWN_ACKS = 8;

/**
 * Applies a desired patch (a delta from IoT Hub) or a full desired document (after getTwin, when
 * `full` is true: known keys that are absent were deleted and revert to their defaults).
 * `effective(key, applied)` gives the value in effect for a key, for acknowledging reverts and refusals.
 */
export function applyDesired(
  current: AppliedDesired,
  patch: Record<string, unknown>,
  version: number,
  full: boolean,
  effective: (key: string, applied: AppliedDesired) => JsonValue,
  /** How many refusals of unknown keys the twin already shows. */
  unknownAcked = 0,
): DesiredUpdate {
  const next: Record<string, JsonValue> = { ...current };
  const acks: JsonObject = {};
  const ignored: string[] = [];
  const entries = Object.entries(patch).filter(([k]) => !k.startsWith('$'));
  if (full) {
    for (const key of Object.keys(current)) if (!(key in patch)) entries.push([key, null]);
  }
  for (const [key, raw] of entries) {
    const parse = PARSERS.get(key);
    if (!parse) {
      const unknownAcks = Object.entries(acks).filter(([k, a]) => !PARSERS.has(k) && a !== null).length + unknownAcked;
      if (raw === null || raw === undefined)
        acks[key] = null; // the key was removed: so is its refusal
      else if (
        (REPORT_KEYS as readonly string[]).includes(key) ||
        !/^[A-Za-z0-9_-]{1,64}$/.test(key) ||
        unknownAcks >= MAX_UNKNOWN_ACKS
      )
        ignored.push(key);
      else
        acks[key] = ack(
          echo(raw),
          400,
          version,
          `unknown property "${key}", ignored; known: ${DESIRED_KEYS.join(', ')}`,
        );
      continue;
    }
    if (raw === null || raw === undefined) {
      delete next[key];
      acks[ackName(key)] = ack(
        effective(key, next),
        200,
        version,
        'removed from desired properties; using the default',
      );
      continue;
    }
    try {
      next[key] = parse(key, raw);
      acks[ackName(key)] = ack(next[key] ?? null, 200, version, 'applied');
    } catch (err) {
      const reason = err instanceof ConfigError ? err.message : `invalid value for ${key}`;
      acks[ackName(key)] = ack(effective(key, current), 400, version, `refused, previous value kept: ${reason}`);
    }
  }
  const changed = JSON.stringify(sorted(next)) !== JSON.stringify(sorted(current));
  return { applied: next, acks, changed, ignored };
}

function sorted(o: Record<string, JsonValue>): Array<[string, JsonValue]> {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}

/** The module's settings in effect: accepted desired values, else valid NETDIAG_* variables, else defaults. */
export function moduleSettings(applied: AppliedDesired, env: NodeJS.ProcessEnv): ModuleSettings {
  const interval = applied['intervalSeconds'];
  const telemetry = applied['telemetry'];
  const heartbeat = applied['heartbeatSeconds'];
  // A bad environment value is logged and dropped at start-up (environmentProblems); here it falls back.
  return {
    intervalSeconds: typeof interval === 'number' ? interval : settingFromEnv(MODULE_SETTINGS.intervalSeconds, env),
    telemetry:
      typeof telemetry === 'string' ? (telemetry as TelemetryMode) : settingFromEnv(MODULE_SETTINGS.telemetry, env),
    heartbeatSeconds: typeof heartbeat === 'number' ? heartbeat : settingFromEnv(MODULE_SETTINGS.heartbeatSeconds, env),
  };
}
