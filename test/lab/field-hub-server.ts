/**
 * The field lab's endpoints (hub, DPS, registry, nested-edge parent): TLS listeners that also speak
 * each protocol's first exchange, and middleboxes that break it (LAB.md "The field matrix",
 * CONTRACT 7.2). Run inside the lab's `net` namespace. Each listener has an application:
 *   mqtt       reads an MQTT CONNECT, answers CONNACK with `connackCode` (5 "not authorized", as IoT
 *              Hub answers a CONNECT whose SAS token is no good)
 *   amqp       reads the 8-byte AMQP protocol header, answers the SASL header `AMQP 3 1 0 0`
 *   https      HTTP/1.1: any request gets a 404 whose `Date` is the server clock plus
 *              `dateOffsetSeconds`; a WebSocket upgrade on /$iothub/websocket gets 101 with the first
 *              requested subprotocol it knows (mqtt, AMQPWSB10)
 *   tls-only   completes TLS and reads whatever comes
 * and optionally a middlebox in front of it, which replaces the application:
 *   tls-then-cut     completes TLS, resets the connection (RST) when application bytes arrive
 *   tls-then-close   completes TLS, closes it (FIN) when application bytes arrive
 *   http-block-page  completes TLS, answers any bytes with an HTTP 403 block page and closes
 *   tls-silent       accepts TCP and never answers the ClientHello (a handshake timeout)
 *   reset            resets right after accepting
 *   close            closes right after accepting
 *
 * Every connection and exchange is logged on stdout (`CONN`, `EXCHANGE`, `MIDDLEBOX` lines) so a
 * scenario can see what reached the server. Prints `READY <n>` once every listener is bound, and
 * exits 0 on SIGTERM.
 *
 * usage: field-hub-server.ts --config FILE   (FILE holds a FieldHubConfig as JSON)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';

import {
  AMQP_SASL_HEADER,
  BLOCK_PAGE_TITLE,
  WEBSOCKET_PATH,
  WEBSOCKET_PROTOCOLS,
  type FieldHubConfig,
  type FieldListenerConfig,
} from './field-hub-types.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function fail(message: string): never {
  process.stderr.write(`field-hub-server: ${message}\n`);
  process.exit(64);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const sockets = new Set<net.Socket>();
function track(socket: net.Socket): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  // A client aborting mid-exchange is normal for a diagnostics probe; never crash on it.
  socket.on('error', () => undefined);
}

/** MQTT's variable-length "remaining length"; null while more bytes are needed. */
function remainingLength(buf: Buffer): { value: number; bytes: number } | null {
  let value = 0;
  for (let i = 1; i < Math.min(buf.length, 5); i++) {
    const byte = buf[i] ?? 0;
    value += (byte & 0x7f) * 128 ** (i - 1);
    if ((byte & 0x80) === 0) return { value, bytes: i };
  }
  return null;
}

/** The fields of an MQTT 3.1.1 CONNECT a scenario may want to see (never the password). */
function describeConnect(packet: Buffer, headerBytes: number): string {
  try {
    let at = 1 + headerBytes;
    const str = (): string => {
      const len = packet.readUInt16BE(at);
      const s = packet.subarray(at + 2, at + 2 + len).toString('utf8');
      at += 2 + len;
      return s;
    };
    const protocol = str();
    const level = packet[at] ?? 0;
    const flags = packet[at + 1] ?? 0;
    at += 4; // level, flags, keep-alive
    const clientId = str();
    if (flags & 0x04) {
      str(); // will topic
      str(); // will message
    }
    const username = flags & 0x80 ? str() : '';
    const hasPassword = (flags & 0x40) !== 0;
    return `protocol=${protocol} level=${level} clientId=${clientId} username=${username} password=${hasPassword}`;
  } catch {
    return 'malformed';
  }
}

function mqttApp(cfg: FieldListenerConfig, socket: tls.TLSSocket): void {
  let buf = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    if ((buf[0] ?? 0) >> 4 !== 1) {
      socket.off('data', onData);
      log(`EXCHANGE ${cfg.name} mqtt unexpected ${buf.subarray(0, 16).toString('hex')}`);
      socket.destroy();
      return;
    }
    const len = remainingLength(buf);
    if (len === null || buf.length < 1 + len.bytes + len.value) return;
    socket.off('data', onData);
    log(`EXCHANGE ${cfg.name} mqtt-connect ${describeConnect(buf, len.bytes)} connack=${cfg.connackCode}`);
    // CONNACK: type 2, remaining length 2, no session present, the return code. A refusing broker
    // closes the connection after it (MQTT 3.1.1 3.2.2.3).
    socket.end(Buffer.from([0x20, 0x02, 0x00, cfg.connackCode]));
  };
  socket.on('data', onData);
}

function amqpApp(cfg: FieldListenerConfig, socket: tls.TLSSocket): void {
  let buf = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    if (buf.length < 8) return;
    socket.off('data', onData);
    const header = buf.subarray(0, 8);
    const ok = header.equals(AMQP_SASL_HEADER);
    log(`EXCHANGE ${cfg.name} amqp-header ${header.toString('hex')}${ok ? '' : ' unexpected'}`);
    // An AMQP peer answers with the header it speaks; on a header it does not support it then
    // closes (AMQP 1.0 part 2.2).
    socket.write(AMQP_SASL_HEADER);
    if (!ok) socket.end();
    socket.on('data', () => undefined);
  };
  socket.on('data', onData);
}

