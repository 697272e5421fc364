/**
 * Reading a peer's first answer off a socket, bounded in size and time, for the probes that speak
 * a protocol by hand (proxy CONNECT, the application exchanges). It never rejects: how the read
 * ended (complete, closed, reset, too large, timed out) is the measurement.
 */
import type { Duplex } from 'node:stream';
import { errorCode, errorMessage } from '../util/errors.js';

export type ReadEnd = 'complete' | 'closed' | 'reset' | 'limit' | 'timeout' | 'aborted';

export interface BoundedRead {
  /** Everything received, at most maxBytes (plus the last chunk's overshoot, cut to maxBytes). */
  data: Buffer;
  end: ReadEnd;
  /** The errno-like code for 'reset' (ECONNRESET, EPIPE…), else null. */
  code: string | null;
  /** The error's message for 'reset', else null. */
  message: string | null;
  /** performance.now() when the first byte arrived, or null. */
  firstByteAt: number | null;
}

export interface BoundedReadOptions {
  maxBytes: number;
  /** Fires at the time limit (AbortSignal.timeout → 'timeout') or the caller's cancel ('aborted'). */
  signal: AbortSignal;
}

/**
 * Reads from `socket` until `complete(data)` says the answer is whole, the peer closes or fails,
 * more than maxBytes arrive, or `signal` fires. Listeners are removed and the socket paused before
 * it resolves, so the caller may hand the socket on (to TLS) or destroy it.
 */
export function readBounded(
  socket: Duplex,
  complete: (data: Buffer) => boolean,
  opts: BoundedReadOptions,
): Promise<BoundedRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let firstByteAt: number | null = null;
    let settled = false;
    const finish = (end: ReadEnd, error?: unknown): void => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      opts.signal.removeEventListener('abort', onAbort);
      socket.pause();
      const data = Buffer.concat(chunks, size);
      resolve({
        data: data.length > opts.maxBytes ? data.subarray(0, opts.maxBytes) : data,
        end,
        code: end === 'reset' ? (errorCode(error) ?? 'ERROR') : null,
        message: end === 'reset' ? errorMessage(error) : null,
        firstByteAt,
      });
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      firstByteAt ??= performance.now();
      chunks.push(buf);
      size += buf.length;
      const data = Buffer.concat(chunks, size);
      if (complete(data.length > opts.maxBytes ? data.subarray(0, opts.maxBytes) : data)) finish('complete');
      else if (size > opts.maxBytes) finish('limit');
    };
    const onEnd = (): void => finish('closed');
    const onError = (error: unknown): void => finish('reset', error);
    const onAbort = (): void => {
      const reason: unknown = opts.signal.reason;
      finish(reason instanceof Error && reason.name === 'TimeoutError' ? 'timeout' : 'aborted');
    };
    if (opts.signal.aborted) {
      onAbort();
      return;
    }
    opts.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.on('error', onError);
    if (socket.destroyed) finish('closed');
    else socket.resume();
  });
}

/** The end of an HTTP message head (`\r\n\r\n`, or a bare `\n\n` from a careless peer), or -1. */
export function headEnd(data: Buffer): number {
  const crlf = data.indexOf('\r\n\r\n');
  const lf = data.indexOf('\n\n');
  if (crlf === -1) return lf === -1 ? -1 : lf + 2;
  return lf === -1 || crlf + 2 < lf ? crlf + 4 : lf + 2;
}

export interface HttpHead {
  version: string;
  status: number;
  reason: string;
  /** Header names lower case; repeated headers keep every value in order. */
  headers: Map<string, string[]>;
}

/** Printable text for a report: control bytes shown as `.`, clipped. */
export function printable(data: Buffer | string, max = 120): string {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const clean = text.replace(/[^\x20-\x7e]/g, '.');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** The status line and headers of an HTTP/1.x answer head; null when the first line is not one. */
export function parseHttpHead(head: Buffer | string): HttpHead | null {
  const text = typeof head === 'string' ? head : head.toString('latin1');
  const lines = text.split(/\r?\n/);
  const m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!m) return null;
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = printable(line.slice(colon + 1).trim(), 300);
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  return { version: m[1]!, status: Number(m[2]), reason: printable(m[3] ?? '', 100), headers };
}

/** Milliseconds since `since` (performance.now()), one decimal. */
export function elapsedMs(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
