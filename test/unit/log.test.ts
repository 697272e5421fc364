/**
 * The module's log (CONTRACT.md 5.5 and 8.3): IoT Edge lines by default, exactly in the shape
 * edgeAgent's LogMessageParser reads (`<N>` syslog severity, `yyyy-MM-dd HH:mm:ss.fff zzz`, text),
 * pino JSON lines with format "json", and never a SAS token, a shared access key, a connection
 * string or a password in a URL in either. Most tests hand createLogger a destination and read
 * the lines in this process; two run a child process to check the default destination (stderr).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { edgeTimestamp, severityOf } from '../../src/log-line.js';
import { createLogger, logFormat, logLevel, maskSecrets, type Logger, type LoggerOptions } from '../../src/log.js';
import { EDGE_AGENT_LOG_PATTERN, edgeAgentParse, parseIotEdgeLine } from '../support/iotedge-log.js';

const KEY = 'Zm9vYmFyLXNlY3JldC1rZXktMTIzNDU2Nzg5MA==';
const KEY2 = 'bW9kdWxlLWtleS1zZWNyZXQtOTg3NjU0MzIxMA==';
const SIG = 'c2lnbmF0dXJlLXNlY3JldA%3D%3D';
const PROXY_PASSWORD = 'Pr0xy-S3cret';
const SECRETS = {
  key: KEY,
  cs: `HostName=hub.azure-devices.net;DeviceId=edge1;SharedAccessKey=${KEY}`,
  moduleCs: `HostName=hub.azure-devices.net;GatewayHostName=edgehub;DeviceId=edge1;ModuleId=netdiag;SharedAccessKey=${KEY2}`,
  sas: `SharedAccessSignature sr=hub.azure-devices.net%2Fdevices%2Fedge1%2Fmodules%2Fnetdiag&sig=${SIG}&se=1900000000&skn=iothubowner`,
  proxy: `http://corp-user:${PROXY_PASSWORD}@proxy.lab.example:3128`,
};
/** Substrings that must never reach a log line. */
const FORBIDDEN = [KEY, KEY2, SIG, 'c2lnbmF0dXJlLXNlY3JldA', 'DeviceId=edge1;', 'ModuleId=netdiag;', PROXY_PASSWORD];

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

  const urls: Array<[string, string, string]> = [
    ['a proxy URL with a password', SECRETS.proxy, 'http://corp-user:***@proxy.lab.example:3128'],
    [
      'a password holding an unencoded "@", with a path after the host',
      'https://u:p@ss@w0rd@proxy.lab.example:8080/pac',
      'https://u:***@proxy.lab.example:8080/pac',
    ],
    [
      'a systemd drop-in line (quoted, percent-encoded user)',
      `Environment="HTTPS_PROXY=http://corp%5Cuser:${PROXY_PASSWORD}@198.18.0.9:8080" "NO_PROXY=localhost"`,
      'Environment="HTTPS_PROXY=http://corp%5Cuser:***@198.18.0.9:8080" "NO_PROXY=localhost"',
    ],
    [
      'two URLs in one line',
      `a=${SECRETS.proxy} b=socks5://x:y@h`,
      'a=http://corp-user:***@proxy.lab.example:3128 b=socks5://x:***@h',
    ],
    [
      'a URL inside JSON text',
      JSON.stringify({ proxy: SECRETS.proxy }),
      '{"proxy":"http://corp-user:***@proxy.lab.example:3128"}',
    ],
  ];
  for (const [name, input, expected] of urls) {
    test(`masks the password of ${name}, keeping the user and the host`, () => {
      assert.equal(maskSecrets(input), expected);
    });
  }

  const harmless = [
    'HostName lookup failed for hub.azure-devices.net',
    'design=flat; signal=SIGTERM',
    'querying 198.18.0.53 for lab-hub.azure-devices.net (A)',
    'upstream protocol Amqp, port 5671 blocked',
    'proxy http://proxy.lab.example:3128 refused the CONNECT',
    'proxy http://corp-user@proxy.lab.example:3128 (no password)',
    'mqtts://lab-hub.azure-devices.net:8883 at 10:20:30',
  ];
  for (const text of harmless) {
    test(`leaves ordinary text alone: ${text}`, () => assert.equal(maskSecrets(text), text));
  }
});

