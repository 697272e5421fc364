/**
 * Loopback servers for the proxy and exchange probes: a real tinyproxy, a real mosquitto with
 * TLS, scriptable TCP/TLS listeners, and the bookkeeping that makes sure no socket or child
 * outlives its test (everything started is stopped in t.after, and the test can wait for the
 * server side of a connection to see it closed).
 *
 * tinyproxy and mosquitto are lab tools: missing, a test skips with the reason, or fails under
 * CI=true (skipOrFail).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { findTool } from '../lab/require-lab.js';
import { skipOrFail } from './netns.js';
import { createCa, issueServerCert, removeCa, type Ca, type ServerCert } from './pki.js';

export interface Listening {
  port: number;
  /** Server-side sockets, in order of arrival. */
  accepted: Socket[];
}

/** Listens on 127.0.0.1:0; every accepted socket and the server are closed after the test. */
export async function listen(t: TestContext, server: Server): Promise<Listening> {
  const accepted: Socket[] = [];
  server.on('connection', (s: Socket) => {
    accepted.push(s);
    s.on('error', () => {});
  });
  server.on('secureConnection', (s: TLSSocket) => s.on('error', () => {}));
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  t.after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, accepted };
}

/** A TCP server whose every connection runs `onConnection`. */
export function tcpServer(t: TestContext, onConnection: (socket: Socket) => void): Promise<Listening> {
  return listen(t, createServer(onConnection));
}

/** A TLS server (certificate for 127.0.0.1 from `cert`) whose every secure connection runs `onSecure`. */
export function tlsServer(t: TestContext, cert: ServerCert, onSecure: (socket: TLSSocket) => void): Promise<Listening> {
  return listen(t, createTlsServer({ key: cert.key, cert: cert.chain }, onSecure));
}

/** A throw-away CA and a server certificate for 127.0.0.1 and localhost, removed after the test. */
export function loopbackPki(t: TestContext): { ca: Ca; cert: ServerCert } {
  const ca = createCa('eflow-netdiag Proxy Test Root');
  t.after(() => removeCa(ca));
  return { ca, cert: issueServerCert(ca, ['127.0.0.1', 'localhost']) };
}

/** Resolves when the server side sees the connection closed; a bound turns a leak into a failure. */
export function closed(socket: Socket | undefined): Promise<void> {
  assert.ok(socket, 'the server never saw a connection');
  if (socket.closed || socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('the probe left its connection open')), 10_000);
    socket.once('close', () => {
      clearTimeout(guard);
      resolve();
    });
  });
}

/** A port that was free a moment ago (the kernel's pick, released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, what: string, output: () => string): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) assert.fail(`${what} exited (${child.exitCode}): ${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what} did not listen on 127.0.0.1:${port}: ${output()}`);
}

/** Spawns a lab daemon in the foreground, stopped (and awaited) after the test. */
async function daemon(t: TestContext, binary: string, args: string[], port: number, what: string): Promise<void> {
  let output = '';
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const guard = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(guard);
  });
  await waitForPort(port, child, what, () => output);
}

export interface TinyproxyOptions {
  /** `BasicAuth user pass`: CONNECT without them gets 407. */
  basicAuth?: { user: string; password: string };
  /** The only ports CONNECT may reach (tinyproxy answers 403 to others). */
  connectPorts: number[];
}

/** A real tinyproxy on 127.0.0.1, or null (after skip-or-fail) when it is not installed. */
export async function startTinyproxy(t: TestContext, opts: TinyproxyOptions): Promise<{ port: number } | null> {
  const binary = findTool('tinyproxy');
  if (binary === null) {
    skipOrFail(t, 'tinyproxy is not installed (apt-get install -y tinyproxy)');
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), `netdiag-tinyproxy-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 10',
    'MaxClients 20',
    'Allow 127.0.0.1',
    'LogLevel Info',
    ...opts.connectPorts.map((p) => `ConnectPort ${p}`),
    ...(opts.basicAuth ? [`BasicAuth ${opts.basicAuth.user} ${opts.basicAuth.password}`] : []),
  ];
  writeFileSync(join(dir, 'tinyproxy.conf'), `${lines.join('\n')}\n`);
  await daemon(t, binary, ['-d', '-c', join(dir, 'tinyproxy.conf')], port, 'tinyproxy');
  return { port };
}

/** A real mosquitto with a TLS listener on 127.0.0.1 (certificate from `cert`), or null after skip-or-fail. */
export async function startMosquittoTls(t: TestContext, cert: ServerCert): Promise<{ port: number } | null> {
  const binary = findTool('mosquitto');
  if (binary === null) {
    skipOrFail(t, 'mosquitto is not installed (apt-get install -y mosquitto)');
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), `netdiag-mosquitto-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Started as root, mosquitto drops to its own user before it reads the certificate.
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'server.crt'), cert.chain);
  writeFileSync(join(dir, 'server.key'), cert.key, { mode: 0o644 });
  const port = await freePort();
  const conf = [
    'per_listener_settings true',
    `listener ${port} 127.0.0.1`,
    `certfile ${join(dir, 'server.crt')}`,
    `keyfile ${join(dir, 'server.key')}`,
    // A device's fake credentials must be refused, as IoT Hub refuses them (CONNACK 5).
    'allow_anonymous false',
    `password_file ${join(dir, 'passwd')}`,
    'persistence false',
    'log_dest stderr',
  ];
  writeFileSync(join(dir, 'passwd'), '', { mode: 0o644 });
  writeFileSync(join(dir, 'mosquitto.conf'), `${conf.join('\n')}\n`);
  await daemon(t, binary, ['-c', join(dir, 'mosquitto.conf')], port, 'mosquitto');
  return { port };
}
