/**
 * `eflow-netdiag check` argument parsing and --help (CONTRACT.md section 2): usage errors are one
 * line naming the offending option, repeatable flags collect arrays, --json is a boolean, and the
 * help lists every option of the contract with its environment variable.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXIT, UsageError, exitCodeFor, helpText, parseCheckArgs } from '../../src/cli.js';
import { OPTIONS, envName } from '../../src/config/options.js';
import { resolveSync } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/config/types.js';
import type { Report } from '../../src/report/types.js';

/** The option table of CONTRACT.md section 2, flag → environment variable. */
const CONTRACT_OPTIONS: Record<string, string> = {
  interface: 'NETDIAG_INTERFACE',
  hub: 'NETDIAG_HUB',
  endpoint: 'NETDIAG_ENDPOINT',
  'dns-name': 'NETDIAG_DNS_NAME',
  'upstream-protocol': 'NETDIAG_UPSTREAM_PROTOCOL',
  'expected-ip': 'NETDIAG_EXPECTED_IP',
  'switch-type': 'NETDIAG_SWITCH_TYPE',
  'resolv-conf': 'NETDIAG_RESOLV_CONF',
  'resolved-conf': 'NETDIAG_RESOLVED_CONF',
  'networkd-dir': 'NETDIAG_NETWORKD_DIR',
  'leases-dir': 'NETDIAG_LEASES_DIR',
  'ca-file': 'NETDIAG_CA_FILE',
  timeout: 'NETDIAG_TIMEOUT',
  deadline: 'NETDIAG_DEADLINE',
};

describe('usage errors: UsageError with a one-line message naming the option', () => {
  const cases: Array<[string, string[], string]> = [
    ['unknown flag', ['--foo'], '--foo'],
    ['unknown flag after good ones', ['--json', '--timeout', '2000', '--verbose'], '--verbose'],
    ['unknown short flag', ['-t', '4000'], '-t'],
    ['a misspelt flag', ['--interfaces', 'eth0'], '--interfaces'],
    ['missing value at the end', ['--timeout'], '--timeout'],
    ['missing value before another flag', ['--hub', '--json'], '--hub'],
    ['missing value of a repeatable flag', ['--interface', 'eth0', '--interface'], '--interface'],
    ['a value given to the boolean --json', ['--json=yes'], '--json'],
    ['positional argument', ['eth0'], 'eth0'],
    ['positional argument after options', ['--json', 'extra'], 'extra'],
    ['positional argument after --', ['--', 'x'], 'x'],
  ];
  for (const [name, args, names] of cases) {
    test(`${name}: ${args.join(' ')}`, () => {
      assert.throws(
        () => parseCheckArgs(args),
        (err: unknown) => {
          assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
          assert.ok(err instanceof Error);
          assert.equal(err.name, 'UsageError');
          assert.ok(err.message.includes(names), `message names ${names}: ${err.message}`);
          assert.ok(!err.message.includes('\n'), `one line: ${JSON.stringify(err.message)}`);
          assert.ok(err.message.length > 0 && err.message.length < 200, err.message);
          return true;
        },
      );
    });
  }

  test('usage errors exit 64', () => assert.equal(EXIT.usage, 64));
});

