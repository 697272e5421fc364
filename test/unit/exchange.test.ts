import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  AMQP_SASL_HEADER,
  exchangeAmqp,
  exchangeHttp,
  exchangeMqtt,
  exchangeWebSocket,
  mqttConnectPacket,
  mqttUsername,
  runExchange,
  type ExchangeContext,
  type ExchangeKind,
} from '../../src/probes/exchange.js';
import { probeThroughProxy } from '../../src/probes/proxy-endpoint.js';
import { loadTrust } from '../../src/probes/trust.js';
import { closed, loopbackPki, startMosquittoTls, startTinyproxy, tcpServer, tlsServer } from '../support/proxy-lab.js';
import type { Ca, ServerCert } from '../support/pki.js';

function ctx(over: Partial<ExchangeContext> = {}): ExchangeContext {
  return { signal: new AbortController().signal, timeoutMs: 3000, ...over };
}

/** A TLS connection to 127.0.0.1:port trusting `ca`, destroyed after the test. */
async function dial(t: TestContext, port: number, ca: Ca): Promise<TLSSocket> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ca: ca.cert });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

/** A TLS server that collects what the client sends and answers via `answer` once `ready(data)`. */
async function scripted(
  t: TestContext,
  cert: ServerCert,
  ready: (data: Buffer) => boolean,
  answer: (socket: TLSSocket, data: Buffer) => void,
) {
  const received: Buffer[] = [];
  const server = await tlsServer(t, cert, (socket) => {
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (ready(data)) {
        socket.off('data', onData);
        received.push(data);
        answer(socket, data);
      }
    };
    socket.on('data', onData);
  });
  return { ...server, received };
}

const httpHead = (d: Buffer) => d.includes('\r\n\r\n');
const anyBytes = (d: Buffer) => d.length > 0;

// --- MQTT ------------------------------------------------------------------------------------------

test('the MQTT CONNECT is a well-formed 3.1.1 CONNECT shaped like a device', () => {
  const clientId = 'netdiag-probe-0a0b0c0d';
  const p = mqttConnectPacket(clientId, mqttUsername('hub.lab.example', clientId), 'not-a-sas');
  assert.equal(p[0], 0x10, 'CONNECT');
  assert.equal(p[1], p.length - 2, 'remaining length (one byte here)');
  assert.equal(p.subarray(2, 8).toString('latin1'), '\x00\x04MQTT');
  assert.equal(p[8], 4, 'protocol level 3.1.1');
  assert.equal(p[9], 0xc2, 'username + password + clean session');
  assert.equal(p.readUInt16BE(10), 60, 'keep-alive');
  const strings: string[] = [];
  for (let i = 12; i < p.length;) {
    const n = p.readUInt16BE(i);
    strings.push(p.subarray(i + 2, i + 2 + n).toString('utf8'));
    i += 2 + n;
  }
  assert.deepEqual(strings, [clientId, `hub.lab.example/${clientId}/?api-version=2021-04-12`, 'not-a-sas']);
});

test('a long CONNECT encodes its remaining length in several bytes', () => {
  const p = mqttConnectPacket('c', 'u'.repeat(300), 'p');
  assert.equal(p[0], 0x10);
  const length = (p[1]! & 0x7f) + p[2]! * 128;
  assert.ok(p[1]! & 0x80, 'continuation bit');
  assert.equal(length, p.length - 3);
});

test('mqtt against a real mosquitto over TLS: a CONNACK refusing the fake device is ok', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const broker = await startMosquittoTls(t, cert);
  if (!broker) return;
  const socket = await dial(t, broker.port, ca);
  const fixed = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
  const result = await exchangeMqtt(socket, 'hub.lab.example', ctx({ randomBytes: () => fixed }));
  assert.equal(result.exchange, 'mqtt');
  assert.equal(result.outcome, 'ok', result.detail);
  // mosquitto refuses a user missing from its password file with 5 (not authorized), as IoT Hub does.
  assert.equal(result.connackCode, 5, result.detail);
  assert.match(result.detail, /CONNACK return code 5 \(not authorized\) to client id netdiag-probe-deadbeef/);
  assert.ok(result.ms >= 0);
});

