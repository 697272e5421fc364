import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { observeInterfaces, parseIpAddrJson } from '../../src/probes/interfaces.js';
import { ipv4Broadcast, ipv6Scope, netmaskToPrefix } from '../../src/util/address.js';
import type { InterfaceObservation } from '../../src/probes/types.js';
import { createTestNetns, ipIn, netnsUnavailable, nodeInNetns, REPO_ROOT, skipOrFail } from '../support/netns.js';

// ---------- a fixture /sys tree ----------

function makeSysTree(t: TestContext, links: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'netdiag-sys-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [name, files] of Object.entries(links)) {
    const dir = join(root, 'class/net', name);
    mkdirSync(join(dir, 'statistics'), { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), `${content}\n`);
  }
  return root;
}

const STATS = {
  'statistics/rx_packets': '1200',
  'statistics/rx_bytes': '345678',
  'statistics/rx_errors': '3',
  'statistics/rx_dropped': '4',
  'statistics/tx_packets': '900',
  'statistics/tx_bytes': '123456',
  'statistics/tx_errors': '0',
  'statistics/tx_dropped': '1',
};

const eth0Infos: NetworkInterfaceInfo[] = [
  {
    address: '198.18.0.10',
    netmask: '255.255.255.0',
    family: 'IPv4',
    mac: '00:15:5d:aa:bb:cc',
    internal: false,
    cidr: '198.18.0.10/24',
  },
  // Some callers build these without cidr: the prefix must come from the netmask then.
  {
    address: '198.18.9.7',
    netmask: '255.255.255.255',
    family: 'IPv4',
    mac: '00:15:5d:aa:bb:cc',
    internal: false,
    cidr: null,
  },
  {
    address: 'fe80::215:5dff:feaa:bbcc',
    netmask: 'ffff:ffff:ffff:ffff::',
    family: 'IPv6',
    mac: '00:15:5d:aa:bb:cc',
    internal: false,
    cidr: 'fe80::215:5dff:feaa:bbcc/64',
    scopeid: 2,
  },
  {
    address: '2001:db8::10',
    netmask: 'ffff:ffff:ffff:ffff::',
    family: 'IPv6',
    mac: '00:15:5d:aa:bb:cc',
    internal: false,
    cidr: null,
    scopeid: 0,
  },
];

test('observeInterfaces reads sysfs and every address of a present interface', async (t) => {
  const sysRoot = makeSysTree(t, {
    eth0: { operstate: 'up', flags: '0x1003', address: '00:15:5d:aa:bb:cc', mtu: '1500', ifindex: '2', ...STATS },
  });
  const [eth0] = await observeInterfaces(['eth0'], {
    sysRoot,
    networkInterfaces: () => ({ eth0: eth0Infos }),
    configuredAddresses: async () =>
      assert.fail('the ip fallback is only for interfaces getifaddrs shows no address for'),
  });
  assert.deepEqual(eth0, {
    name: 'eth0',
    present: true,
    ifindex: 2,
    operState: 'up',
    adminUp: true,
    mac: '00:15:5d:aa:bb:cc',
    mtu: 1500,
    ipv4: [
      { address: '198.18.0.10', prefixLength: 24, broadcast: '198.18.0.255' },
      { address: '198.18.9.7', prefixLength: 32, broadcast: null },
    ],
    ipv6: [
      { address: 'fe80::215:5dff:feaa:bbcc', prefixLength: 64, scope: 'link' },
      { address: '2001:db8::10', prefixLength: 64, scope: 'global' },
    ],
    counters: {
      rxPackets: 1200,
      rxBytes: 345678,
      rxErrors: 3,
      rxDropped: 4,
      txPackets: 900,
      txBytes: 123456,
      txErrors: 0,
      txDropped: 1,
    },
  } satisfies InterfaceObservation);
});

test('observeInterfaces: a down interface, addresses from the fallback, unreadable counters', async (t) => {
  const sysRoot = makeSysTree(t, {
    eth0: { operstate: 'down', flags: '0x1002', address: '00:15:5d:aa:bb:cc', mtu: '1500', ifindex: '2' },
  });
  const asked: string[] = [];
  const [eth0] = await observeInterfaces(['eth0'], {
    sysRoot,
    networkInterfaces: () => ({}),
    configuredAddresses: async (name) => {
      asked.push(name);
      return [
        { family: 4, address: '198.18.0.10', prefixLength: 31 },
        { family: 6, address: 'fec0::1', prefixLength: 64 },
      ];
    },
  });
  assert.deepEqual(asked, ['eth0']);
  assert.equal(eth0?.present, true);
  assert.equal(eth0?.adminUp, false);
  assert.equal(eth0?.operState, 'down');
  assert.deepEqual(eth0?.ipv4, [{ address: '198.18.0.10', prefixLength: 31, broadcast: null }]);
  assert.deepEqual(eth0?.ipv6, [{ address: 'fec0::1', prefixLength: 64, scope: 'site' }]);
  assert.equal(eth0?.counters, null);
});

