import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridgeKind, observeBridges } from '../../src/probes/bridges.js';
import type { BridgeObservation } from '../../src/probes/bridges.js';
import type { ConfiguredAddress } from '../../src/probes/interfaces.js';
import { createTestNetns, ipIn, netnsUnavailable, nodeInNetns, REPO_ROOT, skipOrFail } from '../support/netns.js';

/**
 * A fixture /sys: `links` maps a name to its files; a name with `bridge: true` gets a bridge/
 * directory (what makes it a bridge) and a brif/ directory with the given members.
 */
function makeSysTree(
  t: TestContext,
  links: Record<string, { files: Record<string, string>; bridge?: boolean; members?: string[] }>,
): string {
  const root = mkdtempSync(join(tmpdir(), 'netdiag-sys-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [name, link] of Object.entries(links)) {
    const dir = join(root, 'class/net', name);
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(link.files)) writeFileSync(join(dir, file), `${content}\n`);
    if (link.bridge) {
      mkdirSync(join(dir, 'bridge'));
      mkdirSync(join(dir, 'brif'));
      for (const m of link.members ?? []) mkdirSync(join(dir, 'brif', m));
    }
  }
  return root;
}

const info = (address: string, cidr: string, family: 'IPv4' | 'IPv6'): NetworkInterfaceInfo => ({
  address,
  cidr,
  family,
  netmask: '',
  mac: '02:42:00:00:00:01',
  internal: false,
  scopeid: 0,
});

test('bridgeKind: docker0, br-<12 hex> (a user-defined network), anything else', () => {
  assert.equal(bridgeKind('docker0'), 'docker-default');
  assert.equal(bridgeKind('br-0123456789ab'), 'docker-network');
  assert.equal(bridgeKind('br-0123456789AB'), 'other');
  assert.equal(bridgeKind('br-0123456789a'), 'other');
  assert.equal(bridgeKind('br0'), 'other');
  assert.equal(bridgeKind('virbr0'), 'other');
});

test('observeBridges on a fixture sysfs: only bridges, with MTU, state, subnets and members', async (t) => {
  const sysRoot = makeSysTree(t, {
    eth0: { files: { mtu: '1500', operstate: 'up' } },
    docker0: { files: { mtu: '1500', operstate: 'down' }, bridge: true },
    'br-0123456789ab': { files: { mtu: '1500', operstate: 'up' }, bridge: true, members: ['veth1a2b3c4'] },
    veth1a2b3c4: { files: { mtu: '1500', operstate: 'up' } },
    lo: { files: { mtu: '65536', operstate: 'unknown' } },
  });
  const asked: string[] = [];
  const got = await observeBridges({
    sysRoot,
    // getifaddrs shows the up bridge's addresses, and hides docker0's (no carrier)…
    networkInterfaces: () => ({
      'br-0123456789ab': [
        info('172.18.0.1', '172.18.0.1/16', 'IPv4'),
        info('fe80::42:acff:fe12:1', 'fe80::42:acff:fe12:1/64', 'IPv6'),
        info('fd00:dead::1', 'fd00:dead::1/64', 'IPv6'),
      ],
      eth0: [info('198.18.0.10', '198.18.0.10/24', 'IPv4')],
    }),
    // …so only for docker0 is `ip addr` asked.
    configuredAddresses: (name): Promise<ConfiguredAddress[]> => {
      asked.push(name);
      return Promise.resolve(name === 'docker0' ? [{ family: 4, address: '172.17.0.1', prefixLength: 16 }] : []);
    },
  });
  assert.deepEqual(asked, ['docker0']);
  assert.deepEqual(got, [
    {
      name: 'br-0123456789ab',
      kind: 'docker-network',
      mtu: 1500,
      operState: 'up',
      ipv4: [{ address: '172.18.0.1', prefixLength: 16, subnet: '172.18.0.0' }],
      ipv6: [{ address: 'fd00:dead::1', prefixLength: 64, subnet: 'fd00:dead::' }],
      members: [{ name: 'veth1a2b3c4', mtu: 1500 }],
    },
    {
      name: 'docker0',
      kind: 'docker-default',
      mtu: 1500,
      operState: 'down',
      ipv4: [{ address: '172.17.0.1', prefixLength: 16, subnet: '172.17.0.0' }],
      ipv6: [],
      members: [],
    },
  ]);
});

