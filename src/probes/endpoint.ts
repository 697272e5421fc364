/**
 * One firewall probe: resolve → TCP connect → TLS handshake, each phase timed and bounded, and the
 * first phase that fails named with its errno-like code. It tests what IoT Edge itself will do:
 * the system resolver (getaddrinfo, so /etc/hosts counts), one connect to the address it returns,
 * then TLS with SNI against the trusted roots. It measures and never judges, and never throws.
 */
import { createConnection, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import type { DetailedPeerCertificate, PeerCertificate, SecureContext, TLSSocket } from 'node:tls';
import { systemLookup } from './system-lookup.js';
import type { EndpointOutcome, EndpointProtocol, EndpointReport, TlsReport } from '../report/types.js';

export interface EndpointTarget {
  host: string;
  port: number;
  protocol: EndpointProtocol;
}

export interface EndpointContext {
  /** Fires at the check's deadline (or the caller's probe timeout): everything stops there. */
  signal: AbortSignal;
  /** Each of resolve, connect and handshake gets up to this long. */
  timeoutMs: number;
  /** From loadTrust(): shared by every probe of a check. */
  secureContext: SecureContext;
  /** Resolves host to one address. @default systemLookup(): /etc/hosts, then the servers of resolv.conf */
  lookup?: (host: string, signal: AbortSignal) => Promise<string>;
}

type ErrorPhase = NonNullable<EndpointReport['error']>['phase'];

/** Why a phase stopped waiting: its own timer, or the caller's signal. */
class Stopped extends Error {
  constructor(
    readonly code: 'ETIMEDOUT' | 'ABORTED',
    message: string,
  ) {
    super(message);
  }
}

export async function probeEndpoint(target: EndpointTarget, ctx: EndpointContext): Promise<EndpointReport> {
  const report: EndpointReport = {
    host: target.host,
    port: target.port,
    protocol: target.protocol,
    address: null,
    outcome: 'skipped',
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
      return fail('skipped', 'resolve', new Stopped('ABORTED', 'not started: the check was already cancelled'));

    // --- resolve ---
    let address: string;
    if (isIP(target.host) !== 0) {
      address = target.host;
    } else {
      const started = performance.now();
      try {
        // getaddrinfo cannot be cancelled: on timeout we stop waiting and let it finish unobserved.
        // One resolution path for every caller: /etc/hosts, then c-ares (see system-lookup.ts for why not getaddrinfo).
        const lookup = ctx.lookup ?? systemLookup({ timeoutMs: ctx.timeoutMs });
        address = await bounded(lookup(target.host, ctx.signal), ctx.timeoutMs, ctx.signal, 'resolve');
      } catch (error) {
        return fail('unresolved', 'resolve', error);
      } finally {
        report.resolveMs = elapsed(started);
      }
    }
    // An injected resolver could hand back a name; connecting to it would resolve again, unbounded.
    if (isIP(address) === 0)
      return fail('unresolved', 'resolve', {
        code: 'EBADRESP',
        message: `the resolver returned "${address}", not an address`,
      });
    report.address = address;

    // --- TCP ---
    phase = 'connect';
    const socket = createConnection({ host: address, port: target.port });
    socket.on('error', () => {}); // errors are read through the phase promises; never let one go unhandled
    let tlsSocket: TLSSocket | undefined;
    try {
      const connectStarted = performance.now();
      try {
        await bounded(onceConnected(socket), ctx.timeoutMs, ctx.signal, 'connect');
        report.tcpConnectMs = elapsed(connectStarted);
      } catch (error) {
        return fail(connectOutcome(error), 'connect', error);
      }

      // --- TLS ---
      const tls: TlsReport = {
        handshakeMs: null,
        protocol: null,
        authorized: false,
        authorizationError: null,
        subject: null,
        issuer: null,
        rootIssuer: null,
        validTo: null,
      };
      report.tls = tls;
      phase = 'tls';
      const ipLiteral = isIP(target.host) !== 0;
      const handshakeStarted = performance.now();
      tlsSocket = tlsConnect({
        socket,
        // Node checks the certificate against `host` when there is no servername, which is what an
        // IP literal needs (SNI must not carry an IP address, RFC 6066).
        host: target.host,
        servername: ipLiteral ? undefined : target.host,
        secureContext: ctx.secureContext,
        // Observe, don't enforce: an untrusted chain is a result to report, with its issuer.
        rejectUnauthorized: false,
      });
      tlsSocket.on('error', () => {});
      try {
        await bounded(onceSecure(tlsSocket), ctx.timeoutMs, ctx.signal, 'tls');
      } catch (error) {
        return fail('tls-failed', 'tls', error);
      }
      tls.handshakeMs = elapsed(handshakeStarted);
      tls.protocol = tlsSocket.getProtocol();
      describeChain(tlsSocket.getPeerCertificate(true), tls);
      tls.authorized = tlsSocket.authorized;
      if (!tlsSocket.authorized) {
        const code = String(tlsSocket.authorizationError ?? 'UNKNOWN');
        tls.authorizationError = code;
        return fail('tls-untrusted', 'tls', { code, message: untrustedMessage(code, target.host, tlsSocket, tls) });
      }
      report.outcome = 'open';
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

/** Waits for `work` for at most timeoutMs and never past the signal; the timer is always cleared. */
function bounded<T>(work: Promise<T>, timeoutMs: number, signal: AbortSignal, phase: ErrorPhase): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => settle(() => reject(new Stopped('ABORTED', `cancelled during ${phase}`)));
    const timer = setTimeout(() => settle(() => reject(new Stopped('ETIMEDOUT', `${phase} timed out`))), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    work.then(
      (v) => settle(() => resolve(v)),
      (e: unknown) => settle(() => reject(e)),
    );
  });
}

function onceConnected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
}

/** Settles on the handshake, or on anything that ends the connection before it. */
function onceSecure(socket: TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
    socket.once('end', () =>
      reject(
        Object.assign(new Error('the server closed the connection during the TLS handshake'), { code: 'ECONNRESET' }),
      ),
    );
    socket.once('close', () =>
      reject(Object.assign(new Error('the connection closed during the TLS handshake'), { code: 'ECONNRESET' })),
    );
  });
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

