/**
 * Desired properties (CONTRACT.md 5.1): each key validated on its own, refusals keep the previous
 * value, and every key is acknowledged the IoT Plug and Play way ({value, ac, av, ad}); unknown keys
 * get ac 400, reserved report keys are ignored, null and full-document mode revert to defaults.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSync } from '../../src/config/resolve.js';
import {
  DESIRED_KEYS,
  MODULE_DEFAULTS,
  applyDesired,
  moduleSettings,
  type AppliedDesired,
} from '../../src/module/desired.js';
import { REPORT_BUDGET_BYTES, REPORT_KEYS, twinSize, type JsonObject, type JsonValue } from '../../src/report/twin.js';
import { validateTwinPatch } from '../hub/twin-rules.js';

const ENV: NodeJS.ProcessEnv = {};

/** The value in effect for a key, as the agent computes it: applied desired > environment > default. */
function effective(key: string, applied: AppliedDesired): JsonValue {
  if (key === 'intervalSeconds' || key === 'telemetry' || key === 'heartbeatSeconds')
    return moduleSettings(applied, ENV)[key];
  const desired = Object.fromEntries(
    Object.entries(applied).filter(([k]) => k !== 'intervalSeconds' && k !== 'telemetry' && k !== 'heartbeatSeconds'),
  );
  const value = (resolveSync({ desired, env: ENV }) as unknown as Record<string, unknown>)[key];
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

const apply = (current: AppliedDesired, patch: Record<string, unknown>, version = 7, full = false) =>
  applyDesired(current, patch, version, full, effective);

const ackOf = (acks: JsonObject, key: string) => {
  const a = acks[key];
  assert.ok(a && typeof a === 'object' && !Array.isArray(a), `an acknowledgement for ${key}`);
  return a;
};

describe('accepted values: ack {value, ac: 200, av: version, ad}', () => {
  const cases: Array<[string, unknown, JsonValue]> = [
    ['intervalSeconds', 60, 60],
    ['intervalSeconds', '600', 600],
    ['telemetry', 'onChange', 'onChange'],
    ['telemetry', 'ONCHANGE', 'onChange'],
    ['telemetry', 'off', 'off'],
    ['heartbeatSeconds', 600, 600],
    ['heartbeatSeconds', '86400', 86_400],
    ['interfaces', ['eth1', 'eth2'], ['eth1', 'eth2']],
    ['hub', 'MyHub.azure-devices.net', 'myhub.azure-devices.net'],
    ['endpoints', [{ host: 'reg.azurecr.io', port: 443 }], [{ host: 'reg.azurecr.io', port: 443 }]],
    ['endpoints', [], []],
    ['dnsNames', ['a.example'], ['a.example']],
    ['upstreamProtocol', 'mqttws', 'MqttWs'],
    ['expectedIp', '198.18.0.10', '198.18.0.10'],
    ['switchType', 'Internal', 'internal'],
    ['timeoutMs', 2000, 2000],
    ['deadlineMs', 20000, 20000],
    ['caFile', '/certs/corp-root.pem', '/certs/corp-root.pem'],
  ];
  for (const [key, raw, stored] of cases) {
    test(`${key} = ${JSON.stringify(raw)}`, () => {
      const u = apply({}, { [key]: raw, $version: 7 }, 7);
      assert.deepEqual(u.applied, { [key]: stored });
      const ack = ackOf(u.acks, key);
      assert.deepEqual(Object.keys(ack).sort(), ['ac', 'ad', 'av', 'value']);
      assert.deepEqual(ack['value'], stored, 'the canonical value is acknowledged');
      assert.equal(ack['ac'], 200);
      assert.equal(ack['av'], 7);
      assert.equal(typeof ack['ad'], 'string');
      assert.equal(u.changed, true);
      assert.deepEqual(u.ignored, []);
    });
  }

  test('av is the desired version given', () => {
    assert.equal(ackOf(apply({}, { timeoutMs: 2000 }, 42).acks, 'timeoutMs')['av'], 42);
  });

  test('several keys at once, each acknowledged', () => {
    const u = apply({}, { timeoutMs: 2000, telemetry: 'off', hub: 'h.azure-devices.net' });
    assert.deepEqual(Object.keys(u.acks).sort(), ['hub', 'telemetry', 'timeoutMs']);
    assert.deepEqual(u.applied, { timeoutMs: 2000, telemetry: 'off', hub: 'h.azure-devices.net' });
  });

  test("the desired keys are the contract's (5.1), plus the other check options", () => {
    for (const k of [
      'intervalSeconds',
      'interfaces',
      'hub',
      'endpoints',
      'dnsNames',
      'upstreamProtocol',
      'expectedIp',
      'switchType',
      'timeoutMs',
      'deadlineMs',
      'telemetry',
    ]) {
      assert.ok(DESIRED_KEYS.includes(k), k);
    }
    assert.ok(!DESIRED_KEYS.includes('aziotConfig'), 'the hub file is a host matter, not a cloud setting');
  });
});

describe('refused values: ac 400, the previous value kept and acknowledged, ad explains', () => {
  const cases: Array<[string, unknown]> = [
    ['intervalSeconds', 29],
    ['intervalSeconds', 86401],
    ['intervalSeconds', '5m'],
    ['intervalSeconds', 300.5],
    ['intervalSeconds', -60],
    ['telemetry', 'sometimes'],
    ['telemetry', true],
    ['interfaces', ['eth 0']],
    ['interfaces', 'a'.repeat(20)],
    ['hub', 'bad host'],
    ['hub', 42],
    ['endpoints', [{ host: 'reg.azurecr.io', port: 0 }]],
    ['endpoints', [{ host: 'reg.azurecr.io' }]],
    ['endpoints', Array.from({ length: 17 }, (_, i) => ({ host: `h${i}.example`, port: 443 }))],
    ['upstreamProtocol', 'Http'],
    ['expectedIp', '300.1.1.1'],
    ['switchType', 'nat'],
    ['timeoutMs', 50],
    ['timeoutMs', '3 s'],
    ['deadlineMs', 1_000_000],
    ['dnsNames', [{}]],
  ];
  for (const [key, raw] of cases) {
    test(`${key} = ${JSON.stringify(raw).slice(0, 60)} with no earlier value → the default stays`, () => {
      const u = apply({}, { [key]: raw });
      const ack = ackOf(u.acks, key);
      assert.equal(ack['ac'], 400);
      assert.equal(ack['av'], 7);
      assert.deepEqual(ack['value'], effective(key, {}), 'the value in effect is acknowledged');
      assert.match(ack['ad'] as string, /refused/);
      assert.ok((ack['ad'] as string).includes(key), `ad names the key: ${String(ack['ad'])}`);
      assert.ok((ack['ad'] as string).length <= 512);
      assert.deepEqual(u.applied, {}, 'nothing applied');
      assert.equal(u.changed, false);
    });
  }

  const previous: Array<[string, JsonValue, unknown]> = [
    ['intervalSeconds', 60, 10],
    ['telemetry', 'off', 'never'],
    ['timeoutMs', 2000, 99],
    ['upstreamProtocol', 'Mqtt', 'Http'],
    ['endpoints', [{ host: 'reg.azurecr.io', port: 443 }], 'reg.azurecr.io'],
  ];
  for (const [key, before, raw] of previous) {
    test(`${key}: a refused ${JSON.stringify(raw)} keeps the earlier ${JSON.stringify(before)}`, () => {
      const u = apply({ [key]: before }, { [key]: raw });
      assert.deepEqual(u.applied, { [key]: before });
      const ack = ackOf(u.acks, key);
      assert.equal(ack['ac'], 400);
      assert.deepEqual(ack['value'], before);
      assert.equal(u.changed, false);
    });
  }

  test('ad says what is allowed', () => {
    assert.match(ackOf(apply({}, { intervalSeconds: 5 }).acks, 'intervalSeconds')['ad'] as string, /30 to 86400/);
    assert.match(ackOf(apply({}, { telemetry: 'x' }).acks, 'telemetry')['ad'] as string, /always, onChange, off/);
  });

  test('one bad key does not stop the good ones', () => {
    const u = apply({}, { timeoutMs: 'soon', deadlineMs: 20000 });
    assert.deepEqual(u.applied, { deadlineMs: 20000 });
    assert.equal(ackOf(u.acks, 'timeoutMs')['ac'], 400);
    assert.equal(ackOf(u.acks, 'deadlineMs')['ac'], 200);
    assert.equal(u.changed, true);
  });
});

describe('intervalSeconds bounds 30–86400 and telemetry modes', () => {
  for (const [value, ok] of [
    [30, true],
    [86400, true],
    [300, true],
    [29, false],
    [86401, false],
    [0, false],
  ] as const) {
    test(`intervalSeconds ${value} → ${ok ? 200 : 400}`, () =>
      assert.equal(ackOf(apply({}, { intervalSeconds: value }).acks, 'intervalSeconds')['ac'], ok ? 200 : 400));
  }
  for (const [value, ok] of [
    ['always', true],
    ['onChange', true],
    ['off', true],
    ['onchange', true],
    ['never', false],
    ['', false],
  ] as const) {
    test(`telemetry ${JSON.stringify(value)} → ${ok ? 200 : 400}`, () =>
      assert.equal(ackOf(apply({}, { telemetry: value }).acks, 'telemetry')['ac'], ok ? 200 : 400));
  }
});

describe('unknown, reserved and metadata keys', () => {
  test('an unknown key: ac 400, ignored, echoed back', () => {
    const u = apply({ timeoutMs: 2000 }, { pollEvery: 60 });
    const ack = ackOf(u.acks, 'pollEvery');
    assert.equal(ack['ac'], 400);
    assert.equal(ack['av'], 7);
    assert.equal(ack['value'], 60);
    assert.match(ack['ad'] as string, /unknown/);
    assert.ok((ack['ad'] as string).includes('pollEvery'));
    assert.deepEqual(u.applied, { timeoutMs: 2000 });
    assert.equal(u.changed, false);
  });

  test('a long unknown value is echoed shortened', () => {
    const ack = ackOf(apply({}, { notes: 'n'.repeat(5000) }).acks, 'notes');
    assert.equal(typeof ack['value'], 'string');
    assert.ok((ack['value'] as string).length <= 256);
  });

  test('$version and $metadata are skipped: no ack, not ignored, no change', () => {
    const u = apply({}, { $version: 9, $metadata: { $lastUpdated: '2026-11-26T06:00:00Z' } }, 9);
    assert.deepEqual(u.acks, {});
    assert.deepEqual(u.ignored, []);
    assert.equal(u.changed, false);
  });

  for (const key of ['status', 'findings', 'lastCheck', 'failingComponent', 'schemaVersion']) {
    test(`a reserved report key (${key}) is not acknowledged but listed in ignored`, () => {
      const u = apply({}, { [key]: 'x', timeoutMs: 2000 });
      assert.ok(!(key in u.acks), "an ack would overwrite the report's own key");
      assert.deepEqual(u.ignored, [key]);
      assert.deepEqual(u.applied, { timeoutMs: 2000 });
    });
  }

  test('every report key is protected', () => {
    for (const key of REPORT_KEYS) assert.ok(!(key in apply({}, { [key]: 1 }).acks), key);
  });

  test('a key unfit for a reported property name is ignored, not acknowledged', () => {
    const long = 'k'.repeat(65);
    const u = apply({}, { [long]: 1, 'with space': 1 });
    assert.deepEqual(u.acks, {});
    assert.deepEqual(u.ignored.sort(), [long, 'with space'].sort());
  });

  test('removing an unknown key (null) clears its old acknowledgement', {}, () => {
    const u = apply({}, { pollEvery: null });
    assert.equal(u.acks['pollEvery'], null);
  });
});

describe('null and full-document mode', () => {
  test('null removes the value: default in effect, ac 200, changed', () => {
    const u = apply({ timeoutMs: 2000, telemetry: 'off' }, { timeoutMs: null });
    assert.deepEqual(u.applied, { telemetry: 'off' });
    const ack = ackOf(u.acks, 'timeoutMs');
    assert.equal(ack['ac'], 200);
    assert.equal(ack['value'], 3000);
    assert.equal(typeof ack['ad'], 'string');
    assert.equal(u.changed, true);
  });

  test('null for a module setting reverts to the module default', () => {
    const u = apply({ intervalSeconds: 60 }, { intervalSeconds: null });
    assert.deepEqual(ackOf(u.acks, 'intervalSeconds')['value'], MODULE_DEFAULTS.intervalSeconds);
    assert.deepEqual(u.applied, {});
  });

  test('null for a key never set: acknowledged, not a change', () => {
    const u = apply({}, { hub: null });
    assert.equal(ackOf(u.acks, 'hub')['ac'], 200);
    assert.equal(ackOf(u.acks, 'hub')['value'], null);
    assert.equal(u.changed, false);
  });

  test('full document: keys absent from it revert to their defaults', () => {
    const u = apply(
      { timeoutMs: 2000, telemetry: 'off', hub: 'h.azure-devices.net' },
      { $version: 12, telemetry: 'off' },
      12,
      true,
    );
    assert.deepEqual(u.applied, { telemetry: 'off' });
    assert.equal(ackOf(u.acks, 'timeoutMs')['value'], 3000);
    assert.equal(ackOf(u.acks, 'timeoutMs')['ac'], 200);
    assert.equal(ackOf(u.acks, 'timeoutMs')['av'], 12);
    assert.equal(ackOf(u.acks, 'hub')['value'], null);
    assert.equal(ackOf(u.acks, 'telemetry')['value'], 'off');
    assert.equal(u.changed, true);
  });

  test('full document equal to what is applied: acknowledged again, no change', () => {
    const u = apply({ timeoutMs: 2000 }, { timeoutMs: 2000, $version: 3 }, 3, true);
    assert.deepEqual(u.applied, { timeoutMs: 2000 });
    assert.equal(ackOf(u.acks, 'timeoutMs')['ac'], 200);
    assert.equal(u.changed, false);
  });

  test('a delta (not full) leaves absent keys alone', () => {
    const u = apply({ timeoutMs: 2000, telemetry: 'off' }, { telemetry: 'always' });
    assert.deepEqual(u.applied, { timeoutMs: 2000, telemetry: 'always' });
    assert.deepEqual(Object.keys(u.acks), ['telemetry']);
  });

  test('the current applied object is not modified', () => {
    const current = { timeoutMs: 2000 };
    apply(current, { timeoutMs: 2500, deadlineMs: 20000 });
    apply(current, { timeoutMs: null });
    assert.deepEqual(current, { timeoutMs: 2000 });
  });
});

describe('changed', () => {
  const cases: Array<[string, AppliedDesired, Record<string, unknown>, boolean]> = [
    ['same value again', { timeoutMs: 2000 }, { timeoutMs: 2000 }, false],
    ['same value in another spelling', { upstreamProtocol: 'Mqtt' }, { upstreamProtocol: 'MQTT' }, false],
    ['same list', { interfaces: ['eth0', 'eth1'] }, { interfaces: ['eth0', 'eth1'] }, false],
    ['list reordered', { interfaces: ['eth0', 'eth1'] }, { interfaces: ['eth1', 'eth0'] }, true],
    ['new value', { timeoutMs: 2000 }, { timeoutMs: 2500 }, true],
    ['new key', {}, { deadlineMs: 20000 }, true],
    ['refused value', { timeoutMs: 2000 }, { timeoutMs: 1 }, false],
    ['unknown key', {}, { foo: 1 }, false],
    ['metadata only', { timeoutMs: 2000 }, { $version: 4 }, false],
    ['removal', { timeoutMs: 2000 }, { timeoutMs: null }, true],
  ];
  for (const [name, current, patch, changed] of cases) {
    test(`${name} → ${changed}`, () => assert.equal(apply(current, patch).changed, changed));
  }
});

describe('acknowledgements are valid reported properties', () => {
  test('for a patch mixing good, bad, unknown and removed keys', () => {
    const u = apply(
      { timeoutMs: 2000 },
      {
        timeoutMs: null,
        deadlineMs: 'x',
        interfaces: ['eth1'],
        unknownThing: { nested: { a: [1, 2] } },
        notes: 'n'.repeat(9000),
        endpoints: Array.from({ length: 16 }, (_, i) => ({ host: `${'h'.repeat(60)}${i}.example`, port: 443 })),
      },
    );
    assert.equal(validateTwinPatch(u.acks), undefined);
  });

  test(
    'an unknown key holding a deeply nested value (legal in desired) does not push the ack past depth 10',
    {},
    () => {
      let deep: unknown = 1;
      for (let i = 0; i < 10; i++) deep = { a: deep };
      const desired = { deepThing: deep };
      assert.equal(validateTwinPatch(desired), undefined, 'IoT Hub accepts this desired document');
      assert.equal(validateTwinPatch(apply({}, desired).acks), undefined);
    },
  );

  test('acknowledging many unknown keys leaves the report its 24 KB within the 32 KB reported limit', {}, () => {
    const patch = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`typo${i}`, i]));
    const u = apply({}, patch);
    assert.ok(twinSize(u.acks) <= 32 * 1024 - REPORT_BUDGET_BYTES, `${twinSize(u.acks)} bytes of acknowledgements`);
  });
});

