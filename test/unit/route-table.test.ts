import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  defaultRoutes,
  lookupRoute,
  parseIpv4RouteTable,
  parseIpv6RouteTable,
  readRouteTable,
} from '../../src/probes/route-table.js';
import type { Route, RouteLookup } from '../../src/probes/route-table.js';
import { errorWithCode } from '../../src/util/errors.js';
import { hexToIpv6 } from '../../src/util/address.js';
import { ipPath } from '../lab/lab-process.js';
import { createTestNetns, ipIn, netnsUnavailable, nodeInNetns, REPO_ROOT, skipOrFail } from '../support/netns.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/route-table/${name}`, import.meta.url)), 'utf8');

const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';

describe('parseIpv4RouteTable on a real table (test/fixtures/route-table, see capture.sh)', () => {
  const { routes, problems } = parseIpv4RouteTable(fixture('route'));

  test('every route is read, in table order, with its prefix, gateway, device, metric and kind', () => {
    assert.deepEqual(problems, []);
    const text = routes.map(
      (r) => `${r.destination}/${r.prefixLength} ${r.gateway ?? '-'} ${r.interface ?? '*'} ${r.metric} ${r.type}`,
    );
    assert.deepEqual(text, [
      '0.0.0.0/0 198.18.5.10 eth0 0 unicast',
      '0.0.0.0/0 198.18.6.1 eth1 20 unicast',
      '0.0.0.0/0 198.18.5.1 eth0 50 unicast',
      '0.0.0.0/0 - eth0 60 unicast',
      '172.17.0.0/16 - docker0 0 unicast',
      '198.18.5.0/24 - eth0 0 unicast',
      '198.18.6.0/24 - eth1 0 unicast',
      '198.18.60.0/24 - * 0 blackhole',
      '198.18.61.0/24 - * 0 reject',
      '198.18.62.0/24 - * 5 reject',
      '198.18.63.0/24 - * 0 blackhole',
      '198.18.70.0/24 198.18.5.2 eth0 3 unicast',
      '198.18.70.0/24 198.18.5.1 eth0 7 unicast',
      '198.18.70.128/25 198.18.6.1 eth1 100 unicast',
      '198.18.71.5/32 - eth1 0 unicast',
    ]);
  });

  test('columns are found by header name, not position', () => {
    const moved = 'Iface\tMetric\tGateway\tDestination\tMask\tFlags\neth0\t7\t010012C6\t000012C6\t00FFFFFF\t0003\n';
    assert.deepEqual(parseIpv4RouteTable(moved).routes, [
      {
        family: 4,
        destination: '198.18.0.0',
        prefixLength: 24,
        gateway: '198.18.0.1',
        interface: 'eth0',
        metric: 7,
        type: 'unicast',
      },
    ]);
  });

  test('malformed lines are counted and skipped, never thrown; a bad line does not hide good ones', () => {
    const text = `${HEADER}garbage\neth0\tZZ\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\neth0\t000012C6\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0\neth0\t000012C6\t00000000\t0001\t0\t0\t9\t00FFFFFF\t0\t0\t0\n`;
    const got = parseIpv4RouteTable(text);
    assert.equal(got.routes.length, 1);
    assert.equal(got.routes[0]?.metric, 9);
    assert.deepEqual(got.problems, ['3 line(s) of the IPv4 route table could not be read']);
    assert.deepEqual(parseIpv4RouteTable(''), { routes: [], problems: [] });
    assert.deepEqual(parseIpv4RouteTable('no header here\n'), { routes: [], problems: ['no route table header'] });
    assert.deepEqual(parseIpv4RouteTable(undefined as unknown as string), { routes: [], problems: [] });
  });

  test('a route that is not up is left out', () => {
    const text = `${HEADER}eth0\t000012C6\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;
    assert.deepEqual(parseIpv4RouteTable(text).routes, []);
  });
});

describe('parseIpv6RouteTable on a real table', () => {
  const { routes, problems } = parseIpv6RouteTable(fixture('ipv6_route'));

  test('routes of every table, own addresses as local, rejects, multicast; no null entry', () => {
    assert.deepEqual(problems, []);
    const text = routes.map(
      (r) => `${r.destination}/${r.prefixLength} ${r.gateway ?? '-'} ${r.interface} ${r.metric} ${r.type}`,
    );
    for (const expected of [
      '2001:db8:5::/64 - eth0 256 unicast',
      '2001:db8:77::/48 2001:db8:5::2 eth0 5 unicast',
      '2001:db8:98::/48 - lo 1024 reject',
      '2001:db8:99::/48 - lo 1024 reject',
      '::/0 2001:db8:5::1 eth0 10 unicast',
      '2001:db8:5::10/128 - eth0 0 local',
      'ff00::/8 - eth0 256 multicast',
    ]) {
      assert.ok(text.includes(expected), `${expected} missing from ${JSON.stringify(text, null, 1)}`);
    }
    assert.ok(!text.some((t) => t.startsWith('::/0 - lo')), 'the kernel null entry is not a route');
  });

  test('malformed lines are counted, short ones too', () => {
    const got = parseIpv6RouteTable('short line\n' + 'x'.repeat(32) + ' 40 0 0 0 0 0 0 1 eth0\n');
    assert.deepEqual(got, { routes: [], problems: ['2 line(s) of the IPv6 route table could not be read'] });
  });
});

describe('readRouteTable', () => {
  test('reads both files through the seam; a missing IPv6 table is normal', async () => {
    const files: Record<string, string> = { '/proc/net/route': fixture('route') };
    const got = await readRouteTable((p) => {
      const text = files[p];
      return text === undefined ? Promise.reject(errorWithCode(`ENOENT: ${p}`, 'ENOENT')) : Promise.resolve(text);
    });
    assert.equal(got.routes.length, 15);
    assert.deepEqual(got.problems, []);
  });

  test('an unreadable IPv4 table is a problem, not a throw', async () => {
    const got = await readRouteTable(() => Promise.reject(errorWithCode('denied', 'EACCES')));
    assert.deepEqual(got, {
      routes: [],
      problems: ['/proc/net/route could not be read (EACCES)', '/proc/net/ipv6_route could not be read (EACCES)'],
    });
  });
});

describe('defaultRoutes', () => {
  const routes = [
    ...parseIpv4RouteTable(fixture('route')).routes,
    ...parseIpv6RouteTable(fixture('ipv6_route')).routes,
  ];

  test('every default route, lowest metric first per family, the one in use marked', () => {
    assert.deepEqual(defaultRoutes(routes), [
      { family: 4, gateway: '198.18.5.10', interface: 'eth0', metric: 0, inUse: true },
      { family: 4, gateway: '198.18.6.1', interface: 'eth1', metric: 20, inUse: false },
      { family: 4, gateway: '198.18.5.1', interface: 'eth0', metric: 50, inUse: false },
      { family: 4, gateway: null, interface: 'eth0', metric: 60, inUse: false },
      { family: 6, gateway: '2001:db8:5::1', interface: 'eth0', metric: 10, inUse: true },
    ]);
  });

  test('equal metrics: the first in table order is used', () => {
    const r = (gateway: string, iface: string): Route => ({
      family: 4,
      destination: '0.0.0.0',
      prefixLength: 0,
      gateway,
      interface: iface,
      metric: 100,
      type: 'unicast',
    });
    const got = defaultRoutes([r('198.18.1.1', 'eth1'), r('198.18.0.1', 'eth0')]);
    assert.deepEqual(
      got.map((d) => [d.interface, d.inUse]),
      [
        ['eth1', true],
        ['eth0', false],
      ],
    );
  });

  test('a lower-metric unreachable default means none is in use', () => {
    const got = defaultRoutes([
      { family: 4, destination: '0.0.0.0', prefixLength: 0, gateway: null, interface: null, metric: 1, type: 'reject' },
      {
        family: 4,
        destination: '0.0.0.0',
        prefixLength: 0,
        gateway: '198.18.0.1',
        interface: 'eth0',
        metric: 5,
        type: 'unicast',
      },
    ]);
    assert.deepEqual(got, [{ family: 4, gateway: '198.18.0.1', interface: 'eth0', metric: 5, inUse: false }]);
    assert.deepEqual(defaultRoutes([]), []);
  });
});

describe('lookupRoute', () => {
  const routes = [
    ...parseIpv4RouteTable(fixture('route')).routes,
    ...parseIpv6RouteTable(fixture('ipv6_route')).routes,
  ];
  const local = [
    { address: '198.18.5.10', interface: 'eth0' },
    { address: '198.18.6.10', interface: 'eth1' },
  ];
  const look = (dest: string): Omit<RouteLookup, 'destination'> => {
    const { destination: _d, ...rest } = lookupRoute(routes, dest, { localAddresses: local });
    return rest;
  };

  test('longest prefix wins over a lower metric', () => {
    assert.deepEqual(look('198.18.70.200'), {
      kind: 'gateway',
      interface: 'eth1',
      gateway: '198.18.6.1',
      matched: '198.18.70.128/25',
      metric: 100,
    });
  });

  test('same prefix: the lowest metric wins', () => {
    assert.deepEqual(look('198.18.70.5'), {
      kind: 'gateway',
      interface: 'eth0',
      gateway: '198.18.5.2',
      matched: '198.18.70.0/24',
      metric: 3,
    });
  });

  test('on-link: connected subnets, a container bridge, a host route', () => {
    assert.deepEqual(look('198.18.5.1'), {
      kind: 'on-link',
      interface: 'eth0',
      gateway: null,
      matched: '198.18.5.0/24',
      metric: 0,
    });
    assert.deepEqual(look('172.17.3.4'), {
      kind: 'on-link',
      interface: 'docker0',
      gateway: null,
      matched: '172.17.0.0/16',
      metric: 0,
    });
    assert.deepEqual(look('198.18.71.5'), {
      kind: 'on-link',
      interface: 'eth1',
      gateway: null,
      matched: '198.18.71.5/32',
      metric: 0,
    });
  });

  test("anything else takes the default route in use (here: via the VM's own address)", () => {
    assert.deepEqual(look('203.0.113.9'), {
      kind: 'gateway',
      interface: 'eth0',
      gateway: '198.18.5.10',
      matched: 'default',
      metric: 0,
    });
  });

  test("the VM's own address is local (the kernel's local table comes first), loopback too", () => {
    assert.deepEqual(look('198.18.5.10'), {
      kind: 'local',
      interface: 'eth0',
      gateway: null,
      matched: null,
      metric: null,
    });
    assert.deepEqual(look('127.0.0.53'), {
      kind: 'local',
      interface: 'lo',
      gateway: null,
      matched: null,
      metric: null,
    });
    // Without the VM's addresses the IPv4 table alone cannot know: the connected route answers.
    assert.equal(lookupRoute(routes, '198.18.5.10').kind, 'on-link');
    assert.equal(lookupRoute(routes, '198.18.5.10', { localAddresses: [{ address: '198.18.5.10' }] }).interface, 'lo');
  });

  test('reject and blackhole routes', () => {
    assert.equal(look('198.18.61.1').kind, 'unreachable');
    assert.equal(look('198.18.62.1').kind, 'unreachable');
    assert.equal(look('198.18.60.1').kind, 'blackhole');
    assert.equal(look('2001:db8:99::1').kind, 'unreachable');
  });

  test('IPv6: longest prefix, default, local, link-local with a zone; IPv4-mapped as IPv4', () => {
    assert.deepEqual(look('2001:db8:77::1'), {
      kind: 'gateway',
      interface: 'eth0',
      gateway: '2001:db8:5::2',
      matched: '2001:db8:77::/48',
      metric: 5,
    });
    assert.deepEqual(look('2001:DB8:0:0:1::1'), {
      kind: 'gateway',
      interface: 'eth0',
      gateway: '2001:db8:5::1',
      matched: 'default',
      metric: 10,
    });
    assert.deepEqual(look('2001:db8:5::10'), {
      kind: 'local',
      interface: 'eth0',
      gateway: null,
      matched: null,
      metric: null,
    });
    assert.equal(look('fe80::1%docker0').interface, 'docker0');
    assert.equal(look('fe80::1%eth1').interface, 'eth1');
    assert.equal(look('::ffff:198.18.70.5').gateway, '198.18.5.2');
  });

  test('no route, and text that is not an address', () => {
    const only = parseIpv4RouteTable(`${HEADER}eth0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`).routes;
    for (const dest of ['203.0.113.9', '2001:db8::1', 'not-an-ip', '', '198.18.0.1/24']) {
      assert.deepEqual(lookupRoute(only, dest), {
        destination: dest,
        kind: 'none',
        interface: null,
        gateway: null,
        matched: null,
        metric: null,
      });
    }
    assert.equal(lookupRoute(only, '198.18.0.7').kind, 'on-link');
  });
});

// --- the real kernel ------------------------------------------------------------------------------

interface IpRouteGet {
  type?: string;
  dev?: string;
  gateway?: string;
}

/** `ip -j route get` inside `ns`: what the kernel itself decides, or its refusal. */
function kernelRoute(ns: string, dest: string): IpRouteGet | { error: string } {
  try {
    const out = execFileSync(ipPath(), ['-n', ns, '-j', 'route', 'get', dest], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return (JSON.parse(out) as IpRouteGet[])[0] ?? { error: 'empty' };
  } catch (error) {
    return { error: String((error as { stderr?: unknown }).stderr ?? error).trim() };
  }
}

test('lookupRoute agrees with the kernel (`ip route get`) on a real table in a namespace', (t) => {
  const missing = netnsUnavailable();
  if (missing) return skipOrFail(t, missing);
  const ns = createTestNetns(t);
  if (ns === null) return;
  ipIn(ns, 'link', 'set', 'lo', 'up');
  ipIn(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  ipIn(ns, 'link', 'add', 'docker0', 'type', 'bridge');
  for (const dev of ['eth0', 'eth1', 'docker0']) ipIn(ns, 'link', 'set', dev, 'up');
  ipIn(ns, 'addr', 'add', '198.18.5.10/24', 'dev', 'eth0');
  ipIn(ns, 'addr', 'add', '198.18.6.10/24', 'dev', 'eth1');
  ipIn(ns, 'addr', 'add', '172.17.0.1/16', 'dev', 'docker0');
  ipIn(ns, 'addr', 'add', '2001:db8:5::10/64', 'dev', 'eth0', 'nodad');
  ipIn(ns, 'route', 'add', 'default', 'via', '198.18.5.1', 'metric', '50');
  ipIn(ns, 'route', 'add', 'default', 'via', '198.18.6.1', 'metric', '20');
  ipIn(ns, 'route', 'add', '198.18.70.0/24', 'via', '198.18.5.1', 'metric', '7');
  ipIn(ns, 'route', 'add', '198.18.70.0/24', 'via', '198.18.5.2', 'metric', '3');
  ipIn(ns, 'route', 'add', '198.18.70.128/25', 'via', '198.18.6.1', 'metric', '100');
  ipIn(ns, 'route', 'add', 'unreachable', '198.18.61.0/24');
  ipIn(ns, '-6', 'route', 'add', 'default', 'via', '2001:db8:5::1', 'metric', '10');
  ipIn(ns, '-6', 'route', 'add', '2001:db8:77::/48', 'via', '2001:db8:5::2', 'metric', '5');

  const src = JSON.stringify(`${REPO_ROOT}src/probes/route-table.ts`);
  const table = nodeInNetns<{ routes: Route[]; problems: string[] }>(
    ns,
    `import { readRouteTable } from ${src};
     process.stdout.write(JSON.stringify(await readRouteTable()));`,
    30_000,
  );
  assert.deepEqual(table.problems, []);
  const localAddresses = [
    { address: '198.18.5.10', interface: 'eth0' },
    { address: '198.18.6.10', interface: 'eth1' },
    { address: '172.17.0.1', interface: 'docker0' },
  ];
  const destinations = [
    '198.18.5.1',
    '198.18.6.99',
    '172.17.0.2',
    '198.18.70.5',
    '198.18.70.200',
    '203.0.113.9',
    '2001:db8:77::1',
    '2001:db8:1::1',
    '2001:db8:5::99',
  ];
  for (const dest of destinations) {
    const ours = lookupRoute(table.routes, dest, { localAddresses });
    const kernel = kernelRoute(ns, dest);
    assert.ok(!('error' in kernel), `${dest}: ${JSON.stringify(kernel)}`);
    assert.equal(ours.interface, kernel.dev, `${dest}: interface (ours ${JSON.stringify(ours)})`);
    assert.equal(ours.gateway, kernel.gateway ?? null, `${dest}: gateway`);
  }
  // Own address: the kernel answers "local … dev lo".
  const own = kernelRoute(ns, '198.18.5.10');
  assert.ok(!('error' in own) && own.type === 'local' && own.dev === 'lo', JSON.stringify(own));
  assert.equal(lookupRoute(table.routes, '198.18.5.10', { localAddresses }).kind, 'local');
  // Unreachable: the kernel refuses, and so do we.
  assert.ok('error' in kernelRoute(ns, '198.18.61.1'));
  assert.equal(lookupRoute(table.routes, '198.18.61.1').kind, 'unreachable');
});

// ---------- moved from the old default-route reader (src/probes/routes.ts, now gone) ----------
// The same fixtures and cases: what that reader returned is now defaultRoutes() of the whole table.

const procFixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/proc/${name}`, import.meta.url)), 'utf8');
const defaultsText = (routes: Route[]) =>
  defaultRoutes(routes).map(
    (r) => `${r.family} ${r.gateway ?? '-'} ${r.interface ?? '*'} ${r.metric}${r.inUse ? ' in use' : ''}`,
  );

describe('default routes of the /proc fixtures (formerly readDefaultRoutes)', () => {
  test('IPv4: both default routes, the little-endian gateway decoded, link routes ignored, the lower metric in use', () => {
    assert.deepEqual(defaultsText(parseIpv4RouteTable(procFixture('route')).routes), [
      '4 198.18.1.1 eth1 50 in use',
      '4 198.18.0.1 eth0 100',
    ]);
  });

  const noGatewayDefault: { name: string; text: string }[] = [
    { name: 'empty file', text: '' },
    { name: 'header only', text: HEADER },
    { name: 'no header', text: 'eth0\t00000000\t010012C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' },
    { name: 'garbage', text: '\u0000\u0001 not a route table\n{"json": true}\n' },
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
  for (const c of noGatewayDefault) {
    test(`IPv4: no default route from ${c.name}`, () => {
      assert.deepEqual(defaultRoutes(parseIpv4RouteTable(c.text).routes), []);
    });
  }

  test('IPv4: a default without RTF_GATEWAY (default dev eth0) is a default with no gateway to test', () => {
    const text = `${HEADER}eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n`;
    assert.deepEqual(defaultsText(parseIpv4RouteTable(text).routes), ['4 - eth0 0 in use']);
  });

  test('IPv4: a bad line does not hide the good ones after it', () => {
    const text = `${HEADER}garbage line\neth0\t00000000\t010012C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n`;
    assert.deepEqual(defaultsText(parseIpv4RouteTable(text).routes), ['4 198.18.0.1 eth0 100 in use']);
  });

  test('IPv6: default routes with a next hop, not the lo unreachable route', () => {
    assert.deepEqual(defaultsText(parseIpv6RouteTable(procFixture('ipv6_route')).routes), [
      '6 2001:db8::1 eth1 512 in use',
      '6 fe80::1 eth0 1024',
    ]);
  });

  test('IPv6: malformed lines are skipped', () => {
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
    assert.deepEqual(defaultsText(parseIpv6RouteTable(text).routes), ['6 fe80::1 eth0 1024 in use']);
    assert.deepEqual(parseIpv6RouteTable('').routes, []);
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

  test('both tables through readRouteTable: per family, lowest metric first', async () => {
    const files: Record<string, string> = {
      '/proc/net/route': procFixture('route'),
      '/proc/net/ipv6_route': procFixture('ipv6_route'),
    };
    const table = await readRouteTable(async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`unexpected read of ${path}`);
      return text;
    });
    assert.deepEqual(
      defaultRoutes(table.routes).map((r) => `${r.metric} ${r.gateway}`),
      ['50 198.18.1.1', '100 198.18.0.1', '512 2001:db8::1', '1024 fe80::1'],
    );
  });

  test('an unreadable table counts as empty, never a throw', async () => {
    const onlyV4 = await readRouteTable(async (path) => {
      if (path === '/proc/net/route') return procFixture('route');
      throw errorWithCode(`ENOENT: ${path}`, 'ENOENT');
    });
    assert.equal(defaultRoutes(onlyV4.routes).length, 2);
    const denied = await readRouteTable(async () => {
      throw errorWithCode('EACCES', 'EACCES');
    });
    assert.deepEqual(defaultRoutes(denied.routes), []);
    assert.ok(denied.problems.length > 0);
    assert.deepEqual(defaultRoutes((await readRouteTable(async () => 'garbage')).routes), []);
  });

  test('the real /proc tables (no traffic) give well-formed default routes, every IPv4 one and no more', async () => {
    const defaults = defaultRoutes((await readRouteTable()).routes);
    // An independent count: the IPv4 rows with Destination and Mask 00000000, up, not reject, with a device.
    const v4Defaults = readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1] === '00000000' && f[7] === '00000000' && (parseInt(f[3] ?? '0', 16) & 0x201) === 0x1)
      .filter((f) => f[0] !== '*');
    assert.equal(defaults.filter((r) => r.family === 4).length, v4Defaults.length, 'every IPv4 default route, no more');
    for (const r of defaults) {
      if (r.gateway !== null)
        assert.ok(r.family === 4 ? /^\d+\.\d+\.\d+\.\d+$/.test(r.gateway) : r.gateway.includes(':'), r.gateway);
      assert.ok(Number.isInteger(r.metric) && r.metric >= 0);
    }
    for (const family of [4, 6]) assert.ok(defaults.filter((r) => r.family === family && r.inUse).length <= 1);
  });
});