test('mqtt: a middlebox that completes TLS, then closes when bytes arrive → cut', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const box = await scripted(t, cert, anyBytes, (s) => s.end());
  const socket = await dial(t, box.port, ca);
  const result = await exchangeMqtt(socket, 'hub.lab.example', ctx());
  assert.equal(result.outcome, 'cut', result.detail);
  assert.match(result.detail, /closed the connection after the MQTT CONNECT without answering/);
  assert.equal(box.received[0]?.[0], 0x10, 'the box saw our CONNECT');
});

test('mqtt: a middlebox that resets the connection → cut, naming the reset', async (t) => {
  const { ca, cert } = loopbackPki(t);
  // A TLSSocket cannot send a RST itself: reset the TCP socket under it.
  const box = await scripted(t, cert, anyBytes, () => box.accepted[0]?.resetAndDestroy());
  const socket = await dial(t, box.port, ca);
  const result = await exchangeMqtt(socket, 'hub.lab.example', ctx());
  assert.equal(result.outcome, 'cut', result.detail);
  assert.match(result.detail, /reset the connection \(ECONNRESET\)/);
});

test('mqtt: an HTTP 403 block page on 8883 → unexpected, quoting the status line', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const page = '<html><body>Blocked by policy</body></html>';
  const box = await scripted(t, cert, anyBytes, (s) =>
    s.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\n\r\n${page}`),
  );
  const socket = await dial(t, box.port, ca);
  const result = await exchangeMqtt(socket, 'hub.lab.example', ctx());
  assert.equal(result.outcome, 'unexpected', result.detail);
  assert.match(result.detail, /an HTTP answer "HTTP\/1\.1 403 Forbidden"/);
  assert.equal(result.connackCode, null);
});

test('mqtt: a CONNACK with a wrong length is unexpected, garbage is unexpected', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const bad = await scripted(t, cert, anyBytes, (s) => s.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00])));
  const r1 = await exchangeMqtt(await dial(t, bad.port, ca), 'h', ctx());
  assert.equal(r1.outcome, 'unexpected', r1.detail);
  assert.match(r1.detail, /remaining length 3/);
  const junk = await scripted(t, cert, anyBytes, (s) =>
    s.write(Buffer.from('\x00\x01\x02\x03\x04\x05\x06\x07', 'latin1')),
  );
  const r2 = await exchangeMqtt(await dial(t, junk.port, ca), 'h', ctx());
  assert.equal(r2.outcome, 'unexpected', r2.detail);
  assert.match(r2.detail, /00 01 02 03 04 05 06 07/);
});

test('mqtt: silence → timeout at the time limit', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const box = await scripted(t, cert, anyBytes, () => {});
  const result = await exchangeMqtt(await dial(t, box.port, ca), 'h', ctx({ timeoutMs: 300 }));
  assert.equal(result.outcome, 'timeout', result.detail);
  assert.match(result.detail, /no answer to the MQTT CONNECT within 300 ms/);
});

// --- AMQP ------------------------------------------------------------------------------------------

test('amqp: the SASL header is sent and an AMQP header back is ok', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const saslMechanisms = Buffer.from('0000001502010000005340c00801e0050301a3055045524d', 'hex');
  const peer = await scripted(
    t,
    cert,
    (d) => d.length >= 8,
    (s) => s.write(Buffer.concat([AMQP_SASL_HEADER, saslMechanisms])),
  );
  const result = await exchangeAmqp(await dial(t, peer.port, ca), ctx());
  assert.equal(result.outcome, 'ok', result.detail);
  assert.equal(result.amqpHeader, 'AMQP 3 1 0 0');
  assert.deepEqual(peer.received[0], AMQP_SASL_HEADER, 'exactly the SASL protocol header was sent');
});

test('amqp: another AMQP protocol header is still an AMQP answer (ok); HTTP is unexpected; close is cut', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const other = await scripted(t, cert, anyBytes, (s) => s.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0])));
  const r1 = await exchangeAmqp(await dial(t, other.port, ca), ctx());
  assert.equal(r1.outcome, 'ok', r1.detail);
  assert.equal(r1.amqpHeader, 'AMQP 0 1 0 0');
  const http = await scripted(t, cert, anyBytes, (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  const r2 = await exchangeAmqp(await dial(t, http.port, ca), ctx());
  assert.equal(r2.outcome, 'unexpected', r2.detail);
  const cut = await scripted(t, cert, anyBytes, (s) => s.end());
  const r3 = await exchangeAmqp(await dial(t, cut.port, ca), ctx());
  assert.equal(r3.outcome, 'cut', r3.detail);
  const half = await scripted(t, cert, anyBytes, (s) => s.end(Buffer.from('AMQ')));
  const r4 = await exchangeAmqp(await dial(t, half.port, ca), ctx());
  assert.equal(r4.outcome, 'cut', r4.detail);
  assert.match(r4.detail, /after 3 bytes of an answer/);
});

// --- HTTP and the Date ------------------------------------------------------------------------------

function httpAnswer(date: string | null, status = '200 OK'): string {
  return `HTTP/1.1 ${status}\r\n${date === null ? '' : `Date: ${date}\r\n`}Content-Length: 0\r\nConnection: close\r\n\r\n`;
}

test('http: GET / with Host; the status and a skewed Date give the clock offset (server 2 minutes behind)', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const server = await scripted(t, cert, httpHead, (s) =>
    s.end(httpAnswer(new Date(Date.now() - 120_000).toUTCString())),
  );
  const result = await exchangeHttp(await dial(t, server.port, ca), 'hub.lab.example', ctx());
  assert.equal(result.outcome, 'ok', result.detail);
  assert.equal(result.httpStatus, 200);
  assert.match(result.httpDate ?? '', /GMT$/);
  assert.ok(result.clock, 'an offset was computed');
  // Local is ahead of the server by 120 s, within the stated uncertainty (plus scheduling slack).
  assert.ok(
    Math.abs(result.clock.offsetMs - 120_000) <= result.clock.uncertaintyMs + 1000,
    JSON.stringify(result.clock),
  );
  const request = server.received[0]?.toString('latin1') ?? '';
  assert.match(request, /^GET \/ HTTP\/1\.1\r\n/);
  assert.match(request, /\r\nHost: hub\.lab\.example\r\n/);
});

test('http: a VM clock 10 minutes behind gives a negative offset', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const server = await scripted(t, cert, httpHead, (s) => s.end(httpAnswer(new Date().toUTCString(), '404 Not Found')));
  const behind = () => Date.now() - 600_000;
  const result = await exchangeHttp(await dial(t, server.port, ca), 'h', ctx({ now: behind }));
  assert.equal(result.outcome, 'ok', result.detail);
  assert.equal(result.httpStatus, 404, 'any HTTP answer is ok');
  assert.ok(result.clock);
  assert.ok(
    Math.abs(result.clock.offsetMs + 600_000) <= result.clock.uncertaintyMs + 1000,
    JSON.stringify(result.clock),
  );
});

test('http: no Date or a garbage Date → ok without an offset', async (t) => {
  const { ca, cert } = loopbackPki(t);
  for (const date of [null, 'yesterday-ish', 'Mon, 32 Jan 2024 00:00:00 GMT']) {
    const server = await scripted(t, cert, httpHead, (s) => s.end(httpAnswer(date)));
    const result = await exchangeHttp(await dial(t, server.port, ca), 'h', ctx());
    assert.equal(result.outcome, 'ok', result.detail);
    assert.equal(result.clock, null, String(date));
    assert.equal(result.httpDate, date);
  }
});

test('http: MQTT-ish bytes are unexpected, a close is cut, a 1 MB header stops at the limit', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const mqttish = await scripted(t, cert, httpHead, (s) => s.write(Buffer.from([0x20, 2, 0, 5, 0x20, 2, 0, 5])));
  const r1 = await exchangeHttp(await dial(t, mqttish.port, ca), 'h', ctx());
  assert.equal(r1.outcome, 'unexpected', r1.detail);
  const cut = await scripted(t, cert, httpHead, (s) => s.end());
  const r2 = await exchangeHttp(await dial(t, cut.port, ca), 'h', ctx());
  assert.equal(r2.outcome, 'cut', r2.detail);
  const huge = await scripted(t, cert, httpHead, (s) => {
    s.write('HTTP/1.1 200 OK\r\nX-Pad: ');
    s.write(Buffer.alloc(1024 * 1024, 0x61));
  });
  const r3 = await exchangeHttp(await dial(t, huge.port, ca), 'h', ctx());
  // The status line arrived: it is an HTTP answer, whatever its header size.
  assert.equal(r3.outcome, 'ok', r3.detail);
  assert.equal(r3.httpStatus, 200);
  assert.ok(r3.bytesReceived <= 16 * 1024, String(r3.bytesReceived));
});

// --- WebSocket -------------------------------------------------------------------------------------

test('websocket: the upgrade request is right, and a 101 with the right accept is ok', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const server = await scripted(t, cert, httpHead, (s, d) => {
    const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(d.toString('latin1'))?.[1] ?? '';
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    s.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: AMQPWSB10\r\nDate: ${new Date().toUTCString()}\r\n\r\n`,
    );
  });
  const result = await exchangeWebSocket(await dial(t, server.port, ca), 'hub.lab.example', 'AMQPWSB10', ctx());
  assert.equal(result.outcome, 'ok', result.detail);
  assert.equal(result.httpStatus, 101);
  assert.equal(result.acceptValid, true);
  assert.deepEqual(result.subprotocol, { requested: 'AMQPWSB10', accepted: 'AMQPWSB10' });
  assert.ok(result.clock, 'the Date of the upgrade answer counts too');
  const request = server.received[0]?.toString('latin1') ?? '';
  assert.match(request, /^GET \/\$iothub\/websocket HTTP\/1\.1\r\n/);
  for (const header of [
    /Host: hub\.lab\.example/,
    /Upgrade: websocket/i,
    /Connection: Upgrade/i,
    /Sec-WebSocket-Version: 13/,
    /Sec-WebSocket-Protocol: AMQPWSB10/,
  ])
    assert.match(request, header);
  const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(request)?.[1] ?? '';
  assert.equal(Buffer.from(key, 'base64').length, 16, 'a 16-byte random key');
});

