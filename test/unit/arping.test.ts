import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { arpingArgs, arpingDad, arpingFlavourOf, parseArpingOutput } from '../../src/probes/arping.js';
import type { ArpingFlavour, ArpingResult } from '../../src/probes/arping.js';
import { spawnPingWith } from '../../src/probes/ping.js';
import type { PingExec, PingExecResult } from '../../src/probes/ping.js';
import { newLabNames, removeNetnsSync } from '../lab/lab-names.js';
import { findTool } from '../lab/require-lab.js';
import { netnsUnavailable, skipOrFail } from '../support/netns.js';
import { capturedRun, capturedRunNames } from '../support/captured-output.js';

const fixture = (name: string) => capturedRun('arping', name);

const DUP_MAC = '02:00:c6:12:1e:99';
type Expected = Pick<ArpingResult, 'conflict'> & Partial<ArpingResult>;

// Per fixture: the flavour whose arguments produced it, and what it means (capture.sh).
const EXPECTED: Record<string, [ArpingFlavour, Expected] | 'version'> = {
  'iputils-conflict': ['iputils', { conflict: true, conflictingMac: DUP_MAC }],
  'iputils-free': ['iputils', { conflict: false, conflictingMac: null }],
  'iputils-free-unbounded': ['iputils', { conflict: false }],
  'iputils-no-interface': ['iputils', { conflict: null, error: 'unavailable' }],
  'iputils-not-permitted': ['iputils', { conflict: null, error: 'not-permitted' }],
  'iputils-bad-option': ['iputils', { conflict: null, error: 'unavailable' }],
  'busybox-conflict': ['busybox', { conflict: true, conflictingMac: DUP_MAC }],
  'busybox-free': ['busybox', { conflict: false }],
  'busybox-no-interface': ['busybox', { conflict: null, error: 'unavailable' }],
  'busybox-not-permitted': ['busybox', { conflict: null, error: 'not-permitted' }],
  'habets-conflict': ['habets', { conflict: true, conflictingMac: DUP_MAC }],
  'habets-free': ['habets', { conflict: false }],
  'habets-no-interface': ['habets', { conflict: null, error: 'unavailable' }],
  'habets-not-permitted': ['habets', { conflict: null, error: 'not-permitted' }],
  // Habets given iputils' options runs a different test (its -D prints dots): never read as "no conflict".
  'habets-with-iputils-args': ['iputils', { conflict: null, error: 'unavailable' }],
  'iputils-V': 'version',
  'busybox-V': 'version',
  'habets-V': 'version',
};