/** A logger writing into an array; `lines()` is what would have reached stderr. */
function capture(options: Omit<LoggerOptions, 'destination'> = {}): { log: Logger; lines: () => string[] } {
  const written: string[] = [];
  const log = createLogger({ ...options, destination: { write: (line: string) => written.push(line) } });
  return {
    log,
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((l) => l !== ''),
  };
}

/** Writes the same secrets every way a caller could, and returns how many lines that makes. */
function logSecrets(log: Logger): number {
  log.info(`connecting with ${SECRETS.cs}`);
  log.warn(`token ${SECRETS.sas}`);
  log.info('module connection string %s', SECRETS.moduleCs);
  log.error({ attempt: 2 }, 'auth failed for ' + SECRETS.cs);
  log.info({ conn: SECRETS.cs }, 'field');
  log.info({ connectionString: SECRETS.cs, key: SECRETS.key, token: SECRETS.sas }, 'known secret names');
  log.info({ settings: { edge: { cs: SECRETS.moduleCs } }, list: [SECRETS.sas, 'plain'] }, 'nested');
  log.info({ auth: { sharedAccessKey: SECRETS.key, password: 'hunter2' + SECRETS.key } }, 'nested known names');
  log.error({ err: new Error('amqp:unauthorized-access ' + SECRETS.cs) }, 'connect failed');
  log.error({ reason: new TypeError('bad token ' + SECRETS.sas), queued: 3 }, 'send failed');
  log.error(new Error('positional ' + SECRETS.cs), 'positional error with a message');
  log.error(new Error('bare ' + SECRETS.cs));
  log.error({ err: new Error('no message ' + SECRETS.sas) });
  log.child({ conn: SECRETS.cs }).info('from a child');
  log.info({ proxy: SECRETS.proxy }, `proxy ${SECRETS.proxy} from the docker drop-in`);
  log.warn({ err: new Error(`CONNECT via ${SECRETS.proxy} failed`) }, 'proxy refused');
  return 16;
}

for (const format of ['iotedge', 'json'] as const) {
  describe(`createLogger (${format} lines) never writes a secret`, () => {
    test('in the message text, printf arguments, fields at any depth, errors anywhere, child bindings and URLs', () => {
      const { log, lines } = capture({ format });
      const expected = logSecrets(log);
      const out = lines();
      assert.equal(out.length, expected, out.join('\n'));
      for (const line of out) {
        for (const secret of FORBIDDEN) assert.ok(!line.includes(secret), `${secret} appears in: ${line}`);
        assert.match(line, /<redacted>|\*\*\*@/, `the line shows where a secret was removed: ${line}`);
      }
    });

    test('keeps the harmless parts: other fields, the useful part of an error, the proxy host', () => {
      const { log, lines } = capture({ format });
      log.error({ attempt: 2, err: new Error('amqp:unauthorized-access ' + SECRETS.cs) }, 'connect failed');
      log.info({ list: [SECRETS.sas, 'plain'] }, 'nested');
      const [first, second] = lines();
      assert.match(first ?? '', /amqp:unauthorized-access/);
      assert.match(first ?? '', /attempt.?.?2/);
      assert.match(second ?? '', /"plain"/);
      log.info({ proxy: SECRETS.proxy }, 'proxy');
      assert.match(lines()[2] ?? '', /corp-user:\*\*\*@proxy\.lab\.example:3128/);
    });
  });
}