describe('moduleSettings: applied desired > environment > default', () => {
  test('defaults: every 300 s, telemetry always, a heartbeat every 3600 s', () => {
    const defaults = { intervalSeconds: 300, telemetry: 'always', heartbeatSeconds: 3600 };
    assert.deepEqual(moduleSettings({}, {}), defaults);
    assert.deepEqual(MODULE_DEFAULTS, defaults);
  });

  test('from NETDIAG_INTERVAL_SECONDS, NETDIAG_TELEMETRY and NETDIAG_HEARTBEAT_SECONDS', () => {
    assert.deepEqual(
      moduleSettings(
        {},
        { NETDIAG_INTERVAL_SECONDS: '600', NETDIAG_TELEMETRY: 'onchange', NETDIAG_HEARTBEAT_SECONDS: '7200' },
      ),
      { intervalSeconds: 600, telemetry: 'onChange', heartbeatSeconds: 7200 },
    );
  });

  test('desired wins over the environment', () => {
    assert.deepEqual(
      moduleSettings(
        { intervalSeconds: 45, telemetry: 'off', heartbeatSeconds: 900 },
        { NETDIAG_INTERVAL_SECONDS: '600', NETDIAG_TELEMETRY: 'always', NETDIAG_HEARTBEAT_SECONDS: '7200' },
      ),
      { intervalSeconds: 45, telemetry: 'off', heartbeatSeconds: 900 },
    );
  });

  test('an invalid environment value falls back to the default', () => {
    assert.deepEqual(
      moduleSettings(
        {},
        { NETDIAG_INTERVAL_SECONDS: '5', NETDIAG_TELEMETRY: 'sometimes', NETDIAG_HEARTBEAT_SECONDS: '599' },
      ),
      { intervalSeconds: 300, telemetry: 'always', heartbeatSeconds: 3600 },
    );
  });

  test('what applyDesired stores is what moduleSettings uses', () => {
    const u = apply({}, { intervalSeconds: '120', telemetry: 'OFF', heartbeatSeconds: '1800' });
    assert.deepEqual(moduleSettings(u.applied, {}), { intervalSeconds: 120, telemetry: 'off', heartbeatSeconds: 1800 });
  });

  test('heartbeatSeconds is validated like intervalSeconds: a whole number from 600 to 86400', () => {
    for (const bad of [599, 86_401, 1800.5, 'hourly', -1]) {
      const a = ackOf(apply({ heartbeatSeconds: 1800 }, { heartbeatSeconds: bad }).acks, 'heartbeatSeconds');
      assert.equal(a['ac'], 400, JSON.stringify(bad));
      assert.equal(a['value'], 1800, 'the previous value is kept and acknowledged');
      assert.match(String(a['ad']), /heartbeatSeconds/);
    }
    assert.equal(ackOf(apply({}, { heartbeatSeconds: 600 }).acks, 'heartbeatSeconds')['ac'], 200);
    assert.equal(ackOf(apply({}, { heartbeatSeconds: 86_400 }).acks, 'heartbeatSeconds')['ac'], 200);
  });
});