test('observeBridges: unreadable files and failing sources give nulls, an unreadable sysfs no bridges', async (t) => {
  const sysRoot = makeSysTree(t, { docker0: { files: {}, bridge: true } });
  const got = await observeBridges({
    sysRoot,
    networkInterfaces: () => {
      throw new Error('getifaddrs failed');
    },
    configuredAddresses: () => Promise.reject(new Error('ip missing')),
  });
  assert.deepEqual(got, [
    { name: 'docker0', kind: 'docker-default', mtu: null, operState: null, ipv4: [], ipv6: [], members: [] },
  ]);
  assert.deepEqual(await observeBridges({ sysRoot: join(sysRoot, 'nope') }), []);
  assert.deepEqual(
    await observeBridges({
      listDir: () => Promise.reject(new Error('EACCES')),
      configuredAddresses: () => Promise.resolve([]),
    }),
    [],
  );
});

test('observeBridges in a namespace: a real docker0 and br-… with subnets, MTU and an attached veth', (t) => {
  const missing = netnsUnavailable();
  if (missing) return skipOrFail(t, missing);
  const ns = createTestNetns(t);
  if (ns === null) return;
  ipIn(ns, 'link', 'add', 'docker0', 'type', 'bridge');
  ipIn(ns, 'link', 'add', 'br-00aa11bb22cc', 'mtu', '1400', 'type', 'bridge');
  ipIn(ns, 'addr', 'add', '198.18.40.1/24', 'dev', 'docker0');
  ipIn(ns, 'addr', 'add', '198.18.41.1/25', 'dev', 'br-00aa11bb22cc');
  ipIn(ns, 'addr', 'add', '2001:db8:41::1/64', 'dev', 'br-00aa11bb22cc', 'nodad');
  ipIn(ns, 'link', 'add', 'veth0abc', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'ceth0');
  ipIn(ns, 'link', 'set', 'veth0abc', 'master', 'br-00aa11bb22cc');
  ipIn(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0');
  for (const dev of ['docker0', 'br-00aa11bb22cc', 'veth0abc', 'ceth0', 'eth0', 'peer0'])
    ipIn(ns, 'link', 'set', dev, 'up');

  const src = JSON.stringify(`${REPO_ROOT}src/probes/bridges.ts`);
  const got = nodeInNetns<BridgeObservation[]>(
    ns,
    `import { observeBridges } from ${src};
     process.stdout.write(JSON.stringify(await observeBridges()));`,
    30_000,
  );
  assert.deepEqual(
    got.map((b) => b.name),
    ['br-00aa11bb22cc', 'docker0'],
    'only the bridges, not eth0 or the veths',
  );
  const [user, def] = got;
  assert.equal(user?.kind, 'docker-network');
  assert.equal(user?.mtu, 1400);
  assert.equal(user?.operState, 'up');
  assert.deepEqual(user?.ipv4, [{ address: '198.18.41.1', prefixLength: 25, subnet: '198.18.41.0' }]);
  assert.deepEqual(user?.ipv6, [{ address: '2001:db8:41::1', prefixLength: 64, subnet: '2001:db8:41::' }]);
  assert.deepEqual(user?.members, [{ name: 'veth0abc', mtu: 1400 }]);
  // docker0 has no port: no carrier, so getifaddrs hides its address and the ip fallback finds it.
  assert.equal(def?.kind, 'docker-default');
  assert.notEqual(def?.operState, 'up');
  assert.deepEqual(def?.ipv4, [{ address: '198.18.40.1', prefixLength: 24, subnet: '198.18.40.0' }]);
  assert.deepEqual(def?.members, []);
});