test('observeInterfaces: absent, path-walking and garbage-valued interfaces never throw', async (t) => {
  const sysRoot = makeSysTree(t, {
    odd0: {
      operstate: '',
      flags: 'not-hex',
      address: '',
      mtu: 'big',
      ifindex: '-1',
      ...STATS,
      'statistics/rx_bytes': 'lots',
    },
  });
  const throwing = (): NodeJS.Dict<NetworkInterfaceInfo[]> => {
    throw new Error('getifaddrs: ENOMEM');
  };
  const [eth0, walk, odd0] = await observeInterfaces(['eth0', '../../..', 'odd0'], {
    sysRoot,
    networkInterfaces: throwing,
    configuredAddresses: async () => {
      throw new Error('no ip');
    },
  });
  const absent = {
    present: false,
    ifindex: null,
    operState: null,
    adminUp: null,
    mac: null,
    mtu: null,
    ipv4: [],
    ipv6: [],
    counters: null,
  };
  assert.deepEqual(eth0, { name: 'eth0', ...absent });
  assert.deepEqual(walk, { name: '../../..', ...absent });
  assert.deepEqual(odd0, {
    name: 'odd0',
    present: true,
    ifindex: null,
    operState: null,
    adminUp: null,
    mac: null,
    mtu: null,
    ipv4: [],
    ipv6: [],
    counters: null,
  });
});

test('ipv4Broadcast', () => {
  assert.equal(ipv4Broadcast('198.18.0.10', 24), '198.18.0.255');
  assert.equal(ipv4Broadcast('198.18.0.10', 16), '198.18.255.255');
  assert.equal(ipv4Broadcast('198.18.3.130', 25), '198.18.3.255');
  assert.equal(ipv4Broadcast('198.18.3.10', 30), '198.18.3.11');
  assert.equal(ipv4Broadcast('10.1.2.3', 0), '255.255.255.255');
  assert.equal(ipv4Broadcast('255.255.255.254', 8), '255.255.255.255');
  assert.equal(ipv4Broadcast('198.18.0.10', 31), null);
  assert.equal(ipv4Broadcast('198.18.0.10', 32), null);
  assert.equal(ipv4Broadcast('not an address', 24), null);
});

test('ipv6Scope', () => {
  assert.equal(ipv6Scope('::1'), 'host');
  assert.equal(ipv6Scope('0:0:0:0:0:0:0:1'), 'host');
  assert.equal(ipv6Scope('fe80::1'), 'link');
  assert.equal(ipv6Scope('FEBF::1%eth0'), 'link');
  assert.equal(ipv6Scope('fec0::1'), 'site');
  assert.equal(ipv6Scope('feff::1'), 'site');
  assert.equal(ipv6Scope('fe7f::1'), 'global');
  assert.equal(ipv6Scope('2001:db8::1'), 'global');
  assert.equal(ipv6Scope('::ffff:198.18.0.1'), 'global');
  assert.equal(ipv6Scope('::'), 'global');
});

