/**
 * Configuration layering (CONTRACT.md section 2): CLI flag > desired property > environment >
 * default for every option, NETDIAG_<FLAG_UPPER_SNAKE> names, the hub's own fallbacks, and the
 * refusal of bad values with a message naming the option as its source spells it.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { DEFAULTS, OPTIONS, envName } from '../../src/config/options.js';
import { resolveConfig, resolveSync, type ConfigSources } from '../../src/config/resolve.js';
import { ConfigError, type CheckConfig } from '../../src/config/types.js';
import * as values from '../../src/config/values.js';
import type { Logger } from '../../src/log.js';
import { sanitizeEnvironment } from '../../src/module/agent.js';

type Key = keyof CheckConfig;
type Source = 'flag' | 'desired' | 'env';

/** One valid value per source, as that source gives it, and what it must become. */
interface PrecedenceRow {
  key: Key;
  flag: unknown;
  flagValue: unknown;
  desired: unknown;
  desiredValue: unknown;
  env: string;
  envValue: unknown;
}

const PRECEDENCE: PrecedenceRow[] = [
  {
    key: 'interfaces',
    flag: ['eth1', 'eth2'],
    flagValue: ['eth1', 'eth2'],
    desired: ['eth3'],
    desiredValue: ['eth3'],
    env: 'eth4, eth5',
    envValue: ['eth4', 'eth5'],
  },
  {
    key: 'hub',
    flag: 'Flag-Hub.azure-devices.net',
    flagValue: 'flag-hub.azure-devices.net',
    desired: 'desired-hub.azure-devices.net',
    desiredValue: 'desired-hub.azure-devices.net',
    env: 'env-hub.azure-devices.net',
    envValue: 'env-hub.azure-devices.net',
  },
  {
    key: 'endpoints',
    flag: ['a.example:443', '[::1]:8443'],
    flagValue: [
      { host: 'a.example', port: 443 },
      { host: '::1', port: 8443 },
    ],
    desired: [{ host: 'b.example', port: 5671 }],
    desiredValue: [{ host: 'b.example', port: 5671 }],
    env: 'c.example:443,[fd00::1]:8883',
    envValue: [
      { host: 'c.example', port: 443 },
      { host: 'fd00::1', port: 8883 },
    ],
  },
  {
    key: 'dnsNames',
    flag: ['n1.example'],
    flagValue: ['n1.example'],
    desired: ['n2.example'],
    desiredValue: ['n2.example'],
    env: 'n3.example,n4.example',
    envValue: ['n3.example', 'n4.example'],
  },
  {
    key: 'upstreamProtocol',
    flag: 'mqttws',
    flagValue: 'MqttWs',
    desired: 'MQTT',
    desiredValue: 'Mqtt',
    env: 'amqpws',
    envValue: 'AmqpWs',
  },
  {
    key: 'expectedIp',
    flag: '198.18.0.10',
    flagValue: '198.18.0.10',
    desired: '198.18.0.11',
    desiredValue: '198.18.0.11',
    env: 'fd00::10',
    envValue: 'fd00::10',
  },
  {
    key: 'switchType',
    flag: 'External',
    flagValue: 'external',
    desired: 'INTERNAL',
    desiredValue: 'internal',
    env: 'default',
    envValue: 'default',
  },
  {
    key: 'resolvConf',
    flag: '/flag/resolv.conf',
    flagValue: '/flag/resolv.conf',
    desired: '/desired/resolv.conf',
    desiredValue: '/desired/resolv.conf',
    env: '/env/resolv.conf',
    envValue: '/env/resolv.conf',
  },
  {
    key: 'resolvedConf',
    flag: '/flag/r.conf',
    flagValue: '/flag/r.conf',
    desired: '/desired/r.conf',
    desiredValue: '/desired/r.conf',
    env: '/env/r.conf',
    envValue: '/env/r.conf',
  },
  {
    key: 'networkdDir',
    flag: '/flag/network',
    flagValue: '/flag/network',
    desired: '/desired/network',
    desiredValue: '/desired/network',
    env: '/env/network',
    envValue: '/env/network',
  },
  {
    key: 'leasesDir',
    flag: '/flag/leases',
    flagValue: '/flag/leases',
    desired: '/desired/leases',
    desiredValue: '/desired/leases',
    env: '/env/leases',
    envValue: '/env/leases',
  },
  {
    key: 'aziotConfig',
    flag: '/flag/config.toml',
    flagValue: '/flag/config.toml',
    desired: '/desired/config.toml',
    desiredValue: '/desired/config.toml',
    env: '/env/config.toml',
    envValue: '/env/config.toml',
  },
  {
    key: 'caFile',
    flag: '/flag/ca.pem',
    flagValue: '/flag/ca.pem',
    desired: '/desired/ca.pem',
    desiredValue: '/desired/ca.pem',
    env: '/env/ca.pem',
    envValue: '/env/ca.pem',
  },
  {
    key: 'dockerConfig',
    flag: '/flag/daemon.json',
    flagValue: '/flag/daemon.json',
    desired: '/desired/daemon.json',
    desiredValue: '/desired/daemon.json',
    env: '/env/daemon.json',
    envValue: '/env/daemon.json',
  },
  { key: 'timeoutMs', flag: '2500', flagValue: 2500, desired: 4000, desiredValue: 4000, env: '5000', envValue: 5000 },
  {
    key: 'deadlineMs',
    flag: '20000',
    flagValue: 20000,
    desired: 30000,
    desiredValue: 30000,
    env: '12000',
    envValue: 12000,
  },
  {
    key: 'proxy',
    flag: 'http://user:p%40ss@flag-proxy.example:3128',
    flagValue: 'http://user:p%40ss@flag-proxy.example:3128',
    // Well formed but not http://: accepted, to be reported as PROXY_URL_INVALID.
    desired: 'https://desired-proxy.example:3129',
    desiredValue: 'https://desired-proxy.example:3129',
    env: ' http://198.18.1.30:3128 ',
    envValue: 'http://198.18.1.30:3128',
  },
  {
    key: 'dps',
    flag: 'Flag-DPS.azure-devices-provisioning.net',
    flagValue: 'flag-dps.azure-devices-provisioning.net',
    desired: 'https://desired-dps.azure-devices-provisioning.net/',
    desiredValue: 'desired-dps.azure-devices-provisioning.net',
    env: 'env-dps.azure-devices-provisioning.us',
    envValue: 'env-dps.azure-devices-provisioning.us',
  },
  {
    key: 'registries',
    flag: ['Flag.azurecr.io', 'mirror.example'],
    flagValue: ['flag.azurecr.io', 'mirror.example'],
    desired: ['desired.azurecr.io'],
    desiredValue: ['desired.azurecr.io'],
    env: 'env1.azurecr.io, env2.azurecr.io',
    envValue: ['env1.azurecr.io', 'env2.azurecr.io'],
  },
  { key: 'exchanges', flag: false, flagValue: false, desired: 'off', desiredValue: false, env: 'OFF', envValue: false },
  {
    key: 'systemdDir',
    flag: '/flag/systemd',
    flagValue: '/flag/systemd',
    desired: '/desired/systemd',
    desiredValue: '/desired/systemd',
    env: '/env/systemd',
    envValue: '/env/systemd',
  },
];

