/**
 * edgeHub not there yet when the module starts (CONTRACT.md 5.5), as after a device boot: the
 * module checks anyway, retries the connection with a growing backoff without ever exiting, and
 * once edgeHub is up publishes the startup report and delivers the telemetry it produced offline.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requireLab } from '../lab/require-lab.js';
import { assertHealthyLogs, assertTelemetryOf, assertTwinShowsReport, reportFrom } from './assertions.js';
import { startModuleLab } from './module-harness.js';
import type { LogLine, ModuleLab, ModuleProcess } from './module-harness.js';

const skip = requireLab();
const MODULE = 'late';

describe('module: edgeHub absent at start', { skip }, () => {
  let ml: ModuleLab;
  let mod: ModuleProcess;
  let startup: LogLine;

  before(async () => {
    ml = await startModuleLab({ label: 'module-late', emulator: { brokerListening: false } });
    mod = await ml.startModule({ moduleId: MODULE });
  });
  after(async () => {
    await ml?.close();
  });

  it('runs its startup check offline and keeps retrying with a growing backoff, without exiting', async () => {
    // It waits a few seconds for desired properties that cannot come, then checks without them.
    startup = await mod.waitForLog((l) => l.msg === 'check complete' && l['trigger'] === 'startup', 15_000);
    const retries = mod.logs().filter((l) => l.msg === 'edgeHub not reachable; retrying');
    assert.ok(retries.length >= 2, `${retries.length} connection attempts so far`);
    const delays = retries.map((l) => l['retryInMs'] as number);
    for (let i = 1; i < delays.length; i++)
      assert.ok(delays[i]! >= delays[i - 1]!, `backoff does not shrink: ${delays.join(', ')}`);
    assert.deepEqual(
      retries.map((l) => l['attempt']),
      retries.map((_, i) => i),
    );
    assert.equal(mod.running, true);
    assert.equal(ml.emu.connections.filter((c) => c.accepted).length, 0);
  });

  it('publishes the startup report and delivers the offline telemetry once edgeHub is up', async (t) => {
    const t0 = performance.now();
    await ml.emu.startBroker();
    await ml.emu.waitForConnection((c) => c.moduleId === MODULE && c.accepted, 30_000);
    const connectedMs = Math.round(performance.now() - t0);
    const checkId = startup['checkId'] as string;
    await ml.until(
      () => (ml.reported(MODULE)['lastCheck'] as { checkId?: string } | undefined)?.checkId === checkId,
      'the startup report is in the twin',
      20_000,
    );
    const event = await ml.eventFor(MODULE, checkId, 20_000);
    t.diagnostic(
      `edgeHub started ${Math.round(t0 - mod.startedAt)} ms after the module; module connected ${connectedMs} ms later, ` +
        `twin and telemetry within ${Math.round(performance.now() - t0)} ms`,
    );
    const report = reportFrom(await ml.invoke(MODULE, 'getLastReport', null, { responseTimeoutInSeconds: 5 }));
    assert.equal(report.checkId, checkId);
    assert.equal(report.trigger, 'startup');
    assertTwinShowsReport(ml.reported(MODULE), report);
    assertTelemetryOf(event, report);
    assert.equal(ml.emu.events.filter((e) => e.moduleId === MODULE).length, 1, 'the offline message, once');
  });

  it('kept the twin valid and its logs clean', () => {
    assert.deepEqual(
      ml.emu.rejectedPatches.map((p) => `${p.rule ?? ''}: ${p.error ?? ''}`),
      [],
    );
    assertHealthyLogs(mod, [ml.emu.identity(MODULE)?.hubKey ?? '']);
  });
});