describe('parseArpingOutput on the captured fixtures', () => {
  test('every fixture on disk has an expectation (and the reverse)', () => {
    const onDisk = capturedRunNames('arping');
    assert.deepEqual(onDisk, Object.keys(EXPECTED).sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    if (expected === 'version') continue;
    test(name, () => {
      const [flavour, want] = expected;
      const got = parseArpingOutput('198.18.30.10', 'eth0', flavour, fixture(name));
      const picked = Object.fromEntries(Object.keys(want).map((k) => [k, got[k as keyof ArpingResult]]));
      assert.deepEqual(picked, want, JSON.stringify(got));
      assert.equal(got.address, '198.18.30.10');
      assert.equal(got.interface, 'eth0');
      if (got.error) assert.ok((got.detail ?? '').length > 0);
    });
  }

  test('exit codes are not trusted: iputils exits 1 on a conflict, Habets 1 on none', () => {
    assert.equal(fixture('iputils-conflict').exitCode, 1);
    assert.equal(fixture('habets-free').exitCode, 1);
    assert.equal(parseArpingOutput('198.18.30.11', 'eth0', 'habets', fixture('habets-free')).conflict, false);
  });

  test('the flavour from -V', () => {
    const of = (name: string) => {
      const f = fixture(name);
      return arpingFlavourOf(f.stdout, f.stderr);
    };
    assert.equal(of('iputils-V'), 'iputils');
    assert.equal(of('busybox-V'), 'busybox');
    assert.equal(of('habets-V'), 'habets');
    assert.equal(arpingFlavourOf('arping utility, iputils-s20121221\n', ''), 'iputils');
    assert.equal(arpingFlavourOf('something else', ''), null);
  });
});

describe('parseArpingOutput on malformed output', () => {
  const parse = (r: PingExecResult) => parseArpingOutput('198.18.30.10', 'eth0', 'iputils', r);

  test('nothing printed, garbage, wrong types: unavailable, never a verdict', () => {
    for (const r of [
      { stdout: '', stderr: '', exitCode: 0 },
      { stdout: '', stderr: '', exitCode: 1 },
      { stdout: '\u0000garbage\n', stderr: 'Segmentation fault\n', exitCode: 139 },
      { stdout: undefined as unknown as string, stderr: 7 as unknown as string, exitCode: 2 },
    ]) {
      const got = parse(r);
      assert.equal(got.conflict, null, JSON.stringify(got));
      assert.equal(got.error, 'unavailable');
    }
  });

  test('interrupted after the start line without statistics: no conflict', () => {
    assert.equal(
      parse({ stdout: 'ARPING 198.18.30.10 from 0.0.0.0 eth0\n', stderr: '', exitCode: null }).conflict,
      false,
    );
    // The same line but the process exited by itself without a summary: not understood.
    assert.equal(parse({ stdout: 'ARPING 198.18.30.10 from 0.0.0.0 eth0\n', stderr: '', exitCode: 0 }).conflict, null);
  });

  test('a count of answers without a reply line (a quiet build): a conflict without a MAC', () => {
    assert.deepEqual(
      parse({ stdout: 'Sent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n', stderr: '', exitCode: 1 }),
      { address: '198.18.30.10', interface: 'eth0', flavour: 'iputils', conflict: true, conflictingMac: null },
    );
  });

  test('a broadcast reply counts as well', () => {
    const got = parse({
      stdout: 'Broadcast reply from 198.18.30.10 [AA:BB:CC:00:11:22]  1.2ms\n',
      stderr: '',
      exitCode: 1,
    });
    assert.equal(got.conflictingMac, 'aa:bb:cc:00:11:22');
  });

  test('a missing binary', () => {
    const got = parse({
      stdout: '',
      stderr: '',
      exitCode: null,
      spawnError: { code: 'ENOENT', message: 'spawn arping ENOENT' },
    });
    assert.deepEqual([got.conflict, got.error, got.detail], [null, 'unavailable', 'arping is not installed']);
  });
});

/** A fake exec answering `-V` and the DAD run with fixtures, recording the calls. */
function scripted(results: PingExecResult[]): PingExec & { calls: string[][] } {
  const calls: string[][] = [];
  const exec = (_b: string, args: readonly string[]): Promise<PingExecResult> => {
    calls.push([...args]);
    const next = results.shift();
    return next ? Promise.resolve(next) : Promise.reject(new Error('unexpected call'));
  };
  return Object.assign(exec, { calls });
}

describe('arpingDad with a fake exec', () => {
  test('detects the flavour, then probes with that flavour’s options', async () => {
    const exec = scripted([fixture('habets-V'), fixture('habets-conflict')]);
    const got = await arpingDad('198.18.30.10', 'eth0', { exec });
    assert.deepEqual(exec.calls, [['-V'], ['-0', '-i', 'eth0', '-c', '2', '-w', '1', '198.18.30.10']]);
    assert.equal(got.conflict, true);
    assert.equal(got.flavour, 'habets');
    const iputils = scripted([fixture('iputils-V'), fixture('iputils-free')]);
    assert.equal((await arpingDad('198.18.30.11', 'eth0', { exec: iputils })).conflict, false);
    assert.deepEqual(iputils.calls[1], arpingArgs('iputils', 'eth0', '198.18.30.11'));
  });

  test('a given flavour skips the detection', async () => {
    const exec = scripted([fixture('busybox-conflict')]);
    const got = await arpingDad('198.18.30.10', 'eth0', { exec, flavour: 'busybox' });
    assert.equal(exec.calls.length, 1);
    assert.equal(got.conflictingMac, DUP_MAC);
  });

  test('missing binary, unknown binary, not-permitted', async () => {
    const missing = scripted([
      { stdout: '', stderr: '', exitCode: null, spawnError: { code: 'ENOENT', message: 'x' } },
    ]);
    assert.equal((await arpingDad('198.18.30.10', 'eth0', { exec: missing })).detail, 'arping is not installed');
    const unknown = scripted([{ stdout: 'mystery arp tool 1.0\n', stderr: '', exitCode: 0 }]);
    const got = await arpingDad('198.18.30.10', 'eth0', { exec: unknown });
    assert.equal(got.error, 'unavailable');
    assert.match(got.detail ?? '', /unknown arping: mystery/);
    const denied = scripted([fixture('iputils-V'), fixture('iputils-not-permitted')]);
    assert.equal((await arpingDad('198.18.30.10', 'eth0', { exec: denied })).error, 'not-permitted');
  });

  test('bad address or interface, and a stopped check, run nothing', async () => {
    const exec = scripted([]);
    for (const [address, iface] of [
      ['2001:db8::1', 'eth0'],
      ['198.18.30.10; id', 'eth0'],
      ['-D', 'eth0'],
      ['198.18.30.10', '-c'],
      ['198.18.30.10', 'eth0 x'],
      ['198.18.30.10', 'a'.repeat(16)],
    ]) {
      assert.equal((await arpingDad(address ?? '', iface ?? '', { exec })).error, 'unavailable', `${address} ${iface}`);
    }
    const c = new AbortController();
    c.abort();
    assert.equal((await arpingDad('198.18.30.10', 'eth0', { exec, signal: c.signal })).error, 'unavailable');
    assert.equal(exec.calls.length, 0);
  });

  test('the DAD run is stopped at timeoutMs; silence until then is "no conflict"', async () => {
    let aborted = false;
    const exec: PingExec = (_b, args, signal) =>
      args[0] === '-V'
        ? Promise.resolve(fixture('iputils-V'))
        : new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              resolve(fixture('iputils-free'));
            });
          });
    const got = await arpingDad('198.18.30.11', 'eth0', { exec, timeoutMs: 50 });
    assert.equal(aborted, true);
    assert.equal(got.conflict, false);
  });

  test('stopped by the check instead: silence proves nothing', async () => {
    const c = new AbortController();
    const exec: PingExec = (_b, args, signal) =>
      args[0] === '-V'
        ? Promise.resolve(fixture('iputils-V'))
        : new Promise((resolve) => {
            signal.addEventListener('abort', () => resolve(fixture('iputils-free')));
            setTimeout(() => c.abort(), 10);
          });
    const got = await arpingDad('198.18.30.11', 'eth0', { exec, timeoutMs: 60_000, signal: c.signal });
    assert.equal(got.conflict, null);
    assert.equal(got.error, 'unavailable');
  });
});

