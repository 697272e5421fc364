import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHostsFile, sharedLookup, systemLookup } from '../../src/probes/system-lookup.js';
import { startDnsServer } from '../support/dns-server.js';

const HOSTS = `127.0.0.1 localhost\n# 198.18.9.9 commented.lab\n198.18.1.10  hub.lab Hub-Alias.lab # pinned\nfd00::10 v6only.lab\n`;

test('system lookup: /etc/hosts entries, aliases, case, comments and IPv6', () => {
  assert.equal(fromHostsFile(HOSTS, 'hub.lab'), '198.18.1.10');
  assert.equal(fromHostsFile(HOSTS, 'hub-alias.LAB'), '198.18.1.10');
  assert.equal(fromHostsFile(HOSTS, 'commented.lab'), null);
  assert.equal(fromHostsFile(HOSTS, 'v6only.lab'), 'fd00::10');
  assert.equal(fromHostsFile('garbage\n\0\n', 'x'), null);
});

test('system lookup: the hosts file wins, IP literals pass through, each host is asked once', async () => {
  let reads = 0;
  const lookup = sharedLookup(
    systemLookup({ timeoutMs: 500, readText: async () => (reads++, HOSTS), servers: ['127.0.0.1:9'] }),
  );
  const signal = new AbortController().signal;
  assert.deepEqual(await Promise.all([lookup('hub.lab', signal), lookup('hub.lab', signal)]), [
    '198.18.1.10',
    '198.18.1.10',
  ]);
  assert.equal(reads, 1);
  assert.equal(await systemLookup({ timeoutMs: 500 })('198.18.0.1', signal), '198.18.0.1');
});

test('system lookup: answers and NXDOMAIN from the configured server (loopback)', async () => {
  const server = await startDnsServer({ host: '127.0.0.1', mode: 'answer', records: { 'hub.lab': ['198.18.1.10'] } });
  try {
    const lookup = systemLookup({ timeoutMs: 1000, readText: async () => '', servers: [`127.0.0.1:${server.port}`] });
    const signal = new AbortController().signal;
    assert.equal(await lookup('hub.lab', signal), '198.18.1.10');
    await assert.rejects(lookup('nope.lab', signal), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND');
  } finally {
    await server.close();
  }
});

test('system lookup: a silent server is given up on when the probe aborts, leaving nothing pending', async () => {
  const server = await startDnsServer({ host: '127.0.0.1', mode: 'silent' });
  try {
    const lookup = systemLookup({ timeoutMs: 60_000, readText: async () => '', servers: [`127.0.0.1:${server.port}`] });
    const controller = new AbortController();
    const pending = lookup('hub.lab', controller.signal);
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(pending, (e: NodeJS.ErrnoException) => e.code === 'ETIMEDOUT');
  } finally {
    await server.close();
  }
});
