import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProcNetIpv6Route, parseProcNetRoute, readDefaultRoutes } from '../../src/probes/routes.js';
import { hexToIpv6 } from '../../src/util/address.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/proc/${name}`, import.meta.url)), 'utf8');

const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';

test('parseProcNetRoute: finds the default routes, decodes the little-endian gateway, ignores link routes', () => {
  assert.deepEqual(parseProcNetRoute(fixture('route')), [
    { gateway: '198.18.0.1', interface: 'eth0', metric: 100, family: 4 },
    { gateway: '198.18.1.1', interface: 'eth1', metric: 50, family: 4 },
  ]);
});

test('parseProcNetRoute: columns are found by header name, not position', () => {
  const moved = 'Iface\tMetric\tGateway\tDestination\tMask\tFlags\neth0\t7\t010012C6\t00000000\t00000000\t0003\n';
  assert.deepEqual(parseProcNetRoute(moved), [{ gateway: '198.18.0.1', interface: 'eth0', metric: 7, family: 4 }]);
});

const ipv4Cases: { name: string; text: string }[] = [
  { name: 'empty file', text: '' },
  { name: 'header only', text: HEADER },
  { name: 'no header', text: 'eth0\t00000000\t010012C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' },
  { name: 'garbage', text: '\u0000\u0001 not a route table\n{"json": true}\n' },
  {
    name: 'default without RTF_GATEWAY (default dev eth0)',
    text: `${HEADER}eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n`,
  },
  { name: 'default not up', text: `${HEADER}eth0\t00000000\t010012C6\t0002\t0\t0\t0\t00000000\t0\t0\t0\n` },
  { name: 'reject route', text: `${HEADER}eth0\t00000000\t010012C6\t0203\t0\t0\t0\t00000000\t0\t0\t0\n` },
  {
    name: 'zero destination but non-zero mask (0.0.0.0/8)',
    text: `${HEADER}eth0\t00000000\t010012C6\t0003\t0\t0\t0\t000000FF\t0\t0\t0\n`,
  },
  { name: 'truncated line', text: `${HEADER}eth0\t00000000\t010012C6\n` },
  { name: 'non-hex gateway', text: `${HEADER}eth0\t00000000\tZZ0012C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n` },
  { name: 'short gateway', text: `${HEADER}eth0\t00000000\t0012C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n` },
  { name: 'negative metric', text: `${HEADER}eth0\t00000000\t010012C6\t0003\t0\t0\t-1\t00000000\t0\t0\t0\n` },
];
for (const c of ipv4Cases) {
  test(`parseProcNetRoute: no default route from ${c.name}`, () => {
    assert.deepEqual(parseProcNetRoute(c.text), []);
  });
}

test('parseProcNetRoute: a bad line does not hide the good ones after it', () => {
  const text = `${HEADER}garbage line\neth0\t00000000\t010012C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n`;
  assert.deepEqual(parseProcNetRoute(text), [{ gateway: '198.18.0.1', interface: 'eth0', metric: 100, family: 4 }]);
});

test('parseProcNetIpv6Route: default routes with a next hop, not the lo unreachable route', () => {
  assert.deepEqual(parseProcNetIpv6Route(fixture('ipv6_route')), [
    { gateway: 'fe80::1', interface: 'eth0', metric: 1024, family: 6 },
    { gateway: '2001:db8::1', interface: 'eth1', metric: 512, family: 6 },
  ]);
});

test('parseProcNetIpv6Route: malformed lines are skipped', () => {
  const good =
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0';
  const text = [
    'garbage',
    good.replace('fe80', 'zz80'),
    good.slice(0, 60),
    good.replace(' 00000400 ', ' 4000000000 '),
    '',
    good,
  ].join('\n');
  assert.deepEqual(parseProcNetIpv6Route(text), [{ gateway: 'fe80::1', interface: 'eth0', metric: 1024, family: 6 }]);
  assert.deepEqual(parseProcNetIpv6Route(''), []);
});

test('hexToIpv6 writes RFC 5952 text', () => {
  assert.equal(hexToIpv6('00000000000000000000000000000001'), '::1');
  assert.equal(hexToIpv6('20010db8000100000000000000000001'), '2001:db8:1::1');
  assert.equal(hexToIpv6('20010db8000000010000000000000001'), '2001:db8:0:1::1');
  // A single zero group is not compressed, and the longest run wins.
  assert.equal(hexToIpv6('20010db8000000010001000100010001'), '2001:db8:0:1:1:1:1:1');
  assert.equal(hexToIpv6('20010000000000010000000000000000'), '2001:0:0:1::');
  assert.equal(hexToIpv6('00000000000000000000000000000000'), '::');
});

test('readDefaultRoutes: both tables, sorted by metric', async () => {
  const files: Record<string, string> = {
    '/proc/net/route': fixture('route'),
    '/proc/net/ipv6_route': fixture('ipv6_route'),
  };
  const routes = await readDefaultRoutes(async (path) => {
    const text = files[path];
    if (text === undefined) throw new Error(`unexpected read of ${path}`);
    return text;
  });
  assert.deepEqual(
    routes.map((r) => `${r.metric} ${r.gateway}`),
    ['50 198.18.1.1', '100 198.18.0.1', '512 2001:db8::1', '1024 fe80::1'],
  );
});

test('readDefaultRoutes: an unreadable table counts as empty, and it never throws', async () => {
  const onlyV4 = await readDefaultRoutes(async (path) => {
    if (path === '/proc/net/route') return fixture('route');
    throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  });
  assert.equal(onlyV4.length, 2);
  assert.deepEqual(
    await readDefaultRoutes(async () => {
      throw new Error('EACCES');
    }),
    [],
  );
  assert.deepEqual(await readDefaultRoutes(async () => 'garbage'), []);
});

test('readDefaultRoutes reads the real /proc tables (no traffic) into well-formed routes', async () => {
  const routes = await readDefaultRoutes();
  // An independent count: the IPv4 rows with Destination and Mask 00000000, up, via a gateway.
  const v4Defaults = readFileSync('/proc/net/route', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === '00000000' && f[7] === '00000000' && (parseInt(f[3] ?? '0', 16) & 0x3) === 0x3)
    .filter((f) => f[2] !== '00000000');
  assert.equal(routes.filter((r) => r.family === 4).length, v4Defaults.length, 'every IPv4 default route, no more');
  for (const r of routes) {
    assert.ok(r.family === 4 ? /^\d+\.\d+\.\d+\.\d+$/.test(r.gateway) : r.gateway.includes(':'), r.gateway);
    assert.ok(r.interface.length > 0);
    assert.ok(Number.isInteger(r.metric) && r.metric >= 0);
  }
});