const defaultOf = (key: Key): unknown => (key === 'hub' ? null : DEFAULTS[key]);
const specOf = (key: Key) => {
  const spec = OPTIONS.find((o) => o.key === key);
  assert.ok(spec, `no option spec for ${key}`);
  return spec;
};

describe('precedence: CLI flag > desired property > environment > default', () => {
  test('the table covers every option', () => {
    assert.deepEqual(PRECEDENCE.map((r) => r.key).sort(), OPTIONS.map((o) => o.key).sort());
  });

  for (const row of PRECEDENCE) {
    const env = { [envName(specOf(row.key))]: row.env };
    const flags = { [row.key]: row.flag };
    const desired = { [row.key]: row.desired };
    describe(row.key, () => {
      test('flag wins over desired, environment and default', () => {
        assert.deepEqual(resolveSync({ flags, desired, env })[row.key], row.flagValue);
      });
      test('desired wins over environment and default', () => {
        assert.deepEqual(resolveSync({ desired, env })[row.key], row.desiredValue);
      });
      test('environment wins over default', () => {
        assert.deepEqual(resolveSync({ env })[row.key], row.envValue);
      });
      test('default when no source gives it', () => {
        assert.deepEqual(resolveSync({})[row.key], defaultOf(row.key));
      });
      test('a desired null (removed property) falls through to the environment', () => {
        assert.deepEqual(resolveSync({ desired: { [row.key]: null }, env })[row.key], row.envValue);
      });
      test('an empty environment variable counts as unset', () => {
        assert.deepEqual(resolveSync({ env: { [envName(specOf(row.key))]: '' } })[row.key], defaultOf(row.key));
      });
      test('only this option changes', () => {
        const config = resolveSync({ flags });
        for (const other of OPTIONS)
          if (other.key !== row.key) assert.deepEqual(config[other.key], defaultOf(other.key), other.key);
      });
    });
  }

  test('the documented defaults', () => {
    const c = resolveSync({});
    assert.deepEqual(c.interfaces, ['eth0']);
    assert.equal(c.upstreamProtocol, 'Amqp');
    assert.equal(c.timeoutMs, 3000);
    assert.equal(c.deadlineMs, 15000);
    assert.equal(c.resolvConf, '/etc/resolv.conf');
    assert.equal(c.resolvedConf, '/run/systemd/resolve/resolv.conf');
    assert.equal(c.networkdDir, '/etc/systemd/network');
    assert.equal(c.leasesDir, '/run/systemd/netif/leases');
    assert.equal(c.dockerConfig, '/etc/docker/daemon.json');
    assert.equal(c.hub, null);
    assert.deepEqual(c.endpoints, []);
    assert.deepEqual(c.dnsNames, []);
    assert.deepEqual(c.components, ['ip', 'dns', 'proxy', 'firewall', 'clock']);
  });

  // Checked by identity rather than by mutating the result: a mutation would poison DEFAULTS for
  // every later test in this process.
  test('a resolved config does not share its lists with DEFAULTS', {}, () => {
    const c = resolveSync({});
    for (const key of ['interfaces', 'endpoints', 'dnsNames', 'components'] as const) {
      assert.notEqual(c[key], DEFAULTS[key], `${key} is DEFAULTS.${key} itself`);
    }
  });
});