describe('values', () => {
  test('no arguments: no flags, text output', () => {
    assert.deepEqual(parseCheckArgs([]), { json: false, flags: {} });
  });

  test('--json is a boolean and not a check option', () => {
    const parsed = parseCheckArgs(['--json']);
    assert.equal(parsed.json, true);
    assert.deepEqual(parsed.flags, {});
  });

  test('every single-value flag is returned raw under its option key, in both --flag v and --flag=v forms', () => {
    for (const o of OPTIONS.filter((x) => !x.repeatable && !x.boolean)) {
      assert.deepEqual(parseCheckArgs([`--${o.flag}`, 'v1']).flags, { [o.key]: 'v1' }, o.flag);
      assert.deepEqual(parseCheckArgs([`--${o.flag}=v2`]).flags, { [o.key]: 'v2' }, o.flag);
    }
  });

  test('a switch is --name or --no-name, the last one written winning; it takes no value', () => {
    for (const o of OPTIONS.filter((x) => x.boolean)) {
      assert.deepEqual(parseCheckArgs([`--no-${o.flag}`]).flags, { [o.key]: false }, o.flag);
      assert.deepEqual(parseCheckArgs([`--${o.flag}`]).flags, { [o.key]: true }, o.flag);
      assert.deepEqual(parseCheckArgs([`--${o.flag}`, `--no-${o.flag}`]).flags, { [o.key]: false }, o.flag);
      assert.deepEqual(parseCheckArgs([`--no-${o.flag}`, `--${o.flag}`]).flags, { [o.key]: true }, o.flag);
      assert.throws(() => parseCheckArgs([`--no-${o.flag}=yes`]), UsageError, o.flag);
    }
    assert.deepEqual(
      OPTIONS.filter((o) => o.boolean).map((o) => o.flag),
      ['exchange'],
    );
  });

  const repeatable: Array<[string, string, string[]]> = [
    ['registry', 'registries', ['lab-registry.azurecr.io', 'lab-mirror.contoso.local']],
    ['interface', 'interfaces', ['eth0', 'eth1']],
    ['endpoint', 'endpoints', ['dps.example:443', '[fd00::1]:8883', 'reg.azurecr.io:443']],
    ['dns-name', 'dnsNames', ['a.example', 'b.example']],
  ];
  for (const [flag, key, vals] of repeatable) {
    test(`--${flag} is repeatable and collects an array`, () => {
      const args = vals.flatMap((v) => [`--${flag}`, v]);
      assert.deepEqual(parseCheckArgs(args).flags, { [key]: vals });
      assert.deepEqual(
        parseCheckArgs([`--${flag}`, vals[0]!]).flags,
        { [key]: [vals[0]] },
        'one use is still an array',
      );
    });
  }

  test('the repeatable flags are exactly interface, endpoint, dns-name and registry', () => {
    assert.deepEqual(
      OPTIONS.filter((o) => o.repeatable)
        .map((o) => o.flag)
        .sort(),
      ['dns-name', 'endpoint', 'interface', 'registry'],
    );
  });

  test('a value starting with a dash can be given with =', () => {
    assert.deepEqual(parseCheckArgs(['--timeout=-5']).flags, { timeoutMs: '-5' });
  });

  test('parsed flags resolve into a typed config', () => {
    const { json, flags } = parseCheckArgs([
      '--json',
      '--timeout',
      '2500',
      '--upstream-protocol',
      'mqttws',
      '--interface',
      'eth1',
      '--interface',
      'eth2',
      '--endpoint',
      'reg.azurecr.io:443',
      '--hub',
      'MyHub.azure-devices.net',
      '--switch-type',
      'Internal',
      '--expected-ip',
      '198.18.0.10',
    ]);
    assert.equal(json, true);
    const config = resolveSync({ flags, env: { NETDIAG_TIMEOUT: '9000' } });
    assert.equal(config.timeoutMs, 2500);
    assert.equal(config.upstreamProtocol, 'MqttWs');
    assert.deepEqual(config.interfaces, ['eth1', 'eth2']);
    assert.deepEqual(config.endpoints, [{ host: 'reg.azurecr.io', port: 443 }]);
    assert.equal(config.hub, 'myhub.azure-devices.net');
    assert.equal(config.switchType, 'internal');
    assert.equal(config.expectedIp, '198.18.0.10');
  });

  test('a bad flag value is refused by the config layer under the flag name', () => {
    const { flags } = parseCheckArgs(['--timeout', 'fast']);
    assert.throws(
      () => resolveSync({ flags }),
      (e: unknown) => e instanceof ConfigError && e.option === '--timeout' && e.message.includes('"fast"'),
    );
  });
});

describe('helpText()', () => {
  const help = helpText();
  const lines = help.split('\n');

  for (const [flag, env] of Object.entries(CONTRACT_OPTIONS)) {
    test(`lists --${flag} with ${env} on the same line`, () => {
      const line = lines.find((l) => new RegExp(`^\\s*--${flag}\\b(?!-)`).test(l));
      assert.ok(line, `no line for --${flag}`);
      assert.ok(line.includes(`[${env}]`), line);
      assert.ok(line.trim().length > `--${flag}`.length + env.length + 10, `has a description: ${line}`);
    });
  }

  test('lists --json', () => assert.ok(lines.some((l) => /^\s*--json\s+\S/.test(l))));

  test('lists every option the parser accepts, each with its env variable', () => {
    for (const o of OPTIONS) {
      const [flag, env] = o.boolean ? [`--no-${o.flag} `, `[${envName(o)}=off]`] : [`--${o.flag} `, `[${envName(o)}]`];
      assert.ok(
        lines.some((l) => l.includes(flag) && l.includes(env)),
        o.flag,
      );
    }
  });

  test('every contract option is accepted by the parser', () => {
    const flags = new Set(OPTIONS.map((o) => o.flag));
    for (const flag of Object.keys(CONTRACT_OPTIONS)) assert.ok(flags.has(flag), flag);
  });

  test('names the commands and the exit codes', () => {
    assert.match(help, /eflow-netdiag check/);
    assert.match(help, /eflow-netdiag module/);
    assert.match(help, /--help/);
    assert.match(help, /--version/);
    for (const code of ['0 healthy', '1 degraded', '2 unhealthy', '64', '70']) assert.ok(help.includes(code), code);
  });
});

describe('exit codes', () => {
  const report = (status: Report['status']) => ({ status }) as Report;
  test('0 healthy, 1 degraded, 2 unhealthy', () => {
    assert.equal(exitCodeFor(report('healthy')), 0);
    assert.equal(exitCodeFor(report('degraded')), 1);
    assert.equal(exitCodeFor(report('unhealthy')), 2);
    assert.equal(EXIT.internal, 70);
  });
});
