import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { openProxyTunnel, probeProxyConnect, type ProxyConnectContext } from '../../src/probes/proxy-connect.js';
import { errorWithCode } from '../../src/util/errors.js';
import { closed, freePort, loopbackPki, startTinyproxy, tcpServer, tlsServer } from '../support/proxy-lab.js';

function ctx(over: Partial<ProxyConnectContext> = {}): ProxyConnectContext {
  return { signal: new AbortController().signal, timeoutMs: 3000, ...over };
}

const SECRET = 'Tiny-Pr0xy-Pass';

function assertNoSecret(value: unknown, secret = SECRET, user = 'netdiag'): void {
  const text = JSON.stringify(value);
  assert.ok(!text.includes(secret), `the password leaked: ${text}`);
  assert.ok(
    !text.includes(Buffer.from(`${user}:${secret}`).toString('base64')),
    `the Basic credentials leaked: ${text}`,
  );
}

/** A TLS server on loopback that just completes handshakes (the tunnel's far end). */
async function tlsTarget(t: TestContext) {
  const { cert } = loopbackPki(t);
  return tlsServer(t, cert, () => {});
}

// --- against a real tinyproxy ------------------------------------------------------------------------

test('tinyproxy: CONNECT to an allowed port gives a tunnel, and the tunnel reaches the target', async (t) => {
  const target = await tlsTarget(t);
  const proxy = await startTinyproxy(t, { connectPorts: [target.port] });
  if (!proxy) return;
  const { result, socket } = await openProxyTunnel(
    { host: '127.0.0.1', port: target.port },
    `http://127.0.0.1:${proxy.port}`,
    ctx(),
  );
  t.after(() => socket?.destroy());
  assert.equal(result.outcome, 'established', JSON.stringify(result));
  assert.equal(result.httpStatus, 200);
  assert.equal(result.error, null);
  assert.equal(result.proxyAddress, '127.0.0.1');
  assert.equal(result.sentCredentials, false);
  assert.ok(result.tcpConnectMs !== null && result.answerMs !== null && result.ms >= result.answerMs);
  assert.ok(socket, 'the tunnel is handed back');
  // The far end saw tinyproxy connect: the tunnel is real.
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('the target never saw the tunnel')), 5000);
    const check = () => (target.accepted.length > 0 ? (clearTimeout(guard), resolve()) : setTimeout(check, 20));
    check();
  });
});

test('tinyproxy: CONNECT to a port it does not allow is denied, with the status', async (t) => {
  const target = await tlsTarget(t);
  const proxy = await startTinyproxy(t, { connectPorts: [target.port] });
  if (!proxy) return;
  const other = await freePort();
  const result = await probeProxyConnect({ host: '127.0.0.1', port: other }, `http://127.0.0.1:${proxy.port}`, ctx());
  assert.equal(result.outcome, 'denied', JSON.stringify(result));
  assert.equal(result.httpStatus, 403);
  assert.equal(result.error?.code, 'HTTP_403');
  assert.match(result.error?.message ?? '', new RegExp(`CONNECT 127\\.0\\.0\\.1:${other}: 403`));
});

test('tinyproxy with BasicAuth: no credentials → 407 with the challenge; right ones → tunnel; wrong → 407', async (t) => {
  const target = await tlsTarget(t);
  const proxy = await startTinyproxy(t, {
    connectPorts: [target.port],
    basicAuth: { user: 'netdiag', password: SECRET },
  });
  if (!proxy) return;
  const where = { host: '127.0.0.1', port: target.port };

  const none = await probeProxyConnect(where, `http://127.0.0.1:${proxy.port}`, ctx());
  assert.equal(none.outcome, 'auth-required', JSON.stringify(none));
  assert.equal(none.httpStatus, 407);
  assert.equal(none.sentCredentials, false);
  assert.ok(
    none.proxyAuthenticate.some((c) => /^Basic/i.test(c)),
    JSON.stringify(none.proxyAuthenticate),
  );
  assert.match(none.error?.message ?? '', /URL has no credentials/);

  const right = await probeProxyConnect(where, `http://netdiag:${SECRET}@127.0.0.1:${proxy.port}`, ctx());
  assert.equal(right.outcome, 'established', JSON.stringify(right));
  assert.equal(right.sentCredentials, true);
  assert.equal(right.proxy, `http://netdiag:***@127.0.0.1:${proxy.port}`);
  assertNoSecret(right);

  // tinyproxy answers wrong credentials with 401 and WWW-Authenticate rather than 407.
  const wrong = await probeProxyConnect(where, `http://netdiag:not-${SECRET}@127.0.0.1:${proxy.port}`, ctx());
  assert.equal(wrong.outcome, 'auth-required', JSON.stringify(wrong));
  assert.ok(wrong.httpStatus === 401 || wrong.httpStatus === 407);
  assert.ok(
    wrong.proxyAuthenticate.some((c) => /^Basic/i.test(c)),
    JSON.stringify(wrong.proxyAuthenticate),
  );
  assert.match(wrong.error?.message ?? '', /rejected the credentials/);
  assertNoSecret(wrong, `not-${SECRET}`);
});