describe('environment variable names: NETDIAG_<FLAG_IN_UPPER_SNAKE>', () => {
  const expected: Record<string, string> = {
    interfaces: 'NETDIAG_INTERFACE',
    hub: 'NETDIAG_HUB',
    endpoints: 'NETDIAG_ENDPOINT',
    dnsNames: 'NETDIAG_DNS_NAME',
    upstreamProtocol: 'NETDIAG_UPSTREAM_PROTOCOL',
    expectedIp: 'NETDIAG_EXPECTED_IP',
    switchType: 'NETDIAG_SWITCH_TYPE',
    resolvConf: 'NETDIAG_RESOLV_CONF',
    resolvedConf: 'NETDIAG_RESOLVED_CONF',
    networkdDir: 'NETDIAG_NETWORKD_DIR',
    leasesDir: 'NETDIAG_LEASES_DIR',
    aziotConfig: 'NETDIAG_AZIOT_CONFIG',
    caFile: 'NETDIAG_CA_FILE',
    dockerConfig: 'NETDIAG_DOCKER_CONFIG',
    timeoutMs: 'NETDIAG_TIMEOUT',
    deadlineMs: 'NETDIAG_DEADLINE',
    proxy: 'NETDIAG_PROXY',
    dps: 'NETDIAG_DPS',
    registries: 'NETDIAG_REGISTRY',
    exchanges: 'NETDIAG_EXCHANGE',
    systemdDir: 'NETDIAG_SYSTEMD_DIR',
  };
  for (const spec of OPTIONS) {
    test(`--${spec.flag} → ${expected[spec.key] ?? '?'}`, () => assert.equal(envName(spec), expected[spec.key]));
  }

  test('the names are the ones actually read', () => {
    const c = resolveSync({
      env: {
        NETDIAG_TIMEOUT: '1234',
        NETDIAG_EXPECTED_IP: '198.18.0.7',
        NETDIAG_INTERFACE: 'eth1,eth2',
        NETDIAG_DNS_NAME: 'a.example',
      },
    });
    assert.equal(c.timeoutMs, 1234);
    assert.equal(c.expectedIp, '198.18.0.7');
    assert.deepEqual(c.interfaces, ['eth1', 'eth2']);
    assert.deepEqual(c.dnsNames, ['a.example']);
  });

  test('near-miss names are not read', () => {
    const c = resolveSync({ env: { NETDIAG_TIMEOUT_MS: '1234', NETDIAG_INTERFACES: 'eth7', netdiag_timeout: '999' } });
    assert.equal(c.timeoutMs, 3000);
    assert.deepEqual(c.interfaces, ['eth0']);
  });
});

