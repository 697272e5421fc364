import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDaemonJson, parseEngineVersion, readDaemonConfig } from '../../src/probes/docker-config.js';
import type { DockerDaemonConfig } from '../../src/probes/docker-config.js';
import { errorWithCode } from '../../src/util/errors.js';

const P = '/etc/docker/daemon.json';

function ok(fields: Partial<DockerDaemonConfig> = {}): DockerDaemonConfig {
  return { path: P, state: 'ok', dns: null, mtu: null, bip: null, reason: null, problems: [], ...fields };
}

function assertInvalid(got: DockerDaemonConfig, reason: RegExp): void {
  assert.equal(got.state, 'invalid', JSON.stringify(got));
  assert.match(got.reason ?? '', reason);
  assert.equal(got.dns, null, 'an invalid file gives containers nothing: dockerd does not start');
}

describe('parseDaemonJson: what dockerd accepts', () => {
  test('dns, mtu and bip as EFLOW operators write them', () => {
    const text = '{\n  "dns": ["198.18.0.53", "2001:db8::53"],\n  "mtu": 1400,\n  "bip": "172.26.0.1/16"\n}\n';
    assert.deepEqual(
      parseDaemonJson(text),
      ok({ dns: ['198.18.0.53', '2001:db8::53'], mtu: 1400, bip: '172.26.0.1/16' }),
    );
  });

  test('other keys are not judged; null values mean unset', () => {
    assert.deepEqual(parseDaemonJson('{"log-driver": "local", "dns": null, "mtu": null, "bip": null}'), ok());
  });

  test('a bare null is an empty configuration (json.Unmarshal into a map leaves it nil)', () => {
    assert.deepEqual(parseDaemonJson('null'), ok());
  });

  test('an empty "dns" list: accepted, and said to change nothing', () => {
    const got = parseDaemonJson('{"dns": []}');
    assert.equal(got.state, 'ok');
    assert.deepEqual(got.dns, []);
    assert.match(got.problems.join(' '), /empty list/);
  });

  test('an empty "dns" entry: refused up to v24, ignored later: a problem, not invalid', () => {
    const got = parseDaemonJson('{"dns": ["", "198.18.0.53"]}');
    assert.equal(got.state, 'ok');
    assert.deepEqual(got.dns, ['198.18.0.53']);
    assert.match(got.problems[0] ?? '', /empty string/);
  });

  test('duplicate keys: the last wins, as in Go', () => {
    assert.deepEqual(parseDaemonJson('{"dns": ["198.18.0.1"], "dns": ["198.18.0.2"]}').dns, ['198.18.0.2']);
  });
});

describe('parseDaemonJson: what makes dockerd refuse to start', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['garbage', 'dns=198.18.0.53', /not valid JSON/],
    ['a line comment', '{\n  // our resolver\n  "dns": ["198.18.0.53"]\n}', /comments/],
    ['a block comment', '/* x */ {"dns": ["198.18.0.53"]}', /comments/],
    ['a trailing comma', '{"dns": ["198.18.0.53"],}', /not valid JSON/],
    ['single quotes', "{'dns': ['198.18.0.53']}", /not valid JSON/],
    ['truncated', '{"dns": ["198.18.0.53"', /not valid JSON/],
    ['an array at the top', '["198.18.0.53"]', /must hold a JSON object/],
    ['a string at the top', '"198.18.0.53"', /must hold a JSON object/],
    ['dns as a string', '{"dns": "198.18.0.53"}', /"dns" must be an array.*the string "198\.18\.0\.53"/],
    ['dns as an object', '{"dns": {"a": "198.18.0.53"}}', /"dns" must be an array.*an object/],
    ['a number in dns', '{"dns": [198]}', /entry 1 must be an IP address string; it is the number 198/],
    ['a host name in dns', '{"dns": ["dns.example"]}', /"dns.example" is not an IP address/],
    ['an address with a port', '{"dns": ["198.18.0.53:53"]}', /is not an IP address/],
    ['a CIDR in dns', '{"dns": ["198.18.0.53/32"]}', /is not an IP address/],
    ['spaces around an address', '{"dns": [" 198.18.0.53"]}', /is not an IP address/],
    ['mtu as a string', '{"mtu": "1400"}', /"mtu" must be a whole number.*the string "1400"/],
    ['mtu with a fraction', '{"mtu": 1400.5}', /whole number/],
    ['mtu written 1400.0 (Go refuses it for an int)', '{"mtu": 1400.0}', /refuses 1400\.0/],
    ['mtu in exponent form', '{"mtu": 1.4e3}', /refuses 1\.4e3/],
    ['negative mtu', '{"mtu": -1}', /negative MTU/],
    ['mtu as a boolean', '{"mtu": true}', /the boolean true/],
    ['bip without a prefix', '{"bip": "172.26.0.1"}', /not an IPv4 address with a prefix length/],
    ['bip as garbage', '{"bip": "172.26.0.1/40"}', /not an IPv4 address with a prefix length/],
    ['bip as a number', '{"bip": 172}', /"bip" must be a string/],
    ['an upper-case key', '{"DNS": ["198.18.0.53"]}', /"DNS" is not a dockerd option.*"dns"/],
    ['an underscore key', '{"dns_servers": ["198.18.0.53"]}', /"dns_servers" is not a dockerd option.*"dns-servers"/],
  ];
  for (const [label, text, reason] of cases) {
    test(label, () => assertInvalid(parseDaemonJson(text), reason));
  }

  test('several faults are all named', () => {
    const got = parseDaemonJson('{"dns": "x", "mtu": -5}');
    assertInvalid(got, /"dns" must be an array.*; "mtu" is -5/);
  });

  test('invalid UTF-8 is refused', () => {
    assertInvalid(parseDaemonJson(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), /not valid UTF-8/);
  });

  test('huge input is not read', () => {
    assertInvalid(parseDaemonJson(`{"x": "${'a'.repeat(2 * 1024 * 1024)}"}`), /larger than/);
  });

  test('input of the wrong type never throws', () => {
    assertInvalid(parseDaemonJson(42 as unknown as string), /bytes/);
  });
});

