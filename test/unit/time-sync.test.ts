import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PingExecResult } from '../../src/probes/ping.js';
import { parseChronyTracking, parseTimesyncShow, readTimeSync, type RunCommand } from '../../src/probes/time-sync.js';
import { errorWithCode } from '../../src/util/errors.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/timesync/', import.meta.url));
const chrony = (name: string) => readFileSync(`${FIXTURES}chronyc-tracking-${name}.txt`, 'utf8');
const ctx = () => ({ signal: new AbortController().signal, timeoutMs: 2000 });

const NOT_INSTALLED: PingExecResult = {
  stdout: '',
  stderr: '',
  exitCode: null,
  spawnError: { code: 'ENOENT', message: 'spawn ENOENT' },
};

/** A fake runner: answers per program, records what was run. */
function runner(answers: Record<string, PingExecResult>): RunCommand & { calls: string[][] } {
  const calls: string[][] = [];
  const run = (binary: string, args: readonly string[]) => {
    calls.push([binary, ...args]);
    return Promise.resolve(answers[binary] ?? NOT_INSTALLED);
  };
  return Object.assign(run, { calls });
}

const ok = (stdout: string): PingExecResult => ({ stdout, stderr: '', exitCode: 0 });

test('timesyncd synchronised: the file is there; the server from timedatectl; the mtime as the last sync', async () => {
  const run = runner({ timedatectl: ok('ServerName=time.windows.com\nServerAddress=198.18.0.123\n') });
  const state = await readTimeSync(ctx(), { root: `${FIXTURES}synced`, run });
  assert.equal(state.synchronized, true);
  assert.equal(state.service, 'systemd-timesyncd');
  assert.equal(state.syncSource, 'time.windows.com (198.18.0.123)');
  const mtime = statSync(`${FIXTURES}synced/run/systemd/timesync/synchronized`).mtime.toISOString();
  assert.equal(state.lastSyncAt, mtime);
  assert.match(state.detail, /chrony is not installed/);
  // Both are asked at once; the order of the calls is not part of the contract.
  assert.deepEqual(run.calls.map((c) => c.join(' ')).sort(), [
    'chronyc -n tracking',
    'timedatectl show-timesync --property=ServerName --property=ServerAddress',
  ]);
});

test('timesyncd running but not synchronised: false (the directory without the file)', async () => {
  const state = await readTimeSync(ctx(), { root: `${FIXTURES}unsynced`, run: runner({}) });
  assert.equal(state.synchronized, false);
  assert.equal(state.service, 'systemd-timesyncd');
  assert.equal(state.lastSyncAt, null);
  assert.match(state.detail, /has not synchronised since it started/);
});

test('no timesyncd, chrony synchronised: true with its reference', async () => {
  const state = await readTimeSync(ctx(), { root: `${FIXTURES}none`, run: runner({ chronyc: ok(chrony('synced')) }) });
  assert.equal(state.synchronized, true);
  assert.equal(state.service, 'chronyd');
  assert.equal(state.syncSource, '198.18.0.123');
  assert.match(state.detail, /systemd-timesyncd is not running/);
});

test('chrony "Not synchronised": false', async () => {
  const state = await readTimeSync(ctx(), {
    root: `${FIXTURES}none`,
    run: runner({ chronyc: ok(chrony('unsynced')) }),
  });
  assert.equal(state.synchronized, false);
  assert.equal(state.service, 'chronyd');
  assert.equal(state.syncSource, null);
  assert.match(state.detail, /Not synchronised/);
});

test('nothing to ask: null, never false (timesyncd absent, chronyd not running or not installed)', async () => {
  const noDaemon: PingExecResult = { stdout: '506 Cannot talk to daemon\n', stderr: '', exitCode: 1 };
  const cases: Array<Record<string, PingExecResult>> = [{}, { chronyc: noDaemon }, { chronyc: ok('garbage\n') }];
  for (const answers of cases) {
    const state = await readTimeSync(ctx(), { root: `${FIXTURES}none`, run: runner(answers) });
    assert.equal(state.synchronized, null, JSON.stringify(answers));
    assert.equal(state.service, null);
  }
  const state = await readTimeSync(ctx(), { root: `${FIXTURES}none`, run: runner({ chronyc: noDaemon }) });
  assert.match(state.detail, /chronyd did not answer \(506 Cannot talk to daemon\)/);
});

test('an unreadable /run/systemd/timesync is no word from timesyncd', async () => {
  const readDir = () => Promise.reject(errorWithCode('permission denied', 'EACCES'));
  const state = await readTimeSync(ctx(), { readDir, run: runner({}) });
  assert.equal(state.synchronized, null);
  assert.match(state.detail, /could not be read \(EACCES\)/);
});

test('both services answer: a synchronised one wins', async () => {
  const state = await readTimeSync(ctx(), {
    root: `${FIXTURES}unsynced`,
    run: runner({ chronyc: ok(chrony('synced')) }),
  });
  assert.equal(state.synchronized, true);
  assert.equal(state.service, 'chronyd');
});

test('the real runner on this machine: no hang, an answer of the right shape', async () => {
  const state = await readTimeSync(ctx(), { root: `${FIXTURES}synced` });
  assert.equal(state.synchronized, true, state.detail);
  assert.equal(state.service, 'systemd-timesyncd');
});

test('parseChronyTracking: synced, unsynchronised, local reference, not tracking output', () => {
  assert.deepEqual(parseChronyTracking(chrony('synced')), {
    synchronized: true,
    syncSource: '198.18.0.123',
    leap: 'Normal',
  });
  assert.deepEqual(parseChronyTracking(chrony('unsynced')), {
    synchronized: false,
    syncSource: null,
    leap: 'Not synchronised',
  });
  assert.deepEqual(parseChronyTracking(chrony('local')), {
    synchronized: true,
    syncSource: 'local clock',
    leap: 'Normal',
  });
  assert.equal(parseChronyTracking('506 Cannot talk to daemon'), null);
});

test('parseTimesyncShow: name and address, either alone, neither', () => {
  assert.equal(parseTimesyncShow('ServerName=a\nServerAddress=198.18.0.1\n'), 'a (198.18.0.1)');
  assert.equal(parseTimesyncShow('ServerName=\nServerAddress=198.18.0.1\n'), '198.18.0.1');
  assert.equal(parseTimesyncShow('ServerName=a\nServerAddress=\n'), 'a');
  assert.equal(parseTimesyncShow(''), null);
});