describe('the hub: flag > desired > NETDIAG_HUB > IOTEDGE_IOTHUBHOSTNAME > aziot config > none', () => {
  const edgeEnv = { IOTEDGE_IOTHUBHOSTNAME: 'Edge-Hub.azure-devices.net' };
  const neverRead = async (): Promise<string | null> =>
    assert.fail('the aziot config must not be read when the hub is known');

  test('IOTEDGE_IOTHUBHOSTNAME when nothing else names it (lower-cased)', async () => {
    assert.equal((await resolveConfig({ env: edgeEnv, readAziotHub: neverRead })).hub, 'edge-hub.azure-devices.net');
  });

  const winners: Array<[string, ConfigSources, string]> = [
    ['NETDIAG_HUB', { env: { ...edgeEnv, NETDIAG_HUB: 'netdiag.azure-devices.net' } }, 'netdiag.azure-devices.net'],
    ['desired hub', { env: edgeEnv, desired: { hub: 'desired.azure-devices.net' } }, 'desired.azure-devices.net'],
    [
      '--hub',
      { env: edgeEnv, desired: { hub: 'desired.azure-devices.net' }, flags: { hub: 'flag.azure-devices.net' } },
      'flag.azure-devices.net',
    ],
  ];
  for (const [name, sources, hub] of winners) {
    test(`${name} wins over IOTEDGE_IOTHUBHOSTNAME`, async () => {
      assert.equal((await resolveConfig({ ...sources, readAziotHub: neverRead })).hub, hub);
    });
  }

  test('else the aziot config, read from the configured path', async () => {
    const paths: string[] = [];
    const config = await resolveConfig({
      env: { NETDIAG_AZIOT_CONFIG: '/custom/config.toml' },
      readAziotHub: async (p) => (paths.push(p), 'file-hub.azure-devices.net'),
    });
    assert.equal(config.hub, 'file-hub.azure-devices.net');
    assert.deepEqual(paths, ['/custom/config.toml']);
  });

  test('the aziot config path defaults to /etc/aziot/config.toml', async () => {
    const paths: string[] = [];
    await resolveConfig({ readAziotHub: async (p) => (paths.push(p), null) });
    assert.deepEqual(paths, ['/etc/aziot/config.toml']);
  });

  test('no hub anywhere → null (DPS is tested instead)', async () => {
    assert.equal((await resolveConfig({ env: {}, readAziotHub: async () => null })).hub, null);
  });

  test('an invalid IOTEDGE_IOTHUBHOSTNAME is refused under its own name', () => {
    assert.throws(
      () => resolveSync({ env: { IOTEDGE_IOTHUBHOSTNAME: 'not a host!' } }),
      (e: unknown) =>
        e instanceof ConfigError && e.option === 'IOTEDGE_IOTHUBHOSTNAME' && e.message.includes('"not a host!"'),
    );
  });

  test('a hub name from the aziot file is validated like every other source', {}, async () => {
    let config: CheckConfig;
    try {
      config = await resolveConfig({ readAziotHub: async () => 'not a host!' });
    } catch (err) {
      assert.ok(err instanceof ConfigError, 'a refusal must be a ConfigError');
      return;
    }
    assert.notEqual(config.hub, 'not a host!');
  });
});

/** A bad value given the way a source gives it; `shows` must appear in the message (default: the value). */
interface BadCase {
  key: Key;
  /** CLI value (string, or array for a repeatable flag); the same text joined by commas is the env value. */
  cli: string | string[];
  /** Desired JSON value; defaults to `cli`. */
  desired?: unknown;
  shows?: string;
  allowed: RegExp;
}

const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