describe('parseDaemonJson: rules that changed between dockerd versions', () => {
  const bom = (text: string): Uint8Array => new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
  const utf16le = (text: string): Uint8Array => {
    const out = new Uint8Array(2 + text.length * 2);
    out.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) out[2 + i * 2] = text.charCodeAt(i);
    return out;
  };

  test('an empty or blank file: no settings since v23, refused ("EOF") by v20.10', () => {
    for (const text of ['', '  \n\t\n']) {
      const unknown = parseDaemonJson(text);
      assert.equal(unknown.state, 'ok');
      assert.match(unknown.problems.join(' '), /before v23 refuses/);
      assert.deepEqual(parseDaemonJson(text, { engineVersion: '24.0.9' }), ok());
      assertInvalid(parseDaemonJson(text, { engineVersion: '20.10.24' }), /empty/);
    }
  });

  test('a byte order mark (Notepad, PowerShell): read since v23, refused before', () => {
    const got = parseDaemonJson(bom('{"dns": ["198.18.0.53"]}'));
    assert.equal(got.state, 'ok');
    assert.deepEqual(got.dns, ['198.18.0.53']);
    assert.match(got.problems[0] ?? '', /UTF-8 byte order mark/);
    assert.deepEqual(parseDaemonJson(utf16le('{"mtu": 1400}'), { engineVersion: '25.0.3' }).mtu, 1400);
    assertInvalid(parseDaemonJson(bom('{}'), { engineVersion: '20.10.7' }), /byte order mark/);
  });

  test('parseEngineVersion', () => {
    assert.deepEqual(parseEngineVersion('20.10.24'), [20, 10]);
    assert.deepEqual(parseEngineVersion('v24.0.9+azure-1'), [24, 0]);
    assert.equal(parseEngineVersion('unknown'), null);
    assert.equal(parseEngineVersion(null), null);
  });
});

describe('readDaemonConfig', () => {
  test('absent, unreadable and a directory are told apart, never thrown', async () => {
    const fail = (code: string) => () => Promise.reject(errorWithCode(code, code));
    assert.deepEqual(await readDaemonConfig(P, { readBytes: fail('ENOENT') }), {
      path: P,
      state: 'absent',
      dns: null,
      mtu: null,
      bip: null,
      reason: null,
      problems: [],
    });
    const denied = await readDaemonConfig(P, { readBytes: fail('EACCES') });
    assert.equal(denied.state, 'unreadable');
    assert.match(denied.reason ?? '', /EACCES/);
    assert.equal((await readDaemonConfig(P, { readBytes: fail('EISDIR') })).state, 'invalid');
  });

  test('reads a real file from disk by default', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-docker-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'daemon.json');
    writeFileSync(path, '{"dns": ["198.18.0.53"], "mtu": 1400}\n');
    assert.deepEqual(await readDaemonConfig(path), { ...ok({ dns: ['198.18.0.53'], mtu: 1400 }), path });
    mkdirSync(join(dir, 'sub'));
    assert.equal((await readDaemonConfig(join(dir, 'sub'))).state, 'invalid');
    assert.equal((await readDaemonConfig(join(dir, 'missing.json'))).state, 'absent');
  });
});
