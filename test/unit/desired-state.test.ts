/**
 * DesiredState (src/module/desired-state.ts): the configuration between desired patches, the
 * acknowledgements it reports, versions already seen, what a patch changed, and a bad environment.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { DesiredState, sanitizeEnvironment } from '../../src/module/desired-state.js';
import type { JsonObject } from '../../src/report/twin.js';
import { HUB } from '../support/observations.js';

function setUp(env: NodeJS.ProcessEnv = { IOTEDGE_IOTHUBHOSTNAME: HUB }, fileHub: string | null = null) {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  return { state: new DesiredState(env, log, fileHub), lines };
}

const ack = (doc: JsonObject, key: string) => doc[key] as { value: unknown; ac: number; av: number; ad: string };

describe('DesiredState', () => {
  test('the full document at connect: applied, acknowledged, and firstFull settles', async () => {
    const { state } = setUp();
    const change = state.apply({ timeoutMs: 2000, intervalSeconds: 600, $version: 4 }, 4, true);
    assert.deepEqual(change, { applied: true, checkConfig: true, interval: true });
    await state.firstFull;
    assert.equal(state.config().timeoutMs, 2000);
    assert.equal(state.settings().intervalSeconds, 600);
    assert.deepEqual(ack(state.reported(), 'timeoutMs'), { value: 2000, ac: 200, av: 4, ad: 'applied' });
  });

  test('a patch already seen (same or older version) changes nothing', () => {
    const { state } = setUp();
    state.apply({ timeoutMs: 2000 }, 4, true);
    assert.equal(state.apply({ timeoutMs: 2500 }, 4, false).applied, false);
    assert.equal(state.apply({ timeoutMs: 2500 }, 3, false).applied, false);
    assert.equal(state.config().timeoutMs, 2000);
  });

  test('what changed: the telemetry mode or the heartbeat is not a reason to check; a probe setting is', () => {
    const { state } = setUp();
    state.apply({}, 1, true);
    assert.deepEqual(state.apply({ telemetry: 'onChange' }, 2, false), {
      applied: true,
      checkConfig: false,
      interval: false,
    });
    assert.deepEqual(state.apply({ heartbeatSeconds: 1800 }, 3, false), {
      applied: true,
      checkConfig: false,
      interval: false,
    });
    assert.equal(state.settings().heartbeatSeconds, 1800);
    assert.deepEqual(state.apply({ dnsNames: ['a.example'] }, 4, false), {
      applied: true,
      checkConfig: true,
      interval: false,
    });
    assert.deepEqual(state.apply({ dnsNames: ['a.example'] }, 5, false), {
      applied: true,
      checkConfig: false,
      interval: false,
    });
  });

  test('a refused value keeps the previous one and says so; an unknown key is refused 400', () => {
    const { state } = setUp();
    state.apply({ timeoutMs: 2000 }, 1, true);
    state.apply({ timeoutMs: -5, colour: 'blue' }, 2, false);
    assert.equal(state.config().timeoutMs, 2000);
    assert.equal(ack(state.reported(), 'timeoutMs').ac, 400);
    assert.equal(ack(state.reported(), 'colour').ac, 400);
  });

  test('keys gone from the full document lose their acknowledgement; reserved names are listed as ignored', () => {
    const { state, lines } = setUp();
    state.apply({ colour: 'blue', status: 'hacked' }, 1, true);
    assert.ok('colour' in state.reported());
    assert.deepEqual(state.reported()['ignoredDesired'], ['status']);
    assert.ok(lines.some((l) => l['msg'] === 'desired properties ignored: their names are reserved or invalid'));
    state.apply({}, 2, true);
    assert.deepEqual(Object.keys(state.reported()), []);
  });

  test('the hub from config.toml fills in when the environment has none', () => {
    const { state } = setUp({}, 'file-hub.azure-devices.net');
    assert.equal(state.config().hub, 'file-hub.azure-devices.net');
  });

  test('sanitizeEnvironment drops invalid NETDIAG_* values, logging each, and keeps the rest', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(
      { level: 'debug' },
      { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
    );
    const clean = sanitizeEnvironment(
      { NETDIAG_TIMEOUT: 'soon', NETDIAG_HEARTBEAT_SECONDS: '10', NETDIAG_DEADLINE: '9000', NETDIAG_VANTAGE: 'roof' },
      log,
    );
    assert.deepEqual(clean, { NETDIAG_DEADLINE: '9000' });
    assert.deepEqual(lines.map((l) => l['option']).sort(), [
      'NETDIAG_HEARTBEAT_SECONDS',
      'NETDIAG_TIMEOUT',
      'NETDIAG_VANTAGE',
    ]);
  });
});
