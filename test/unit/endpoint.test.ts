import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { probeEndpoint } from '../../src/probes/endpoint.js';
import type { EndpointContext } from '../../src/probes/endpoint.js';
import { loadTrust, SYSTEM_CA_BUNDLES } from '../../src/probes/trust.js';
import type { EndpointReport } from '../../src/report/types.js';
import { createCa, issueServerCert, removeCa } from '../support/pki.js';
import type { Ca } from '../support/pki.js';
import { ipPath } from '../lab/lab-process.js';
import { findTool } from '../lab/require-lab.js';
import {
  createTestNetns,
  ipIn,
  isolateLookups,
  netnsUnavailable,
  nodeInNetns,
  REPO_ROOT,
  skipOrFail,
} from '../support/netns.js';

// ---------- loopback servers ----------

interface Listening {
  port: number;
  /** Server-side sockets, to see that the probe closed its end. */
  accepted: Socket[];
}

async function listen(t: TestContext, server: Server, host: string): Promise<Listening> {
  const accepted: Socket[] = [];
  server.on('connection', (s: Socket) => {
    accepted.push(s);
    s.on('error', () => {});
  });
  // TLS servers report handshake failures here; the client's view is what the tests assert.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  t.after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, accepted };
}

/** Resolves when the server side sees the connection closed; a generous bound turns a leak into a failure, not a hang. */
function closed(socket: Socket | undefined): Promise<void> {
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

function useCa(t: TestContext, name?: string): Ca {
  const ca = createCa(name);
  t.after(() => removeCa(ca));
  return ca;
}

async function context(caFile: string | null, over: Partial<EndpointContext> = {}): Promise<EndpointContext> {
  const trust = await loadTrust(caFile);
  assert.deepEqual(trust.problems, []);
  return { signal: new AbortController().signal, timeoutMs: 5000, secureContext: trust.secureContext, ...over };
}

// The real system resolver is only ever asked for `localhost`, which /etc/hosts answers: no query leaves.
const localhost = (await lookup('localhost')).address;

const tlsNames = {
  open: 'eflow-netdiag Test Root CA',
  inspector: 'Contoso TLS Inspection CA',
} as const;

// ---------- open and tls-untrusted ----------

test('open: trusted chain for the name asked, through the system resolver', async (t) => {
  const ca = useCa(t, tlsNames.open);
  const cert = issueServerCert(ca, ['localhost']);
  const srv = await listen(t, createTlsServer({ key: cert.key, cert: cert.chain }), localhost);
  const report = await probeEndpoint(
    { host: 'localhost', port: srv.port, protocol: 'mqtt' },
    await context(ca.certFile),
  );

  assert.equal(report.outcome, 'open', JSON.stringify(report));
  assert.equal(report.address, localhost);
  assert.equal(report.error, undefined);
  assert.equal(typeof report.resolveMs, 'number');
  assert.equal(typeof report.tcpConnectMs, 'number');
  assert.equal(typeof report.tls?.handshakeMs, 'number');
  assert.match(report.tls?.protocol ?? '', /^TLSv1\.[23]$/);
  assert.equal(report.tls?.authorized, true);
  assert.equal(report.tls?.authorizationError, null);
  assert.equal(report.tls?.subject, 'localhost');
  assert.equal(report.tls?.issuer, ca.name);
  assert.equal(report.tls?.rootIssuer, ca.name);
  assert.ok(
    report.tls?.validTo && new Date(report.tls.validTo).getTime() > Date.now(),
    report.tls?.validTo ?? 'no validTo',
  );
  // The probe must not leave its socket open.
  await closed(srv.accepted[0]);
});

test('open: an IP literal skips the resolver and is checked against the IP SAN', async (t) => {
  const ca = useCa(t);
  const cert = issueServerCert(ca, ['127.0.0.1']);
  const srv = await listen(t, createTlsServer({ key: cert.key, cert: cert.chain }), '127.0.0.1');
  const report = await probeEndpoint(
    { host: '127.0.0.1', port: srv.port, protocol: 'https' },
    await context(ca.certFile, { lookup: async () => assert.fail('an IP literal must not be looked up') }),
  );
  assert.equal(report.outcome, 'open', JSON.stringify(report));
  assert.equal(report.address, '127.0.0.1');
  assert.equal(report.resolveMs, null);
});

test('tls-untrusted: a chain from an unknown CA names that CA as issuer and root', async (t) => {
  const trusted = useCa(t);
  const inspector = useCa(t, tlsNames.inspector);
  const cert = issueServerCert(inspector, ['localhost']);
  const srv = await listen(t, createTlsServer({ key: cert.key, cert: cert.chain }), localhost);
  const report = await probeEndpoint(
    { host: 'localhost', port: srv.port, protocol: 'https' },
    await context(trusted.certFile),
  );

  assert.equal(report.outcome, 'tls-untrusted', JSON.stringify(report));
  assert.equal(report.tls?.authorized, false);
  assert.equal(report.tls?.authorizationError, 'SELF_SIGNED_CERT_IN_CHAIN');
  assert.equal(report.tls?.issuer, tlsNames.inspector);
  assert.equal(report.tls?.rootIssuer, tlsNames.inspector);
  assert.equal(report.tls?.subject, 'localhost');
  assert.equal(report.error?.phase, 'tls');
  assert.equal(report.error?.code, 'SELF_SIGNED_CERT_IN_CHAIN');
  assert.match(report.error?.message ?? '', /Contoso TLS Inspection CA/);
  await closed(srv.accepted[0]);
});

test('tls-untrusted: a leaf sent without its CA still names the issuer', async (t) => {
  const inspector = useCa(t, tlsNames.inspector);
  const cert = issueServerCert(inspector, ['localhost']);
  const srv = await listen(t, createTlsServer({ key: cert.key, cert: cert.cert }), localhost);
  const report = await probeEndpoint({ host: 'localhost', port: srv.port, protocol: 'amqp' }, await context(null));
  assert.equal(report.outcome, 'tls-untrusted', JSON.stringify(report));
  assert.equal(report.tls?.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.equal(report.tls?.issuer, tlsNames.inspector);
  assert.equal(report.tls?.rootIssuer, tlsNames.inspector);
});

test('tls-untrusted: a trusted chain for another name is a name mismatch', async (t) => {
  const ca = useCa(t);
  const cert = issueServerCert(ca, ['other-hub.azure-devices.net']);
  const srv = await listen(t, createTlsServer({ key: cert.key, cert: cert.chain }), localhost);
  const report = await probeEndpoint(
    { host: 'localhost', port: srv.port, protocol: 'mqtt' },
    await context(ca.certFile),
  );
  assert.equal(report.outcome, 'tls-untrusted', JSON.stringify(report));
  assert.equal(report.tls?.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.equal(report.tls?.subject, 'other-hub.azure-devices.net');
  assert.equal(report.error?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.match(report.error?.message ?? '', /altnames/);
});

test('tls-untrusted: an IP literal the certificate does not list', async (t) => {
  const ca = useCa(t);
  const cert = issueServerCert(ca, ['localhost']);
  const srv = await listen(t, createTlsServer({ key: cert.key, cert: cert.chain }), '127.0.0.1');
  const report = await probeEndpoint(
    { host: '127.0.0.1', port: srv.port, protocol: 'mqtt' },
    await context(ca.certFile),
  );
  assert.equal(report.outcome, 'tls-untrusted', JSON.stringify(report));
  assert.equal(report.tls?.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.match(report.error?.message ?? '', /IP: 127\.0\.0\.1/);
});

// ---------- tls-failed ----------

const tcpCases: { name: string; onConnection: (s: Socket) => void }[] = [
  { name: 'accepts then closes', onConnection: (s) => s.end() },
  // Reset on the ClientHello: a reset right at accept can reach the client before its connect
  // completes, which it rightly sees as a connect-phase reset (rejected).
  { name: 'resets the ClientHello', onConnection: (s) => s.once('data', () => s.resetAndDestroy()) },
  { name: 'answers garbage instead of a ServerHello', onConnection: (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n') },
];
for (const c of tcpCases) {
  test(`tls-failed: a TCP server that ${c.name}`, async (t) => {
    const srv = await listen(t, createServer(c.onConnection), '127.0.0.1');
    const report = await probeEndpoint({ host: '127.0.0.1', port: srv.port, protocol: 'amqp' }, await context(null));
    assert.equal(report.outcome, 'tls-failed', JSON.stringify(report));
    assert.equal(typeof report.tcpConnectMs, 'number');
    assert.equal(report.error?.phase, 'tls');
    assert.notEqual(report.error?.code, 'ETIMEDOUT');
    assert.equal(report.tls?.authorized, false);
    assert.equal(report.tls?.handshakeMs, null);
  });
}

test('tls-failed: a TCP server that says nothing until the timeout', async (t) => {
  // It reads (and ignores) the ClientHello, so it also sees the probe hang up.
  const srv = await listen(
    t,
    createServer((s) => s.resume()),
    '127.0.0.1',
  );
  const report = await probeEndpoint(
    { host: '127.0.0.1', port: srv.port, protocol: 'mqtt' },
    await context(null, { timeoutMs: 300 }),
  );
  assert.equal(report.outcome, 'tls-failed', JSON.stringify(report));
  assert.deepEqual(report.error, { phase: 'tls', code: 'ETIMEDOUT', message: 'tls got no answer within 300 ms' });
  await closed(srv.accepted[0]);
});

// ---------- rejected and unresolved ----------

test('rejected: a port that was listened on, then closed', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const report = await probeEndpoint({ host: '127.0.0.1', port, protocol: 'amqp' }, await context(null));
  assert.equal(report.outcome, 'rejected');
  assert.equal(report.error?.phase, 'connect');
  assert.equal(report.error?.code, 'ECONNREFUSED');
  assert.equal(report.tcpConnectMs, null);
  assert.equal(report.tls, undefined);
});

const resolveErrors = ['ENOTFOUND', 'EAI_AGAIN'];
for (const code of resolveErrors) {
  test(`unresolved: the resolver fails with ${code}`, async () => {
    const failing = async (host: string): Promise<string> => {
      throw Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code });
    };
    const report = await probeEndpoint(
      { host: 'hub.invalid', port: 8883, protocol: 'mqtt' },
      await context(null, { lookup: failing }),
    );
    assert.equal(report.outcome, 'unresolved');
    assert.equal(report.address, null);
    assert.deepEqual(report.error, { phase: 'resolve', code, message: `getaddrinfo ${code} hub.invalid` });
    assert.equal(typeof report.resolveMs, 'number');
    assert.equal(report.tls, undefined);
  });
}

test('unresolved: a resolver that returns something other than an address', async () => {
  const report = await probeEndpoint(
    { host: 'hub.invalid', port: 8883, protocol: 'mqtt' },
    await context(null, { lookup: async () => 'elsewhere.invalid' }),
  );
  assert.equal(report.outcome, 'unresolved');
  assert.equal(report.address, null);
  assert.equal(report.error?.code, 'EBADRESP');
});

test('unresolved: a resolver that never answers is abandoned at the timeout, leaving no timer', async () => {
  const ctx = await context(null, { timeoutMs: 200, lookup: () => new Promise<string>(() => {}) });
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const report = await probeEndpoint({ host: 'hub.invalid', port: 8883, protocol: 'mqtt' }, ctx);
  assert.equal(report.outcome, 'unresolved');
  assert.equal(report.error?.code, 'ETIMEDOUT');
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore);
});

// ---------- cancellation ----------

test('abort while waiting for the resolver: stops and reports it', async () => {
  const controller = new AbortController();
  const ctx = await context(null, {
    timeoutMs: 600_000,
    signal: controller.signal,
    lookup: () => {
      setImmediate(() => controller.abort());
      return new Promise<string>(() => {});
    },
  });
  const report = await probeEndpoint({ host: 'hub.invalid', port: 443, protocol: 'https' }, ctx);
  assert.equal(report.outcome, 'unresolved');
  assert.equal(report.error?.code, 'ABORTED');
});

test(
  'abort during a silent handshake: stops promptly, reports tls-failed/ABORTED and closes the socket',
  { timeout: 20_000 },
  async (t) => {
    const controller = new AbortController();
    // The probe's own timeout is far beyond the test's: only the signal can end it in time.
    const srv = await listen(
      t,
      createServer((s) => {
        s.resume();
        setImmediate(() => controller.abort());
      }),
      '127.0.0.1',
    );
    const ctx = await context(null, { timeoutMs: 600_000, signal: controller.signal });
    const report = await probeEndpoint({ host: '127.0.0.1', port: srv.port, protocol: 'mqtt' }, ctx);
    assert.equal(report.outcome, 'tls-failed', JSON.stringify(report));
    assert.equal(report.error?.phase, 'tls');
    assert.equal(report.error?.code, 'ABORTED');
    await closed(srv.accepted[0]);
  },
);

test('already aborted: nothing is started', async () => {
  const ctx = await context(null, { signal: AbortSignal.abort(), lookup: async () => assert.fail('must not resolve') });
  const report = await probeEndpoint({ host: 'hub.invalid', port: 443, protocol: 'https' }, ctx);
  assert.equal(report.outcome, 'skipped');
  assert.equal(report.error?.code, 'ABORTED');
});

// ---------- trust ----------

test('loadTrust: the ca-file is trusted; unreadable or non-PEM files are problems, not throws', async (t) => {
  const ca = useCa(t);
  const good = await loadTrust(ca.certFile);
  assert.deepEqual(good.problems, []);
  assert.equal(good.caFileCertificates, 1);

  const missing = await loadTrust('/nonexistent/ca.pem');
  assert.equal(missing.problems.length, 1);
  assert.match(missing.problems[0] ?? '', /could not read --ca-file \/nonexistent\/ca\.pem: .*ENOENT/);

  const notPem = join(ca.dir, 'not.pem');
  writeFileSync(notPem, 'this is not a certificate\n');
  const bad = await loadTrust(notPem);
  assert.match(bad.problems[0] ?? '', new RegExp(`--ca-file ${notPem} contains no PEM certificate`));

  const half = join(ca.dir, 'half.pem');
  writeFileSync(half, `${ca.cert}\n-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n`);
  const partly = await loadTrust(half);
  assert.equal(partly.caFileCertificates, 1);
  assert.match(partly.problems[0] ?? '', /1 of 2 certificate block\(s\) could not be parsed/);
});

test('loadTrust: the first existing system bundle is added, and its roots are trusted', async (t) => {
  const ca = useCa(t, 'Corporate Root In The OS Bundle');
  const reads: string[] = [];
  const trust = await loadTrust(null, async (path) => {
    reads.push(path);
    if (path === SYSTEM_CA_BUNDLES[1]) return ca.cert; // as on CBL-Mariner
    throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  });
  assert.deepEqual(reads, SYSTEM_CA_BUNDLES.slice(0, 2));
  assert.equal(trust.systemBundle, SYSTEM_CA_BUNDLES[1]);
  assert.deepEqual(trust.problems, []);

  const cert = issueServerCert(ca, ['localhost']);
  const srv = await listen(t, createTlsServer({ key: cert.key, cert: cert.chain }), localhost);
  const report = await probeEndpoint(
    { host: 'localhost', port: srv.port, protocol: 'https' },
    { signal: new AbortController().signal, timeoutMs: 5000, secureContext: trust.secureContext },
  );
  assert.equal(report.outcome, 'open', JSON.stringify(report));
});

test('loadTrust: an unreadable (not missing) system bundle is a problem, and the next one is used', async () => {
  const trust = await loadTrust(null, async (path) => {
    if (path === SYSTEM_CA_BUNDLES[0]) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    if (path === SYSTEM_CA_BUNDLES[1]) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return readFileSync(new URL(import.meta.url), 'utf8'); // no PEM inside: adds nothing, breaks nothing
  });
  assert.equal(trust.systemBundle, SYSTEM_CA_BUNDLES[2]);
  assert.equal(trust.problems.length, 1);
  assert.match(trust.problems[0] ?? '', new RegExp(`${SYSTEM_CA_BUNDLES[0]}: EACCES`));
});

// ---------- blocked, unreachable and a real failed lookup, in a throw-away namespace ----------

interface NsTarget {
  label: string;
  host: string;
  port: number;
  timeoutMs: number;
  /** Abort the probe's signal after this long (the check's deadline). */
  abortAfterMs?: number;
}

function probeIn(ns: string, targets: NsTarget[]): Record<string, EndpointReport> {
  const code = `
    import { createSecureContext } from 'node:tls';
    import { probeEndpoint } from ${JSON.stringify(join(REPO_ROOT, 'src/probes/endpoint.ts'))};
    const targets = ${JSON.stringify(targets)};
    const secureContext = createSecureContext();
    const results = await Promise.all(targets.map(async (t) => {
      const signal = t.abortAfterMs === undefined ? new AbortController().signal : AbortSignal.timeout(t.abortAfterMs);
      return [t.label, await probeEndpoint({ host: t.host, port: t.port, protocol: 'custom' }, { signal, timeoutMs: t.timeoutMs, secureContext })];
    }));
    process.stdout.write(JSON.stringify(Object.fromEntries(results)));`;
  return nodeInNetns<Record<string, EndpointReport>>(ns, code, 60_000);
}

test(
  'in a namespace: dropped SYN → blocked, ICMP/route errors → unreachable, TCP reset → rejected, dead resolver → unresolved',
  { timeout: 90_000 },
  (t) => {
    const missing = netnsUnavailable(['nft']);
    if (missing) return skipOrFail(t, missing);
    const ns = createTestNetns(t); // removed, with /etc/netns/<ns>, when the test ends
    if (ns === null) return;
    const ip = (...args: string[]): void => ipIn(ns, ...args);
    // The namespace's resolver is a loopback address where nothing listens, and glibc asks nothing
    // else (files and DNS only): a lookup fails without leaving the namespace.
    isolateLookups(ns, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0');
    ip('addr', 'add', '198.18.40.10/24', 'dev', 'eth0');
    ip('addr', 'add', '198.18.40.1/24', 'dev', 'peer0');
    ip('link', 'set', 'eth0', 'up');
    ip('link', 'set', 'peer0', 'up');
    const rules = `
    table inet netdiag_test {
      chain input {
        type filter hook input priority 0; policy accept;
        ip daddr 198.18.40.1 tcp dport 8883 drop
        ip daddr 198.18.40.1 tcp dport 5671 reject with tcp reset
        ip daddr 198.18.40.1 tcp dport 443 reject with icmp type host-unreachable
      }
    }`;
    execFileSync(ipPath(), ['netns', 'exec', ns, findTool('nft') ?? 'nft', '-f', '-'], {
      input: rules,
      stdio: ['pipe', 'ignore', 'pipe'],
    });

    const targets: NsTarget[] = [
      { label: 'dropped', host: '198.18.40.1', port: 8883, timeoutMs: 1000 },
      { label: 'deadline', host: '198.18.40.1', port: 8883, timeoutMs: 600_000, abortAfterMs: 500 },
      { label: 'reset', host: '198.18.40.1', port: 5671, timeoutMs: 2000 },
      { label: 'icmpUnreachable', host: '198.18.40.1', port: 443, timeoutMs: 2000 },
      { label: 'noRoute', host: '198.18.99.1', port: 443, timeoutMs: 2000 },
      { label: 'deadResolver', host: 'lab-hub.invalid', port: 8883, timeoutMs: 5000 },
    ];

    const r = probeIn(ns, targets);
    assert.equal(r['dropped']?.outcome, 'blocked', JSON.stringify(r['dropped']));
    assert.deepEqual(r['dropped']?.error, {
      phase: 'connect',
      code: 'ETIMEDOUT',
      message: 'connect got no answer within 1000 ms',
    });
    assert.equal(r['dropped']?.tls, undefined);
    assert.equal(r['deadline']?.outcome, 'blocked', JSON.stringify(r['deadline']));
    assert.equal(r['deadline']?.error?.code, 'ABORTED');
    assert.equal(r['reset']?.outcome, 'rejected', JSON.stringify(r['reset']));
    assert.equal(r['reset']?.error?.code, 'ECONNREFUSED');
    assert.equal(r['icmpUnreachable']?.outcome, 'unreachable', JSON.stringify(r['icmpUnreachable']));
    assert.equal(r['icmpUnreachable']?.error?.code, 'EHOSTUNREACH');
    assert.equal(r['noRoute']?.outcome, 'unreachable', JSON.stringify(r['noRoute']));
    assert.equal(r['noRoute']?.error?.code, 'ENETUNREACH');
    assert.equal(r['deadResolver']?.outcome, 'unresolved', JSON.stringify(r['deadResolver']));
    assert.equal(r['deadResolver']?.error?.phase, 'resolve');
    assert.equal(r['deadResolver']?.address, null);
  },
);