test('netmaskToPrefix', () => {
  assert.equal(netmaskToPrefix('255.255.255.0'), 24);
  assert.equal(netmaskToPrefix('255.255.255.255'), 32);
  assert.equal(netmaskToPrefix('0.0.0.0'), 0);
  assert.equal(netmaskToPrefix('255.0.255.0'), null);
  assert.equal(netmaskToPrefix('ffff:ffff:ffff:ffff::'), 64);
  assert.equal(netmaskToPrefix('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 128);
  assert.equal(netmaskToPrefix('garbage'), null);
});

test('parseIpAddrJson keeps well-formed addresses only', () => {
  const text = JSON.stringify([
    {
      ifname: 'eth0',
      addr_info: [
        { family: 'inet', local: '198.18.0.10', prefixlen: 24 },
        { family: 'inet6', local: '2001:db8::10', prefixlen: 64 },
        { family: 'inet', local: '198.18.0.11', prefixlen: 33 },
        { family: 'inet', local: 'x', prefixlen: 24 },
        { family: 'inet6', local: '2001:db8::11' },
        null,
      ],
    },
    { ifname: 'weird', addr_info: 'nope' },
  ]);
  assert.deepEqual(parseIpAddrJson(text), [
    { family: 4, address: '198.18.0.10', prefixLength: 24 },
    { family: 6, address: '2001:db8::10', prefixLength: 64 },
  ]);
  assert.deepEqual(parseIpAddrJson('Device "eth9" does not exist.'), []);
  assert.deepEqual(parseIpAddrJson('{"not":"an array"}'), []);
});

// ---------- for real, in a throw-away network namespace ----------

/** Runs the real probes inside the namespace, in a child node, and returns what they saw. */
function observeIn(ns: string, names: string[]): { interfaces: InterfaceObservation[]; routes: unknown } {
  const src = (file: string): string => JSON.stringify(join(REPO_ROOT, 'src/probes', file));
  const code = `
    import { observeInterfaces } from ${src('interfaces.ts')};
    import { defaultRoutes, readRouteTable } from ${src('route-table.ts')};
    const [interfaces, table] = await Promise.all([observeInterfaces(${JSON.stringify(names)}), readRouteTable()]);
    const routes = defaultRoutes(table.routes);
    process.stdout.write(JSON.stringify({ interfaces, routes }));`;
  return nodeInNetns<{ interfaces: InterfaceObservation[]; routes: unknown }>(ns, code, 30_000);
}

test('observeInterfaces in a namespace: eth0 up, down, no carrier, and a missing interface', async (t) => {
  const missing = netnsUnavailable();
  if (missing) return skipOrFail(t, missing);
  const ns = createTestNetns(t);
  if (ns === null) return;
  ipIn(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0');
  ipIn(ns, 'link', 'set', 'eth0', 'address', '02:00:c6:12:07:0a', 'mtu', '1400');
  ipIn(ns, 'addr', 'add', '198.18.7.10/24', 'dev', 'eth0');
  ipIn(ns, 'addr', 'add', '198.18.8.1/32', 'dev', 'eth0');
  ipIn(ns, 'addr', 'add', '2001:db8:7::10/64', 'dev', 'eth0', 'nodad');
  ipIn(ns, 'link', 'set', 'peer0', 'up');
  ipIn(ns, 'link', 'set', 'eth0', 'up');
  ipIn(ns, 'route', 'add', 'default', 'via', '198.18.7.1', 'metric', '100');

  const up = observeIn(ns, ['eth0', 'eth1']);
  const [eth0, eth1] = up.interfaces;
  assert.equal(eth0?.present, true);
  assert.equal(eth0?.adminUp, true);
  assert.equal(eth0?.operState, 'up');
  assert.equal(eth0?.mac, '02:00:c6:12:07:0a');
  assert.equal(eth0?.mtu, 1400);
  assert.ok(Number.isInteger(eth0?.ifindex) && (eth0?.ifindex ?? 0) > 1);
  assert.deepEqual(eth0?.ipv4, [
    { address: '198.18.7.10', prefixLength: 24, broadcast: '198.18.7.255' },
    { address: '198.18.8.1', prefixLength: 32, broadcast: null },
  ]);
  assert.deepEqual(
    eth0?.ipv6.find((a) => a.scope === 'global'),
    { address: '2001:db8:7::10', prefixLength: 64, scope: 'global' },
  );
  assert.ok(eth0?.counters && eth0.counters.txPackets >= 0);
  assert.equal(eth1?.present, false);
  // The kernel's own table, read from /proc, not from `ip route`.
  assert.deepEqual(up.routes, [{ family: 4, gateway: '198.18.7.1', interface: 'eth0', metric: 100, inUse: true }]);

  // Admin down: getifaddrs hides the addresses then, so they must come from the fallback.
  ipIn(ns, 'link', 'set', 'eth0', 'down');
  const [down] = observeIn(ns, ['eth0']).interfaces;
  assert.equal(down?.adminUp, false);
  assert.equal(down?.operState, 'down');
  assert.deepEqual(
    down?.ipv4.map((a) => `${a.address}/${a.prefixLength}`),
    ['198.18.7.10/24', '198.18.8.1/32'],
  );

  // Admin up, but the other end of the cable is down.
  ipIn(ns, 'link', 'set', 'peer0', 'down');
  ipIn(ns, 'link', 'set', 'eth0', 'up');
  const [noCarrier] = observeIn(ns, ['eth0']).interfaces;
  assert.equal(noCarrier?.adminUp, true);
  assert.notEqual(noCarrier?.operState, 'up');
  assert.deepEqual(
    noCarrier?.ipv4.map((a) => a.address),
    ['198.18.7.10', '198.18.8.1'],
  );
});
