/**
 * `npm start` = `node dist/main.js` with no command: the module inside IoT Edge (IOTEDGE_MODULEID
 * set), one check elsewhere. Both are run for real, pointed only at loopback and files of the test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { edgeAgentParse, parseIotEdgeLine } from '../support/iotedge-log.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'netdiag-entry-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
writeFileSync(join(scratch, 'resolv.conf'), '# no servers\n');

/** Nothing here reaches past loopback: no examined interface exists, no DNS server, a loopback hub. */
const SAFE_ENV = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  NETDIAG_INTERFACE: 'ndnone0',
  NETDIAG_RESOLV_CONF: join(scratch, 'resolv.conf'),
  NETDIAG_RESOLVED_CONF: join(scratch, 'absent'),
  NETDIAG_NETWORKD_DIR: join(scratch, 'absent'),
  NETDIAG_LEASES_DIR: join(scratch, 'absent'),
  NETDIAG_AZIOT_CONFIG: join(scratch, 'absent'),
  NETDIAG_HUB: 'localhost',
  // No public default (DPS, MCR) and no host proxy settings: loopback and the test's files only.
  NETDIAG_DPS: 'localhost',
  NETDIAG_REGISTRY: 'localhost',
  NETDIAG_SYSTEMD_DIR: join(scratch, 'absent'),
  NETDIAG_TIMEOUT: '300',
  NETDIAG_DEADLINE: '2000',
};

function run(
  env: NodeJS.ProcessEnv,
  onStderr?: (text: string, kill: () => void) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr?.(stderr, () => child.kill('SIGTERM'));
    });
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

test('entry: without IoT Edge variables, `npm start` runs one check and exits with its verdict', async () => {
  const r = await run(SAFE_ENV);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stdout, /^UNHEALTHY: the first broken layer is IP/);
  assert.match(r.stdout, /IP_INTERFACE_MISSING/);
});

test('entry: with IOTEDGE_MODULEID set, `npm start` runs the module, which keeps retrying and stops cleanly on SIGTERM', async () => {
  let sent = false;
  const r = await run({ ...SAFE_ENV, IOTEDGE_MODULEID: 'netdiag' }, (text, kill) => {
    // The environment is incomplete on purpose: the module must log, retry, and not exit by itself.
    if (!sent && text.includes('edgeHub not reachable; retrying')) {
      sent = true;
      kill();
    }
  });
  assert.ok(sent, `the module never reported retrying:\n${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /eflow-netdiag module starting/);
  assert.equal(r.stdout, '');
  // The default log format: IoT Edge lines, whose level edgeAgent's log methods can filter on.
  const lines = r.stderr.trim().split('\n');
  assert.deepEqual(
    lines.filter((l) => !parseIotEdgeLine(l)),
    [],
    'every line is an IoT Edge log line',
  );
  const retry = lines.find((l) => l.includes('edgeHub not reachable; retrying')) ?? '';
  assert.equal(edgeAgentParse(retry).logLevel, 4, `a warning for edgeAgent: ${retry}`);
});

test('entry: NETDIAG_LOG_FORMAT=json gives pino JSON lines, and RuntimeLogLevel sets the level', async () => {
  let sent = false;
  const r = await run(
    { ...SAFE_ENV, IOTEDGE_MODULEID: 'netdiag', NETDIAG_LOG_FORMAT: 'json', RuntimeLogLevel: 'Warning' },
    (text, kill) => {
      if (!sent && text.includes('edgeHub not reachable; retrying')) {
        sent = true;
        kill();
      }
    },
  );
  assert.ok(sent, `the module never reported retrying:\n${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  const records = r.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { level: number; msg: string });
  assert.ok(records.length > 0);
  assert.ok(
    records.every((l) => l.level >= 40),
    `only warnings and worse: ${records.map((l) => l.msg).join('; ')}`,
  );
  assert.ok(records.some((l) => l.msg === 'edgeHub not reachable; retrying'));
});