const BAD: BadCase[] = [
  { key: 'interfaces', cli: ['eth 0'], allowed: /interface name/ },
  { key: 'interfaces', cli: ['averyveryverylongname'], allowed: /1-15/ },
  { key: 'interfaces', cli: many(9, (i) => `eth${i}`), shows: 'eth0', allowed: /at most 8/ },
  { key: 'hub', cli: 'bad_host!', allowed: /hostname/ },
  { key: 'hub', cli: '-leading.example', allowed: /hostname/ },
  { key: 'hub', cli: 'a..b.example', allowed: /hostname/ },
  { key: 'endpoints', cli: ['no-port.example'], allowed: /HOST:PORT/ },
  { key: 'endpoints', cli: ['h.example:0'], shows: '"0"', allowed: /1 to 65535/ },
  { key: 'endpoints', cli: ['h.example:65536'], shows: '"65536"', allowed: /1 to 65535/ },
  { key: 'endpoints', cli: ['h.example:https'], allowed: /HOST:PORT/ },
  { key: 'endpoints', cli: ['fd00::1:443'], allowed: /HOST:PORT/ },
  { key: 'endpoints', cli: many(17, (i) => `h${i}.example:443`), shows: 'h0.example:443', allowed: /at most 16/ },
  { key: 'dnsNames', cli: ['bad name.example'], allowed: /hostname/ },
  { key: 'dnsNames', cli: many(9, (i) => `n${i}.example`), shows: 'n0.example', allowed: /at most 8/ },
  { key: 'upstreamProtocol', cli: 'http', allowed: /Amqp, AmqpWs, Mqtt, MqttWs/ },
  { key: 'expectedIp', cli: '198.18.0.256', allowed: /IPv4 or IPv6/ },
  { key: 'expectedIp', cli: 'eth0', allowed: /IPv4 or IPv6/ },
  { key: 'switchType', cli: 'bridge', allowed: /external, internal, default/ },
  { key: 'resolvConf', cli: 'a\0b', allowed: /path/ },
  { key: 'resolvedConf', cli: 'a\0b', allowed: /path/ },
  { key: 'networkdDir', cli: 'x'.repeat(4097), shows: '"xxxx', allowed: /path/ },
  { key: 'leasesDir', cli: 'a\0b', allowed: /path/ },
  { key: 'aziotConfig', cli: 'a\0b', allowed: /path/ },
  { key: 'caFile', cli: 'a\0b', allowed: /path/ },
  { key: 'dockerConfig', cli: 'a\0b', allowed: /path/ },
  { key: 'timeoutMs', cli: '99', allowed: /100 to 60000/ },
  { key: 'timeoutMs', cli: '60001', allowed: /100 to 60000/ },
  { key: 'timeoutMs', cli: '3s', allowed: /whole number/ },
  { key: 'timeoutMs', cli: '-1', allowed: /whole number/ },
  { key: 'deadlineMs', cli: '499', allowed: /500 to 300000/ },
  { key: 'deadlineMs', cli: '300001', allowed: /500 to 300000/ },
  { key: 'deadlineMs', cli: 'soon', allowed: /whole number/ },
  { key: 'proxy', cli: 'http://proxy.example:99999', allowed: /invalid port/ },
  { key: 'proxy', cli: 'http://user:p@ss word@proxy.example:3128', shows: 'user:***@', allowed: /a space/ },
  { key: 'proxy', cli: 'http://', allowed: /names no host/ },
  { key: 'dps', cli: 'not a host', allowed: /hostname/ },
  { key: 'dps', cli: 'ftp://dps.example/', allowed: /hostname/ },
  { key: 'registries', cli: ['bad_registry!'], allowed: /hostname/ },
  { key: 'registries', cli: many(9, (i) => `r${i}.azurecr.io`), shows: 'r0.azurecr.io', allowed: /at most 8/ },
  { key: 'exchanges', cli: 'sometimes', allowed: /on or off/ },
  { key: 'systemdDir', cli: 'a\0b', allowed: /path/ },
];

/** Wrong JSON types that only a desired property (or method payload) can carry. */
const BAD_DESIRED_TYPES: Array<{ key: Key; value: unknown; shows: string; allowed: RegExp }> = [
  { key: 'interfaces', value: { eth0: true }, shows: '{"eth0":true}', allowed: /list/ },
  { key: 'interfaces', value: [7], shows: '7', allowed: /interface name/ },
  { key: 'hub', value: 42, shows: '42', allowed: /hostname/ },
  {
    key: 'endpoints',
    value: [{ host: 'h.example', port: 443, tls: true }],
    shows: '"tls":true',
    allowed: /\{host, port\}/,
  },
  { key: 'endpoints', value: [{ host: 'h.example', port: 'x' }], shows: '"x"', allowed: /1 to 65535/ },
  { key: 'endpoints', value: [{ host: 'h.example', port: 1.5 }], shows: '1.5', allowed: /1 to 65535/ },
  { key: 'endpoints', value: [{ port: 443 }], shows: 'undefined', allowed: /hostname/ },
  { key: 'upstreamProtocol', value: ['Mqtt'], shows: '["Mqtt"]', allowed: /one of/ },
  { key: 'expectedIp', value: 167772161, shows: '167772161', allowed: /IPv4 or IPv6/ },
  { key: 'switchType', value: true, shows: 'true', allowed: /one of/ },
  { key: 'resolvConf', value: '', shows: '""', allowed: /path/ },
  { key: 'timeoutMs', value: 3000.5, shows: '3000.5', allowed: /whole number/ },
  { key: 'timeoutMs', value: true, shows: 'true', allowed: /whole number/ },
  { key: 'deadlineMs', value: '1e4', shows: '"1e4"', allowed: /whole number/ },
];

