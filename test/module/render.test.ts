/**
 * `eflow-netdiag render` (CONTRACT.md 8.3) on what a support engineer really gets: the twin and a
 * getLastReport response of the module running against the edgeHub emulator (the lab's hub resets
 * 5671, so there is a finding to show), piped in or in a file; and garbage, which is one line on
 * stderr with exit 65 (64 for wrong arguments), never a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderText } from '../../src/report/text.js';
import type { Report } from '../../src/report/types.js';
import { CLI_PATH, REPO_ROOT } from '../lab/harness.js';
import { requireLab } from '../lab/require-lab.js';
import { reportFrom } from './assertions.js';
import { startModuleLab, type ModuleLab } from './module-harness.js';

const skip = requireLab();
const MODULE = 'netdiagrender';

/** The CLI with `input` on its stdin (nothing when null), as a support engineer runs it. */
function render(
  args: string[],
  input: string | null,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, 'render', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

describe('render: a real twin, a real method response, and garbage', { skip }, () => {
  let ml: ModuleLab;
  let dir: string;
  let report: Report;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netdiag-render-'));
    ml = await startModuleLab({ label: 'module-render', lab: { hub: { ports: { 5671: 'reset' } } } });
    await ml.startModule({ moduleId: MODULE });
    await ml.until(() => ml.reported(MODULE)['lastCheck'], 'the startup report is in the twin', 20_000);
    report = reportFrom(await ml.invoke(MODULE, 'getLastReport', null, { responseTimeoutInSeconds: 5 }));
  });
  after(async () => {
    await ml?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a getLastReport response, piped in: exactly the text of check', async () => {
    const response = await ml.invoke(MODULE, 'getLastReport', null, { responseTimeoutInSeconds: 5 });
    const out = await render([], JSON.stringify({ status: response.status, payload: response.payload }));
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, renderText(report));
    assert.equal(out.stderr, '');
  });

  it('the module twin as az iot hub module-twin show prints it, from a file: the verdict, findings with since, every layer', async () => {
    const twin = ml.emu.twin(MODULE);
    const file = join(dir, 'twin.json');
    writeFileSync(file, JSON.stringify({ deviceId: ml.emu.deviceId, moduleId: MODULE, properties: twin }, null, 2));
    const out = await render([file], null);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split('\n');
    assert.equal(lines[0], renderText(report).split('\n')[0], "check's verdict line");
    assert.match(lines[0] ?? '', /^UNHEALTHY: the first broken layer is Firewall$/);
    const f = report.findings.find((x) => x.subject.endsWith(':5671'));
    assert.ok(f);
    assert.ok(lines.includes(`  [ERROR] ${f.code}  (${f.subject})`), out.stdout);
    assert.ok(
      lines.some((l) => /^ {10}Since: \d{4}-\d\d-\d\dT/.test(l)),
      'each finding says since when',
    );
    for (const header of [/^IP {8}healthy$/, /^DNS {7}healthy/, /^Proxy {5}/, /^Firewall {2}unhealthy/, /^Clock {5}/])
      assert.ok(
        lines.some((l) => header.test(l)),
        `${String(header)} in\n${out.stdout}`,
      );
    assert.match(out.stdout, /Not in a twin: round-trip times/);
  });

  it('garbage: one line on stderr, exit 65, no stack trace; wrong arguments: exit 64', async () => {
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '\u0000\u00ffnot json at all {');
    const cases: Array<[string[], string | null, number, RegExp]> = [
      [[garbage], null, 65, /is not JSON/],
      [
        [],
        '{"status":404,"payload":{"error":{"code":"NoReport","message":"no check has completed yet"}}}',
        65,
        /answered 404: NoReport/,
      ],
      [[], '{"properties":{"reported":{"colour":{"value":"blue"}}}}', 65, /not a Report/],
      [[join(dir, 'missing.json')], null, 65, /cannot read .*ENOENT/],
      [[garbage, garbage], null, 64, /one FILE at most/],
      [['--verbose'], null, 64, /unknown option --verbose/],
    ];
    for (const [args, input, code, message] of cases) {
      const out = await render(args, input);
      assert.equal(out.code, code, `${args.join(' ')}: ${out.stderr}`);
      assert.equal(out.stdout, '');
      assert.match(out.stderr, message);
      assert.equal(out.stderr.trimEnd().split('\n').length, 1, `one line: ${out.stderr}`);
      assert.doesNotMatch(out.stderr, /\n\s+at |Error:|internal error/, 'no stack trace');
    }
  });
});
