/**
 * Stopping (CONTRACT.md 5.5): SIGTERM — what `docker stop` and edgeAgent send — ends the module
 * with exit code 0 within 5 s, whether it is idle, in the middle of a long check, or still
 * trying to reach edgeHub. The long check also shows getLastReport's 404 before any report exists.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LAB_ADDR, resolvConf } from '../lab/harness.js';
import { requireLab } from '../lab/require-lab.js';
import { assertHealthyLogs, errorFrom } from './assertions.js';
import { STOP_BUDGET_MS, startModuleLab } from './module-harness.js';
import type { ModuleLab, ModuleProcess } from './module-harness.js';

const skip = requireLab();

describe('module: SIGTERM', { skip }, () => {
  let ml: ModuleLab;
  let busy: ModuleProcess;
  let idle: ModuleProcess;
  let offline: ModuleProcess;

  before(async () => {
    ml = await startModuleLab({
      label: 'module-sigterm',
      lab: { scriptedDns: [{ address: LAB_ADDR.dns2, mode: 'silent' }] },
    });
    const silent = join(ml.lab.paths.dir, 'resolv-silent.conf');
    writeFileSync(silent, resolvConf(LAB_ADDR.dns2));
    [busy, idle, offline] = await Promise.all([
      // A resolver that never answers and a long budget: the startup check lasts 30 s.
      ml.startModule({
        moduleId: 'busy',
        env: { NETDIAG_RESOLV_CONF: silent, NETDIAG_TIMEOUT: '30000', NETDIAG_DEADLINE: '60000' },
      }),
      ml.startModule({ moduleId: 'idle' }),
      // Nothing listens there: the module stays in its reconnect loop.
      ml.startModule({ moduleId: 'offline', env: { IOTEDGE_GATEWAYHOSTNAME: 'localhost:1' } }),
    ]);
  });
  after(async () => {
    await ml?.close();
  });

  it('getLastReport answers 404 {error} while the first check is still running', async () => {
    await busy.waitForLog((l) => l.msg === 'check started' && l['trigger'] === 'startup', 15_000);
    await ml.until(
      () => ml.emu.subscriptions('busy').some((f) => f.startsWith('$iothub/methods/')),
      'busy listens for methods',
    );
    const error = errorFrom(await ml.invoke('busy', 'getLastReport', null, { responseTimeoutInSeconds: 5 }), 404);
    assert.equal(typeof error.code, 'string');
    assert.equal(
      busy.logs().some((l) => l.msg === 'check complete'),
      false,
      'the startup check has not completed',
    );
  });

  it('exits 0 within 5 s on SIGTERM in the middle of a check', async (t) => {
    const stop = await busy.stop('SIGTERM');
    t.diagnostic(`busy module exited ${stop.ms} ms after SIGTERM`);
    assert.equal(stop.killed, false, `still running ${STOP_BUDGET_MS} ms after SIGTERM`);
    assert.deepEqual([stop.code, stop.signal], [0, null]);
    assert.ok(
      busy.logs().some((l) => l.msg === 'stopped'),
      'it stopped in order',
    );
    // An aborted check is not published: the twin never shows a half-done report.
    assert.equal(ml.reported('busy')['lastCheck'], undefined);
    assertHealthyLogs(busy, [ml.emu.identity('busy')?.hubKey ?? ''], { alive: false });
  });

  it('exits 0 within 5 s on SIGTERM when idle, closing its edgeHub connection', async (t) => {
    await ml.until(() => ml.reported('idle')['lastCheck'], 'the idle module published its startup report', 20_000);
    const since = ml.emu.disconnections.length;
    const stop = await idle.stop('SIGTERM');
    t.diagnostic(`idle module exited ${stop.ms} ms after SIGTERM`);
    assert.equal(stop.killed, false, `still running ${STOP_BUDGET_MS} ms after SIGTERM`);
    assert.deepEqual([stop.code, stop.signal], [0, null]);
    await ml.emu.waitForDisconnection((d) => d.moduleId === 'idle', 5000, since);
    assertHealthyLogs(idle, [ml.emu.identity('idle')?.hubKey ?? ''], { alive: false });
  });

  it('exits 0 within 5 s on SIGTERM while edgeHub is unreachable', async (t) => {
    await offline.waitForLog((l) => l.msg === 'edgeHub not reachable; retrying', 15_000);
    const stop = await offline.stop('SIGTERM');
    t.diagnostic(`offline module exited ${stop.ms} ms after SIGTERM`);
    assert.equal(stop.killed, false, `still running ${STOP_BUDGET_MS} ms after SIGTERM`);
    assert.deepEqual([stop.code, stop.signal], [0, null]);
    assertHealthyLogs(offline, [ml.emu.identity('offline')?.hubKey ?? ''], { alive: false });
  });

  it("kept every reported patch inside IoT Hub's twin rules", () => {
    assert.deepEqual(
      ml.emu.rejectedPatches.map((p) => `${p.rule ?? ''}: ${p.error ?? ''}`),
      [],
    );
  });
});
