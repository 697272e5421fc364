import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { dfPingArgs, dfPingSizes, parseDfPingOutput, pingDfStaged, pingDfSweep } from '../../src/probes/df-ping.js';
import type { DfProbe, PathMtuResult } from '../../src/probes/df-ping.js';
import { spawnPingWith } from '../../src/probes/ping.js';
import type { PingExec, PingExecResult } from '../../src/probes/ping.js';
import { newLabNames, removeNetnsSync } from '../lab/lab-names.js';
import { findTool } from '../lab/require-lab.js';
import { netnsUnavailable, skipOrFail } from '../support/netns.js';
import { capturedRun, capturedRunNames } from '../support/captured-output.js';

const fixture = (name: string) => capturedRun('df-ping', name);

type Expected = Pick<DfProbe, 'outcome'> & Partial<DfProbe>;

// What each capture means (capture.sh says how each was made).
const EXPECTED: Record<string, Expected> = {
  'iputils-reply-1500': { outcome: 'reply', rttMs: 0.039 },
  'iputils-reply-1400': { outcome: 'reply', rttMs: 0.046 },
  'iputils-reply-below-blackhole': { outcome: 'reply', rttMs: 0.248 },
  'iputils-local-too-big-interface': { outcome: 'too-big-local', mtu: 1500 },
  'iputils-local-too-big-learned': { outcome: 'too-big-local', mtu: 1400 },
  'iputils-frag-needed': { outcome: 'frag-needed', mtu: 1400, from: '198.18.20.1' },
  'iputils-no-reply-frag-needed-dropped': { outcome: 'no-reply', mtu: null },
  'iputils-no-reply-size-blackhole': { outcome: 'no-reply' },
  'iputils-no-reply-dropped': { outcome: 'no-reply' },
  'iputils-no-route': { outcome: 'unreachable', from: '198.18.20.1' },
  'iputils6-reply-1500': { outcome: 'reply', rttMs: 0.042 },
  'iputils6-packet-too-big': { outcome: 'frag-needed', mtu: 1400, from: '2001:db8:20::1' },
  'iputils6-local-too-big-learned': { outcome: 'too-big-local', mtu: 1400 },
  'iputils6-local-too-big-interface': { outcome: 'too-big-local', mtu: 1500 },
  'iputils6-no-reply-size-blackhole': { outcome: 'no-reply' },
  'iputils-not-permitted': { outcome: 'error', error: 'not-permitted' },
  'busybox-no-df-option': { outcome: 'error', error: 'unavailable' },
};

describe('parseDfPingOutput on the captured fixtures', () => {
  test('every fixture on disk has an expectation (and the reverse)', () => {
    const onDisk = capturedRunNames('df-ping');
    assert.deepEqual(onDisk, Object.keys(EXPECTED).sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    test(name, () => {
      const got = parseDfPingOutput(1500, fixture(name));
      const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, got[k as keyof DfProbe]]));
      assert.deepEqual(picked, expected, JSON.stringify(got));
      assert.equal(got.size, 1500);
      if (got.outcome === 'error') assert.ok((got.detail ?? '').length > 0, 'an error says what ping printed');
    });
  }

  test('BusyBox: the refused -M is named', () => {
    assert.match(parseDfPingOutput(1500, fixture('busybox-no-df-option')).detail ?? '', /invalid option -- 'M'/);
  });
});