function httpDate(cfg: FieldListenerConfig): string {
  return new Date(Date.now() + cfg.dateOffsetSeconds * 1000).toUTCString();
}

function httpsApp(cfg: FieldListenerConfig): http.Server {
  const server = http.createServer((req, res) => {
    log(`EXCHANGE ${cfg.name} http ${req.method ?? '?'} ${req.url ?? '?'} host=${req.headers.host ?? ''}`);
    res.sendDate = false;
    const body = JSON.stringify({ Message: `lab endpoint ${cfg.name}: no such resource` });
    res.writeHead(404, {
      Date: httpDate(cfg),
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    const key = req.headers['sec-websocket-key'];
    const requested = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const protocol = requested.find((p) => WEBSOCKET_PROTOCOLS.includes(p));
    const isWebSocket = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    log(`EXCHANGE ${cfg.name} ws-upgrade ${req.url ?? '?'} protocol=${requested.join(',')}`);
    if (req.url !== WEBSOCKET_PATH || !isWebSocket || typeof key !== 'string' || protocol === undefined) {
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nDate: ${httpDate(cfg)}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    const accept = createHash('sha1').update(`${key}${WEBSOCKET_GUID}`).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\nDate: ${httpDate(cfg)}\r\n\r\n`,
    );
    // Holds the WebSocket open until the client leaves; frames are read and ignored.
    socket.on('data', () => undefined);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

const BLOCK_PAGE =
  `<html><head><title>${BLOCK_PAGE_TITLE}</title></head>` +
  '<body><h1>Access denied</h1><p>This traffic is not allowed by your network policy.</p></body></html>';

function middleboxAfterTls(cfg: FieldListenerConfig, raw: net.Socket, socket: tls.TLSSocket): void {
  socket.once('data', (chunk: Buffer) => {
    log(`MIDDLEBOX ${cfg.name} ${cfg.middlebox ?? ''} after ${chunk.subarray(0, 8).toString('hex')}`);
    switch (cfg.middlebox) {
      case 'tls-then-cut':
        raw.resetAndDestroy();
        break;
      case 'tls-then-close':
        socket.end();
        break;
      case 'http-block-page':
        socket.end(
          'HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n' +
            `Content-Length: ${Buffer.byteLength(BLOCK_PAGE)}\r\nConnection: close\r\n\r\n${BLOCK_PAGE}`,
        );
        break;
      case 'tls-silent':
      case 'reset':
      case 'close':
      case null:
        // Not TLS-terminating middleboxes: makeServer never layers TLS for them.
        socket.destroy();
        break;
    }
  });
}

function makeServer(cfg: FieldListenerConfig): net.Server {
  if (cfg.middlebox === 'reset' || cfg.middlebox === 'close' || cfg.middlebox === 'tls-silent') {
    const mode = cfg.middlebox;
    return net.createServer((socket) => {
      track(socket);
      log(`CONN ${cfg.name} from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`);
      if (mode === 'reset') socket.resetAndDestroy();
      else if (mode === 'close') socket.end();
      // tls-silent: read the ClientHello and never answer; the client's handshake times out.
      else socket.on('data', () => undefined);
    });
  }
  if (cfg.certFile === null || cfg.keyFile === null) fail(`${cfg.name}: a certificate is required`);
  const context = tls.createSecureContext({ cert: readFileSync(cfg.certFile), key: readFileSync(cfg.keyFile) });
  const web = cfg.middlebox === null && cfg.app === 'https' ? httpsApp(cfg) : null;
  // TLS is layered by hand over a plain TCP server, so the middleboxes can reset the TCP
  // connection underneath an established TLS session.
  return net.createServer((raw) => {
    track(raw);
    log(`CONN ${cfg.name} from ${raw.remoteAddress ?? '?'}:${raw.remotePort ?? 0}`);
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
    socket.on('error', () => undefined);
    socket.once('secure', () => {
      if (cfg.middlebox !== null) middleboxAfterTls(cfg, raw, socket);
      else if (web !== null) web.emit('connection', socket);
      else if (cfg.app === 'mqtt') mqttApp(cfg, socket);
      else if (cfg.app === 'amqp') amqpApp(cfg, socket);
      else socket.on('data', () => undefined);
    });
  });
}

function listen(server: net.Server, cfg: FieldListenerConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: cfg.address, port: cfg.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const { values } = parseArgs({ options: { config: { type: 'string' } } });
const config = JSON.parse(readFileSync(values.config ?? fail('--config is required'), 'utf8')) as FieldHubConfig;
if (config.listeners.length === 0) fail('no listeners configured');

const servers: net.Server[] = [];
function shutdown(): void {
  for (const socket of sockets) socket.destroy();
  let open = servers.length;
  if (open === 0) process.exit(0);
  for (const server of servers) {
    server.close(() => {
      open -= 1;
      if (open === 0) process.exit(0);
    });
  }
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

try {
  for (const cfg of config.listeners) {
    const server = makeServer(cfg);
    servers.push(server);
    await listen(server, cfg);
  }
} catch (err) {
  fail(`listen failed: ${err instanceof Error ? err.message : String(err)}`);
}
log(`READY ${config.listeners.length}`);
