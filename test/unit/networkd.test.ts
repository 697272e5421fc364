import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assignmentOf,
  globMatches,
  matchNetworkFile,
  normalizeMac,
  parseNetworkFile,
  readNetworkdDir,
} from '../../src/probes/networkd.js';
import type { NetworkdFs } from '../../src/probes/networkd.js';
import type { NetworkdFile } from '../../src/probes/types.js';

const DIR = fileURLToPath(new URL('../fixtures/networkd/', import.meta.url));
const scenario = (name: string): string => join(DIR, name);

function file(path: string, fields: Partial<NetworkdFile> = {}): NetworkdFile {
  return {
    path,
    matchNames: [],
    matchMacs: [],
    matchOther: [],
    dhcp: null,
    addresses: [],
    gateways: [],
    dns: [],
    problems: [],
    ...fields,
  };
}

async function eth0In(name: string, mac: string | null = '00:15:5d:aa:bb:cc'): Promise<NetworkdFile | null> {
  const { files } = await readNetworkdDir(scenario(name));
  return matchNetworkFile(files, 'eth0', mac);
}

test('dhcp/: the stock CBL-Mariner catch-all applies to eth0 and means DHCP', async () => {
  const { files, problems } = await readNetworkdDir(scenario('dhcp'));
  assert.deepEqual(problems, []);
  assert.deepEqual(files, [file(join(scenario('dhcp'), '99-dhcp-en.network'), { matchNames: ['e*'], dhcp: 'yes' })]);
  const match = matchNetworkFile(files, 'eth0', null);
  assert.equal(match?.path, join(scenario('dhcp'), '99-dhcp-en.network'));
  assert.equal(assignmentOf(match), 'dhcp');
});

test('static/: the static file sorts before the catch-all and wins; Address/Gateway/DNS as written', async () => {
  const match = await eth0In('static');
  assert.deepEqual(
    match,
    file(join(scenario('static'), '10-eth0.network'), {
      matchNames: ['eth0'],
      addresses: ['198.18.0.10/24'],
      gateways: ['198.18.0.1'],
      dns: ['198.18.1.53', '198.18.1.54'],
    }),
  );
  assert.equal(assignmentOf(match), 'static');
});

test('static/: another interface falls through to the catch-all', async () => {
  const { files } = await readNetworkdDir(scenario('static'));
  assert.equal(matchNetworkFile(files, 'eth1', null)?.path, join(scenario('static'), '99-dhcp-en.network'));
  assert.equal(matchNetworkFile(files, 'wlan0', null), null);
});

test('static-no-gateway/ and static-no-prefix/: static, with what is missing visible', async () => {
  const noGw = await eth0In('static-no-gateway');
  assert.equal(assignmentOf(noGw), 'static');
  assert.deepEqual(noGw?.gateways, []);
  assert.deepEqual(noGw?.addresses, ['198.18.0.10/24']);
  const noPrefix = await eth0In('static-no-prefix');
  assert.equal(assignmentOf(noPrefix), 'static');
  assert.deepEqual(noPrefix?.addresses, ['198.18.0.10']);
  assert.deepEqual(noPrefix?.gateways, ['198.18.0.1']);
  assert.deepEqual(noPrefix?.problems, []);
});

test('static-sections/: [Address] and [Route] sections accumulate; DNS= empty resets the list', async () => {
  const match = await eth0In('static-sections');
  assert.deepEqual(
    match,
    file(join(scenario('static-sections'), '20-eth0.network'), {
      matchNames: ['eth0', 'eth1'],
      dhcp: 'no',
      addresses: ['198.18.0.10/24', '2001:db8::10/64'],
      gateways: ['198.18.0.1', '_ipv6ra'],
      dns: ['198.18.1.53', '198.18.1.54:53', '[2001:db8::53]:53%eth0#dns.contoso.local'],
    }),
  );
  assert.equal(assignmentOf(match), 'static');
});

test('mac-match/: MACAddress= in any spelling matches the link MAC; other MACs fall through', async () => {
  assert.equal(
    (await eth0In('mac-match', '00:15:5D:4E:15:2C'))?.path,
    join(scenario('mac-match'), '10-by-mac.network'),
  );
  assert.equal(
    (await eth0In('mac-match', '00:15:5d:00:00:01'))?.path,
    join(scenario('mac-match'), '20-eth-dhcp.network'),
  );
  assert.equal((await eth0In('mac-match', null))?.path, join(scenario('mac-match'), '20-eth-dhcp.network'));
  assert.equal(assignmentOf(await eth0In('mac-match', null)), 'dhcp');
});

