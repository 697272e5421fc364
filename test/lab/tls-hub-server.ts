/**
 * The lab's "IoT Hub": TLS listeners on the hub address, run inside the lab's `net` namespace.
 * Each port is one of
 *   trusted    TLS with the hub certificate (chains to the lab CA the check is given)
 *   untrusted  TLS with a certificate from another CA, as a TLS-inspecting proxy would present
 *   close      accepts TCP then closes it (FIN) before any TLS: a proxy or filter cutting TLS
 *   reset      accepts TCP then resets it (RST)
 * After TLS it answers the check's one application exchange as IoT Hub would (CONTRACT 7.2): a
 * CONNACK 5 to an MQTT CONNECT on 8883, the AMQP header on 5671, an HTTP answer (with a Date) on
 * any other port, so a healthy lab is healthy with the exchanges too.
 * Prints `READY <port,port,...>` once every listener is bound, and exits 0 on SIGTERM.
 *
 * usage: tls-hub-server.ts --address A --cert F --key F [--other-cert F --other-key F]
 *        --port 8883[=mode] --port 5671[=mode] --port 443[=mode]
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';

export type PortMode = 'trusted' | 'untrusted' | 'close' | 'reset';
const MODES: readonly PortMode[] = ['trusted', 'untrusted', 'close', 'reset'];

function fail(message: string): never {
  process.stderr.write(`tls-hub-server: ${message}\n`);
  process.exit(64);
}

const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'other-cert': { type: 'string' },
    'other-key': { type: 'string' },
    port: { type: 'string', multiple: true },
  },
});

const address = values.address ?? fail('--address is required');
const ports = (values.port ?? []).map((spec): { port: number; mode: PortMode } => {
  const [portText, modeText = 'trusted'] = spec.split('=');
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`bad port in --port ${spec}`);
  const mode = MODES.find((m) => m === modeText) ?? fail(`bad mode in --port ${spec}`);
  return { port, mode };
});
if (ports.length === 0) fail('at least one --port is required');

function readPair(certFile: string | undefined, keyFile: string | undefined, what: string) {
  if (certFile === undefined || keyFile === undefined) fail(`${what} certificate and key are required`);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

const needsTrusted = ports.some((p) => p.mode === 'trusted');
const needsOther = ports.some((p) => p.mode === 'untrusted');
const trusted = needsTrusted ? readPair(values.cert, values.key, '--cert/--key (hub)') : null;
const other = needsOther ? readPair(values['other-cert'], values['other-key'], '--other-cert/--other-key') : null;

const sockets = new Set<net.Socket>();
const servers: net.Server[] = [];

function track(socket: net.Socket): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  // A client aborting mid-handshake is normal for a diagnostics probe; never crash on it.
  socket.on('error', () => undefined);
}

/** The hub's answer to the first bytes of the port's protocol (see the header). */
function answer(port: number, socket: tls.TLSSocket, data: Buffer): void {
  if (port === 8883 && data[0] === 0x10) socket.end(Buffer.from([0x20, 0x02, 0x00, 0x05]));
  else if (port === 5671 && data.subarray(0, 4).toString('latin1') === 'AMQP')
    socket.end(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x03, 0x01, 0x00, 0x00]));
  else if (data.includes('\r\n\r\n'))
    socket.end(
      `HTTP/1.1 404 Not Found\r\nDate: ${new Date().toUTCString()}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
}

function makeServer(mode: PortMode, port: number): net.Server {
  if (mode === 'close') {
    return net.createServer((socket) => {
      track(socket);
      socket.end();
      socket.destroy();
    });
  }
  if (mode === 'reset') {
    return net.createServer((socket) => {
      track(socket);
      socket.resetAndDestroy();
    });
  }
  const pair = mode === 'trusted' ? trusted : other;
  if (pair === null) fail(`no certificate for mode ${mode}`);
  const server = tls.createServer({ cert: pair.cert, key: pair.key }, (socket) => {
    // Answer the exchange once its first bytes are in; keep the session open until the client leaves.
    let seen = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (socket.writableEnded) return;
      seen = Buffer.concat([seen, chunk]).subarray(0, 4096);
      answer(port, socket, seen);
    });
  });
  server.on('connection', track);
  server.on('tlsClientError', () => undefined);
  return server;
}

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

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
  for (const { port, mode } of ports) {
    const server = makeServer(mode, port);
    servers.push(server);
    await listen(server, port);
  }
} catch (err) {
  fail(`listen failed: ${err instanceof Error ? err.message : String(err)}`);
}
process.stdout.write(`READY ${ports.map((p) => p.port).join(',')}\n`);