// --- the proxy itself cannot be reached --------------------------------------------------------------

test('proxy refused: unreachable with ECONNREFUSED', async () => {
  const port = await freePort();
  const result = await probeProxyConnect(
    { host: '127.0.0.1', port: 443 },
    `http://u:${SECRET}@127.0.0.1:${port}`,
    ctx(),
  );
  assert.equal(result.outcome, 'unreachable');
  assert.equal(result.error?.phase, 'connect');
  assert.equal(result.error?.code, 'ECONNREFUSED');
  assert.equal(result.httpStatus, null);
  assertNoSecret(result, SECRET, 'u');
});

test('proxy name does not resolve: unreachable in the resolve phase, with the errno', async () => {
  const lookup = () => Promise.reject(errorWithCode('queryA ENOTFOUND proxy.lab.invalid', 'ENOTFOUND'));
  const result = await probeProxyConnect(
    { host: 'hub.lab.invalid', port: 443 },
    'http://proxy.lab.invalid:3128',
    ctx({ lookup }),
  );
  assert.equal(result.outcome, 'unreachable');
  assert.equal(result.error?.phase, 'resolve');
  assert.equal(result.error?.code, 'ENOTFOUND');
  assert.equal(result.proxyAddress, null);
});

test('a resolver that never answers: unreachable with ETIMEDOUT at the time limit, not a hang', async () => {
  let cancelled = false;
  // Like a real resolver, it holds a handle (its socket) until it is told to stop.
  const lookup = (_host: string, signal: AbortSignal) =>
    new Promise<string>(() => {
      const handle = setInterval(() => {}, 1000);
      signal.addEventListener('abort', () => {
        cancelled = true;
        clearInterval(handle);
      });
    });
  const result = await probeProxyConnect(
    { host: 'hub.lab.invalid', port: 443 },
    'http://proxy.lab.invalid:3128',
    ctx({ lookup, timeoutMs: 200 }),
  );
  assert.equal(result.outcome, 'unreachable');
  assert.equal(result.error?.code, 'ETIMEDOUT');
  assert.ok(cancelled, 'the lookup was told to stop');
});

test('invalid input: an https:// proxy or a bad target is refused before anything is sent', async (t) => {
  const server = await tcpServer(t, () => {});
  const https = await probeProxyConnect(
    { host: '127.0.0.1', port: 443 },
    `https://u:${SECRET}@127.0.0.1:${server.port}`,
    ctx(),
  );
  assert.equal(https.outcome, 'invalid');
  assert.equal(https.error?.phase, 'input');
  assert.equal(https.proxy, `https://u:***@127.0.0.1:${server.port}`);
  assertNoSecret(https, SECRET, 'u');
  const target = await probeProxyConnect(
    { host: 'hub\r\nX-Evil: 1', port: 443 },
    `http://127.0.0.1:${server.port}`,
    ctx(),
  );
  assert.equal(target.outcome, 'invalid');
  assert.equal(server.accepted.length, 0, 'nothing connected to the proxy');
});

// --- proxies that answer badly (hand-made) ------------------------------------------------------------

/** A fake proxy: reads the CONNECT head, then behaves as `answer` says. */
async function fakeProxy(t: TestContext, answer: (socket: Socket, request: string) => void) {
  const requests: string[] = [];
  const server = await tcpServer(t, (socket) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n\r\n')) {
        socket.off('data', onData);
        requests.push(buf);
        answer(socket, buf);
      }
    };
    socket.on('data', onData);
  });
  return { ...server, requests, url: `http://127.0.0.1:${server.port}` };
}

test('the CONNECT request: request line, Host, and Basic credentials decoded from the URL', async (t) => {
  const proxy = await fakeProxy(t, (s) => s.end('HTTP/1.1 403 Forbidden\r\nServer: fake\r\n\r\n'));
  const result = await probeProxyConnect(
    { host: 'hub.lab.example', port: 443 },
    `http://al%40ice:${SECRET}@127.0.0.1:${proxy.port}`,
    ctx(),
  );
  assert.equal(result.outcome, 'denied');
  assert.equal(result.server, 'fake');
  const request = proxy.requests[0] ?? '';
  assert.match(request, /^CONNECT hub\.lab\.example:443 HTTP\/1\.1\r\n/);
  assert.match(request, /\r\nHost: hub\.lab\.example:443\r\n/);
  assert.ok(request.includes(`Proxy-Authorization: Basic ${Buffer.from(`al@ice:${SECRET}`).toString('base64')}\r\n`));
  assertNoSecret(result, SECRET, 'al@ice');
  await closed(proxy.accepted[0]);
});