describe('parseDfPingOutput on other and malformed output', () => {
  const run = (stdout: string, stderr = '', exitCode: number | null = 1): DfProbe =>
    parseDfPingOutput(1400, { stdout, stderr, exitCode });

  test('older iputils: "sendmsg: Message too long" is the local refusal, without an MTU', () => {
    assert.deepEqual(run('PING x\n', 'ping: sendmsg: Message too long\n'), {
      size: 1400,
      outcome: 'too-big-local',
      mtu: null,
      from: null,
      rttMs: null,
    });
  });

  test('killed before any answer (our timeout): no reply', () => {
    assert.equal(run('PING 198.18.21.12 (198.18.21.12) 1372(1400) bytes of data.\n', '', null).outcome, 'no-reply');
  });

  test('a missing binary, garbage, nothing at all, wrong types: errors, never throws', () => {
    assert.deepEqual(
      parseDfPingOutput(1400, { stdout: '', stderr: '', exitCode: null, spawnError: { code: 'ENOENT', message: 'x' } }),
      {
        size: 1400,
        outcome: 'error',
        mtu: null,
        from: null,
        rttMs: null,
        error: 'unavailable',
        detail: 'ping is not installed',
      },
    );
    for (const [stdout, stderr, exit] of [
      ['', '', 0],
      ['\u0000\u0001garbage\n', 'Segmentation fault\n', 139],
      [undefined, 42, 2],
    ] as Array<[unknown, unknown, number]>) {
      const got = parseDfPingOutput(1400, { stdout: stdout as string, stderr: stderr as string, exitCode: exit });
      assert.equal(got.outcome, 'error', JSON.stringify(got));
      assert.equal(got.error, 'unavailable');
    }
  });

  test('an absurd MTU is not reported as one', () => {
    assert.equal(run('From 198.18.20.1 icmp_seq=1 Frag needed and DF set (mtu = 99999999)\n').mtu, null);
  });
});

describe('dfPingSizes and dfPingArgs', () => {
  test('the MTU first, then the smaller defaults, largest first, bounded', () => {
    assert.deepEqual(dfPingSizes(1500), [1500, 1400, 1280, 1000, 576]);
    assert.deepEqual(dfPingSizes(1400), [1400, 1280, 1000, 576]);
    assert.deepEqual(dfPingSizes(1350), [1350, 1280, 1000, 576]);
    assert.deepEqual(dfPingSizes(null), [1500, 1400, 1280, 1000, 576]);
    assert.deepEqual(dfPingSizes(9000, [8000, 4000, 1500, 1400, 1280, 1000, 576, 500, 300]).length, 8);
    assert.deepEqual(dfPingSizes(-1, [1400, 1400, 10, 1.5]), [1500, 1400]);
  });

  test('iputils arguments: DF, payload = size - 28 (IPv4) or 48 (IPv6), target last', () => {
    assert.deepEqual(dfPingArgs('198.18.0.1', 1500, 1500), [
      '-n',
      '-M',
      'do',
      '-s',
      '1472',
      '-c',
      '1',
      '-W',
      '1',
      '198.18.0.1',
    ]);
    assert.deepEqual(dfPingArgs('2001:db8::1', 1500, 3000, 'eth0'), [
      '-n',
      '-6',
      '-M',
      'do',
      '-s',
      '1452',
      '-c',
      '1',
      '-W',
      '3',
      '-I',
      'eth0',
      '2001:db8::1',
    ]);
  });
});

/** A fake exec answering each size with a fixture. */
function fakeExec(bySize: Record<number, string>): PingExec & { calls: string[][] } {
  const calls: string[][] = [];
  const exec = (_binary: string, args: readonly string[]): Promise<PingExecResult> => {
    calls.push([...args]);
    const payload = Number(args[args.indexOf('-s') + 1]);
    const name = bySize[payload + 28];
    return name ? Promise.resolve(fixture(name)) : Promise.reject(new Error(`unexpected size ${payload}`));
  };
  return Object.assign(exec, { calls });
}

