/**
 * Logs never contain SAS tokens, shared access keys or connection strings (CONTRACT.md 5.5).
 * maskSecrets is tested directly; createLogger writes to file descriptor 2, so it is tested in a
 * child process whose stderr is captured, with the secrets in the message, in object fields and
 * inside Error messages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { maskSecrets } from '../../src/log.js';

const KEY = 'Zm9vYmFyLXNlY3JldC1rZXktMTIzNDU2Nzg5MA==';
const KEY2 = 'bW9kdWxlLWtleS1zZWNyZXQtOTg3NjU0MzIxMA==';
const SIG = 'c2lnbmF0dXJlLXNlY3JldA%3D%3D';
const SECRETS = {
  key: KEY,
  cs: `HostName=hub.azure-devices.net;DeviceId=edge1;SharedAccessKey=${KEY}`,
  moduleCs: `HostName=hub.azure-devices.net;GatewayHostName=edgehub;DeviceId=edge1;ModuleId=netdiag;SharedAccessKey=${KEY2}`,
  sas: `SharedAccessSignature sr=hub.azure-devices.net%2Fdevices%2Fedge1%2Fmodules%2Fnetdiag&sig=${SIG}&se=1900000000&skn=iothubowner`,
};
/** Substrings that must never reach a log line. */
const FORBIDDEN = [KEY, KEY2, SIG, 'c2lnbmF0dXJlLXNlY3JldA', 'DeviceId=edge1;', 'ModuleId=netdiag;'];

describe('maskSecrets', () => {
  const cases: Array<[string, string, string[]]> = [
    ['a device connection string', `connecting with ${SECRETS.cs}`, ['connecting with ']],
    ['a module connection string with GatewayHostName', `EdgeHubConnectionString=${SECRETS.moduleCs}`, []],
    ['a SAS token', `Authorization: ${SECRETS.sas}`, ['Authorization: ']],
    ['a bare signature parameter', `GET /devices?api-version=2021-04-12&sig=${SIG}&se=1900000000`, ['GET /devices']],
    ['a shared access key on its own', `SharedAccessKey=${KEY}`, []],
    ['a shared access key in lower case', `sharedaccesskey=${KEY}`, []],
    ['a connection string inside JSON text', JSON.stringify({ connectionString: SECRETS.cs, n: 1 }), ['"n":1']],
    [
      'a connection string in single quotes',
      `bad connection string '${SECRETS.cs}' (UnauthorizedError)`,
      ['(UnauthorizedError)'],
    ],
    ['two secrets in one line', `${SECRETS.cs} then ${SECRETS.sas}`, [' then ']],
    [
      'a connection string signed with a SAS token',
      `HostName=hub.azure-devices.net;DeviceId=edge1;SharedAccessSignature=${SECRETS.sas}`,
      [],
    ],
  ];
  for (const [name, input, kept] of cases) {
    test(name, () => {
      const out = maskSecrets(input);
      for (const secret of FORBIDDEN) assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
      assert.match(out, /<redacted>/);
      for (const k of kept) assert.ok(out.includes(k), `the harmless text "${k}" is kept: ${out}`);
    });
  }

  const harmless = [
    'HostName lookup failed for hub.azure-devices.net',
    'design=flat; signal=SIGTERM',
    'querying 198.18.0.53 for lab-hub.azure-devices.net (A)',
    'upstream protocol Amqp, port 5671 blocked',
  ];
  for (const text of harmless) {
    test(`leaves ordinary text alone: ${text}`, () => assert.equal(maskSecrets(text), text));
  }
});

const LOG_MODULE = new URL('../../src/log.ts', import.meta.url).href;
const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface LogRun {
  stdout: string;
  stderr: string;
  lines: Array<Record<string, unknown>>;
}

/** Runs `code` in a fresh Node process with `log` = createLogger(level) and `S` = the secrets. */
function runLogger(code: string, level = 'info', env: NodeJS.ProcessEnv = {}): LogRun {
  const script = [
    `const { createLogger } = await import(${JSON.stringify(LOG_MODULE)});`,
    `const S = ${JSON.stringify(SECRETS)};`,
    `const log = createLogger(${JSON.stringify(level)});`,
    code,
  ].join('\n');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('NETDIAG_LOG_LEVEL' in env)) delete childEnv['NETDIAG_LOG_LEVEL'];
  delete childEnv['RuntimeLogLevel'];
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    env: childEnv,
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.error, undefined, `child failed to run: ${String(r.error)}`);
  assert.equal(r.status, 0, `child exited ${String(r.status)}: ${r.stderr}`);
  const lines = r.stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stdout: r.stdout, stderr: r.stderr, lines };
}