test('an IPv6 target is bracketed in the request', async (t) => {
  const proxy = await fakeProxy(t, (s) => s.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  const result = await probeProxyConnect({ host: 'fd00::10', port: 443 }, proxy.url, ctx());
  assert.equal(result.outcome, 'denied');
  assert.equal(result.httpStatus, 502);
  assert.equal(result.reason, 'Bad Gateway');
  assert.match(proxy.requests[0] ?? '', /^CONNECT \[fd00::10\]:443 HTTP\/1\.1\r\nHost: \[fd00::10\]:443\r\n/);
});

const MALFORMED: Array<[string, (s: Socket) => void, RegExp, string]> = [
  ['garbage after CONNECT', (s) => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'), /not HTTP \(starts "SSH-2\.0/, 'EPROTO'],
  [
    'closed mid-status-line',
    (s) => s.end('HTTP/1.1 20'),
    /closed the connection after 11 bytes.*"HTTP\/1\.1 20"/,
    'EOF',
  ],
  ['closed without a byte', (s) => s.end(), /closed the connection without answering/, 'EOF'],
  ['reset without a byte', (s) => s.resetAndDestroy(), /closed the connection without answering/, 'ECONNRESET'],
  [
    'a 1 MB header',
    (s) => {
      s.write('HTTP/1.1 200 Connection established\r\nX-Pad: ');
      s.write(Buffer.alloc(1024 * 1024, 0x61));
    },
    /larger than 16384 bytes/,
    'EMSGSIZE',
  ],
  [
    'bytes after the 200, before the client spoke',
    (s) => s.write('HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01'),
    /sent 3 bytes before the client spoke/,
    'EPROTO',
  ],
];

for (const [name, behave, message, code] of MALFORMED) {
  test(`malformed proxy answer: ${name}`, async (t) => {
    const proxy = await fakeProxy(t, behave);
    const { result, socket } = await openProxyTunnel({ host: '127.0.0.1', port: 443 }, proxy.url, ctx());
    assert.equal(socket, null, 'no tunnel is handed back');
    assert.equal(result.outcome, 'malformed', JSON.stringify(result));
    assert.equal(result.error?.phase, 'answer');
    assert.equal(result.error?.code, code);
    assert.match(result.error?.message ?? '', message);
    await closed(proxy.accepted[0]);
  });
}

test('a proxy that never answers CONNECT: timeout at the time limit, connection closed', async (t) => {
  const proxy = await fakeProxy(t, () => {});
  const result = await probeProxyConnect({ host: '127.0.0.1', port: 443 }, proxy.url, ctx({ timeoutMs: 300 }));
  assert.equal(result.outcome, 'timeout');
  assert.equal(result.error?.code, 'ETIMEDOUT');
  assert.match(result.error?.message ?? '', /did not answer CONNECT within 300 ms/);
  await closed(proxy.accepted[0]);
});

test('a proxy that stops mid-answer: timeout naming what arrived', async (t) => {
  const proxy = await fakeProxy(t, (s) => s.write('HTTP/1.1 200 Conn'));
  const result = await probeProxyConnect({ host: '127.0.0.1', port: 443 }, proxy.url, ctx({ timeoutMs: 300 }));
  assert.equal(result.outcome, 'timeout');
  assert.match(result.error?.message ?? '', /stopped after 17 bytes/);
});

test('the check being cancelled stops the wait (ABORTED), promptly', async (t) => {
  const proxy = await fakeProxy(t, () => {});
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const result = await probeProxyConnect(
    { host: '127.0.0.1', port: 443 },
    proxy.url,
    ctx({ signal: controller.signal, timeoutMs: 60_000 }),
  );
  assert.equal(result.outcome, 'timeout');
  assert.equal(result.error?.code, 'ABORTED');
  await closed(proxy.accepted[0]);
});

test('a tolerated answer: HTTP/1.0 200 with bare LF line ends is a tunnel', async (t) => {
  const proxy = await fakeProxy(t, (s) => s.write('HTTP/1.0 200 Connection established\nVia: 1.1 squid\n\n'));
  const { result, socket } = await openProxyTunnel({ host: '127.0.0.1', port: 443 }, proxy.url, ctx());
  t.after(() => socket?.destroy());
  assert.equal(result.outcome, 'established', JSON.stringify(result));
  assert.equal(result.server, '1.1 squid');
  socket?.destroy();
  await closed(proxy.accepted[0]);
});