describe('pingDfSweep with a fake exec', () => {
  test('a black hole: the big ones vanish without frag-needed, the small ones pass', async () => {
    const exec = fakeExec({
      1500: 'iputils-no-reply-frag-needed-dropped',
      1400: 'iputils-no-reply-size-blackhole',
      1280: 'iputils-reply-below-blackhole',
      1000: 'iputils-reply-below-blackhole',
      576: 'iputils-reply-below-blackhole',
    });
    const got = await pingDfSweep('198.18.21.12', { interfaceMtu: 1500, exec });
    assert.equal(got.largestPassingDf, 1280);
    assert.equal(got.smallestFailingDf, 1400);
    assert.equal(got.reportedMtu, null);
    assert.deepEqual(
      got.probed.map((p) => [p.size, p.outcome]),
      [
        [1500, 'no-reply'],
        [1400, 'no-reply'],
        [1280, 'reply'],
        [1000, 'reply'],
        [576, 'reply'],
      ],
    );
    assert.equal(exec.calls.length, 5);
    assert.equal(got.error, undefined);
  });

  test('every probe refused alike: the sweep carries the error', async () => {
    const exec: PingExec = () => Promise.resolve(fixture('iputils-not-permitted'));
    const got = await pingDfSweep('198.18.0.1', { interfaceMtu: 1400, exec });
    assert.equal(got.error, 'not-permitted');
    assert.equal(got.largestPassingDf, null);
    assert.equal(got.probed.length, 4);
  });

  test('targets and interfaces that are not literals run nothing', async () => {
    const exec = fakeExec({});
    for (const target of ['-f', 'hub.example', '198.18.0.1; id', '', '198.18.0.1/24']) {
      const got = await pingDfSweep(target, { exec });
      assert.equal(got.error, 'unavailable', target);
    }
    assert.equal((await pingDfSweep('198.18.0.1', { exec, interface: '-I' })).error, 'unavailable');
    assert.equal(exec.calls.length, 0);
  });

  test('an already stopped check starts nothing; an exec that throws is an error, not a rejection', async () => {
    const c = new AbortController();
    c.abort();
    const exec = fakeExec({});
    assert.equal((await pingDfSweep('198.18.0.1', { exec, signal: c.signal })).error, 'unavailable');
    assert.equal(exec.calls.length, 0);
    const throwing: PingExec = () => Promise.reject(new Error('boom'));
    const got = await pingDfSweep('198.18.0.1', { exec: throwing, interfaceMtu: 1280 });
    assert.deepEqual(
      got.probed.map((p) => p.outcome),
      ['error', 'error', 'error'],
    );
  });

  test('the number running at once is bounded', async () => {
    let running = 0;
    let peak = 0;
    const exec: PingExec = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running -= 1;
      return fixture('iputils-reply-1500');
    };
    const got = await pingDfSweep('198.18.0.1', { exec, concurrency: 2 });
    assert.equal(peak, 2);
    assert.equal(got.largestPassingDf, 1500);
  });
});

describe('pingDfStaged with a fake exec: two pings on a healthy path, the middle sizes only when they tell something', () => {
  const sizesOf = (calls: string[][]) => calls.map((a) => Number(a[a.indexOf('-s') + 1]) + 28).sort((x, y) => y - x);

  test('the MTU passes: only the MTU and the smallest size are sent', async () => {
    const exec = fakeExec({ 1500: 'iputils-reply-1500', 576: 'iputils-reply-below-blackhole' });
    const got = await pingDfStaged('198.18.0.1', { interfaceMtu: 1500, exec });
    assert.deepEqual(sizesOf(exec.calls), [1500, 576]);
    assert.equal(got.largestPassingDf, 1500);
    assert.equal(got.smallestFailingDf, null);
  });

  test('a black hole: the MTU vanishes, the smallest passes, so the middle sizes are probed', async () => {
    const exec = fakeExec({
      1500: 'iputils-no-reply-frag-needed-dropped',
      1400: 'iputils-no-reply-size-blackhole',
      1280: 'iputils-reply-below-blackhole',
      1000: 'iputils-reply-below-blackhole',
      576: 'iputils-reply-below-blackhole',
    });
    const got = await pingDfStaged('198.18.21.12', { interfaceMtu: 1500, exec });
    assert.deepEqual(sizesOf(exec.calls), [1500, 1400, 1280, 1000, 576]);
    assert.deepEqual(
      got.probed.map((p) => [p.size, p.outcome]),
      [
        [1500, 'no-reply'],
        [1400, 'no-reply'],
        [1280, 'reply'],
        [1000, 'reply'],
        [576, 'reply'],
      ],
    );
    assert.equal(got.largestPassingDf, 1280);
    assert.equal(got.smallestFailingDf, 1400);
  });

  test('nothing passes at all (ping filtered): no second round', async () => {
    const exec = fakeExec({ 1500: 'iputils-no-reply-dropped', 576: 'iputils-no-reply-dropped' });
    const got = await pingDfStaged('198.18.0.1', { interfaceMtu: 1500, exec });
    assert.deepEqual(sizesOf(exec.calls), [1500, 576]);
    assert.equal(got.largestPassingDf, null);
  });

  test('refusals and bad targets run nothing, as the sweep does', async () => {
    const exec = fakeExec({});
    assert.equal((await pingDfStaged('hub.example', { exec })).error, 'unavailable');
    assert.equal(exec.calls.length, 0);
    const denied: PingExec = () => Promise.resolve(fixture('iputils-not-permitted'));
    assert.equal((await pingDfStaged('198.18.0.1', { interfaceMtu: 1400, exec: denied })).error, 'not-permitted');
  });
});

