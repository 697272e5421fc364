import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GLIBC_MAXNS, parseResolvConf, readResolvers } from '../../src/probes/resolvers.js';

const DIR = fileURLToPath(new URL('../fixtures/resolv/', import.meta.url));
const path = (name: string): string => `${DIR}${name}`;
const fixture = (name: string): string => readFileSync(path(name), 'utf8');

test('parseResolvConf: the stub file names only 127.0.0.53; options and search are ignored', () => {
  assert.deepEqual(parseResolvConf(fixture('stub-resolv.conf')), { servers: ['127.0.0.53'], problems: [] });
});

test('parseResolvConf: comments (# and ;), a tab, a trailing comment, IPv6 with %zone, duplicates removed in order', () => {
  const got = parseResolvConf(fixture('static.conf'));
  assert.deepEqual(got.servers, ['198.18.1.53', '198.18.1.54', 'fe80::53%eth0']);
  assert.deepEqual(got.problems, ['some nameservers are listed more than once']);
});

test('parseResolvConf: invalid nameserver lines are problems with their line number, valid ones are kept', () => {
  const got = parseResolvConf(fixture('invalid.conf'));
  assert.deepEqual(got.servers, ['198.18.1.55', '198.18.1.58']);
  assert.deepEqual(got.problems, [
    'line 1: nameserver without an address',
    'line 2: nameserver "198.18.1.300" is not an IPv4 or IPv6 address',
    'line 3: nameserver "dns.contoso.local" is not an IPv4 or IPv6 address',
    'line 4: nameserver "198.18.1.53:53" is not an IPv4 or IPv6 address',
    'line 5: nameserver "198.18.1.53%eth0" has a %zone, which only IPv6 addresses take',
    'line 6: nameserver "fe80::1%" has an invalid %zone',
    'line 7: text after the address is ignored: "extra words"',
    'line 8: not understood: "NAMESERVER 198.18.1.56"',
    'line 9: not understood: "nameserver198.18.1.57"',
    'line 10: not understood: "this line is not resolv.conf syntax"',
  ]);
});

test('parseResolvConf: empty text, only comments, CRLF', () => {
  assert.deepEqual(parseResolvConf(''), { servers: [], problems: [] });
  assert.deepEqual(parseResolvConf('# nothing\n; here\n\n   \n'), { servers: [], problems: [] });
  assert.deepEqual(parseResolvConf('nameserver 198.18.1.53\r\nnameserver 198.18.1.54\r\n'), {
    servers: ['198.18.1.53', '198.18.1.54'],
    problems: [],
  });
});

test('parseResolvConf: IPv6 duplicates are recognised whatever their spelling; zones keep servers apart', () => {
  const got = parseResolvConf(
    'nameserver 2001:db8::53\nnameserver 2001:DB8:0:0::53\nnameserver fe80::1%eth0\nnameserver fe80::1%eth1\n',
  );
  assert.deepEqual(got.servers, ['2001:db8::53', 'fe80::1%eth0', 'fe80::1%eth1']);
});

test('parseResolvConf: more than glibc asks is reported, all are kept', () => {
  const text = ['198.18.1.1', '198.18.1.2', '198.18.1.3', '198.18.1.4'].map((a) => `nameserver ${a}`).join('\n');
  const got = parseResolvConf(text);
  assert.equal(got.servers.length, 4);
  assert.deepEqual(got.problems, [
    `4 nameservers are listed; the system resolver (glibc) only asks the first ${GLIBC_MAXNS}`,
  ]);
});

test('parseResolvConf: never throws on garbage, huge input or a non-string', () => {
  const garbage = parseResolvConf('\u0000\u0001\u00ff\nnameserver \u0000\n{"json":1}\n');
  assert.deepEqual(garbage.servers, []);
  assert.ok(garbage.problems.length >= 2);
  const huge = parseResolvConf(`nameserver 198.18.1.53\n${'x'.repeat(3_000_000)}\nnameserver 198.18.1.54\n`);
  assert.deepEqual(huge.servers, ['198.18.1.53']);
  assert.ok(huge.problems.some((p) => p.startsWith('only the first')));
  assert.ok(
    huge.problems.every((p) => p.length < 400),
    'a long bad line is quoted shortened',
  );
  assert.deepEqual(parseResolvConf(undefined as unknown as string), { servers: [], problems: [] });
});