test('websocket: a wrong accept is reported; a plain HTTP answer is ok; a close is cut', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const wrong = await scripted(t, cert, httpHead, (s) =>
    s.write('HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope\r\n\r\n'),
  );
  const r1 = await exchangeWebSocket(await dial(t, wrong.port, ca), 'h', 'mqtt', ctx());
  assert.equal(r1.outcome, 'ok');
  assert.equal(r1.acceptValid, false);
  assert.match(r1.detail, /does not match/);
  assert.match(wrong.received[0]?.toString('latin1') ?? '', /Sec-WebSocket-Protocol: mqtt\r\n/);
  const plain = await scripted(t, cert, httpHead, (s) => s.end(httpAnswer(null, '400 Bad Request')));
  const r2 = await exchangeWebSocket(await dial(t, plain.port, ca), 'h', 'mqtt', ctx());
  assert.equal(r2.outcome, 'ok', r2.detail);
  assert.equal(r2.httpStatus, 400);
  const cut = await scripted(t, cert, httpHead, (s) => s.end());
  const r3 = await exchangeWebSocket(await dial(t, cut.port, ca), 'h', 'mqtt', ctx());
  assert.equal(r3.outcome, 'cut', r3.detail);
});

test('runExchange dispatches every kind; each leaves the socket to the caller', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const kinds: ExchangeKind[] = ['mqtt', 'amqp', 'http', 'websocket'];
  for (const kind of kinds) {
    const box = await scripted(t, cert, anyBytes, () => {});
    const socket = await dial(t, box.port, ca);
    const result = await runExchange(kind, socket, 'h', ctx({ timeoutMs: 150 }));
    assert.equal(result.exchange, kind);
    assert.equal(result.outcome, 'timeout', `${kind}: ${result.detail}`);
    assert.equal(socket.destroyed, false, 'not destroyed by the exchange');
    socket.destroy();
    await closed(box.accepted[0]);
  }
});

