/**
 * One 443 endpoint tested through the proxy, as IoT Edge reaches it behind one (CONTRACT 7.1):
 * HTTP CONNECT, then TLS inside the tunnel (SNI, the check's roots, chain observed rather than
 * enforced, as endpoint.ts does), then one application exchange inside TLS (7.2). Plain data out,
 * never a throw; the tunnel is always closed before it returns.
 */
import type { X509Certificate } from 'node:crypto';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { TlsReport } from '../report/types.js';
import { errorCode, errorMessage } from '../util/errors.js';
import { StoppedError, withTimeout } from '../util/time-limit.js';
import {
  exchangeAfterTls,
  type ExchangeContext,
  type ExchangeKind,
  type ExchangeResult,
  type WebSocketProtocol,
} from './exchange.js';
import { openProxyTunnel, type ProxyConnectContext, type ProxyConnectResult } from './proxy-connect.js';
import { elapsedMs } from './read-bounded.js';
import { emptyTlsReport, onceSecure, readHandshake, startTls } from './tls-chain.js';

export interface ProxiedTarget {
  host: string;
  port: number;
  /** The exchange inside TLS; null for TLS alone (`exchanges: false`). @default 'http' */
  exchange?: ExchangeKind | null;
  /** For the websocket exchange. @default 'mqtt' */
  webSocketProtocol?: WebSocketProtocol;
  /** The hub name a device puts in its MQTT username and Host header. @default host */
  exchangeHost?: string;
}

/**
 * - `open`: tunnel, TLS and the exchange (if any) fine, chain trusted;
 * - `proxy-failed`: the CONNECT did not give a tunnel (see `connect.outcome`);
 * - `tls-untrusted`: the handshake completed, the chain is not trusted (the exchange still ran:
 *   its Date tells a clock problem from an interception);
 * - `tls-failed`: the handshake broke, was reset or timed out inside the tunnel;
 * - `protocol-blocked`: TLS fine, the exchange was cut or answered by something else.
 */
export type ProxiedOutcome = 'open' | 'proxy-failed' | 'tls-untrusted' | 'tls-failed' | 'protocol-blocked';

export interface ProxiedEndpointResult {
  host: string;
  port: number;
  via: 'proxy';
  outcome: ProxiedOutcome;
  connect: ProxyConnectResult;
  tls: TlsReport | null;
  application: ExchangeResult | null;
  /** The TLS failure, when outcome is tls-failed or tls-untrusted. */
  error: { phase: 'tls'; code: string; message: string } | null;
  ms: number;
}

export interface ProxiedContext
  extends ProxyConnectContext, Pick<ExchangeContext, 'now' | 'randomBytes' | 'maxAnswerBytes'> {
  /** The check's roots (loadTrust()). */
  secureContext: SecureContext;
  /** Node's bundled roots, for the evidence on a chain the VM's store does not verify (see tls-chain.ts). */
  publicRoots?: () => readonly X509Certificate[];
}

/** CONNECT → TLS → exchange for `target` through `proxyUrl` (raw; its password never leaves). */
export async function probeThroughProxy(
  target: ProxiedTarget,
  proxyUrl: string,
  ctx: ProxiedContext,
): Promise<ProxiedEndpointResult> {
  const started = performance.now();
  const { result: connect, socket } = await openProxyTunnel(target, proxyUrl, ctx);
  const out: ProxiedEndpointResult = {
    host: target.host,
    port: target.port,
    via: 'proxy',
    outcome: 'proxy-failed',
    connect,
    tls: null,
    application: null,
    error: null,
    ms: 0,
  };
  const done = (): ProxiedEndpointResult => {
    out.ms = elapsedMs(started);
    return out;
  };
  if (socket === null) return done();

  let tlsSocket: TLSSocket | undefined;
  try {
    const tls: TlsReport = emptyTlsReport();
    out.tls = tls;
    const t = performance.now();
    tlsSocket = startTls(socket, target.host, ctx.secureContext);
    try {
      await withTimeout(onceSecure(tlsSocket), ctx.timeoutMs, 'the TLS handshake through the proxy', ctx.signal);
    } catch (error) {
      out.outcome = 'tls-failed';
      out.error = {
        phase: 'tls',
        code: error instanceof StoppedError ? error.code : (errorCode(error) ?? 'UNKNOWN'),
        message:
          error instanceof StoppedError && error.code === 'ETIMEDOUT'
            ? `the TLS handshake inside the tunnel got no answer within ${ctx.timeoutMs} ms`
            : errorMessage(error),
      };
      return done();
    }
    tls.handshakeMs = elapsedMs(t);
    const untrusted = readHandshake(tlsSocket, target.host, tls, ctx.publicRoots);
    if (untrusted !== null) out.error = { phase: 'tls', code: untrusted.code, message: untrusted.message };
    const exchange = target.exchange === undefined ? 'http' : target.exchange;
    if (exchange !== null) {
      out.application = await exchangeAfterTls(
        exchange,
        tlsSocket,
        target.exchangeHost ?? target.host,
        {
          signal: ctx.signal,
          timeoutMs: ctx.timeoutMs,
          now: ctx.now,
          randomBytes: ctx.randomBytes,
          maxAnswerBytes: ctx.maxAnswerBytes,
        },
        t,
        target.webSocketProtocol ?? 'mqtt',
      );
    }
    const blocked =
      out.application !== null && (out.application.outcome === 'cut' || out.application.outcome === 'unexpected');
    out.outcome = untrusted !== null ? 'tls-untrusted' : blocked ? 'protocol-blocked' : 'open';
    return done();
  } catch (error) {
    // Not a network result (a bug or a surprise from Node): still data.
    out.outcome = 'tls-failed';
    out.error = { phase: 'tls', code: errorCode(error) ?? 'UNKNOWN', message: errorMessage(error) };
    return done();
  } finally {
    tlsSocket?.destroy();
    socket.destroy();
  }
}