function expectRefusal(run: () => unknown, option: string, shows: string, allowed: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.option, option);
    assert.ok(err.message.includes(option), `message names the option ${option}: ${err.message}`);
    assert.ok(err.message.includes(shows), `message shows the value ${shows}: ${err.message}`);
    assert.match(err.allowed, allowed);
    assert.ok(err.message.includes(err.allowed), `message says what is allowed: ${err.message}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

describe('invalid values are refused naming the option as the source spells it, the value and what is allowed', () => {
  test('every option has at least one bad-value case', () => {
    for (const o of OPTIONS)
      assert.ok(
        BAD.some((c) => c.key === o.key),
        o.key,
      );
  });

  for (const c of BAD) {
    const spec = specOf(c.key);
    const entries = Array.isArray(c.cli) ? c.cli : [c.cli];
    const bad = entries.find((e) => {
      try {
        spec.parse('x', spec.repeatable ? [e] : e);
        return false;
      } catch {
        return true;
      }
    });
    const shows = c.shows ?? JSON.stringify(bad ?? entries[0]).slice(0, 40);
    const byName: Record<Source, [string, ConfigSources]> = {
      flag: [`--${spec.flag}`, { flags: { [c.key]: c.cli } }],
      desired: [c.key, { desired: { [c.key]: c.desired ?? c.cli } }],
      env: [envName(spec), { env: { [envName(spec)]: entries.join(',') } }],
    };
    for (const [source, [option, sources]] of Object.entries(byName)) {
      test(`${source} ${option} = ${JSON.stringify(c.cli).slice(0, 50)}`, () => {
        expectRefusal(() => resolveSync(sources), option, shows, c.allowed);
      });
    }
  }

  for (const c of BAD_DESIRED_TYPES) {
    test(`desired ${c.key} = ${JSON.stringify(c.value)}`, () => {
      expectRefusal(() => resolveSync({ desired: { [c.key]: c.value } }), c.key, c.shows, c.allowed);
    });
  }

  test('a flag is validated even when it would be overridden by nothing else (no silent fallback)', () => {
    expectRefusal(
      () => resolveSync({ flags: { timeoutMs: 'abc' }, env: { NETDIAG_TIMEOUT: '2000' } }),
      '--timeout',
      '"abc"',
      /whole number/,
    );
  });

  test('a long value is shortened in the message, not dropped', () => {
    const err = (() => {
      try {
        resolveSync({ flags: { hub: `${'x'.repeat(300)}!` } });
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof ConfigError);
    assert.ok(err.message.length < 300, err.message);
    assert.ok(err.message.includes('"xxxxxxxx'), err.message);
  });
});

describe('endpoints: host:port, [v6]:port, {host, port}', () => {
  const good: Array<[unknown, { host: string; port: number }]> = [
    ['hub.example:443', { host: 'hub.example', port: 443 }],
    ['HUB.Example.:8883', { host: 'hub.example', port: 8883 }],
    ['198.18.1.10:5671', { host: '198.18.1.10', port: 5671 }],
    ['[fd00::1]:443', { host: 'fd00::1', port: 443 }],
    ['[::1]:65535', { host: '::1', port: 65535 }],
    ['h.example:1', { host: 'h.example', port: 1 }],
    [
      { host: 'reg.azurecr.io', port: 443 },
      { host: 'reg.azurecr.io', port: 443 },
    ],
    [
      { host: 'fd00::2', port: 8883 },
      { host: 'fd00::2', port: 8883 },
    ],
  ];
  for (const [input, out] of good) {
    test(`accepts ${JSON.stringify(input)}`, () => assert.deepEqual(values.endpoint('e', input), out));
  }

  const bad: unknown[] = [
    'h.example',
    'h.example:',
    ':443',
    'h.example:0',
    'h.example:65536',
    'h.example:-1',
    'h.example:44 3',
    '[fd00::1]',
    'fd00::1:443',
    '[not-v6]x:443',
    'bad host:443',
    { host: 'h.example' },
    { port: 443 },
    { host: 'h.example', port: 0 },
    { host: 'h.example', port: 70000 },
    { host: 'h.example', port: 443, extra: 1 },
    42,
    null,
    ['h.example:443'],
  ];
  for (const input of bad) {
    test(`refuses ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => values.endpoint('--endpoint', input),
        (e: unknown) => e instanceof ConfigError && e.option === '--endpoint',
      );
    });
  }

  test('at most 16 endpoints, from every source', () => {
    const sixteen = many(16, (i) => `h${i}.example:443`);
    assert.equal(resolveSync({ flags: { endpoints: sixteen } }).endpoints.length, 16);
    assert.equal(resolveSync({ env: { NETDIAG_ENDPOINT: sixteen.join(',') } }).endpoints.length, 16);
    const seventeen = [...sixteen, 'h16.example:443'];
    assert.throws(() => resolveSync({ flags: { endpoints: seventeen } }), /at most 16/);
    assert.throws(
      () => resolveSync({ desired: { endpoints: seventeen.map((s) => ({ host: s.split(':')[0], port: 443 })) } }),
      /at most 16/,
    );
    assert.throws(() => resolveSync({ env: { NETDIAG_ENDPOINT: seventeen.join(',') } }), /at most 16/);
  });
});

