/**
 * HTTP CONNECT through the proxy (RFC 9110 §9.3.6), the way IoT Edge's components open a tunnel
 * to the hub on 443: resolve the proxy, TCP to it, `CONNECT host:port HTTP/1.1` with
 * `Proxy-Authorization: Basic` when the URL carries credentials, then read the proxy's answer
 * head, bounded in size (16 KB by default) and time. It measures and never throws; every way it
 * can end is an outcome:
 *
 * - `established`: a 2xx; the socket is handed back, positioned at the start of the tunnel.
 * - `auth-required`: 407 (with the schemes the proxy offers, e.g. NTLM, which IoT Edge cannot do);
 *   also 401, which some proxies send instead (tinyproxy answers wrong credentials with 401 and
 *   WWW-Authenticate), since to the device it means the same: the proxy wants other credentials.
 * - `denied`: any other status (403 from an allow-list, 502/504 when the proxy cannot reach the target).
 * - `unreachable`: the proxy's name did not resolve, or TCP to it failed (the errno says which).
 * - `timeout`: TCP to the proxy worked, but no complete answer came within the time limit.
 * - `malformed`: not an HTTP answer, closed before the end of the head, a head over the limit, or
 *   bytes after a 2xx before the client spoke (a TLS server never speaks first).
 * - `invalid`: the proxy URL or the target cannot be used (see proxy-url.ts); nothing was sent.
 */
import { createConnection, isIP, isIPv6 } from 'node:net';
import type { Socket } from 'node:net';
import { errorCode, errorMessage } from '../util/errors.js';
import { StoppedError, timeLimit, untilAborted, withTimeout } from '../util/time-limit.js';
import { parseProxyUrl, proxyAuthorization } from './proxy-url.js';
import { elapsedMs, headEnd, parseHttpHead, printable, readBounded } from './read-bounded.js';
import { systemLookup, type Lookup } from './system-lookup.js';

export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;

export interface ConnectTarget {
  host: string;
  port: number;
}

export type ProxyConnectOutcome =
  'established' | 'auth-required' | 'denied' | 'unreachable' | 'timeout' | 'malformed' | 'invalid';

export interface ProxyConnectResult {
  /** The target asked for. */
  host: string;
  port: number;
  /** The proxy URL, password masked. */
  proxy: string;
  /** The address the proxy's name resolved to, or null. */
  proxyAddress: string | null;
  outcome: ProxyConnectOutcome;
  /** The proxy's status code, or null when it gave none. */
  httpStatus: number | null;
  /** Its reason phrase (printable, clipped), or null. */
  reason: string | null;
  /** Whether a Proxy-Authorization header was sent (the URL had credentials). */
  sentCredentials: boolean;
  /** On 407/401: the Proxy-Authenticate (or WWW-Authenticate) challenges offered (Basic, NTLM, Negotiate…). */
  proxyAuthenticate: string[];
  /** The proxy's `Server` or `Via` header, naming the product, or null. */
  server: string | null;
  /** From the start to the outcome. */
  ms: number;
  resolveMs: number | null;
  tcpConnectMs: number | null;
  /** From sending CONNECT to the end of the answer's head. */
  answerMs: number | null;
  /** What went wrong, with the phase and an errno-like code; null when established. */
  error: { phase: 'input' | 'resolve' | 'connect' | 'answer'; code: string; message: string } | null;
}

export interface ProxyConnectContext {
  /** Fires at the check's deadline: everything stops there. */
  signal: AbortSignal;
  /** Each phase (resolve, connect, answer) gets up to this long. */
  timeoutMs: number;
  /** Resolves the proxy's host. @default systemLookup() */
  lookup?: Lookup;
  /** The largest answer head accepted. @default 16 KB */
  maxHeadBytes?: number;
}

export interface ProxyTunnel {
  result: ProxyConnectResult;
  /** The tunnel when `established` (the caller owns and must destroy it), else null. */
  socket: Socket | null;
}

const TARGET_HOST = /^[A-Za-z0-9._-]+$/;