test('readResolvers: a plain resolv.conf is the source', async () => {
  const got = await readResolvers(path('static.conf'), path('resolved-upstream.conf'));
  assert.deepEqual(got, {
    source: 'resolv.conf',
    files: [path('static.conf')],
    servers: ['198.18.1.53', '198.18.1.54', 'fe80::53%eth0'],
    stub: false,
    problems: [`${path('static.conf')}: some nameservers are listed more than once`],
  });
});

test("readResolvers: the 127.0.0.53 stub is followed to systemd-resolved's upstream list", async () => {
  const got = await readResolvers(path('stub-resolv.conf'), path('resolved-upstream.conf'));
  assert.deepEqual(got, {
    source: 'systemd-resolved',
    files: [path('stub-resolv.conf'), path('resolved-upstream.conf')],
    servers: ['198.18.1.53', '198.18.1.54'],
    stub: true,
    problems: [],
  });
});

test('readResolvers: the 127.0.0.54 proxy stub is followed too', async () => {
  const got = await readResolvers(path('stub-54-resolv.conf'), path('resolved-upstream.conf'));
  assert.equal(got.source, 'systemd-resolved');
  assert.deepEqual(got.servers, ['198.18.1.53', '198.18.1.54']);
});

test('readResolvers: a stub with no upstream gives no servers (DNS_NO_SERVERS), without a problem', async () => {
  const got = await readResolvers(path('stub-resolv.conf'), path('resolved-no-upstream.conf'));
  assert.deepEqual(got, {
    source: 'systemd-resolved',
    files: [path('stub-resolv.conf'), path('resolved-no-upstream.conf')],
    servers: [],
    stub: true,
    problems: [],
  });
});

test('readResolvers: the stub beside a real server is not stub-only: both are probed as written', async () => {
  const files: Record<string, string> = { '/r': 'nameserver 127.0.0.53\nnameserver 198.18.1.53\n' };
  const got = await readResolvers(
    '/r',
    '/u',
    async (p) => files[p] ?? Promise.reject(Object.assign(new Error('nope'), { code: 'ENOENT' })),
  );
  assert.deepEqual(got, {
    source: 'resolv.conf',
    files: ['/r'],
    servers: ['127.0.0.53', '198.18.1.53'],
    stub: false,
    problems: [],
  });
});

test('readResolvers: an upstream list naming the stub itself drops it and says so', async () => {
  const files: Record<string, string> = {
    '/r': 'nameserver 127.0.0.53\n',
    '/u': 'nameserver 127.0.0.53\nnameserver 198.18.1.53\n',
  };
  const got = await readResolvers('/r', '/u', async (p) => files[p] ?? '');
  assert.deepEqual(got.servers, ['198.18.1.53']);
  assert.deepEqual(got.problems, ['/u: lists the stub 127.0.0.53 as its own upstream; ignored']);
});

test('readResolvers: unreadable files are problems, never exceptions', async () => {
  const missing = await readResolvers(path('does-not-exist.conf'), path('resolved-upstream.conf'));
  assert.deepEqual(missing, {
    source: 'resolv.conf',
    files: [path('does-not-exist.conf')],
    servers: [],
    stub: false,
    problems: [`${path('does-not-exist.conf')} does not exist`],
  });

  const noUpstream = await readResolvers(path('stub-resolv.conf'), path('does-not-exist.conf'));
  assert.deepEqual(noUpstream, {
    source: 'systemd-resolved',
    files: [path('stub-resolv.conf'), path('does-not-exist.conf')],
    servers: [],
    stub: true,
    problems: [`${path('does-not-exist.conf')} does not exist`],
  });

  const denied = await readResolvers('/etc/resolv.conf', '/u', async () => {
    throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  });
  assert.deepEqual(denied.problems, ['/etc/resolv.conf could not be read (EACCES)']);

  const weird = await readResolvers('/r', '/u', async () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: a reader that throws a non-Error
    throw 'not even an Error';
  });
  assert.equal(weird.servers.length, 0);
  assert.equal(weird.problems.length, 1);

  const notText = await readResolvers('/r', '/u', async () => 42 as unknown as string);
  assert.deepEqual(notText.problems, ['/r could not be read as text']);

  // A directory where a file should be: the real fs error, reported.
  const dir = await readResolvers(DIR, path('resolved-upstream.conf'));
  assert.deepEqual(dir.servers, []);
  assert.match(dir.problems[0] ?? '', /could not be read \(EISDIR\)/);
});

test('readResolvers: an empty resolv.conf gives no servers and no stub', async () => {
  const got = await readResolvers(path('empty.conf'), path('resolved-upstream.conf'));
  assert.deepEqual(got, { source: 'resolv.conf', files: [path('empty.conf')], servers: [], stub: false, problems: [] });
});
