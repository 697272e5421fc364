/**
 * Trust (CONTRACT 7.3): the VM's own CA store (+ --ca-file) and nothing else; the VM bundle under
 * /etc/pki wins over the image's /etc/ssl one; with no bundle only --ca-file is trusted and that is
 * said; Node's bundled roots are only evidence (tls-chain.ts), against real loopback TLS servers
 * with throw-away CAs.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { connect, createServer, rootCertificates, type TLSSocket } from 'node:tls';
import { probeEndpoint } from '../../src/probes/endpoint.js';
import { altNamesOf, chainVerifiesAgainst, emptyTlsReport, readHandshake } from '../../src/probes/tls-chain.js';
import { SYSTEM_CA_BUNDLES, loadTrust, publicRoots, type TrustCache } from '../../src/probes/trust.js';
import { createCa, issueServerCert, removeCa, type Ca } from '../support/pki.js';

function ca(t: TestContext, name: string): Ca {
  const made = createCa(name);
  t.after(() => removeCa(made));
  return made;
}

async function serve(t: TestContext, authority: Ca): Promise<number> {
  const cert = issueServerCert(authority, ['localhost', '127.0.0.1']);
  const accepted = new Set<Socket>();
  const server = createServer({ key: cert.key, cert: cert.chain }, (s) => s.on('error', () => {}));
  server.on('connection', (s: Socket) => {
    accepted.add(s);
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    // close() waits for open connections: end ours first, so a test's leftover socket cannot hang it.
    for (const s of accepted) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

const enoent = (path: string) => Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });

test("the VM's bundle (/etc/pki) wins over the image's own (/etc/ssl) when both exist", async (t) => {
  assert.equal(SYSTEM_CA_BUNDLES[0], '/etc/pki/tls/certs/ca-bundle.crt');
  const vm = ca(t, 'Root In The VM Store');
  const image = ca(t, 'Root Only In The Image Store');
  const trust = await loadTrust(null, async (path) => {
    if (path === '/etc/pki/tls/certs/ca-bundle.crt') return vm.cert;
    if (path === '/etc/ssl/certs/ca-certificates.crt') return image.cert;
    throw enoent(path);
  });
  assert.equal(trust.systemBundle, '/etc/pki/tls/certs/ca-bundle.crt');
  const ctx = { signal: new AbortController().signal, timeoutMs: 3000, secureContext: trust.secureContext };
  const target = (port: number) => ({ host: '127.0.0.1', port, protocol: 'https' as const });
  assert.equal((await probeEndpoint(target(await serve(t, vm)), ctx)).outcome, 'open');
  const other = await probeEndpoint(target(await serve(t, image)), ctx);
  assert.equal(other.outcome, 'tls-untrusted', 'the image store is not the VM store');
});

test('no system bundle at all: only --ca-file is trusted, and the report says so', async (t) => {
  const extra = ca(t, 'Only In The CA File');
  const other = ca(t, 'In No Store');
  const trust = await loadTrust(extra.certFile, async (path) => {
    if (path === extra.certFile) return extra.cert;
    throw enoent(path);
  });
  assert.equal(trust.systemBundle, null);
  assert.match(trust.problems.join('\n'), /no system CA bundle was found .*only --ca-file is trusted/);
  const ctx = { signal: new AbortController().signal, timeoutMs: 3000, secureContext: trust.secureContext };
  const target = (port: number) => ({ host: '127.0.0.1', port, protocol: 'https' as const });
  assert.equal((await probeEndpoint(target(await serve(t, extra)), ctx)).outcome, 'open');
  assert.equal((await probeEndpoint(target(await serve(t, other)), ctx)).outcome, 'tls-untrusted');
});

test("Node's public roots are parsed once per cache, on demand, and are the bundled ones", () => {
  const cache: TrustCache = { last: null };
  const roots = publicRoots(cache);
  assert.ok(roots.length > 50 && roots.length <= rootCertificates.length);
  assert.equal(publicRoots(cache), roots, 'parsed once');
});

/** A real handshake to a server of `authority`, trusting nothing: the chain seen, unverified. */
async function untrustedHandshake(t: TestContext, authority: Ca): Promise<TLSSocket> {
  const port = await serve(t, authority);
  const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ca: [] });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  return socket;
}

test('readHandshake: an unverified chain is checked against the given public roots, as evidence only', async (t) => {
  const root = ca(t, 'DigiCert Global Root G2');
  const socket = await untrustedHandshake(t, root);
  const tls = emptyTlsReport();
  const verdict = readHandshake(socket, 'localhost', tls, () => [new X509Certificate(root.cert)]);
  assert.ok(verdict !== null, 'not trusted by the (empty) store');
  assert.equal(tls.authorized, false);
  assert.equal(tls.publicRootsVerify, true, 'the given roots verify it');
  assert.equal(tls.rootIssuer, 'DigiCert Global Root G2');
  assert.deepEqual(tls.altNames, ['localhost', '127.0.0.1']);
  assert.ok(typeof tls.validFrom === 'string' && !Number.isNaN(Date.parse(tls.validFrom)));

  const none = emptyTlsReport();
  readHandshake(socket, 'localhost', none, () => publicRoots({ last: null }));
  assert.equal(none.publicRootsVerify, false, 'a lab-made root is in no public store');
});

test('chainVerifiesAgainst: an empty chain, an empty root set and a stranger root all say no', async (t) => {
  const root = ca(t, 'Lab Root');
  const stranger = ca(t, 'Stranger Root');
  const socket = await untrustedHandshake(t, root);
  const leaf = socket.getPeerCertificate(true);
  assert.equal(chainVerifiesAgainst(leaf, [new X509Certificate(root.cert)]), true);
  assert.equal(chainVerifiesAgainst(leaf, [new X509Certificate(stranger.cert)]), false);
  assert.equal(chainVerifiesAgainst(leaf, []), false);
  assert.equal(chainVerifiesAgainst(undefined, [new X509Certificate(root.cert)]), false);
});

test('altNamesOf reads DNS and IP entries', () => {
  assert.deepEqual(altNamesOf('DNS:a.example, DNS:*.b.example, IP Address:198.18.1.10'), [
    'a.example',
    '*.b.example',
    '198.18.1.10',
  ]);
  assert.deepEqual(altNamesOf(undefined), []);
});
