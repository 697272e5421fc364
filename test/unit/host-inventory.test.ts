/**
 * The host inventory (src/module/host-inventory.ts, CONTRACT.md 8.3): the VM's OS from the
 * kernel's distribution tag (inside a container, /etc/os-release is the image's), os-release as a
 * fallback, CPUs and memory from systeminformation, and a boot time that does not move.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  inventoryToTwin,
  osFromKernel,
  osFromOsRelease,
  readHostInventory,
  systeminformationCalls,
  type InventorySources,
} from '../../src/module/host-inventory.js';

const AZURE_LINUX = 'NAME="Microsoft Azure Linux"\nVERSION="3.0.20250729"\nID=azurelinux\nVERSION_ID="3.0"\n';
const ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.24.1\nPRETTY_NAME="Alpine Linux v3.24"\n';

function sources(over: Partial<InventorySources> = {}): InventorySources {
  return {
    system: {
      cpu: async () => ({ cores: 4, manufacturer: 'Intel', brand: 'Xeon E-2278G' }),
      mem: async () => ({ total: 4 * 2 ** 30 }),
    },
    read: async (path) => {
      if (path === '/etc/os-release') return ALPINE;
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    },
    kernel: () => '6.6.44.1-2.azl3',
    arch: () => 'x64',
    uptimeSeconds: () => 3600.4,
    now: () => Date.UTC(2026, 10, 26, 7, 0, 0, 300),
    ...over,
  };
}

describe('host inventory', () => {
  test("inside the module container: the VM's OS from its kernel, not the image's os-release", async () => {
    const inv = await readHostInventory(sources());
    assert.deepEqual(inv, {
      os: 'Azure Linux 3.0',
      osFrom: 'kernel',
      kernel: '6.6.44.1-2.azl3',
      arch: 'x64',
      cpus: 4,
      cpuModel: 'Intel Xeon E-2278G',
      memoryMB: 4096,
      bootedAt: '2026-11-26T06:00:00.000Z',
    });
  });

  test('kernel tags: Azure Linux (azl) and CBL-Mariner (cm); others are not guessed', () => {
    assert.equal(osFromKernel('6.6.44.1-2.azl3'), 'Azure Linux 3.0');
    assert.equal(osFromKernel('5.15.158.2-1.cm2'), 'CBL-Mariner 2.0');
    assert.equal(osFromKernel('6.18.44-fc-v782'), null);
    assert.equal(osFromKernel('6.1.0-18-amd64'), null);
  });

  test('a kernel without a tag (a process outside a container): os-release NAME and VERSION', async () => {
    const inv = await readHostInventory(sources({ kernel: () => '6.1.0-18-amd64', read: async () => AZURE_LINUX }));
    assert.equal(inv.os, 'Microsoft Azure Linux 3.0.20250729');
    assert.equal(inv.osFrom, 'os-release');
    assert.equal(osFromOsRelease(ALPINE), 'Alpine Linux 3.24.1');
    assert.equal(osFromOsRelease('garbage'), null);
  });

  test('what cannot be read is unknown or zero, never a failure', async () => {
    const inv = await readHostInventory(
      sources({
        kernel: () => '6.1.0',
        system: { cpu: () => Promise.reject(new Error('lscpu')), mem: () => Promise.reject(new Error('meminfo')) },
        read: () => Promise.reject(new Error('EACCES')),
      }),
    );
    assert.deepEqual([inv.os, inv.osFrom, inv.cpus, inv.cpuModel, inv.memoryMB], ['unknown', 'unknown', 0, null, 0]);
  });

  test('the boot time does not move with the uptime (a second later, the same bootedAt)', async () => {
    const a = await readHostInventory(sources());
    const b = await readHostInventory(
      sources({ uptimeSeconds: () => 3601.4, now: () => Date.UTC(2026, 10, 26, 7, 0, 1, 300) }),
    );
    assert.equal(a.bootedAt, b.bootedAt);
  });

  test('the twin form holds no uptime, only what is stable', async () => {
    const twin = inventoryToTwin(await readHostInventory(sources()));
    assert.deepEqual(Object.keys(twin).sort(), [
      'arch',
      'bootedAt',
      'cpuModel',
      'cpus',
      'kernel',
      'memoryMB',
      'os',
      'osFrom',
    ]);
  });

  test("systeminformation's cpu() and mem() load from their own modules and answer on this machine", async () => {
    const system = systeminformationCalls();
    const [cpu, mem] = await Promise.all([system.cpu(), system.mem()]);
    assert.ok(Number.isInteger(cpu.cores) && cpu.cores >= 1, `cores ${cpu.cores}`);
    assert.ok(mem.total > 2 ** 20, `total ${mem.total}`);
  });
});
