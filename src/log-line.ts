/**
 * The IoT Edge log line: `<N> yyyy-MM-dd HH:mm:ss.fff +00:00 [LVL] message key=value…`.
 *
 * edgeAgent's GetModuleLogs / UploadModuleLogs (and the portal's Troubleshoot page, which calls
 * them) parse each line with LogMessageParser: an optional `<N>` syslog severity, an optional
 * `yyyy-MM-dd HH:mm:ss.fff zzz` timestamp, then the text. A line without `<N>` counts as 6
 * (informational), and the `loglevel` filter is an exact match, so without the prefix an error
 * could never be found by level. The severity map and the `[LVL]` labels are the ones edgeHub and
 * edgeAgent write themselves (edge-util Logger.cs, SeverityEnricher: Fatal 0, Error 3, Warning 4,
 * Information 6, Debug and Verbose 7), so one filter finds the same class of line in every module.
 *
 * The fields follow the message as key=value pairs, written so that a line can be read back
 * without guessing (test/support/iotedge-log.ts does): a string is bare only when it holds no
 * space, quote, `=`, backslash or control character and cannot be mistaken for a number, boolean,
 * null, object or array; anything else is JSON. The message is bare unless it holds a quote, `=`,
 * a backslash or a control character, then it is a JSON string too. One event, one line.
 */
import { isPlainObject } from './util/json.js';

export interface Severity {
  /** Syslog severity, 0 (emergency) … 7 (debug). */
  severity: number;
  /** Serilog's three-letter level, as edgeHub and edgeAgent print it. */
  label: 'FTL' | 'ERR' | 'WRN' | 'INF' | 'DBG' | 'VRB';
}

/** A pino level number as a syslog severity and label. */
export function severityOf(level: number): Severity {
  if (level >= 60) return { severity: 0, label: 'FTL' };
  if (level >= 50) return { severity: 3, label: 'ERR' };
  if (level >= 40) return { severity: 4, label: 'WRN' };
  if (level >= 30) return { severity: 6, label: 'INF' };
  if (level >= 20) return { severity: 7, label: 'DBG' };
  return { severity: 7, label: 'VRB' };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `yyyy-MM-dd HH:mm:ss.fff +00:00` in UTC: the timestamp LogMessageParser reads. */
export function edgeTimestamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} ` +
    `+00:00`
  );
}

/** pino's own bookkeeping, which the container log already says (which process, which module). */
const NOT_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

// eslint-disable-next-line no-control-regex
const BARE_VALUE = /^[^\x00-\x20\x7f"=\\]+$/;
// eslint-disable-next-line no-control-regex
const BARE_MESSAGE = /^[^\x00-\x1f\x7f"=\\]*$/;
const JSON_LOOKALIKE = /^(?:-?\d|true$|false$|null$|[[{])/;

function stringValue(s: string): string {
  return BARE_VALUE.test(s) && !JSON_LOOKALIKE.test(s) ? s : JSON.stringify(s);
}

function keyOf(key: string): string {
  return key.replace(/[^\w.-]/g, '_') || '_';
}

/** What src/log.ts makes of an Error: `{type, message, code?}` and nothing else. */
function errorShaped(value: Record<string, unknown>): value is { type: string; message: string; code?: unknown } {
  return (
    typeof value['type'] === 'string' &&
    typeof value['message'] === 'string' &&
    Object.keys(value).every((k) => k === 'type' || k === 'message' || k === 'code')
  );
}

function pairs(key: string, value: unknown): string[] {
  const k = keyOf(key);
  if (typeof value === 'string') return [`${k}=${stringValue(value)}`];
  if (isPlainObject(value) && errorShaped(value)) {
    // An error reads as its (already masked) message, with its type when that says more than
    // "Error" (NotConnectedError, UnauthorizedError…) and its code (ECONNREFUSED…).
    const out = [`${k}=${stringValue(value.message)}`];
    if (value.type !== 'Error') out.push(`${k}.type=${stringValue(value.type)}`);
    if (value.code !== undefined && value.code !== null)
      out.push(`${k}.code=${typeof value.code === 'string' ? stringValue(value.code) : JSON.stringify(value.code)}`);
    return out;
  }
  const json = JSON.stringify(value);
  return json === undefined ? [] : [`${k}=${json}`];
}

/** One pino record (its JSON line, parsed) as one IoT Edge log line, without the newline. */
export function iotEdgeLine(record: Record<string, unknown>): string {
  const level = typeof record['level'] === 'number' ? record['level'] : 30;
  const time = typeof record['time'] === 'number' ? record['time'] : Date.now();
  const { severity, label } = severityOf(level);
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  const message = BARE_MESSAGE.test(msg) && msg.trim() === msg ? msg : JSON.stringify(msg);
  const fields = Object.entries(record)
    .filter(([k]) => !NOT_FIELDS.has(k))
    .flatMap(([k, v]) => pairs(k, v));
  return [`<${severity}> ${edgeTimestamp(time)} [${label}]`, ...(message ? [message] : []), ...fields].join(' ');
}
