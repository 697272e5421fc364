import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  agentEnvFromToml,
  discoverProxySources,
  environmentFileVars,
  proxyFromEnvironment,
  proxyFromUnit,
  splitSystemdWords,
  unitEnvironment,
  unitFileLines,
  type ProxySource,
} from '../../src/probes/proxy-sources.js';
import { errorWithCode } from '../../src/util/errors.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/proxy/', import.meta.url));
const readText = (p: string) => readFile(p, 'utf8');
const readDir = (p: string) => readdir(p);

function byComponent(sources: ProxySource[]): Record<string, ProxySource> {
  return Object.fromEntries(sources.map((s) => [s.component, s]));
}

/** Every secret the fixtures hold, and the Basic header forms of the proxy credentials. */
const SECRETS = [
  'Pr0xy-S3cret',
  Buffer.from('proxyuser:Pr0xy-S3cret').toString('base64'),
  'c2VjcmV0LWRldmljZS1rZXktZG8tbm90LWxlYWs=',
  'SharedAccessKey',
  'dG9wLXNlY3JldC1zeW1tZXRyaWMta2V5',
  'envfile-secret',
  'do-not-take-me',
  'bGVha2VkLWlmLXlvdS1zZWUtdGhpcw',
  'p%40ss',
];

function assertNoSecrets(value: unknown): void {
  const text = JSON.stringify(value);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
}

test('an EFLOW device set up by Set-EadProxy: every source names the same proxy, masked', async () => {
  const sources = await discoverProxySources({
    env: { https_proxy: 'http://proxyuser:Pr0xy-S3cret@proxy.corp.example:3128', PATH: '/usr/bin' },
    root: `${FIXTURES}eflow`,
    readText,
    readDir,
  });
  assert.deepEqual(
    sources.map((s) => s.component),
    ['process', 'edgeAgent', 'aziot-edged', 'aziot-identityd', 'docker'],
  );
  for (const s of sources) {
    assert.equal(s.state, 'set', `${s.component}: ${s.problems.join('; ')}`);
    assert.equal(s.url, 'http://proxyuser:***@proxy.corp.example:3128', s.component);
    assert.equal(s.parsed?.valid, true);
    assert.deepEqual(s.problems, [], s.component);
  }
  const c = byComponent(sources);
  assert.deepEqual(c['edgeAgent']!.origin, ['/etc/aziot/config.toml'], 'paths are reported as on the device');
  assert.equal(c['edgeAgent']!.noProxy, 'localhost,.corp.example');
  assert.deepEqual(c['docker']!.origin, ['/etc/systemd/system/docker.service.d/http-proxy.conf']);
  assert.equal(c['docker']!.noProxy, 'localhost,127.0.0.1,.corp.example', 'a continuation line is joined');
  assertNoSecrets(sources);
});

test('drop-ins that disagree, systemd corner cases and an EnvironmentFile', async () => {
  const sources = await discoverProxySources({ env: {}, root: `${FIXTURES}tricky`, readText, readDir });
  const c = byComponent(sources);

  assert.equal(c['process']!.state, 'unset');
  assert.equal(c['process']!.url, null);

  // config.toml: [agent] env as an inline table, only HTTPS_PROXY spelled upper case, an https:// proxy
  assert.equal(c['edgeAgent']!.state, 'set');
  assert.equal(c['edgeAgent']!.url, 'https://proxy.corp.example:3129');
  assert.equal(c['edgeAgent']!.parsed?.problem, 'scheme');

  // aziot-edged: [Unit] ignored, 20-proxy.conf overrides 10-proxy.conf, notes.txt is no drop-in
  assert.equal(c['aziot-edged']!.url, 'http://second.example:8080');
  assert.deepEqual(c['aziot-edged']!.origin, [
    '/etc/systemd/system/aziot-edged.service.d/10-proxy.conf',
    '/etc/systemd/system/aziot-edged.service.d/20-proxy.conf',
  ]);

  // aziot-identityd: the empty Environment= reset the proxy; NO_PROXY set after it stays
  assert.equal(c['aziot-identityd']!.state, 'unset');
  assert.equal(c['aziot-identityd']!.noProxy, '.corp.example');

  // docker: the %40 line is ignored (and said so), the EnvironmentFile wins, the "-" file is optional
  const docker = c['docker']!;
  assert.equal(docker.url, 'http://envfile-user:***@envfile.example:3128');
  assert.ok(
    docker.problems.some((p) => p.includes('a % that starts no specifier')),
    docker.problems.join('; '),
  );
  assert.ok(docker.origin.includes('/etc/default/docker-proxy'));
  assert.ok(!docker.origin.includes('/etc/default/docker-absent'));
  assertNoSecrets(sources);
});

