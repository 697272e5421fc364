/**
 * Structured logs (pino) on stderr, so stdout stays clean for --json. Two line formats: the IoT
 * Edge line (`<N> yyyy-MM-dd HH:mm:ss.fff +00:00 [LVL] message key=value…`, src/log-line.ts) by
 * default, which edgeAgent's log methods can filter by level, and pino's JSON lines for log
 * shippers. Secrets never reach a line in either: known secret fields are redacted, and any
 * string that looks like a SAS token, a shared access key, a connection string or a password in
 * a URL is masked wherever it appears (error messages from the SDK can carry them, proxy URLs
 * from systemd drop-ins carry passwords). The level and format are the caller's to choose; this
 * file reads no environment.
 */
import { pino, type Logger } from 'pino';
import { iotEdgeLine } from './log-line.js';
import { isPlainObject } from './util/json.js';

export type { Logger };

const redacted = (m: string) => `${m.split(/[=\s]/)[0]}=<redacted>`;

const SECRET_PATTERNS: Array<[RegExp, (match: string, ...groups: string[]) => string]> = [
  [/SharedAccessSignature\s+[^\s"',]+/gi, redacted],
  [/\bsig=[^&\s"',]+/gi, redacted],
  [/SharedAccessKey=[^;\s"',]+/gi, redacted],
  [/\bHostName=[^;\s"']+;[^\s"']*/gi, redacted], // a whole connection string
  // scheme://user:password@host: the password may hold an unencoded "@", so the match runs to the
  // last "@" before the host (the host part holds none), and the user name stays readable.
  [
    /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"']+):[^\s/?#"']*@(?=[^\s/?#@"']*(?:[/?#\s"']|$))/gi,
    (_m, user) => `${user}:***@`,
  ],
];

export function maskSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((t, [re, replace]) => t.replace(re, replace), text);
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskSecrets(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskSecrets(value.message), code: (value as { code?: unknown }).code };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

export type LogFormat = 'iotedge' | 'json';

/** `json` (any case) keeps pino's JSON lines; anything else, unset included, is the IoT Edge line. */
export function logFormat(value: string | undefined): LogFormat {
  return value?.trim().toLowerCase() === 'json' ? 'json' : 'iotedge';
}

const PINO_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** IoT Edge's RuntimeLogLevel spellings (edge-util Logger.cs: verbose, information, warning). */
const EDGE_LEVELS: Record<string, string> = { warning: 'warn', information: 'info', verbose: 'trace' };

/** A pino level name from a pino or IoT Edge spelling, any case; unknown or unset → info. */
export function logLevel(value: string | undefined): string {
  const v = (value ?? '').trim().toLowerCase();
  return PINO_LEVELS.includes(v) ? v : (EDGE_LEVELS[v] ?? 'info');
}

export interface LoggerOptions {
  /** See logLevel(). */
  level?: string | undefined;
  /** See logFormat(). */
  format?: string | undefined;
  /** Where the lines go; default file descriptor 2, written synchronously. */
  destination?: { write(line: string): unknown };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'eflow-netdiag',
      level: logLevel(options.level),
      redact: {
        paths: [
          'password',
          '*.password',
          'key',
          '*.key',
          'sharedAccessKey',
          '*.sharedAccessKey',
          'connectionString',
          '*.connectionString',
          'token',
          '*.token',
        ],
        censor: '<redacted>',
      },
      formatters: {
        log: (obj) => scrub(obj) as Record<string, unknown>,
        bindings: (bindings) => scrub(bindings) as Record<string, unknown>,
      },
      // scrub() already turned errors into {type, message, code}: keep that, not pino's re-serialization.
      serializers: { err: (e: unknown) => e },
      hooks: {
        logMethod(args, method) {
          // Mask secrets in the message text too, and give error-only calls a masked message
          // (pino would otherwise copy the raw err.message into msg).
          let list: unknown[] = [...args];
          const [first, second] = list;
          if (first instanceof Error)
            list = [
              { err: first },
              ...(typeof second === 'string' ? list.slice(1) : [first.message, ...list.slice(1)]),
            ];
          else if (
            typeof first === 'object' &&
            first !== null &&
            (first as { err?: unknown }).err instanceof Error &&
            typeof second !== 'string'
          ) {
            list = [first, (first as { err: Error }).err.message, ...list.slice(1)];
          }
          method.apply(
            this,
            list.map((a) => (typeof a === 'string' ? maskSecrets(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    maskingStream(options.destination ?? pino.destination({ fd: 2, sync: true }), logFormat(options.format)),
  );
}

/**
 * Last line of defence: every line is masked as it leaves the process (child bindings included),
 * after it has been turned into the chosen format.
 */
function maskingStream(dest: { write(line: string): unknown }, format: LogFormat): { write(line: string): void } {
  return {
    write(line: string): void {
      dest.write(maskSecrets(format === 'json' ? line : toIotEdge(line)));
    },
  };
}

/** pino's JSON line as an IoT Edge line; a line that is somehow not a JSON object passes as it is. */
function toIotEdge(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  return isPlainObject(record) ? `${iotEdgeLine(record)}\n` : line;
}