function authority(host: string, port: number): string {
  return `${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** Opens a tunnel to `target` through the proxy of `proxyUrl` (raw, credentials and all). */
/** A CONNECT result with nothing measured yet: the starting point, and the form a cut-short probe reports. */
export function emptyConnectResult(
  target: { host: string; port: number },
  proxy: string,
  outcome: ProxyConnectOutcome,
  error: ProxyConnectResult['error'] = null,
): ProxyConnectResult {
  return {
    host: target.host,
    port: target.port,
    proxy,
    proxyAddress: null,
    outcome,
    httpStatus: null,
    reason: null,
    sentCredentials: false,
    proxyAuthenticate: [],
    server: null,
    ms: 0,
    resolveMs: null,
    tcpConnectMs: null,
    answerMs: null,
    error,
  };
}

export async function openProxyTunnel(
  target: ConnectTarget,
  proxyUrl: string,
  ctx: ProxyConnectContext,
): Promise<ProxyTunnel> {
  const started = performance.now();
  const info = parseProxyUrl(proxyUrl);
  const result = emptyConnectResult(target, info.url, 'invalid');
  const end = (
    outcome: ProxyConnectOutcome,
    error: ProxyConnectResult['error'],
    socket: Socket | null = null,
  ): ProxyTunnel => {
    result.outcome = outcome;
    result.error = error;
    result.ms = elapsedMs(started);
    return { result, socket };
  };

  if (!info.valid || info.host === null || info.port === null)
    return end('invalid', { phase: 'input', code: 'EINVAL', message: info.detail ?? 'the proxy URL is not usable' });
  const hostOk = isIP(target.host) !== 0 || TARGET_HOST.test(target.host);
  if (!hostOk || !Number.isInteger(target.port) || target.port < 1 || target.port > 65535)
    return end('invalid', {
      phase: 'input',
      code: 'EINVAL',
      message: `cannot ask the proxy for ${printable(authority(target.host, target.port), 80)}`,
    });
  if (ctx.signal.aborted)
    return end('timeout', {
      phase: 'resolve',
      code: 'ABORTED',
      message: 'not started: the check was already cancelled',
    });

  // --- resolve the proxy ---
  let address = info.host;
  if (isIP(info.host) === 0) {
    const t = performance.now();
    try {
      const lookup = ctx.lookup ?? systemLookup({ timeoutMs: ctx.timeoutMs });
      // The lookup gets the same limit, so it can cancel its queries when we stop waiting.
      const limit = timeLimit(ctx.timeoutMs, ctx.signal);
      address = await untilAborted(
        lookup(info.host, limit.signal),
        limit.signal,
        'resolving the proxy',
        limit.expired,
      ).finally(limit.clear);
    } catch (error) {
      result.resolveMs = elapsedMs(t);
      return end('unreachable', { phase: 'resolve', code: codeOf(error), message: messageOf(error) });
    }
    result.resolveMs = elapsedMs(t);
    if (isIP(address) === 0)
      return end('unreachable', {
        phase: 'resolve',
        code: 'EBADRESP',
        message: `the resolver returned ${printable(address, 60)}, not an address`,
      });
  }
  result.proxyAddress = address;

  // --- TCP to the proxy ---
  const socket = createConnection({ host: address, port: info.port });
  socket.on('error', () => {}); // read through the phase promises; never unhandled
  let handedOver = false;
  try {
    const t = performance.now();
    try {
      await withTimeout(connected(socket), ctx.timeoutMs, 'connecting to the proxy', ctx.signal);
      result.tcpConnectMs = elapsedMs(t);
    } catch (error) {
      return end('unreachable', { phase: 'connect', code: codeOf(error), message: messageOf(error) });
    }

    // --- CONNECT and its answer ---
    const auth = proxyAuthorization(proxyUrl);
    result.sentCredentials = auth !== null;
    const where = authority(target.host, target.port);
    const request =
      `CONNECT ${where} HTTP/1.1\r\nHost: ${where}\r\nUser-Agent: eflow-netdiag\r\n` +
      (auth === null ? '' : `Proxy-Authorization: ${auth}\r\n`) +
      '\r\n';
    const sentAt = performance.now();
    socket.write(request);
    const maxBytes = ctx.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    const limit = timeLimit(ctx.timeoutMs, ctx.signal);
    const read = await readBounded(socket, (data) => headEnd(data) !== -1, { maxBytes, signal: limit.signal }).finally(
      limit.clear,
    );
    result.answerMs = elapsedMs(sentAt);
    const got = read.data.length;
    switch (read.end) {
      case 'timeout':
      case 'aborted':
        return end('timeout', {
          phase: 'answer',
          code: read.end === 'timeout' ? 'ETIMEDOUT' : 'ABORTED',
          message:
            got === 0
              ? `the proxy accepted the connection but did not answer CONNECT within ${ctx.timeoutMs} ms`
              : `the proxy's answer stopped after ${got} bytes without completing (${quoteStart(read.data)})`,
        });
      case 'limit':
        return end('malformed', {
          phase: 'answer',
          code: 'EMSGSIZE',
          message: `the proxy's answer head is larger than ${maxBytes} bytes (${quoteStart(read.data)})`,
        });
      case 'closed':
      case 'reset':
        return end('malformed', {
          phase: 'answer',
          code: read.code ?? 'EOF',
          message:
            got === 0
              ? `the proxy closed the connection without answering CONNECT${read.message ? ` (${read.message})` : ''}`
              : `the proxy closed the connection after ${got} bytes, before the end of its answer ` +
                `(${quoteStart(read.data)})`,
        });
      case 'complete':
        break;
    }
    const headLength = headEnd(read.data);
    const head = parseHttpHead(read.data.subarray(0, headLength));
    if (head === null)
      return end('malformed', {
        phase: 'answer',
        code: 'EPROTO',
        message: `the proxy's answer is not HTTP (${quoteStart(read.data)})`,
      });
    result.httpStatus = head.status;
    result.reason = head.reason || null;
    result.server = head.headers.get('server')?.[0] ?? head.headers.get('via')?.[0] ?? null;
    result.proxyAuthenticate = [
      ...(head.headers.get('proxy-authenticate') ?? []),
      ...(head.status === 401 ? (head.headers.get('www-authenticate') ?? []) : []),
    ].map((v) => printable(v, 120));
    const statusText = `${head.status}${head.reason ? ` ${head.reason}` : ''}`;
    if (head.status === 407 || head.status === 401)
      return end('auth-required', {
        phase: 'answer',
        code: `HTTP_${head.status}`,
        message:
          auth === null
            ? `the proxy requires authentication (${statusText}) and the URL has no credentials`
            : `the proxy rejected the credentials in the URL (${statusText})`,
      });
    if (head.status < 200 || head.status > 299)
      return end('denied', {
        phase: 'answer',
        code: `HTTP_${head.status}`,
        message: `the proxy refused CONNECT ${where}: ${statusText}`,
      });
    if (read.data.length > headLength)
      return end('malformed', {
        phase: 'answer',
        code: 'EPROTO',
        message:
          `the proxy answered ${statusText} and then sent ${read.data.length - headLength} bytes before the ` +
          `client spoke`,
      });
    handedOver = true;
    return end('established', null, socket);
  } finally {
    if (!handedOver) socket.destroy();
  }
}

/** CONNECT, read the answer, close: the measurement without the tunnel. */
export async function probeProxyConnect(
  target: ConnectTarget,
  proxyUrl: string,
  ctx: ProxyConnectContext,
): Promise<ProxyConnectResult> {
  const { result, socket } = await openProxyTunnel(target, proxyUrl, ctx);
  socket?.destroy();
  return result;
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
    socket.once('close', () => reject(Object.assign(new Error('the connection closed'), { code: 'ECONNRESET' })));
  });
}

function quoteStart(data: Buffer): string {
  return `starts "${printable(data.subarray(0, 60), 60)}"`;
}

function codeOf(error: unknown): string {
  if (error instanceof StoppedError) return error.code;
  return errorCode(error) ?? 'UNKNOWN';
}

function messageOf(error: unknown): string {
  return errorMessage(error);
}
