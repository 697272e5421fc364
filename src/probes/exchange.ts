/**
 * One harmless application exchange over an established TLS connection (direct or through a
 * proxy tunnel), CONTRACT 7.2: a TLS handshake alone does not prove that MQTT or AMQP passes, since
 * application-aware firewalls cut the protocol after it. The bytes are small and fixed, so they are
 * written by hand rather than with a client library that would retry, reconnect or wait.
 *
 * - mqtt: an MQTT 3.1.1 CONNECT shaped like a device's (client id `netdiag-probe-<random>`, the
 *   username IoT Hub expects, a password that is no SAS token); any CONNACK is `ok` (IoT Hub sends
 *   return code 5, not authorized: it is the broker answering).
 * - amqp: the SASL protocol header `AMQP 3 1 0 0`; any AMQP protocol header back is `ok`.
 * - http: `GET /` with Host; any HTTP answer is `ok`; its Date gives the clock offset (7.4).
 * - websocket: an upgrade on `/$iothub/websocket` with subprotocol `mqtt` or `AMQPWSB10`; 101 or any
 *   HTTP answer is `ok`.
 *
 * Outcomes: `ok`; `cut` (the peer closed or reset after our bytes without a protocol answer: an
 * application firewall); `unexpected` (it answered, but not in the protocol: an HTTP block page on
 * 8883); `timeout` (no complete answer within the time limit). Reads are bounded in size and time.
 * The caller owns the socket: an exchange never destroys it, so the caller's cleanup is the one path.
 */
import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { timeLimit } from '../util/time-limit.js';
import { clockOffset, parseHttpDate, type ClockOffset } from './http-date.js';
import { elapsedMs, headEnd, parseHttpHead, printable, readBounded, type BoundedRead } from './read-bounded.js';

export type ExchangeKind = 'mqtt' | 'amqp' | 'http' | 'websocket';
export type ExchangeOutcome = 'ok' | 'cut' | 'unexpected' | 'timeout';
export type WebSocketProtocol = 'mqtt' | 'AMQPWSB10';

/** The IoT Hub MQTT api-version in the username, as current device SDKs send it. */
export const MQTT_API_VERSION = '2021-04-12';
export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024;
/** MQTT keep-alive in the CONNECT (seconds); irrelevant for one packet, but a device sends one. */
const MQTT_KEEPALIVE_S = 60;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface ExchangeResult {
  exchange: ExchangeKind;
  outcome: ExchangeOutcome;
  /** What was seen, as a sentence (CONNACK code, status line, bytes received…). */
  detail: string;
  /** From writing our bytes to the decision. */
  ms: number;
  bytesReceived: number;
  /** mqtt: the CONNACK return code (5 = not authorized, IoT Hub's answer to a fake device). */
  connackCode?: number | null;
  /** amqp: the header received, e.g. "AMQP 3 1 0 0". */
  amqpHeader?: string | null;
  /** http, websocket: the status received. */
  httpStatus?: number | null;
  /** http, websocket: the Date header as received (printable, clipped), or null. */
  httpDate?: string | null;
  /** http, websocket: local clock minus the server's Date (see http-date.ts), or null. */
  clock?: ClockOffset | null;
  /** websocket: the subprotocol asked for, and what the server chose (null if none). */
  subprotocol?: { requested: WebSocketProtocol; accepted: string | null };
  /** websocket on 101: whether Sec-WebSocket-Accept matches our key (RFC 6455 §4.2.2). */
  acceptValid?: boolean | null;
}

export interface ExchangeContext {
  signal: AbortSignal;
  timeoutMs: number;
  /** @default 16 KB */
  maxAnswerBytes?: number | undefined;
  /** The wall clock (ms since the epoch) for the Date comparison. @default Date.now */
  now?: (() => number) | undefined;
  /** Random bytes for the client id and the WebSocket key. @default crypto.randomBytes */
  randomBytes?: ((size: number) => Buffer) | undefined;
}

// --- the bytes we send ------------------------------------------------------------------------------

