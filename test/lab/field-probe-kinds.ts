/**
 * The field lab's independent probes, run by ns-probe.ts inside a lab namespace (never the code
 * under test): a protocol exchange (TCP, optional TLS, one payload, the first bytes back), an HTTP
 * CONNECT through a proxy (optionally followed by TLS and an exchange inside the tunnel), and a
 * name lookup through the namespace's system resolver (getaddrinfo, as in a container whose
 * resolv.conf names 127.0.0.11).
 */
import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

/** What an exchange sends once connected (and, with TLS, after the handshake). */
export type ExchangePayload =
  | { type: 'none' }
  | { type: 'mqtt-connect'; clientId: string; username: string; password: string }
  | { type: 'amqp-header' }
  | { type: 'http-get'; host: string; path?: string }
  | { type: 'ws-upgrade'; host: string; protocol: string; path?: string }
  | { type: 'raw'; hex: string };

export interface TlsOptions {
  servername: string;
  /** PEM file of the only roots trusted; null trusts none (the chain is still reported). */
  caFile: string | null;
}

export type FieldProbe =
  | { kind: 'exchange'; host: string; port: number; tls: TlsOptions | null; send: ExchangePayload; timeoutMs: number }
  | {
      kind: 'proxy-connect';
      proxyHost: string;
      proxyPort: number;
      /** `host:port`, as the CONNECT line names it. */
      target: string;
      auth?: { user: string; password: string };
      /** After a 2xx: TLS inside the tunnel and this exchange. */
      then?: { tls: TlsOptions; send: ExchangePayload };
      timeoutMs: number;
    }
  | { kind: 'lookup'; name: string; timeoutMs: number };

export interface PeerTls {
  authorized: boolean;
  authorizationError: string | null;
  subject: string | null;
  issuer: string | null;
  subjectAltName: string | null;
  validFrom: string | null;
  validTo: string | null;
  /** Common names of the chain, leaf first: what the server sent, completed with the root when the
   *  trusted CA file holds it (Node's getPeerCertificate(true)). */
  chain: string[];
  /** DER bytes of that chain. */
  chainBytes: number;
}

/** Where an exchange ended: connecting, the TLS handshake, or waiting for the answer. */
export type ExchangeStage = 'tcp' | 'tls' | 'answer';

export interface ExchangeResult {
  kind: 'exchange';
  /** answered: bytes came back; secured: TLS done and nothing to send; closed: FIN before an answer. */
  outcome: 'answered' | 'secured' | 'closed' | 'reset' | 'timeout' | 'error';
  stage: ExchangeStage;
  code: string | null;
  tls: PeerTls | null;
  /** The first bytes back, as hex (at most 256). */
  answerHex: string;
  /** The same bytes as latin1 text (at most 2048), for HTTP answers and block pages. */
  answerText: string;
  /** The status line's code and the headers (lower-case names), when the answer is HTTP. */
  http: { status: number; headers: Record<string, string> } | null;
}

export interface ProxyConnectResult {
  kind: 'proxy-connect';
  outcome: 'status' | 'closed' | 'timeout' | 'error';
  code: string | null;
  httpStatus: number | null;
  statusLine: string | null;
  headers: Record<string, string>;
  /** The exchange inside the tunnel, when `then` was asked for and the proxy said 2xx. */
  tunnel: ExchangeResult | null;
}

export type LookupResult =
  | { kind: 'lookup'; outcome: 'resolved'; addresses: string[] }
  | { kind: 'lookup'; outcome: 'timeout' }
  | { kind: 'lookup'; outcome: 'error'; code: string };

export type FieldProbeResult = ExchangeResult | ProxyConnectResult | LookupResult;

function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

function mqttString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function mqttRemainingLength(n: number): Buffer {
  const bytes: number[] = [];
  let x = n;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    bytes.push(byte);
  } while (x > 0);
  return Buffer.from(bytes);
}

/** MQTT 3.1.1 CONNECT with a username and password, clean session, keep-alive 60 s. */
export function mqttConnect(clientId: string, username: string, password: string): Buffer {
  const variable = Buffer.concat([mqttString('MQTT'), Buffer.from([0x04, 0xc2, 0x00, 0x3c])]);
  const payload = Buffer.concat([mqttString(clientId), mqttString(username), mqttString(password)]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), mqttRemainingLength(body.length), body]);
}