// --- the real arping in a namespace lab --------------------------------------------------------------

const ARPING = findTool('arping');
const IP = findTool('ip') ?? 'ip';

/** vm (eth0: .10 and .11) and dup (eth0: .10) on a bridge in net: DAD for .10 is answered, for .11 not. */
describe('arpingDad with the real arping in a namespace lab', () => {
  const a = newLabNames();
  const b = newLabNames();
  const vm = a.vmNs;
  const net = a.netNs;
  const dup = b.vmNs;
  let skip = netnsUnavailable();
  if (skip === null && ARPING === null) skip = 'missing the `arping` command (apt-get install -y iputils-arping)';
  let dir = '';

  before(() => {
    if (skip !== null) return;
    dir = mkdtempSync(a.tmpPrefix);
    const sh = (...args: string[]) => execFileSync(IP, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    for (const ns of [vm, net, dup]) {
      sh('netns', 'add', ns);
      sh('-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('-n', net, 'link', 'add', 'br0', 'type', 'bridge');
    sh('-n', net, 'link', 'set', 'br0', 'up');
    sh('-n', vm, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'pv', 'netns', net);
    sh('-n', dup, 'link', 'add', 'eth0', 'address', DUP_MAC, 'type', 'veth', 'peer', 'name', 'pd', 'netns', net);
    for (const port of ['pv', 'pd']) {
      sh('-n', net, 'link', 'set', port, 'master', 'br0');
      sh('-n', net, 'link', 'set', port, 'up');
    }
    sh('-n', vm, 'addr', 'add', '198.18.30.10/24', 'dev', 'eth0');
    sh('-n', vm, 'addr', 'add', '198.18.30.11/24', 'dev', 'eth0');
    sh('-n', dup, 'addr', 'add', '198.18.30.10/24', 'dev', 'eth0');
    sh('-n', vm, 'link', 'set', 'eth0', 'up');
    sh('-n', dup, 'link', 'set', 'eth0', 'up');
  });
  after(() => {
    for (const ns of [vm, net, dup]) removeNetnsSync(ns);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const inVm =
    (prefix: string[] = []): PingExec =>
    (binary, args, signal) =>
      spawnPingWith(process.env['PATH'])(IP, ['netns', 'exec', vm, ...prefix, binary, ...args], signal);

  /** The links need a moment after `up` before the bridge forwards: retry a conflict probe briefly. */
  async function untilAnswered(run: () => Promise<ArpingResult>): Promise<ArpingResult> {
    let last = await run();
    for (let i = 0; i < 20 && last.conflict !== true; i++) {
      await new Promise((r) => setTimeout(r, 100));
      last = await run();
    }
    return last;
  }

  test('iputils: another host holds .10 (conflict, with its MAC); nobody holds .11', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const conflict = await untilAnswered(() =>
      arpingDad('198.18.30.10', 'eth0', { binary: ARPING ?? 'arping', exec: inVm() }),
    );
    assert.deepEqual(conflict, {
      address: '198.18.30.10',
      interface: 'eth0',
      conflict: true,
      conflictingMac: DUP_MAC,
      flavour: 'iputils',
    });
    const free = await arpingDad('198.18.30.11', 'eth0', { binary: ARPING ?? 'arping', exec: inVm() });
    assert.deepEqual(free, {
      address: '198.18.30.11',
      interface: 'eth0',
      conflict: false,
      conflictingMac: null,
      flavour: 'iputils',
    });
  });

  test('iputils: a missing interface is unavailable', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const got = await arpingDad('198.18.30.10', 'eth9', { binary: ARPING ?? 'arping', exec: inVm() });
    assert.equal(got.error, 'unavailable');
    assert.match(got.detail ?? '', /eth9/);
  });

  test('iputils without CAP_NET_RAW: not-permitted, not "no answer"', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const setpriv = findTool('setpriv');
    if (setpriv === null) return skipOrFail(t, 'missing setpriv (util-linux)');
    const copy = join(dir, 'arping');
    copyFileSync(ARPING ?? 'arping', copy);
    chmodSync(dir, 0o755);
    chmodSync(copy, 0o755);
    const got = await arpingDad('198.18.30.10', 'eth0', {
      binary: copy,
      exec: inVm([setpriv, '--reuid=65534', '--regid=65534', '--clear-groups']),
    });
    assert.equal(got.conflict, null);
    assert.equal(got.error, 'not-permitted', JSON.stringify(got));
  });

  test('BusyBox arping: the same verdicts', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const busybox = findTool('busybox');
    if (busybox === null) return skipOrFail(t, 'missing busybox');
    const conflict = await untilAnswered(() =>
      arpingDad('198.18.30.10', 'eth0', { binary: 'arping', exec: inVm([busybox]) }),
    );
    assert.equal(conflict.flavour, 'busybox');
    assert.equal(conflict.conflict, true);
    assert.equal(conflict.conflictingMac, DUP_MAC);
    const free = await arpingDad('198.18.30.11', 'eth0', { binary: 'arping', exec: inVm([busybox]) });
    assert.equal(free.conflict, false, JSON.stringify(free));
  });
});
