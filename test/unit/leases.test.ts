import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netmaskToPrefix, parseLease, parseTimespanSeconds, readLeaseFor } from '../../src/probes/leases.js';
import type { LeaseFs } from '../../src/probes/leases.js';

const DIR = fileURLToPath(new URL('../fixtures/leases/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');

/** A LeaseFs over the fixtures with a fixed modification time. */
function fixedTimeFs(mtime: Date): LeaseFs {
  return {
    readFile: async (p) => readFileSync(p, 'utf8'),
    stat: async () => ({ mtime }),
  };
}
const BOUND_AT = new Date('2026-11-26T06:00:00.000Z');

test('parseLease: systemd <= 251 lease (seconds)', () => {
  assert.deepEqual(parseLease(fixture('v250/2')), {
    server: '198.18.0.1',
    address: '198.18.0.10',
    prefixLength: 24,
    router: '198.18.0.1',
    dns: ['198.18.1.53', '198.18.1.54'],
    lifetimeSeconds: 86_400,
  });
});

test('parseLease: systemd >= 252 lease (timespans), first of two routers, DNS deduplicated', () => {
  assert.deepEqual(parseLease(fixture('v255/2')), {
    server: '198.18.0.1',
    address: '198.18.0.10',
    prefixLength: 20,
    router: '198.18.0.1',
    dns: ['198.18.1.53', '198.18.1.54'],
    lifetimeSeconds: 86_400,
  });
});

test('parseLease: compound lifetime, non-contiguous netmask, unknown key', () => {
  assert.deepEqual(parseLease(fixture('odd/3')), {
    server: '198.18.0.1',
    address: '198.18.0.10',
    prefixLength: null,
    router: null,
    dns: [],
    lifetimeSeconds: 5_400,
  });
});

test('parseLease: quoted values and CRLF; no LIFETIME', () => {
  assert.deepEqual(parseLease(fixture('odd/4')), {
    server: '198.18.0.1',
    address: '198.18.0.10',
    prefixLength: 24,
    router: '198.18.0.1',
    dns: [],
    lifetimeSeconds: null,
  });
});

test('parseLease: garbage gives an empty lease, never an exception', () => {
  const empty = { server: null, address: null, prefixLength: null, router: null, dns: [], lifetimeSeconds: null };
  assert.deepEqual(parseLease(fixture('odd/5')), empty);
  for (const text of [
    '',
    '=',
    '===\n=x',
    '\u0000'.repeat(1000),
    'ADDRESS=' + '9'.repeat(100_000),
    undefined as unknown as string,
  ]) {
    assert.deepEqual(parseLease(text), empty);
  }
});

test('parseLease: malformed values are dropped one by one', () => {
  const got = parseLease(
    'ADDRESS=198.18.0.300\nNETMASK=255.255.255.0\nROUTER=router.local 198.18.0.1\nSERVER_ADDRESS=::1\nDNS=198.18.1.53,198.18.1.54 x\nLIFETIME=-5\n',
  );
  assert.deepEqual(got, {
    server: null,
    address: null,
    prefixLength: 24,
    router: '198.18.0.1',
    dns: ['198.18.1.53', '198.18.1.54'],
    lifetimeSeconds: null,
  });
});

test('parseTimespanSeconds: both networkd formats and systemd.time units', () => {
  const cases: Array<[string, number | null]> = [
    ['86400', 86_400],
    ['1d', 86_400],
    ['12h', 43_200],
    ['1h 30min', 5_400],
    ['1h30min', 5_400],
    ['2min 5s', 125],
    ['1.5h', 5_400],
    ['1w', 604_800],
    ['500ms', 1],
    ['3 days', 259_200],
    ['1y', 31_557_600],
    ['1M', 2_629_800],
    ['', null],
    ['infinity', null],
    ['forever', null],
    ['1x', null],
    ['-5', null],
    ['1d garbage', null],
    ['1'.repeat(400), null],
  ];
  for (const [text, expected] of cases) assert.equal(parseTimespanSeconds(text), expected, text);
});

test('netmaskToPrefix', () => {
  assert.equal(netmaskToPrefix('255.255.255.0'), 24);
  assert.equal(netmaskToPrefix('255.255.240.0'), 20);
  assert.equal(netmaskToPrefix('255.255.255.255'), 32);
  assert.equal(netmaskToPrefix('0.0.0.0'), 0);
  assert.equal(netmaskToPrefix('255.0.255.0'), null);
  assert.equal(netmaskToPrefix('255.255.255'), null);
  assert.equal(netmaskToPrefix('ffff:ffff::'), null);
});

test('readLeaseFor: reads <dir>/<ifindex>; expiry = file time + LIFETIME', async () => {
  const got = await readLeaseFor(join(DIR, 'v250'), 2, fixedTimeFs(BOUND_AT));
  assert.deepEqual(got, {
    file: join(DIR, 'v250', '2'),
    server: '198.18.0.1',
    address: '198.18.0.10',
    prefixLength: 24,
    router: '198.18.0.1',
    dns: ['198.18.1.53', '198.18.1.54'],
    expiry: '2026-11-27T06:00:00.000Z',
  });
  const v255 = await readLeaseFor(join(DIR, 'v255'), 2, fixedTimeFs(BOUND_AT));
  assert.equal(v255?.expiry, '2026-11-27T06:00:00.000Z');
  const compound = await readLeaseFor(join(DIR, 'odd'), 3, fixedTimeFs(BOUND_AT));
  assert.equal(compound?.expiry, '2026-11-26T07:30:00.000Z');
});

test('readLeaseFor: the real file modification time is used by default', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-leases-'));
  try {
    copyFileSync(join(DIR, 'v250', '2'), join(dir, '7'));
    utimesSync(join(dir, '7'), BOUND_AT, BOUND_AT);
    const got = await readLeaseFor(dir, 7);
    assert.equal(got?.file, join(dir, '7'));
    assert.equal(got?.expiry, '2026-11-27T06:00:00.000Z');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readLeaseFor: unknown lifetime, infinite lease, or a failing stat give expiry null', async () => {
  assert.equal((await readLeaseFor(join(DIR, 'odd'), 4, fixedTimeFs(BOUND_AT)))?.expiry, null);
  const infinite = await readLeaseFor(join(DIR, 'odd'), 6, fixedTimeFs(BOUND_AT));
  assert.equal(infinite?.address, '198.18.0.10');
  assert.equal(infinite?.expiry, null);
  const noStat: LeaseFs = {
    readFile: async (p) => readFileSync(p, 'utf8'),
    stat: async () => Promise.reject(new Error('gone')),
  };
  assert.equal((await readLeaseFor(join(DIR, 'v250'), 2, noStat))?.expiry, null);
  const badTime: LeaseFs = {
    readFile: async () => 'ADDRESS=198.18.0.10\nLIFETIME=1y\n',
    stat: async () => ({ mtime: new Date(8.64e15) }),
  };
  assert.equal((await readLeaseFor('/l', 2, badTime))?.expiry, null);
});

test('readLeaseFor: no file, a garbage file, or a nonsense ifindex is null', async () => {
  assert.equal(await readLeaseFor(join(DIR, 'v250'), 99), null);
  assert.equal(await readLeaseFor(join(DIR, 'does-not-exist'), 2), null);
  assert.equal(await readLeaseFor(join(DIR, 'odd'), 5), null);
  for (const ifindex of [0, -1, 1.5, Number.NaN]) assert.equal(await readLeaseFor(join(DIR, 'v250'), ifindex), null);
  // A directory where the lease file should be: read fails, null.
  assert.equal(
    await readLeaseFor(DIR, 1, {
      readFile: async () => Promise.reject(Object.assign(new Error('x'), { code: 'EISDIR' })),
      stat: async () => ({ mtime: BOUND_AT }),
    }),
    null,
  );
});