// --- the real ping in a namespace lab --------------------------------------------------------------

const PING = findTool('ping');
const NFT = findTool('nft');
const IP = findTool('ip') ?? 'ip';

/**
 * vm (eth0 198.18.20.10/24, MTU 1500) — rtr (198.18.20.1 | 198.18.21.1, MTU 1400 towards far) — far
 * (198.18.21.10–12). rtr sends frag-needed except towards .11 (an nft output rule drops it: black
 * hole) and silently drops packets over 1300 bytes to .12 (a middlebox). Forwarding is enabled in
 * the rtr namespace only.
 */
describe('pingDfSweep with the real iputils ping in a namespace lab', () => {
  const a = newLabNames();
  const b = newLabNames();
  const vm = a.vmNs;
  const rtr = a.netNs;
  const far = b.vmNs;
  let skip: string | null = netnsUnavailable(['nft']);
  if (skip === null && (PING === null || NFT === null)) skip = 'missing the `ping` (iputils) or `nft` command';
  let dir = '';

  before(() => {
    if (skip !== null) return;
    dir = mkdtempSync(a.tmpPrefix);
    const sh = (...args: string[]) => execFileSync(IP, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    for (const ns of [vm, rtr, far]) {
      sh('netns', 'add', ns);
      sh('-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('-n', vm, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'p0', 'netns', rtr);
    sh('-n', rtr, 'link', 'add', 'p1', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', far);
    sh('-n', far, 'link', 'set', 'eth0', 'mtu', '1400');
    sh('-n', vm, 'addr', 'add', '198.18.20.10/24', 'dev', 'eth0');
    sh('-n', rtr, 'addr', 'add', '198.18.20.1/24', 'dev', 'p0');
    sh('-n', rtr, 'addr', 'add', '198.18.21.1/24', 'dev', 'p1');
    for (const host of ['10', '11', '12']) sh('-n', far, 'addr', 'add', `198.18.21.${host}/24`, 'dev', 'eth0');
    sh('-n', vm, 'link', 'set', 'eth0', 'up');
    sh('-n', rtr, 'link', 'set', 'p0', 'up');
    sh('-n', rtr, 'link', 'set', 'p1', 'up');
    sh('-n', far, 'link', 'set', 'eth0', 'up');
    sh('-n', vm, 'route', 'add', 'default', 'via', '198.18.20.1');
    sh('-n', far, 'route', 'add', 'default', 'via', '198.18.21.1');
    execFileSync(IP, ['netns', 'exec', rtr, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    execFileSync(IP, ['netns', 'exec', rtr, NFT ?? 'nft', '-f', '-'], {
      input: `table inet lab {
        chain forward { type filter hook forward priority 0; ip daddr 198.18.21.12 meta length > 1300 drop; }
        chain output {
          type filter hook output priority 0;
          # the frag-needed about a packet to .11: the inner header's destination, 24 bytes into the ICMP message
          icmp type destination-unreachable icmp code frag-needed @th,192,32 0xc612150b drop;
        }
      }`,
    });
  });
  after(() => {
    for (const ns of [vm, rtr, far]) removeNetnsSync(ns);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the real ping inside the vm namespace (ip netns exec execs into it, so signals reach ping). */
  const inVm =
    (prefix: string[] = []): PingExec =>
    (binary, args, signal) =>
      spawnPingWith(process.env['PATH'])(IP, ['netns', 'exec', vm, ...prefix, binary, ...args], signal);

  const sweep = (target: string, exec: PingExec, binary = PING ?? 'ping'): Promise<PathMtuResult> =>
    pingDfSweep(target, { interfaceMtu: 1500, timeoutMs: 1500, binary, exec });

  test('a path that reports its MTU: frag-needed at 1500 with mtu 1400, 1400 and below pass', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const got = await sweep('198.18.21.10', inVm());
    const first = got.probed[0];
    assert.equal(first?.size, 1500);
    // Parallel probes: the first may also see the MTU the kernel already learned from the answer.
    assert.ok(first?.outcome === 'frag-needed' || first?.outcome === 'too-big-local', JSON.stringify(got));
    assert.equal(first?.mtu, 1400);
    assert.equal(got.largestPassingDf, 1400);
    assert.equal(got.smallestFailingDf, 1500);
    assert.equal(got.reportedMtu, 1400);
  });

  test('a black hole: frag-needed dropped on the way back, 1500 vanishes, 1400 and below pass', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const got = await sweep('198.18.21.11', inVm());
    assert.deepEqual(
      got.probed.map((p) => [p.size, p.outcome]),
      [
        [1500, 'no-reply'],
        [1400, 'reply'],
        [1280, 'reply'],
        [1000, 'reply'],
        [576, 'reply'],
      ],
      JSON.stringify(got),
    );
    assert.equal(got.largestPassingDf, 1400);
    assert.equal(got.smallestFailingDf, 1500);
    assert.equal(got.reportedMtu, null, 'nothing told the VM the MTU');
  });

  test('a middlebox dropping big packets: 1500 reported too big, 1400 vanishes, 1280 passes', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const got = await sweep('198.18.21.12', inVm());
    assert.deepEqual(
      got.probed.map((p) => p.outcome),
      [
        got.probed[0]?.outcome === 'too-big-local' ? 'too-big-local' : 'frag-needed',
        'no-reply',
        'reply',
        'reply',
        'reply',
      ],
      JSON.stringify(got),
    );
    assert.equal(got.largestPassingDf, 1280);
    assert.equal(got.smallestFailingDf, 1400);
  });

  test('the interface MTU itself too big for eth0 is refused locally', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const got = await pingDfSweep('198.18.20.1', {
      interfaceMtu: 1600,
      sizes: [1500],
      binary: PING ?? 'ping',
      exec: inVm(),
    });
    assert.deepEqual(
      got.probed.map((p) => [p.size, p.outcome, p.mtu]),
      [
        [1600, 'too-big-local', 1500],
        [1500, 'reply', null],
      ],
    );
  });

  test('without CAP_NET_RAW: not-permitted, told apart from no reply', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    // A copy of ping without its file capability; the group range admits nobody to ICMP sockets.
    const copy = join(dir, 'ping');
    copyFileSync(PING ?? 'ping', copy);
    chmodSync(dir, 0o755);
    chmodSync(copy, 0o755);
    execFileSync(IP, ['netns', 'exec', vm, 'sysctl', '-q', '-w', 'net.ipv4.ping_group_range=1 0']);
    const setpriv = findTool('setpriv');
    if (setpriv === null) return skipOrFail(t, 'missing setpriv (util-linux)');
    const got = await sweep('198.18.20.1', inVm([setpriv, '--reuid=65534', '--regid=65534', '--clear-groups']), copy);
    assert.equal(got.error, 'not-permitted', JSON.stringify(got));
  });

  test('BusyBox ping (no -M): unavailable', async (t) => {
    if (skip !== null) return skipOrFail(t, skip);
    const busybox = findTool('busybox');
    if (busybox === null) return skipOrFail(t, 'missing busybox');
    const got = await sweep('198.18.20.1', inVm([busybox]), 'ping');
    assert.equal(got.error, 'unavailable', JSON.stringify(got));
    assert.match(got.detail ?? '', /'M'/);
  });
});