test('absent and unreadable sources are unknown, with the reason; nothing is thrown', async () => {
  const sources = await discoverProxySources({ env: {}, root: `${FIXTURES}does-not-exist`, readText, readDir });
  for (const s of sources.slice(1)) {
    assert.equal(s.state, 'unknown', s.component);
    assert.equal(s.unknownReason, 'absent', s.component);
    assert.match(s.problems[0] ?? '', /does not exist$/);
  }

  const denied = () => Promise.reject(errorWithCode('permission denied', 'EACCES'));
  const locked = await discoverProxySources({ env: {}, readText: denied, readDir: denied });
  for (const s of locked.slice(1)) {
    assert.equal(s.state, 'unknown', s.component);
    assert.equal(s.unknownReason, 'unreadable', s.component);
    assert.match(s.problems[0] ?? '', /could not be read \(EACCES\)/);
  }
});

test('one unreadable drop-in makes the unit unknown (it could override any other)', async () => {
  const files: Record<string, string> = {
    '/s/docker.service.d/a.conf': '[Service]\nEnvironment=HTTPS_PROXY=http://a:1\n',
  };
  const source = await proxyFromUnit(
    'docker',
    '/s',
    (p) => (p in files ? Promise.resolve(files[p]!) : Promise.reject(errorWithCode('denied', 'EACCES'))),
    () => Promise.resolve(['b.conf', 'a.conf']),
  );
  assert.equal(source.state, 'unknown');
  assert.deepEqual(source.origin, ['/s/docker.service.d/b.conf']);
});

test('a drop-in directory with no proxy in it is unset, not unknown', async () => {
  const source = await proxyFromUnit(
    'docker',
    '/s',
    () => Promise.resolve('[Service]\nEnvironment=FOO=bar\n'),
    () => Promise.resolve(['limits.conf']),
  );
  assert.equal(source.state, 'unset');
  assert.equal(source.url, null);
});

test('an empty drop-in directory is unset', async () => {
  const source = await proxyFromUnit('docker', '/s', readText, () => Promise.resolve([]));
  assert.equal(source.state, 'unset');
  assert.deepEqual(source.origin, ['/s/docker.service.d']);
});

test('malformed config.toml: unknown, reported by line and column, without quoting the secret line', async () => {
  const sources = await discoverProxySources({ env: {}, root: `${FIXTURES}broken`, readText, readDir, units: [] });
  const agent = byComponent(sources)['edgeAgent']!;
  assert.equal(agent.state, 'unknown');
  assert.equal(agent.unknownReason, 'unreadable');
  assert.match(agent.problems.join(' '), /is not valid TOML \(line \d+, column \d+\)/);
  assertNoSecrets(sources);
});

test('agentEnvFromToml: only the proxy variables are kept; wrong types are problems', () => {
  const ok = agentEnvFromToml(
    '[agent.env]\n"https_proxy" = "http://p:1"\nRuntimeLogLevel = "debug"\nno_proxy = "x"\n[provisioning]\nsource="manual"\n',
  );
  assert.deepEqual(
    [...ok.vars],
    [
      ['https_proxy', 'http://p:1'],
      ['no_proxy', 'x'],
    ],
  );
  const wrong = agentEnvFromToml('[agent.env]\nhttps_proxy = 3128\n');
  assert.equal(wrong.vars.size, 0);
  assert.match(wrong.problems[0] ?? '', /https_proxy is not a string/);
  const notTable = agentEnvFromToml('agent = "edgeAgent"\n');
  assert.match(notTable.problems[0] ?? '', /"agent" is not a table/);
  assert.equal(agentEnvFromToml('').vars.size, 0);
});