describe('the IoT Edge line (the default format)', () => {
  test('is `<N> yyyy-MM-dd HH:mm:ss.fff +00:00 [LVL] message key=value…`, one line per event', () => {
    const { log, lines } = capture();
    log.info({ checkId: 'c1', durationMs: 12 }, 'check complete');
    const [line] = lines();
    assert.match(
      line ?? '',
      /^<6> \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \+00:00 \[INF\] check complete checkId=c1 durationMs=12$/,
    );
  });

  test("edgeAgent's LogMessageParser reads the level it filters on, the timestamp, and the text", () => {
    const { log, lines } = capture({ level: 'trace' });
    const before = Date.now();
    log.fatal('f');
    log.error('e');
    log.warn('w');
    log.info('i');
    log.debug('d');
    log.trace('t');
    const after = Date.now();
    const parsed = lines().map((l) => ({ line: l, ...edgeAgentParse(l) }));
    assert.deepEqual(
      parsed.map((p) => p.logLevel),
      [0, 3, 4, 6, 7, 7],
      'Fatal 0, Error 3, Warning 4, Information 6, Debug and Verbose 7 (edge-util Logger.cs)',
    );
    assert.deepEqual(
      parsed.map((p) => p.text),
      ['[FTL] f', '[ERR] e', '[WRN] w', '[INF] i', '[DBG] d', '[VRB] t'],
    );
    for (const p of parsed) {
      assert.ok(p.timestamp, `edgeAgent finds the timestamp in ${p.line}`);
      // .NET's DateTime.TryParse reads "yyyy-MM-dd HH:mm:ss.fff +00:00"; here the same instant.
      const ms = Date.parse(p.timestamp.replace(' ', 'T').replace(' +00:00', 'Z'));
      assert.ok(ms >= before - 1 && ms <= after + 1, `${p.timestamp} is the time of the event (UTC)`);
      assert.ok(EDGE_AGENT_LOG_PATTERN.exec(p.line)?.groups?.['logLevel'], 'the <N> group matched');
    }
  });

  test('the timestamp is UTC with milliseconds and a +00:00 offset', () => {
    assert.equal(edgeTimestamp(0), '1970-01-01 00:00:00.000 +00:00');
    assert.equal(edgeTimestamp(Date.UTC(2026, 11, 2, 9, 5, 7, 42)), '2026-12-02 09:05:07.042 +00:00');
  });

  test('severities follow syslog as IoT Edge maps them', () => {
    assert.deepEqual(
      [60, 50, 40, 30, 20, 10].map((l) => severityOf(l)),
      [
        { severity: 0, label: 'FTL' },
        { severity: 3, label: 'ERR' },
        { severity: 4, label: 'WRN' },
        { severity: 6, label: 'INF' },
        { severity: 7, label: 'DBG' },
        { severity: 7, label: 'VRB' },
      ],
    );
  });

  test('fields: strings quoted when they must be, numbers and booleans bare, objects and arrays as JSON', () => {
    const { log, lines } = capture();
    log.info(
      {
        host: 'lab hub',
        plain: 'lab-hub.azure-devices.net:5671',
        n: 3,
        ok: true,
        none: null,
        nested: { a: [1, 'x y'] },
        numeric: '42',
        word: 'true',
        empty: '',
        quote: 'say "hi"',
        eq: 'a=b',
      },
      'fields',
    );
    assert.equal(
      (lines()[0] ?? '').replace(/^.*\[INF\] /, ''),
      'fields host="lab hub" plain=lab-hub.azure-devices.net:5671 n=3 ok=true none=null nested={"a":[1,"x y"]} ' +
        'numeric="42" word="true" empty="" quote="say \\"hi\\"" eq="a=b"',
    );
  });

  test('a message with "=", a quote or a line break is a JSON string, and the event stays on one line', () => {
    const { log, lines } = capture();
    log.info({ n: 1 }, 'a=b');
    log.info('two\nlines');
    log.info('say "x"');
    const out = lines();
    assert.equal(out.length, 3);
    assert.match(out[0] ?? '', /\[INF\] "a=b" n=1$/);
    assert.match(out[1] ?? '', /\[INF\] "two\\nlines"$/);
    assert.match(out[2] ?? '', /\[INF\] "say \\"x\\""$/);
  });

  test('an error is its masked message, its type when it is not plain Error, and its code', () => {
    const { log, lines } = capture();
    const refused = Object.assign(new TypeError(`refused by ${SECRETS.cs}`), { code: 'ECONNREFUSED' });
    log.error({ err: refused }, 'connect failed');
    log.warn({ reason: new Error('plain') }, 'other');
    const [first, second] = lines();
    assert.match(
      first ?? '',
      / connect failed err="refused by HostName=<redacted>" err\.type=TypeError err\.code=ECONNREFUSED$/,
    );
    assert.match(second ?? '', / other reason=plain$/);
  });

  test("pino's pid, hostname and name are left out; a child's bindings are fields", () => {
    const { log, lines } = capture();
    log.child({ component: 'dns' }).info('child');
    const line = lines()[0] ?? '';
    assert.match(line, /\[INF\] child component=dns$/);
    assert.doesNotMatch(line, /pid=|hostname=|name=/);
  });

  test('every line reads back to the message and fields that were logged', () => {
    const { log, lines } = capture({ level: 'debug' });
    const fields = {
      checkId: '7d3e9b10',
      trigger: 'startup',
      attempt: 0,
      endpoints: [{ host: 'h', port: 443 }],
      note: 'a b',
    };
    log.debug(fields, 'check started');
    log.info('no fields at all');
    log.warn({ retryInMs: 1500 }, 'edgeHub not reachable; retrying');
    const parsed = lines().map(parseIotEdgeLine);
    assert.deepEqual(
      parsed.map((p) => p && { level: p.level, msg: p.msg, fields: p.fields }),
      [
        { level: 20, msg: 'check started', fields },
        { level: 30, msg: 'no fields at all', fields: {} },
        { level: 40, msg: 'edgeHub not reachable; retrying', fields: { retryInMs: 1500 } },
      ],
    );
  });
});

