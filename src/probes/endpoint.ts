/**
 * One firewall probe: resolve → TCP connect → TLS handshake → the application exchange (CONTRACT
 * 7.2, when asked for), each phase timed and bounded, and the first phase that fails named with
 * its errno-like code (a handshake that stalls is ETIMEDOUT, one cut ECONNRESET). It tests what IoT
 * Edge itself will do: the VM's resolver configuration (/etc/hosts, then the servers of
 * resolv.conf: system-lookup.ts), one connect to the address it returns, then TLS with SNI against
 * the VM's roots (tls-chain.ts reads the chain), then the protocol's first bytes. It measures and
 * never judges, and never throws.
 */
import { createConnection, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { EndpointOutcome, EndpointReport } from '../report/types.js';
import { errorCode, errorMessage, errorWithCode } from '../util/errors.js';
import { StoppedError, onceWithin, withTimeout } from '../util/time-limit.js';
import { exchangeAfterTls } from './exchange.js';
import { systemLookup } from './system-lookup.js';
import { emptyTlsReport, onceSecure, readHandshake, startTls } from './tls-chain.js';
import type { EndpointContext, EndpointTarget } from './types.js';

export type { EndpointContext, EndpointTarget };

// A direct probe never fails in the proxy phase.
type ErrorPhase = Exclude<NonNullable<EndpointReport['error']>['phase'], 'proxy'>;

export async function probeEndpoint(target: EndpointTarget, ctx: EndpointContext): Promise<EndpointReport> {
  const report: EndpointReport = {
    host: target.host,
    port: target.port,
    protocol: target.protocol,
    address: null,
    outcome: 'skipped',
    via: 'direct',
    resolveMs: null,
    tcpConnectMs: null,
  };
  const fail = (outcome: EndpointOutcome, phase: ErrorPhase, error: unknown): EndpointReport => {
    report.outcome = outcome;
    report.error = { phase, code: codeOf(error), message: messageOf(error, phase, ctx.timeoutMs) };
    return report;
  };
  // Which phase a surprise (a bug, an odd Node error) would belong to.
  let phase: ErrorPhase = 'resolve';
  try {
    if (ctx.signal.aborted)
      return fail('skipped', 'resolve', new StoppedError('ABORTED', 'not started: the check was already cancelled'));

    // --- resolve ---
    let address: string;
    if (isIP(target.host) !== 0) {
      address = target.host;
    } else {
      const started = performance.now();
      try {
        // One resolution path for every caller: /etc/hosts, then c-ares, which the signal cancels
        // (see system-lookup.ts for why not getaddrinfo).
        const lookup = ctx.lookup ?? systemLookup({ timeoutMs: ctx.timeoutMs });
        address = await withTimeout(lookup(target.host, ctx.signal), ctx.timeoutMs, 'resolve', ctx.signal);
      } catch (error) {
        return fail('unresolved', 'resolve', error);
      } finally {
        report.resolveMs = elapsed(started);
      }
    }
    // An injected resolver could hand back a name; connecting to it would resolve again, unbounded.
    if (isIP(address) === 0)
      return fail(
        'unresolved',
        'resolve',
        errorWithCode(`the resolver returned "${address}", not an address`, 'EBADRESP'),
      );
    report.address = address;

    // --- TCP ---
    phase = 'connect';
    const socket = createConnection({ host: address, port: target.port });
    socket.on('error', () => {}); // errors are read through the phase promises; never let one go unhandled
    let tlsSocket: TLSSocket | undefined;
    try {
      const connectStarted = performance.now();
      try {
        await onceWithin(socket, 'connect', ctx.timeoutMs, 'connect', ctx.signal);
        report.tcpConnectMs = elapsed(connectStarted);
      } catch (error) {
        return fail(connectOutcome(error), 'connect', error);
      }

      // --- TLS ---
      const tls = emptyTlsReport();
      report.tls = tls;
      phase = 'tls';
      const handshakeStarted = performance.now();
      tlsSocket = startTls(socket, target.host, ctx.secureContext);
      try {
        await withTimeout(onceSecure(tlsSocket), ctx.timeoutMs, 'tls', ctx.signal);
      } catch (error) {
        return fail('tls-failed', 'tls', error);
      }
      tls.handshakeMs = elapsed(handshakeStarted);
      const untrusted = readHandshake(tlsSocket, target.host, tls, ctx.publicRoots);

      // --- the application exchange (CONTRACT 7.2), also on an untrusted chain: its Date tells a
      // clock problem from an interception ---
      const exchange = target.exchange ?? null;
      if (exchange !== null) {
        const application = await exchangeAfterTls(
          exchange,
          tlsSocket,
          target.exchangeHost ?? target.host,
          { signal: ctx.signal, timeoutMs: ctx.timeoutMs, now: ctx.now, randomBytes: ctx.randomBytes },
          handshakeStarted,
          target.webSocketProtocol ?? 'mqtt',
        );
        report.application = application;
        if (application.httpDate !== undefined) report.httpDate = application.httpDate;
      }
      if (untrusted !== null) return fail('tls-untrusted', 'tls', untrusted);
      const blocked = report.application?.outcome === 'cut' || report.application?.outcome === 'unexpected';
      report.outcome = blocked ? 'protocol-blocked' : 'open';
      return report;
    } finally {
      tlsSocket?.destroy();
      socket.destroy();
    }
  } catch (error) {
    // Not a network result: a bug or a surprise from Node. Still a report, never a throw.
    const outcomes: Record<ErrorPhase, EndpointOutcome> = {
      resolve: 'unresolved',
      connect: 'unreachable',
      tls: 'tls-failed',
    };
    return fail(outcomes[phase], phase, error);
  }
}

const REJECTED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

function connectOutcome(error: unknown): EndpointOutcome {
  const code = codeOf(error);
  // A kernel ETIMEDOUT means the SYNs went unanswered too, only it gave up first.
  if (code === 'ETIMEDOUT' || code === 'ABORTED') return 'blocked';
  if (REJECTED.has(code)) return 'rejected';
  // EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL, ENETDOWN, EHOSTDOWN, EACCES/EPERM (a prohibit route), …
  return 'unreachable';
}

function codeOf(error: unknown): string {
  return errorCode(error) ?? 'UNKNOWN';
}

function messageOf(error: unknown, phase: ErrorPhase, timeoutMs: number): string {
  if (error instanceof StoppedError && error.code === 'ETIMEDOUT')
    return `${phase} got no answer within ${timeoutMs} ms`;
  if (error instanceof StoppedError) return `${error.message} (the check's deadline or a caller's cancel)`;
  return errorMessage(error);
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