// --- CONNECT → TLS → exchange through a real tinyproxy ---------------------------------------------

const SECRET = 'Thr0ugh-Pr0xy';

test('probeThroughProxy via tinyproxy: tunnel, trusted TLS, HTTP answer with its Date; no secret in the result', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const server = await scripted(t, cert, httpHead, (s) =>
    s.end(httpAnswer(new Date(Date.now() - 45_000).toUTCString())),
  );
  const proxy = await startTinyproxy(t, { connectPorts: [server.port], basicAuth: { user: 'dev', password: SECRET } });
  if (!proxy) return;
  const trust = await loadTrust(ca.certFile);
  const result = await probeThroughProxy(
    { host: '127.0.0.1', port: server.port },
    `http://dev:${SECRET}@127.0.0.1:${proxy.port}`,
    { signal: new AbortController().signal, timeoutMs: 3000, secureContext: trust.secureContext },
  );
  assert.equal(result.outcome, 'open', JSON.stringify(result));
  assert.equal(result.via, 'proxy');
  assert.equal(result.connect.outcome, 'established');
  assert.equal(result.tls?.authorized, true);
  assert.equal(result.tls?.issuer, ca.name);
  assert.equal(result.application?.exchange, 'http');
  assert.equal(result.application?.outcome, 'ok');
  assert.ok(result.application?.clock && Math.abs(result.application.clock.offsetMs - 45_000) < 3000);
  const text = JSON.stringify(result);
  assert.ok(!text.includes(SECRET) && !text.includes(Buffer.from(`dev:${SECRET}`).toString('base64')), text);
  await closed(server.accepted[0]);
});