/** `unmarked`: lines whose secret is dropped with its field rather than replaced by <redacted>. */
function assertNoSecrets(run: LogRun, expectedLines: number, unmarked: number[] = []): void {
  assert.equal(run.stdout, '', 'logs go to stderr, never stdout');
  assert.equal(run.lines.length, expectedLines, `expected ${expectedLines} log lines:\n${run.stderr}`);
  for (const secret of FORBIDDEN)
    assert.ok(!run.stderr.includes(secret), `${secret} appears in the log:\n${run.stderr}`);
  run.lines.forEach((line, i) => {
    if (!unmarked.includes(i))
      assert.ok(
        JSON.stringify(line).includes('<redacted>'),
        `line ${i} shows where a secret was removed: ${JSON.stringify(line)}`,
      );
  });
}

describe('createLogger never writes a secret (child process, stderr captured)', () => {
  test('in the message text, including printf-style arguments', () => {
    const run = runLogger(
      [
        'log.info(`connecting with ${S.cs}`);',
        'log.warn(`token ${S.sas}`);',
        "log.info('module connection string %s', S.moduleCs);",
        "log.error({ attempt: 2 }, 'auth failed for ' + S.cs);",
      ].join('\n'),
    );
    assertNoSecrets(run, 4);
    assert.equal(run.lines[3]!['attempt'], 2, 'other fields are kept');
    assert.match(String(run.lines[0]!['msg']), /^connecting with HostName=<redacted>/);
  });

  test('in object fields, at the top level and nested, under any field name', () => {
    const run = runLogger(
      [
        "log.info({ conn: S.cs }, 'field');",
        "log.info({ connectionString: S.cs, key: S.key, token: S.sas }, 'known secret names');",
        "log.info({ settings: { edge: { cs: S.moduleCs } }, list: [S.sas, 'plain'] }, 'nested');",
        "log.info({ auth: { sharedAccessKey: S.key, password: 'hunter2' + S.key } }, 'nested known names');",
      ].join('\n'),
    );
    assertNoSecrets(run, 4);
    assert.deepEqual((run.lines[2]!['list'] as unknown[])[1], 'plain');
  });

  test('inside an Error message, as err or any other field, and in a nested cause-like object', () => {
    const run = runLogger(
      [
        "log.error({ err: new Error('amqp:unauthorized-access ' + S.cs) }, 'connect failed');",
        "log.error({ reason: new TypeError('bad token ' + S.sas), queued: 3 }, 'send failed');",
        "const e = new Error('wrapper'); e.response = { headers: { authorization: S.sas } }; log.warn({ err: e }, 'with extra props');",
        "log.error(new Error('positional ' + S.cs), 'positional error with a message');",
      ].join('\n'),
    );
    assertNoSecrets(run, 4, [2]);
    assert.match(
      JSON.stringify(run.lines[0]!['err']),
      /amqp:unauthorized-access/,
      'the useful part of the error stays',
    );
    assert.equal(run.lines[1]!['queued'], 3);
    assert.equal(run.lines[2]!['msg'], 'with extra props');
  });

  test('an Error under err keeps its type name and code', {}, () => {
    const [line] = runLogger(
      "const e = new TypeError('refused'); e.code = 'ECONNREFUSED'; log.error({ err: e }, 'connect failed');",
    ).lines;
    assert.ok(line);
    const err = line['err'] as Record<string, unknown>;
    assert.equal(err['code'], 'ECONNREFUSED');
    assert.equal(err['type'], 'TypeError');
  });

  test('an Error logged on its own, without a message', {}, () => {
    const run = runLogger(
      ["log.error(new Error('bare ' + S.cs));", "log.error({ err: new Error('no message ' + S.sas) });"].join('\n'),
    );
    assertNoSecrets(run, 2);
  });

  test("in a child logger's bindings", {}, () => {
    assertNoSecrets(runLogger("log.child({ conn: S.cs }).info('from a child');"), 1);
  });
});

describe('createLogger levels', () => {
  test('"warning" (IoT Edge RuntimeLogLevel spelling) means warn', () => {
    const run = runLogger("log.info('hidden'); log.warn('shown');", 'warning');
    assert.deepEqual(
      run.lines.map((l) => l['msg']),
      ['shown'],
    );
  });

  test('NETDIAG_LOG_LEVEL is the default level', () => {
    const run = runLogger(
      'const { createLogger: make } = await import(' +
        JSON.stringify(LOG_MODULE) +
        "); const l = make(); l.info('hidden'); l.error('shown');",
      'silent',
      { NETDIAG_LOG_LEVEL: 'ERROR' },
    );
    assert.deepEqual(
      run.lines.map((l) => l['msg']),
      ['shown'],
    );
  });

  test('an unknown level falls back to info', () => {
    const run = runLogger("log.debug('hidden'); log.info('shown');", 'chatty');
    assert.deepEqual(
      run.lines.map((l) => l['msg']),
      ['shown'],
    );
  });

  test('lines are structured JSON with a level, a time and the agent name', () => {
    const [line] = runLogger("log.info({ checkId: 'c1' }, 'check complete');").lines;
    assert.ok(line);
    assert.equal(line['level'], 30);
    assert.equal(typeof line['time'], 'number');
    assert.equal(line['name'], 'eflow-netdiag');
    assert.equal(line['checkId'], 'c1');
    assert.equal(line['msg'], 'check complete');
  });
});