describe('enumerations accept any letter case and store the canonical spelling', () => {
  const cases: Array<[Key, string, string]> = [
    ['upstreamProtocol', 'amqp', 'Amqp'],
    ['upstreamProtocol', 'AMQPWS', 'AmqpWs'],
    ['upstreamProtocol', ' mqtt ', 'Mqtt'],
    ['upstreamProtocol', 'mQtTwS', 'MqttWs'],
    ['switchType', 'EXTERNAL', 'external'],
    ['switchType', 'Internal', 'internal'],
    ['switchType', 'Default', 'default'],
  ];
  for (const [key, input, canonical] of cases) {
    for (const source of ['flag', 'desired', 'env'] as const) {
      test(`${key} ${JSON.stringify(input)} via ${source} → ${canonical}`, () => {
        const spec = specOf(key);
        const sources: ConfigSources =
          source === 'flag'
            ? { flags: { [key]: input } }
            : source === 'desired'
              ? { desired: { [key]: input } }
              : { env: { [envName(spec)]: input } };
        assert.equal(resolveSync(sources)[key], canonical);
      });
    }
  }
});

describe('single-value validators', () => {
  test('hostname: lower-cased, trailing dot dropped, IP literals allowed', () => {
    assert.equal(values.hostname('h', 'MyHub.Azure-Devices.NET.'), 'myhub.azure-devices.net');
    assert.equal(values.hostname('h', '198.18.0.1'), '198.18.0.1');
    assert.equal(values.hostname('h', 'FD00::1'), 'fd00::1');
    assert.throws(() => values.hostname('h', `${'a'.repeat(64)}.example`), ConfigError);
    assert.throws(() => values.hostname('h', ''), ConfigError);
    assert.throws(() => values.hostname('h', 'host-.example'), ConfigError);
  });

  test('integer: strings of digits and JSON integers, inside the range only', () => {
    assert.equal(values.integer('n', ' 250 ', 100, 300), 250);
    assert.equal(values.integer('n', 100, 100, 300), 100);
    assert.equal(values.integer('n', 300, 100, 300), 300);
    for (const bad of [99, 301, '0x10', '1e2', '', 150.5, Number.NaN, null, [150]]) {
      assert.throws(() => values.integer('n', bad, 100, 300), ConfigError, JSON.stringify(bad));
    }
  });

  test('list: a comma string drops empty entries, anything but an array or string is refused', () => {
    assert.deepEqual(
      values.list('l', 'a, b,,c ,', (_o, x) => x),
      ['a', 'b', 'c'],
    );
    assert.throws(() => values.list('l', 5, (_o, x) => x), ConfigError);
  });
});