test('probeThroughProxy: an untrusted chain still runs the exchange (its Date matters for the clock)', async (t) => {
  const { cert } = loopbackPki(t);
  const other = loopbackPki(t).ca; // trust another CA: the server's chain is unknown to us
  const server = await scripted(t, cert, httpHead, (s) => s.end(httpAnswer(new Date().toUTCString())));
  const proxy = await startTinyproxy(t, { connectPorts: [server.port] });
  if (!proxy) return;
  const trust = await loadTrust(other.certFile);
  const result = await probeThroughProxy({ host: '127.0.0.1', port: server.port }, `http://127.0.0.1:${proxy.port}`, {
    signal: new AbortController().signal,
    timeoutMs: 3000,
    secureContext: trust.secureContext,
  });
  assert.equal(result.outcome, 'tls-untrusted', JSON.stringify(result));
  assert.equal(result.tls?.authorized, false);
  assert.ok(result.tls?.authorizationError);
  assert.equal(result.application?.outcome, 'ok');
});

test('probeThroughProxy: a middlebox behind the proxy cutting MQTT-over-WebSocket → protocol-blocked; denied CONNECT → proxy-failed', async (t) => {
  const { ca, cert } = loopbackPki(t);
  const box = await scripted(t, cert, anyBytes, (s) => s.end());
  const proxy = await startTinyproxy(t, { connectPorts: [box.port] });
  if (!proxy) return;
  const trust = await loadTrust(ca.certFile);
  const c = { signal: new AbortController().signal, timeoutMs: 3000, secureContext: trust.secureContext };
  const cut = await probeThroughProxy(
    { host: '127.0.0.1', port: box.port, exchange: 'websocket' },
    `http://127.0.0.1:${proxy.port}`,
    c,
  );
  assert.equal(cut.outcome, 'protocol-blocked', JSON.stringify(cut));
  assert.equal(cut.application?.outcome, 'cut');
  const tlsOnly = await probeThroughProxy(
    { host: '127.0.0.1', port: box.port, exchange: null },
    `http://127.0.0.1:${proxy.port}`,
    c,
  );
  assert.equal(tlsOnly.outcome, 'open', 'TLS alone decides when exchanges are off');
  assert.equal(tlsOnly.application, null);
  const denied = await probeThroughProxy(
    { host: '127.0.0.1', port: box.port + 1 },
    `http://127.0.0.1:${proxy.port}`,
    c,
  );
  assert.equal(denied.outcome, 'proxy-failed');
  assert.equal(denied.connect.outcome, 'denied');
  assert.equal(denied.tls, null);
});

test('probeThroughProxy: TLS inside the tunnel that never completes → tls-failed with ETIMEDOUT', async (t) => {
  const { ca } = loopbackPki(t);
  // A plain TCP "server" behind the proxy that accepts and stays silent: the ClientHello goes unanswered.
  const silent = await tcpServer(t, () => {});
  const proxy = await startTinyproxy(t, { connectPorts: [silent.port] });
  if (!proxy) return;
  const trust = await loadTrust(ca.certFile);
  const result = await probeThroughProxy({ host: '127.0.0.1', port: silent.port }, `http://127.0.0.1:${proxy.port}`, {
    signal: new AbortController().signal,
    timeoutMs: 400,
    secureContext: trust.secureContext,
  });
  assert.equal(result.outcome, 'tls-failed', JSON.stringify(result));
  assert.equal(result.error?.code, 'ETIMEDOUT');
  assert.match(result.error?.message ?? '', /no answer within 400 ms/);
});