test('process environment: lower case first, a clash said without values', () => {
  const both = proxyFromEnvironment({ https_proxy: 'http://u:Pr0xy-S3cret@a:1', HTTPS_PROXY: 'http://b:2' });
  assert.equal(both.url, 'http://u:***@a:1');
  assert.match(both.problems[0] ?? '', /https_proxy and HTTPS_PROXY are both set, to different values/);
  assertNoSecrets(both);
  assert.equal(proxyFromEnvironment({ HTTPS_PROXY: 'http://b:2' }).url, 'http://b:2');
  assert.equal(proxyFromEnvironment({ https_proxy: '' }).state, 'unset', 'empty is unset, as Go and curl read it');
});

test('units read HTTPS_PROXY first, as Go and http-common do', () => {
  const env = unitEnvironment([
    { name: 'a.conf', text: '[Service]\nEnvironment=https_proxy=http://lower:1 HTTPS_PROXY=http://upper:2\n' },
  ]);
  assert.equal(env.vars.get('HTTPS_PROXY'), 'http://upper:2');
  assert.equal(env.vars.get('https_proxy'), 'http://lower:1');
});

test('splitSystemdWords: quotes anywhere, escapes, unclosed quote', () => {
  assert.deepEqual(splitSystemdWords('A=1 "B=2 3" C="4 5"'), ['A=1', 'B=2 3', 'C=4 5']);
  assert.deepEqual(splitSystemdWords('X=\'a b\'c D=\\"q\\"'), ['X=a bc', 'D="q"']);
  assert.deepEqual(splitSystemdWords('E=a\\x41b   F=\\s'), ['E=aAb', 'F= ']);
  assert.equal(splitSystemdWords('G="unclosed'), null);
  assert.deepEqual(splitSystemdWords('   '), []);
});

test('unitFileLines: comments, continuations, comment lines inside a continuation', () => {
  const lines = unitFileLines('[Service]\n# c\n; c\nEnvironment=A=1 \\\n# inside\n  B=2\nX=y\n');
  assert.deepEqual(lines, [
    { line: 1, text: '[Service]' },
    { line: 4, text: 'Environment=A=1    B=2' },
    { line: 7, text: 'X=y' },
  ]);
});

test('Environment= edge cases: specifiers, invalid assignments, unclosed quotes', () => {
  const env = unitEnvironment([
    {
      name: 'x.conf',
      text: [
        '[Service]',
        'Environment=HTTPS_PROXY=http://u:p%%40s@a:1',
        'Environment="NO_PROXY=%H.local"',
        'Environment=1BAD=x novalue',
        'Environment=HTTPS_PROXY="http://never:1',
      ].join('\n'),
    },
  ]);
  assert.equal(env.vars.get('HTTPS_PROXY'), 'http://u:p%40s@a:1', '%% is a literal %');
  assert.equal(env.vars.get('NO_PROXY'), '%H.local', 'a real specifier is kept as written');
  const text = env.problems.join('\n');
  assert.match(text, /the specifier %H is not expanded here/);
  assert.match(text, /invalid assignment/);
  assert.match(text, /a quote is not closed/);
});

test('environmentFileVars: only proxy variables, quotes removed', () => {
  const vars = environmentFileVars(
    '# c\nHTTPS_PROXY="http://a:1"\nSECRET=zzz\nno_proxy=x,y\nexport https_proxy=http://no:1\n',
  );
  assert.deepEqual(
    [...vars],
    [
      ['HTTPS_PROXY', 'http://a:1'],
      ['no_proxy', 'x,y'],
    ],
  );
});