function payloadBytes(p: ExchangePayload): Buffer | null {
  switch (p.type) {
    case 'none':
      return null;
    case 'mqtt-connect':
      return mqttConnect(p.clientId, p.username, p.password);
    case 'amqp-header':
      return Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x03, 0x01, 0x00, 0x00]);
    case 'http-get':
      return Buffer.from(`GET ${p.path ?? '/'} HTTP/1.1\r\nHost: ${p.host}\r\nConnection: close\r\n\r\n`, 'latin1');
    case 'ws-upgrade':
      return Buffer.from(
        `GET ${p.path ?? '/$iothub/websocket'} HTTP/1.1\r\nHost: ${p.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${p.protocol}\r\n\r\n`,
        'latin1',
      );
    case 'raw':
      return Buffer.from(p.hex, 'hex');
  }
}

/** Whether the bytes so far are a whole first answer for what was sent. */
function answerComplete(p: ExchangePayload, got: Buffer): boolean {
  switch (p.type) {
    case 'mqtt-connect':
      return got.length >= 4;
    case 'amqp-header':
      return got.length >= 8;
    case 'http-get':
    case 'ws-upgrade':
      return got.includes('\r\n\r\n');
    case 'none':
    case 'raw':
      return got.length > 0;
  }
}

function parseHttpHead(text: string): { status: number; headers: Record<string, string> } | null {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (m === null) return null;
  const headers: Record<string, string> = {};
  const head = text.split('\r\n\r\n')[0] ?? '';
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers };
}

function cn(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

function peerTls(socket: tls.TLSSocket): PeerTls {
  const leaf = socket.getPeerCertificate(true);
  const chain: string[] = [];
  let chainBytes = 0;
  const seen = new Set<string>();
  // Walks the issuerCertificate links (they end at a self-signed root, which refers to itself, or at
  // the top of what arrived); fingerprints stop the walk at the self-reference.
  for (let c: tls.DetailedPeerCertificate | undefined = leaf; c?.raw !== undefined; c = c.issuerCertificate) {
    if (seen.has(c.fingerprint256)) break;
    seen.add(c.fingerprint256);
    chain.push(cn(c.subject?.CN) ?? '?');
    chainBytes += c.raw.length;
  }
  const error = socket.authorizationError;
  return {
    authorized: socket.authorized,
    authorizationError: error === null || error === undefined ? null : String(error),
    subject: cn(leaf.subject?.CN),
    issuer: cn(leaf.issuer?.CN),
    subjectAltName: leaf.subjectaltname ?? null,
    validFrom: leaf.valid_from ?? null,
    validTo: leaf.valid_to ?? null,
    chain,
    chainBytes,
  };
}

/**
 * TLS (optional) over `socket`, then the payload, then the first answer. The socket is connected
 * already or `connecting` says it is still connecting (the stage starts at 'tcp' then).
 */
function exchangeOn(
  socket: net.Socket,
  opts: { tls: TlsOptions | null; send: ExchangePayload; timeoutMs: number; connecting: boolean },
): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let stage: ExchangeStage = opts.connecting ? 'tcp' : opts.tls === null ? 'answer' : 'tls';
    let tlsInfo: PeerTls | null = null;
    let got = Buffer.alloc(0);
    let active: net.Socket = socket;
    let done = false;
    const timer = setTimeout(() => finish(got.length > 0 ? 'answered' : 'timeout', null), opts.timeoutMs);

    function finish(outcome: ExchangeResult['outcome'], code: string | null): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      active.destroy();
      socket.destroy();
      const answerText = got.subarray(0, 2048).toString('latin1');
      resolve({
        kind: 'exchange',
        outcome,
        stage,
        code,
        tls: tlsInfo,
        answerHex: got.subarray(0, 256).toString('hex'),
        answerText,
        http: parseHttpHead(answerText),
      });
    }
    function onError(err: unknown): void {
      const code = errorCode(err);
      finish(code === 'ECONNRESET' ? 'reset' : 'error', code);
    }
    function sendPayload(): void {
      stage = 'answer';
      const bytes = payloadBytes(opts.send);
      if (bytes === null) {
        finish('secured', null);
        return;
      }
      active.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (answerComplete(opts.send, got)) finish('answered', null);
      });
      active.once('end', () => finish(got.length > 0 ? 'answered' : 'closed', null));
      active.write(bytes);
    }
    function connected(): void {
      if (opts.tls === null) {
        sendPayload();
        return;
      }
      stage = 'tls';
      const ca = opts.tls.caFile === null ? [] : [readFileSync(opts.tls.caFile, 'utf8')];
      // Trust is judged and reported, not enforced, so an untrusted chain is an observation.
      const secure = tls.connect({ socket, servername: opts.tls.servername, ca, rejectUnauthorized: false });
      active = secure;
      secure.on('error', onError);
      secure.once('secureConnect', () => {
        tlsInfo = peerTls(secure);
        sendPayload();
      });
      secure.once('end', () => finish(got.length > 0 ? 'answered' : 'closed', null));
    }
    socket.on('error', onError);
    if (opts.connecting) socket.once('connect', connected);
    else connected();
  });
}