test('masked-and-broken/: empty file skipped, no-[Match] file ignored, README.txt ignored, broken file parsed', async () => {
  const dir = scenario('masked-and-broken');
  const { files, problems } = await readNetworkdDir(dir);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    files.map((f) => f.path),
    [join(dir, '10-nomatch.network'), join(dir, '20-broken.network')],
  );
  assert.deepEqual(files[0]?.problems, [
    'no [Match] setting: systemd-networkd ignores this file (Name=* would match every interface)',
  ]);

  const broken = files[1];
  assert.deepEqual(broken?.matchNames, ['eth0']);
  assert.equal(broken?.dhcp, 'maybe');
  assert.deepEqual(broken?.addresses, ['198.18.0.10/24', '198.18.0.11/24']);
  assert.deepEqual(broken?.gateways, ['198.18.0.1']);
  assert.deepEqual(broken?.dns, ['198.18.1.53']);
  assert.deepEqual(
    broken?.problems.map((p) => p.split(':')[0]),
    ['line 2', 'line 3', 'line 6', 'line 7', 'line 10', 'line 11', 'line 12', 'line 14', 'line 16', 'line 17'],
  );

  const match = matchNetworkFile(files, 'eth0', null);
  assert.equal(match?.path, join(dir, '20-broken.network'));
  // DHCP=maybe is not a value networkd accepts, so DHCP stays off: the Address= makes it static.
  assert.equal(assignmentOf(match), 'static');
});

test('readNetworkdDir: a missing directory is an empty list and a problem', async () => {
  const got = await readNetworkdDir(join(DIR, 'does-not-exist'));
  assert.deepEqual(got, { files: [], problems: [`${join(DIR, 'does-not-exist')} does not exist`] });
});