/** The leaf's subject and issuer, and the top of the presented chain: the CA that signed it all. */
function describeChain(leaf: DetailedPeerCertificate | undefined, tls: TlsReport): void {
  if (!leaf || Object.keys(leaf).length === 0) return;
  tls.subject = nameOf(leaf.subject);
  tls.issuer = nameOf(leaf.issuer);
  tls.validTo = isoDate(leaf.valid_to);
  let top: DetailedPeerCertificate = leaf;
  const seen = new Set<DetailedPeerCertificate>([leaf]);
  // A self-signed root links to itself; a chain that stops at an intermediate has no further link.
  while (top.issuerCertificate && !seen.has(top.issuerCertificate) && Object.keys(top.issuerCertificate).length > 0) {
    top = top.issuerCertificate;
    seen.add(top);
  }
  tls.rootIssuer = nameOf(top.issuer);
}

function nameOf(name: PeerCertificate['subject'] | undefined): string | null {
  if (!name) return null;
  const pick = (v: string | string[] | undefined): string | null =>
    v === undefined ? null : Array.isArray(v) ? (v.length > 0 ? v.join(', ') : null) : v || null;
  return pick(name.CN) ?? pick(name.O);
}

function isoDate(text: string | undefined): string | null {
  if (!text) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

function untrustedMessage(code: string, host: string, socket: TLSSocket, tls: TlsReport): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // Node keeps only the code; redo the name check to keep the reason ("…is not in the cert's altnames…").
    const reason = checkServerIdentity(host, socket.getPeerCertificate());
    return reason?.message ?? `the certificate does not name ${host}`;
  }
  return `certificate not trusted (${code}); issued by ${tls.issuer ?? 'an unnamed issuer'}, chain rooted at ${tls.rootIssuer ?? 'an unnamed CA'}`;
}

function codeOf(error: unknown): string {
  if (error instanceof Stopped) return error.code;
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string')
    return error.code;
  return 'UNKNOWN';
}

function messageOf(error: unknown, phase: ErrorPhase, timeoutMs: number): string {
  if (error instanceof Stopped && error.code === 'ETIMEDOUT') return `${phase} got no answer within ${timeoutMs} ms`;
  if (error instanceof Stopped) return `${error.message} (the check's deadline or a caller's cancel)`;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string')
    return error.message;
  return String(error);
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