function exchangeProbe(p: Extract<FieldProbe, { kind: 'exchange' }>): Promise<ExchangeResult> {
  const socket = net.connect({ host: p.host, port: p.port });
  return exchangeOn(socket, { tls: p.tls, send: p.send, timeoutMs: p.timeoutMs, connecting: true });
}

function proxyConnectProbe(p: Extract<FieldProbe, { kind: 'proxy-connect' }>): Promise<ProxyConnectResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host: p.proxyHost, port: p.proxyPort });
    let got = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => finish({ outcome: 'timeout', code: null }), p.timeoutMs);
    function finish(r: Partial<ProxyConnectResult> & Pick<ProxyConnectResult, 'outcome'>, keep = false): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!keep) socket.destroy();
      resolve({
        kind: 'proxy-connect',
        code: null,
        httpStatus: null,
        statusLine: null,
        headers: {},
        tunnel: null,
        ...r,
      });
    }
    socket.on('error', (err) => finish({ outcome: 'error', code: errorCode(err) }));
    socket.once('end', () => finish({ outcome: 'closed' }));
    socket.once('connect', () => {
      const auth =
        p.auth === undefined
          ? ''
          : `Proxy-Authorization: Basic ${Buffer.from(`${p.auth.user}:${p.auth.password}`).toString('base64')}\r\n`;
      socket.write(`CONNECT ${p.target} HTTP/1.1\r\nHost: ${p.target}\r\n${auth}\r\n`);
    });
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const text = got.subarray(0, end + 4).toString('latin1');
      const head = parseHttpHead(text);
      const statusLine = text.split('\r\n')[0] ?? null;
      const httpStatus = head?.status ?? null;
      const base = { outcome: 'status' as const, httpStatus, statusLine, headers: head?.headers ?? {} };
      if (p.then === undefined || httpStatus === null || httpStatus < 200 || httpStatus > 299) {
        finish(base);
        return;
      }
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('end');
      socket.removeAllListeners('error');
      const remaining = Math.max(1, p.timeoutMs - (Date.now() - started));
      void exchangeOn(socket, { tls: p.then.tls, send: p.then.send, timeoutMs: remaining, connecting: false }).then(
        (tunnel) => resolve({ kind: 'proxy-connect', code: null, ...base, tunnel }),
      );
    };
    socket.on('data', onData);
  });
}

function lookupProbe(p: Extract<FieldProbe, { kind: 'lookup' }>): Promise<LookupResult> {
  return new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => finish({ kind: 'lookup', outcome: 'timeout' }), p.timeoutMs);
    function finish(r: LookupResult): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    }
    dns.lookup(p.name, { all: true, family: 4 }, (err, addresses) => {
      if (err !== null) finish({ kind: 'lookup', outcome: 'error', code: errorCode(err) });
      else finish({ kind: 'lookup', outcome: 'resolved', addresses: addresses.map((a) => a.address) });
    });
  });
}

export function runFieldProbe(p: FieldProbe): Promise<FieldProbeResult> {
  switch (p.kind) {
    case 'exchange':
      return exchangeProbe(p);
    case 'proxy-connect':
      return proxyConnectProbe(p);
    case 'lookup':
      return lookupProbe(p);
  }
}
