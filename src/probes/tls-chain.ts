/**
 * What a TLS probe reports about the certificate chain it was shown, shared by the direct probe
 * (endpoint.ts) and the one through a proxy tunnel (proxy-endpoint.ts): the leaf's names and
 * dates, the top of the presented chain (the CA an interceptor signs with), and whether a given
 * set of roots (Node's bundled Mozilla roots) would verify it — evidence, never a verdict: the
 * check trusts only the VM's own store (trust.ts).
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import type { DetailedPeerCertificate, PeerCertificate, SecureContext, TLSSocket } from 'node:tls';
import type { TlsReport } from '../report/types.js';
import { errorWithCode } from '../util/errors.js';

/**
 * TLS over a connected socket (direct, or a proxy's tunnel) the way IoT Edge starts it: SNI with the
 * name (never an IP literal, RFC 6066: Node then checks the certificate against `host`), and an
 * untrusted chain observed rather than refused, so it is a result to report with its issuer.
 */
export function startTls(socket: Duplex, host: string, secureContext: SecureContext): TLSSocket {
  const tlsSocket = tlsConnect({
    socket,
    host,
    servername: isIP(host) !== 0 ? undefined : host,
    secureContext,
    rejectUnauthorized: false,
  });
  tlsSocket.on('error', () => {}); // read through onceSecure; never let one go unhandled
  return tlsSocket;
}

/** Settles on the handshake, or on anything that ends the connection before it (a reset-like ECONNRESET). */
export function onceSecure(socket: TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
    socket.once('end', () =>
      reject(errorWithCode('the server closed the connection during the TLS handshake', 'ECONNRESET')),
    );
    socket.once('close', () => reject(errorWithCode('the connection closed during the TLS handshake', 'ECONNRESET')));
  });
}

/** At most this many names from the leaf's subjectAltName are reported. */
const MAX_ALT_NAMES = 8;

/** Verification errors that mean "the chain does not lead to a root this store holds". */
export const ISSUER_UNKNOWN_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

/** The TLS part of a report before the handshake has said anything. */
export function emptyTlsReport(): TlsReport {
  return {
    handshakeMs: null,
    protocol: null,
    authorized: false,
    authorizationError: null,
    subject: null,
    issuer: null,
    rootIssuer: null,
    validFrom: null,
    validTo: null,
    altNames: [],
  };
}

/** A certificate name as one string: its CN, else its O. */
export function nameOf(name: PeerCertificate['subject'] | undefined): string | null {
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

/** `DNS:a, DNS:b, IP Address:1.2.3.4` → `['a', 'b', '1.2.3.4']`. */
export function altNamesOf(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  return subjectaltname
    .split(/,\s*/)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, '').trim())
    .filter((n) => n !== '');
}

/** The presented chain, leaf first, each link once (a self-signed root links to itself). */
export function presentedChain(leaf: DetailedPeerCertificate | undefined): DetailedPeerCertificate[] {
  if (!leaf || Object.keys(leaf).length === 0) return [];
  const chain: DetailedPeerCertificate[] = [leaf];
  const seen = new Set<DetailedPeerCertificate>([leaf]);
  let top = leaf;
  while (top.issuerCertificate && !seen.has(top.issuerCertificate) && Object.keys(top.issuerCertificate).length > 0) {
    top = top.issuerCertificate;
    seen.add(top);
    chain.push(top);
  }
  return chain;
}

/** Fills the leaf's subject, issuer, dates and names, and the top of the chain's issuer. */
export function describeChain(leaf: DetailedPeerCertificate | undefined, tls: TlsReport): void {
  const chain = presentedChain(leaf);
  const first = chain[0];
  if (first === undefined) return;
  tls.subject = nameOf(first.subject);
  tls.issuer = nameOf(first.issuer);
  tls.validFrom = isoDate(first.valid_from);
  tls.validTo = isoDate(first.valid_to);
  tls.altNames = altNamesOf(first.subjectaltname).slice(0, MAX_ALT_NAMES);
  tls.rootIssuer = nameOf(chain[chain.length - 1]!.issuer);
}

function x509(cert: DetailedPeerCertificate): X509Certificate | null {
  try {
    return new X509Certificate(cert.raw);
  } catch {
    return null;
  }
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Whether `roots` verify the presented chain: each link is signed by the next, up to a
 * certificate that one of the roots signed (or that is one of them). Dates are not checked: the
 * question is whether the chain leads to a root these roots hold, not whether it is valid now.
 */
export function chainVerifiesAgainst(
  leaf: DetailedPeerCertificate | undefined,
  roots: readonly X509Certificate[],
): boolean {
  const chain = presentedChain(leaf)
    .map(x509)
    .filter((c): c is X509Certificate => c !== null);
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (roots.some((r) => r.fingerprint256 === cert.fingerprint256 || issuedBy(cert, r))) return true;
    const next = chain[i + 1];
    if (next === undefined || !issuedBy(cert, next)) return false;
  }
  return false;
}

/** The sentence an untrusted handshake is reported with. */
export function untrustedMessage(code: string, host: string, socket: TLSSocket, tls: TlsReport): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // Node keeps only the code; redo the name check to keep the reason ("…is not in the cert's altnames…").
    const reason = checkServerIdentity(host, socket.getPeerCertificate());
    return reason?.message ?? `the certificate does not name ${host}`;
  }
  return (
    `certificate not trusted (${code}); issued by ${tls.issuer ?? 'an unnamed issuer'}, chain rooted at ` +
    `${tls.rootIssuer ?? 'an unnamed CA'}`
  );
}

/**
 * Reads the handshake's outcome into `tls` (protocol, chain, authorized, and for a chain whose
 * root is unknown, whether `publicRoots` would verify it). Returns the authorization error code, or
 * null when trusted.
 */
export function readHandshake(
  socket: TLSSocket,
  host: string,
  tls: TlsReport,
  publicRoots?: () => readonly X509Certificate[],
): { code: string; message: string } | null {
  tls.protocol = socket.getProtocol();
  const leaf = socket.getPeerCertificate(true);
  describeChain(leaf, tls);
  tls.authorized = socket.authorized;
  if (socket.authorized) return null;
  const code = String(socket.authorizationError ?? 'UNKNOWN');
  tls.authorizationError = code;
  if (publicRoots !== undefined && ISSUER_UNKNOWN_CODES.has(code)) {
    tls.publicRootsVerify = chainVerifiesAgainst(leaf, publicRoots());
  }
  return { code, message: untrustedMessage(code, host, socket, tls) };
}
