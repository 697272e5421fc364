/**
 * Structured logs (pino) on stderr, so stdout stays clean for --json. Secrets never reach a
 * log line: known secret fields are redacted, and any string that looks like a SAS token,
 * a shared access key or a connection string is masked wherever it appears (error messages
 * from the SDK can carry them).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const SECRET_PATTERNS: RegExp[] = [
  /SharedAccessSignature\s+[^\s"',]+/gi,
  /\bsig=[^&\s"',]+/gi,
  /SharedAccessKey=[^;\s"',]+/gi,
  /\bHostName=[^;\s"']+;[^\s"']*/gi, // a whole connection string
];

export function maskSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((t, re) => t.replace(re, (m) => `${m.split(/[=\s]/)[0]}=<redacted>`), text);
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

export function createLogger(
  level = process.env['NETDIAG_LOG_LEVEL'] ?? process.env['RuntimeLogLevel'] ?? 'info',
): Logger {
  const normalized = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level.toLowerCase())
    ? level.toLowerCase()
    : level.toLowerCase() === 'warning'
      ? 'warn'
      : 'info';
  return pino(
    {
      name: 'eflow-netdiag',
      level: normalized,
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
    maskingStream(pino.destination({ fd: 2, sync: true })),
  );
}

/** Last line of defence: every serialized line is masked before it leaves the process (child bindings included). */
function maskingStream(dest: { write(line: string): unknown }): { write(line: string): void } {
  return {
    write(line: string): void {
      dest.write(maskSecrets(line));
    },
  };
}