function mqttString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** An MQTT 3.1.1 CONNECT: clean session, username and password, the given keep-alive. */
export function mqttConnectPacket(clientId: string, username: string, password: string): Buffer {
  const variable = Buffer.concat([
    mqttString('MQTT'),
    Buffer.from([0x04]), // protocol level 4 = 3.1.1
    Buffer.from([0x80 | 0x40 | 0x02]), // username, password, clean session
    Buffer.from([MQTT_KEEPALIVE_S >> 8, MQTT_KEEPALIVE_S & 0xff]),
  ]);
  const payload = Buffer.concat([mqttString(clientId), mqttString(username), mqttString(password)]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** The username IoT Hub expects from a device: `<hub>/<device id>/?api-version=…`. */
export function mqttUsername(host: string, clientId: string): string {
  return `${host}/${clientId}/?api-version=${MQTT_API_VERSION}`;
}

/** AMQP 1.0 SASL protocol header (protocol id 3). */
export const AMQP_SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x03, 0x01, 0x00, 0x00]);

function hostHeader(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function httpGetRequest(host: string): string {
  return (
    `GET / HTTP/1.1\r\nHost: ${hostHeader(host)}\r\nUser-Agent: eflow-netdiag\r\nAccept: */*\r\nConnection: ` +
    `close\r\n\r\n`
  );
}

export function webSocketRequest(host: string, protocol: WebSocketProtocol, key: string): string {
  return (
    `GET /$iothub/websocket HTTP/1.1\r\nHost: ${hostHeader(host)}\r\nUser-Agent: eflow-netdiag\r\n` +
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`
  );
}

// --- reading the answer ------------------------------------------------------------------------------

const CONNACK_CODES: Record<number, string> = {
  0: 'accepted',
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

function looksHttp(data: Buffer): boolean {
  return data.subarray(0, 5).toString('latin1') === 'HTTP/';
}

/** Whether `data` begins like `magic` as far as it goes (so a short first chunk is not judged yet). */
function startsLike(data: Buffer, magic: string): boolean {
  const n = Math.min(data.length, magic.length);
  return data.subarray(0, n).toString('latin1') === magic.slice(0, n);
}

/** Enough of a non-protocol answer to describe it: an HTTP head, else 8 bytes. */
function enoughToDescribe(d: Buffer): boolean {
  return startsLike(d, 'HTTP/') ? headEnd(d) !== -1 : d.length >= 8;
}

function firstLine(data: Buffer): string {
  const text = data.toString('latin1');
  const nl = text.search(/\r?\n/);
  return printable(nl === -1 ? text : text.slice(0, nl), 100);
}

function hex(data: Buffer, max = 16): string {
  const shown = data.subarray(0, max).toString('hex').replace(/(..)/g, '$1 ').trim();
  return data.length > max ? `${shown} …` : shown;
}

/** What came back, for a sentence: the status line of an HTTP answer, else the first bytes in hex. */
function describeBytes(data: Buffer): string {
  if (looksHttp(data)) return `an HTTP answer "${firstLine(data)}"`;
  return `${data.length} bytes (${hex(data)}; "${printable(data.subarray(0, 24), 24)}")`;
}

/** How a read that did not complete ends up, shared by every exchange. */
function incomplete(
  read: BoundedRead,
  what: string,
  timeoutMs: number,
  looksRight: boolean,
): [ExchangeOutcome, string] {
  const got = read.data;
  if (read.end === 'timeout' || read.end === 'aborted') {
    const why = read.end === 'timeout' ? `within ${timeoutMs} ms` : 'before the check was cancelled';
    if (got.length === 0) return ['timeout', `no answer to ${what} ${why}`];
    if (!looksRight) return ['unexpected', `answered ${what} with ${describeBytes(got)}, not the protocol`];
    return ['timeout', `the answer to ${what} stopped after ${got.length} bytes ${why}`];
  }
  if (read.end === 'limit')
    return ['unexpected', `answered ${what} with more than ${got.length} bytes that do not end: ${describeBytes(got)}`];
  // closed or reset
  const how = read.end === 'reset' ? `reset the connection (${read.code ?? 'ECONNRESET'})` : 'closed the connection';
  if (got.length === 0) return ['cut', `the peer ${how} after ${what} without answering`];
  if (!looksRight) return ['unexpected', `answered ${what} with ${describeBytes(got)}, then ${how}`];
  return ['cut', `the peer ${how} after ${got.length} bytes of an answer to ${what}`];
}

async function send(socket: Duplex, bytes: Buffer | string, ctx: ExchangeContext, enough: (data: Buffer) => boolean) {
  const sentWall = (ctx.now ?? Date.now)();
  const sentMono = performance.now();
  const limit = timeLimit(ctx.timeoutMs, ctx.signal);
  // A write to a peer that already closed fails with EPIPE/ECONNRESET: the read sees that as 'reset'.
  const maxBytes = ctx.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  const pending = readBounded(socket, enough, { maxBytes, signal: limit.signal });
  if (!socket.destroyed && socket.writable) socket.write(bytes);
  const read = await pending.finally(limit.clear);
  const receivedWall = read.firstByteAt === null ? null : sentWall + (read.firstByteAt - sentMono);
  return { read, ms: elapsedMs(sentMono), sentWall, receivedWall };
}

/** MQTT CONNECT → CONNACK. `host` is the hub's name, as a device puts it in the username. */
export async function exchangeMqtt(socket: Duplex, host: string, ctx: ExchangeContext): Promise<ExchangeResult> {
  const random = ctx.randomBytes ?? cryptoRandomBytes;
  const clientId = `netdiag-probe-${random(4).toString('hex')}`;
  // Not a SAS token ("SharedAccessSignature sr=…&sig=…"), so no hub can take it for one.
  const packet = mqttConnectPacket(clientId, mqttUsername(host, clientId), 'netdiag-probe-not-a-sas-token');
  const enough = (d: Buffer): boolean => (d[0] === 0x20 ? d.length >= 4 : enoughToDescribe(d));
  const { read, ms } = await send(socket, packet, ctx, enough);
  const d = read.data;
  const base = { exchange: 'mqtt' as const, ms, bytesReceived: d.length, connackCode: null };
  if (read.end === 'complete' && d[0] === 0x20) {
    if (d[1] !== 0x02)
      return { ...base, outcome: 'unexpected', detail: `a CONNACK with remaining length ${d[1]} (expected 2)` };
    const code = d[3]!;
    return {
      ...base,
      connackCode: code,
      outcome: 'ok',
      detail:
        `CONNACK return code ${code} (${CONNACK_CODES[code] ?? 'unknown code'}) to client id ${clientId}: an ` +
        `MQTT broker answered`,
    };
  }
  if (read.end === 'complete')
    return {
      ...base,
      outcome: 'unexpected',
      detail: `answered the MQTT CONNECT with ${describeBytes(d)}, not a CONNACK`,
    };
  const [outcome, detail] = incomplete(read, 'the MQTT CONNECT', ctx.timeoutMs, d.length === 0 || d[0] === 0x20);
  return { ...base, outcome, detail };
}

/** AMQP SASL protocol header → a protocol header back. */
export async function exchangeAmqp(socket: Duplex, ctx: ExchangeContext): Promise<ExchangeResult> {
  const enough = (d: Buffer): boolean => (startsLike(d, 'AMQP') ? d.length >= 8 : enoughToDescribe(d));
  const { read, ms } = await send(socket, AMQP_SASL_HEADER, ctx, enough);
  const d = read.data;
  const base = { exchange: 'amqp' as const, ms, bytesReceived: d.length, amqpHeader: null };
  if (read.end === 'complete') {
    if (d.subarray(0, 4).toString('latin1') === 'AMQP') {
      const header = `AMQP ${d[4]} ${d[5]} ${d[6]} ${d[7]}`;
      return {
        ...base,
        amqpHeader: header,
        outcome: 'ok',
        detail: `protocol header "${header}" back: an AMQP peer answered`,
      };
    }
    return {
      ...base,
      outcome: 'unexpected',
      detail: `answered the AMQP header with ${describeBytes(d)}, not an AMQP header`,
    };
  }
  const [outcome, detail] = incomplete(read, 'the AMQP header', ctx.timeoutMs, startsLike(d, 'AMQP'));
  return { ...base, outcome, detail };
}

/** The shared part of the two HTTP exchanges: send, read a head, parse it, read Date. */
async function httpExchange(
  socket: Duplex,
  request: string,
  what: string,
  ctx: ExchangeContext,
): Promise<{
  base: Omit<ExchangeResult, 'exchange' | 'outcome' | 'detail'>;
  head: ReturnType<typeof parseHttpHead>;
  fail: [ExchangeOutcome, string] | null;
}> {
  const { read, ms, sentWall, receivedWall } = await send(socket, request, ctx, enoughToDescribe);
  const d = read.data;
  const end = headEnd(d);
  // A head cut after its status line still says what answered.
  const head = parseHttpHead(end === -1 ? d : d.subarray(0, end));
  const base: Omit<ExchangeResult, 'exchange' | 'outcome' | 'detail'> = {
    ms,
    bytesReceived: d.length,
    httpStatus: head?.status ?? null,
    httpDate: null,
    clock: null,
  };
  if (head !== null) {
    const dateText = head.headers.get('date')?.[0] ?? null;
    base.httpDate = dateText === null ? null : printable(dateText, 64);
    const date = parseHttpDate(dateText, new Date(sentWall));
    base.clock = date === null || receivedWall === null ? null : clockOffset(date, sentWall, receivedWall);
    return { base, head, fail: null };
  }
  if (read.end === 'complete')
    return { base, head, fail: ['unexpected', `answered ${what} with ${describeBytes(d)}, not HTTP`] };
  return { base, head, fail: incomplete(read, what, ctx.timeoutMs, startsLike(d, 'HTTP/')) };
}

/** `GET /` → any HTTP answer; reports the status and the Date (with the clock offset it gives). */
export async function exchangeHttp(socket: Duplex, host: string, ctx: ExchangeContext): Promise<ExchangeResult> {
  const { base, head, fail } = await httpExchange(socket, httpGetRequest(host), 'the HTTP request', ctx);
  if (fail !== null || head === null) {
    const [outcome, detail] = fail ?? ['unexpected', 'no HTTP answer'];
    return { exchange: 'http', ...base, outcome, detail };
  }
  const date = base.httpDate === null ? 'no Date header' : `Date ${base.httpDate}`;
  return {
    exchange: 'http',
    ...base,
    outcome: 'ok',
    detail: `HTTP ${head.status}${head.reason ? ` ${head.reason}` : ''}, ${date}`,
  };
}

/** WebSocket upgrade on /$iothub/websocket → 101 or any HTTP answer. */
export async function exchangeWebSocket(
  socket: Duplex,
  host: string,
  protocol: WebSocketProtocol,
  ctx: ExchangeContext,
): Promise<ExchangeResult> {
  const key = (ctx.randomBytes ?? cryptoRandomBytes)(16).toString('base64');
  const { base, head, fail } = await httpExchange(
    socket,
    webSocketRequest(host, protocol, key),
    'the WebSocket upgrade',
    ctx,
  );
  const result: ExchangeResult = {
    exchange: 'websocket',
    ...base,
    outcome: 'ok',
    detail: '',
    subprotocol: { requested: protocol, accepted: null },
    acceptValid: null,
  };
  if (fail !== null || head === null) {
    [result.outcome, result.detail] = fail ?? ['unexpected', 'no HTTP answer'];
    return result;
  }
  result.subprotocol = { requested: protocol, accepted: head.headers.get('sec-websocket-protocol')?.[0] ?? null };
  if (head.status === 101) {
    const expected = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    result.acceptValid = head.headers.get('sec-websocket-accept')?.[0] === expected;
    result.detail =
      `upgraded (101), subprotocol ` +
      `${result.subprotocol.accepted ?? 'none'}${result.acceptValid ? '' : ', Sec-WebSocket-Accept does not match the key'}`;
  } else {
    result.detail =
      `HTTP ${head.status}${head.reason ? ` ${head.reason}` : ''} to the upgrade: an HTTP server ` + `answered`;
  }
  return result;
}

/** Runs the exchange for `kind` (the WebSocket one needs its subprotocol). */
/** The exchange after TLS gets what is left of the probe timeout since the handshake began, at least this. */
export const MIN_EXCHANGE_MS = 250;

/**
 * The exchange that follows a handshake begun at `handshakeStarted` (performance.now()), inside what
 * is left of the probe's `timeoutMs` (never less than MIN_EXCHANGE_MS).
 */
export function exchangeAfterTls(
  kind: ExchangeKind,
  socket: Duplex,
  host: string,
  ctx: ExchangeContext,
  handshakeStarted: number,
  webSocketProtocol: WebSocketProtocol = 'mqtt',
): Promise<ExchangeResult> {
  const left = ctx.timeoutMs - (performance.now() - handshakeStarted);
  return runExchange(
    kind,
    socket,
    host,
    { ...ctx, timeoutMs: Math.max(MIN_EXCHANGE_MS, Math.round(left)) },
    webSocketProtocol,
  );
}

export function runExchange(
  kind: ExchangeKind,
  socket: Duplex,
  host: string,
  ctx: ExchangeContext,
  webSocketProtocol: WebSocketProtocol = 'mqtt',
): Promise<ExchangeResult> {
  switch (kind) {
    case 'mqtt':
      return exchangeMqtt(socket, host, ctx);
    case 'amqp':
      return exchangeAmqp(socket, ctx);
    case 'http':
      return exchangeHttp(socket, host, ctx);
    case 'websocket':
      return exchangeWebSocket(socket, host, webSocketProtocol, ctx);
  }
}