describe('sanitizeEnvironment (the module drops bad NETDIAG_* values instead of dying)', () => {
  function capture(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    return {
      log: pino<never>({ level: 'info' }, sink),
      lines: () =>
        chunks
          .join('')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  }

  test('every invalid variable is dropped and named once in the log; valid ones stay', () => {
    const { log, lines } = capture();
    const env = {
      NETDIAG_TIMEOUT: 'soon',
      NETDIAG_UPSTREAM_PROTOCOL: 'carrier-pigeon',
      NETDIAG_DEADLINE: '20000',
      IOTEDGE_IOTHUBHOSTNAME: 'bad host',
      PATH: '/usr/bin',
    };
    const clean = sanitizeEnvironment(env, log);
    assert.deepEqual(clean, { NETDIAG_DEADLINE: '20000', PATH: '/usr/bin' });
    assert.deepEqual(env.NETDIAG_TIMEOUT, 'soon', 'the input is not modified');
    const options = lines()
      .map((l) => l['option'])
      .sort();
    assert.deepEqual(options, ['IOTEDGE_IOTHUBHOSTNAME', 'NETDIAG_TIMEOUT', 'NETDIAG_UPSTREAM_PROTOCOL']);
    assert.equal(resolveSync({ env: clean }).deadlineMs, 20000);
  });

  test('a clean environment passes through unchanged and logs nothing', () => {
    const { log, lines } = capture();
    const env = { NETDIAG_TIMEOUT: '2000', NETDIAG_INTERFACE: 'eth0,eth1' };
    assert.deepEqual(sanitizeEnvironment(env, log), env);
    assert.equal(lines().length, 0);
  });
});

test('upstreamProtocol follows the UpstreamProtocol edgeAgent gives modules, below every explicit source', () => {
  assert.equal(resolveSync({ env: { UpstreamProtocol: 'MqttWs' } }).upstreamProtocol, 'MqttWs');
  assert.equal(resolveSync({ env: { UpstreamProtocol: 'amqpws' } }).upstreamProtocol, 'AmqpWs');
  assert.equal(resolveSync({ env: { UpstreamProtocol: 'Http' } }).upstreamProtocol, 'Amqp');
  assert.equal(
    resolveSync({ env: { UpstreamProtocol: 'MqttWs', NETDIAG_UPSTREAM_PROTOCOL: 'Mqtt' } }).upstreamProtocol,
    'Mqtt',
  );
  assert.equal(
    resolveSync({ env: { UpstreamProtocol: 'MqttWs' }, desired: { upstreamProtocol: 'Amqp' } }).upstreamProtocol,
    'Amqp',
  );
  assert.equal(
    resolveSync({ env: { UpstreamProtocol: 'MqttWs' }, flags: { upstreamProtocol: 'Mqtt' } }).upstreamProtocol,
    'Mqtt',
  );
});

describe('the proxy, DPS, registries, exchanges and the nested parent (CONTRACT 7)', () => {
  test('a refused proxy URL is shown masked: its password never appears in the message', () => {
    for (const sources of [
      { flags: { proxy: 'http://user:Secr3t-P@ss@proxy.example:99999' } },
      { env: { NETDIAG_PROXY: 'http://user:Secr3t-P@ss@proxy.example:99999' } },
      { desired: { proxy: 'http://user:Secr3t-P@ss@proxy.example:99999' } },
    ] satisfies ConfigSources[]) {
      assert.throws(
        () => resolveSync(sources),
        (err: unknown) =>
          err instanceof ConfigError && !err.message.includes('Secr3t') && /user:\*\*\*@/.test(err.message),
      );
    }
  });

  test('where the proxy came from is kept beside it', () => {
    const url = 'http://198.18.1.30:3128';
    assert.equal(resolveSync({ flags: { proxy: url } }).proxySource, '--proxy');
    assert.equal(resolveSync({ desired: { proxy: url } }).proxySource, 'desired proxy');
    assert.equal(resolveSync({ env: { NETDIAG_PROXY: url } }).proxySource, 'NETDIAG_PROXY');
    assert.equal(resolveSync({}).proxySource, null);
    assert.equal(resolveSync({}).proxy, null);
  });

  test('the defaults: DPS unset (the target default applies), MCR, exchanges on, /etc/systemd/system', () => {
    const c = resolveSync({});
    assert.equal(c.dps, null);
    assert.deepEqual(c.registries, ['mcr.microsoft.com']);
    assert.equal(c.exchanges, true);
    assert.equal(c.systemdDir, '/etc/systemd/system');
    assert.equal(c.parent, null);
  });

  test('an empty registry list turns the registry test off', () => {
    assert.deepEqual(resolveSync({ desired: { registries: [] } }).registries, []);
  });

  test('IOTEDGE_PARENTHOSTNAME names the parent of a nested device; an invalid one is dropped and reported', async () => {
    assert.equal(resolveSync({ env: { IOTEDGE_PARENTHOSTNAME: 'Parent.Local' } }).parent, 'parent.local');
    assert.equal(resolveSync({ env: { IOTEDGE_PARENTHOSTNAME: 'not a host' } }).parent, null);
    const { environmentProblems } = await import('../../src/config/resolve.js');
    assert.ok(
      environmentProblems({ IOTEDGE_PARENTHOSTNAME: 'not a host' }).some((p) => p.option === 'IOTEDGE_PARENTHOSTNAME'),
    );
  });

  test('the CLI takes DPS, the parent and the provisioning source from config.toml, where nothing else gave them', async () => {
    const file = {
      hub: null,
      dps: 'lab-dps.azure-devices-provisioning.net',
      parent: 'lab-parent.local',
      provisioningSource: 'dps',
    };
    const c = await resolveConfig({ env: {}, readAziot: async () => file });
    assert.equal(c.dps, 'lab-dps.azure-devices-provisioning.net');
    assert.equal(c.parent, 'lab-parent.local');
    assert.equal(c.provisioningSource, 'dps');
    const given = await resolveConfig({
      flags: { dps: 'flag-dps.example' },
      env: { IOTEDGE_PARENTHOSTNAME: 'env-parent.local' },
      readAziot: async () => file,
    });
    assert.equal(given.dps, 'flag-dps.example');
    assert.equal(given.parent, 'env-parent.local');
  });
});