test('readNetworkdDir: an empty directory is an empty list without problems', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-networkd-'));
  try {
    assert.deepEqual(await readNetworkdDir(dir), { files: [], problems: [] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readNetworkdDir: byte order, not locale order; unreadable files are problems; other errors too', async () => {
  const contents: Record<string, string> = {
    '/n/a.network': '[Match]\nName=eth0\n[Network]\nDHCP=yes\n',
    '/n/B.network': '[Match]\nName=eth0\n[Network]\nAddress=198.18.0.10/24\n',
    '/n/10-x.network': '[Match]\nName=eth9\n',
  };
  const fs: NetworkdFs = {
    readdir: async () => [
      'a.network',
      'B.network',
      'denied.network',
      'notes.txt',
      '.network',
      '10-x.network',
      'x.network.d',
    ],
    readFile: async (p) => {
      const text = contents[p];
      if (text === undefined) throw Object.assign(new Error('denied'), { code: 'EACCES' });
      return text;
    },
  };
  const { files, problems } = await readNetworkdDir('/n', fs);
  // '1' < 'B' < 'a' in byte order (a locale sort would put a before B).
  assert.deepEqual(
    files.map((f) => f.path),
    ['/n/10-x.network', '/n/B.network', '/n/a.network'],
  );
  assert.deepEqual(problems, ['/n/denied.network could not be read (EACCES)']);
  assert.equal(assignmentOf(matchNetworkFile(files, 'eth0', null)), 'static');

  const failing: NetworkdFs = {
    readdir: async () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTDIR' })),
    readFile: async () => '',
  };
  assert.deepEqual(await readNetworkdDir('/f', failing), { files: [], problems: ['/f could not be read (ENOTDIR)'] });
});

test('matchNetworkFile: the first match in file-name order wins, whatever order the list is in', () => {
  const late = file('/n/99-all.network', { matchNames: ['*'], dhcp: 'yes' });
  const early = file('/n/10-eth0.network', { matchNames: ['eth0'], addresses: ['198.18.0.10/24'] });
  assert.equal(matchNetworkFile([late, early], 'eth0', null), early);
  assert.equal(matchNetworkFile([late, early], 'eth1', null), late);
});

test('matchNetworkFile: Name= globs, lists, and a leading ! inverting the list', () => {
  const cases: Array<[string[], string, boolean]> = [
    [['eth0'], 'eth0', true],
    [['eth0'], 'eth01', false],
    [['eth*'], 'eth12', true],
    [['en* eth?'], 'eth1', false], // one word with a space cannot match: lists are split on parse
    [['en*', 'eth?'], 'eth1', true],
    [['eth[0-3]'], 'eth2', true],
    [['eth[!0-3]'], 'eth2', false],
    [['eth[!0-3]'], 'eth7', true],
    [['!eth0'], 'eth0', false],
    [['!eth0'], 'eth1', true],
    [['!eth0', 'eth1'], 'eth1', false],
    [['!eth0', 'eth1'], 'eth2', true],
  ];
  for (const [names, ifname, expected] of cases) {
    const got = matchNetworkFile([file('/n/x.network', { matchNames: names })], ifname, null) !== null;
    assert.equal(got, expected, `Name=${names.join(' ')} vs ${ifname}`);
  }
});

test('matchNetworkFile: Name= and MACAddress= must both match; a file with only other [Match] keys matches', () => {
  const both = file('/n/10.network', { matchNames: ['eth0'], matchMacs: ['00:15:5d:4e:15:2c'] });
  assert.equal(matchNetworkFile([both], 'eth0', '00:15:5d:4e:15:2c'), both);
  assert.equal(matchNetworkFile([both], 'eth0', '00:15:5d:4e:15:2d'), null);
  assert.equal(matchNetworkFile([both], 'eth1', '00:15:5d:4e:15:2c'), null);
  const typeOnly = file('/n/20.network', { matchOther: ['Type=ether'] });
  assert.equal(matchNetworkFile([typeOnly], 'eth0', null), typeOnly);
  const nothing = file('/n/30.network');
  assert.equal(matchNetworkFile([nothing], 'eth0', null), null);
});

test('parseNetworkFile: other [Match] keys are kept as written', () => {
  const got = parseNetworkFile('[Match]\nType=ether\nDriver=hv_netvsc\n[Network]\nDHCP=yes\n', '/n/x.network');
  assert.deepEqual(got.matchOther, ['Type=ether', 'Driver=hv_netvsc']);
  assert.deepEqual(got.problems, []);
});

test('parseNetworkFile: repeated keys accumulate, empty ones reset, the last DHCP= wins', () => {
  const text = [
    '[Match]',
    'Name=eth0 eth1',
    'Name=eth2',
    'MACAddress=00:15:5d:00:00:01 0015.5d00.0002',
    '',
    '[Network]',
    'DHCP=yes',
    'DHCP=no',
    'Address=198.18.0.9/24',
    'Address=',
    'Address=198.18.0.10/24',
    'Gateway=198.18.0.1',
    'DNS=198.18.1.53',
    'DNS=198.18.1.54 198.18.1.55',
  ].join('\n');
  const got = parseNetworkFile(text, '/n/x.network');
  assert.deepEqual(
    got,
    file('/n/x.network', {
      matchNames: ['eth0', 'eth1', 'eth2'],
      matchMacs: ['00:15:5d:00:00:01', '00:15:5d:00:00:02'],
      dhcp: 'no',
      addresses: ['198.18.0.10/24'],
      gateways: ['198.18.0.1'],
      dns: ['198.18.1.53', '198.18.1.54', '198.18.1.55'],
    }),
  );
});

test('parseNetworkFile: spaces around =, quotes, CRLF, ; comments, continuation lines', () => {
  const text =
    '; leading comment\r\n[Match]\r\nName = "eth0"\r\n[Network]\r\nDNS=198.18.1.53 \\\r\n# skipped\r\n    198.18.1.54\r\n';
  const got = parseNetworkFile(text, '/n/x.network');
  assert.deepEqual(got.matchNames, ['eth0']);
  assert.deepEqual(got.dns, ['198.18.1.53', '198.18.1.54']);
  assert.deepEqual(got.problems, []);
});

test('parseNetworkFile: garbage never throws, and says where it is', () => {
  for (const text of [
    '',
    '\u0000\u0001\u00ff',
    '[[[]]]\n=\n==\n[',
    'x'.repeat(2_000_000),
    'Name=eth0\\',
    undefined as unknown as string,
  ]) {
    const got = parseNetworkFile(text, '/n/x.network');
    assert.equal(got.path, '/n/x.network');
    assert.ok(Array.isArray(got.problems));
  }
  const got = parseNetworkFile('[Match]\nName=eth0\n=value\nKey\n[Network\n', '/n/x.network');
  assert.deepEqual(got.problems, [
    'line 3: not a Key=Value line: "=value"',
    'line 4: not a Key=Value line: "Key"',
    'line 5: bad section header "[Network"',
  ]);
});

test('assignmentOf: DHCP spellings, ipv6-only DHCP, static and unknown', () => {
  for (const v of ['yes', 'true', 'on', '1', 'ipv4', 'both', 'YES', 'IPv4']) {
    assert.equal(assignmentOf(file('/x', { dhcp: v })), 'dhcp', v);
  }
  for (const v of ['no', 'false', 'ipv6', 'off', '0']) {
    assert.equal(assignmentOf(file('/x', { dhcp: v })), 'unknown', v);
    assert.equal(assignmentOf(file('/x', { dhcp: v, addresses: ['198.18.0.10/24'] })), 'static', v);
  }
  assert.equal(assignmentOf(file('/x', { dhcp: 'yes', addresses: ['198.18.0.10/24'] })), 'dhcp');
  assert.equal(assignmentOf(file('/x')), 'unknown');
  assert.equal(assignmentOf(null), 'unknown');
});

test('normalizeMac and globMatches', () => {
  assert.equal(normalizeMac('00-15-5D-4E-15-2C'), '00:15:5d:4e:15:2c');
  assert.equal(normalizeMac('0015.5d4e.152c'), '00:15:5d:4e:15:2c');
  assert.equal(normalizeMac('00:15-5d:4e:15:2c'), null);
  assert.equal(normalizeMac('00:15:5d:4e:15'), null);
  assert.equal(globMatches('eth\\*', 'eth*'), true);
  assert.equal(globMatches('eth\\*', 'eth0'), false);
  assert.equal(globMatches('e.h0', 'eth0'), false);
  assert.equal(globMatches('eth[', 'eth['), true);
  assert.equal(globMatches('(a|b)', 'a'), false);
});