describe('the JSON format', () => {
  test('"json" (any case) gives pino JSON lines: level, time, name, fields, msg', () => {
    for (const format of ['json', 'JSON', ' Json ']) {
      const { log, lines } = capture({ format });
      log.info({ checkId: 'c1' }, 'check complete');
      const line = JSON.parse(lines()[0] ?? '') as Record<string, unknown>;
      assert.equal(line['level'], 30);
      assert.equal(typeof line['time'], 'number');
      assert.equal(line['name'], 'eflow-netdiag');
      assert.equal(line['checkId'], 'c1');
      assert.equal(line['msg'], 'check complete');
    }
  });

  test('an error under err keeps its type name and code', () => {
    const { log, lines } = capture({ format: 'json' });
    const e = Object.assign(new TypeError('refused'), { code: 'ECONNREFUSED' });
    log.error({ err: e }, 'connect failed');
    const err = (JSON.parse(lines()[0] ?? '') as { err: Record<string, unknown> }).err;
    assert.deepEqual(err, { type: 'TypeError', message: 'refused', code: 'ECONNREFUSED' });
  });

  test('anything else, unset included, is the IoT Edge line', () => {
    assert.deepEqual([undefined, '', 'iotedge', 'text', 'jsonl'].map(logFormat), [
      'iotedge',
      'iotedge',
      'iotedge',
      'iotedge',
      'iotedge',
    ]);
  });
});

describe('createLogger levels', () => {
  test("pino's names and IoT Edge's RuntimeLogLevel spellings, any case; unknown or unset means info", () => {
    assert.deepEqual(
      ['warning', 'Information', 'verbose', 'ERROR', 'debug', 'fatal', 'silent', 'chatty', undefined, ''].map(logLevel),
      ['warn', 'info', 'trace', 'error', 'debug', 'fatal', 'silent', 'info', 'info', 'info'],
    );
  });

  test('the level filters what is written', () => {
    const { log, lines } = capture({ level: 'warning' });
    log.info('hidden');
    log.warn('shown');
    assert.deepEqual(
      lines().map((l) => parseIotEdgeLine(l)?.msg),
      ['shown'],
    );
  });
});

const LOG_MODULE = new URL('../../src/log.ts', import.meta.url).href;
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `code` in a fresh Node process with `log` = createLogger(options) and `S` = the secrets. */
function runLogger(code: string, options: LoggerOptions): { stdout: string; stderr: string } {
  const script = [
    `const { createLogger } = await import(${JSON.stringify(LOG_MODULE)});`,
    `const S = ${JSON.stringify(SECRETS)};`,
    `const log = createLogger(${JSON.stringify(options)});`,
    code,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    env: { ...process.env, NETDIAG_LOG_FORMAT: 'json', NETDIAG_LOG_LEVEL: 'silent', RuntimeLogLevel: 'fatal' },
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.error, undefined, `child failed to run: ${String(r.error)}`);
  assert.equal(r.status, 0, `child exited ${String(r.status)}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('the default destination: stderr, never stdout (child process)', () => {
  // The child's environment asks for JSON and silence: createLogger must not read it.
  test('IoT Edge lines by default, whatever the environment says', () => {
    const r = runLogger("log.info({ conn: S.cs }, 'to stderr'); log.error({ proxy: S.proxy }, 'proxy');", {});
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.deepEqual(
      lines.map((l) => edgeAgentParse(l).logLevel),
      [6, 3],
    );
    for (const secret of FORBIDDEN) assert.ok(!r.stderr.includes(secret), `${secret} in ${r.stderr}`);
  });

  test('JSON lines with format "json"', () => {
    const r = runLogger("log.warn({ conn: S.cs }, 'to stderr');", { format: 'json', level: 'warn' });
    assert.equal(r.stdout, '');
    const line = JSON.parse(r.stderr.trim()) as Record<string, unknown>;
    assert.equal(line['msg'], 'to stderr');
    assert.equal(line['conn'], 'HostName=<redacted>');
  });
});
