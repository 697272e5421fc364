import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseProcNetArp, readNeighbours } from '../../src/probes/neighbours.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/proc/${name}`, import.meta.url)), 'utf8');

test('parseProcNetArp: complete, incomplete and permanent entries from a real table', () => {
  assert.deepEqual(parseProcNetArp(fixture('arp')), [
    { address: '198.18.44.2', interface: 'eth0', mac: null, complete: false },
    { address: '198.18.44.1', interface: 'eth0', mac: '4a:12:81:5f:a2:e2', complete: true },
    { address: '198.18.2.1', interface: 'eth1', mac: null, complete: false },
    { address: '198.18.0.1', interface: 'eth0', mac: '02:00:c6:12:00:01', complete: true },
  ]);
});

test('parseProcNetArp: garbage, a header alone and broken lines give what parses, never a throw', () => {
  const header = 'IP address       HW type     Flags       HW address            Mask     Device\n';
  assert.deepEqual(parseProcNetArp(''), []);
  assert.deepEqual(parseProcNetArp(header), []);
  assert.deepEqual(parseProcNetArp('\u0000garbage\n{"json":1}\n'), []);
  const text = `${header}not-an-ip 0x1 0x2 aa:bb:cc:dd:ee:ff * eth0\n198.18.0.1 0x1 zz aa:bb:cc:dd:ee:ff * eth0\n198.18.0.1 0x1 0x2\n198.18.0.2 0x1 0x2 bogus * eth0\n`;
  assert.deepEqual(parseProcNetArp(text), [{ address: '198.18.0.2', interface: 'eth0', mac: null, complete: true }]);
  assert.deepEqual(parseProcNetArp(42 as unknown as string), []);
});

test('readNeighbours: an unreadable table is empty', async () => {
  assert.deepEqual(
    await readNeighbours(async () => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    }),
    [],
  );
  assert.equal((await readNeighbours(async () => fixture('arp'))).length, 4);
});
