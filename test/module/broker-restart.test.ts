/**
 * edgeHub restarting under a running module (CONTRACT.md 5.5): checks keep running while it is
 * away — here a direct-method run that outlives the connection and a link change on eth0 — and
 * after the reconnect the twin gets the latest state and the telemetry queued meanwhile is sent,
 * in order. A connection dropped by edgeHub (kicked) is survived too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MethodResult } from '../hub/emulator.js';
import type { JsonObject } from '../hub/twin-rules.js';
import { LAB_ADDR } from '../lab/harness.js';
import { requireLab } from '../lab/require-lab.js';
import { assertHealthyLogs, assertTelemetryOf, assertTwinShowsReport, reportFrom } from './assertions.js';
import { SLOW_PORT, startModuleLab, summaryOf } from './module-harness.js';
import type { ModuleLab, ModuleProcess } from './module-harness.js';

const skip = requireLab();
const MODULE = 'restart';

describe('module: edgeHub restarts', { skip }, () => {
  let ml: ModuleLab;
  let mod: ModuleProcess;
  const lastCheckId = (): string | undefined =>
    (ml.reported(MODULE)['lastCheck'] as { checkId?: string } | undefined)?.checkId;

  before(async () => {
    ml = await startModuleLab({ label: 'module-restart', slowPort: true });
    mod = await ml.startModule({ moduleId: MODULE });
    await ml.until(() => lastCheckId(), 'the startup report is in the twin', 20_000);
  });
  after(async () => {
    await ml?.close();
  });

  it('reconnects after edgeHub restarts, republishes the latest state and sends the telemetry queued meanwhile', async (t) => {
    const logIndex = mod.logs().length;
    const startupId = lastCheckId();
    // A check that outlives the connection: it is running when edgeHub goes away.
    const payload = { endpoints: [{ host: LAB_ADDR.hub, port: SLOW_PORT }], timeoutMs: 2000, deadlineMs: 3000 };
    // IoT Hub gives up on a method after its response timeout: short here, so the test can wait it out.
    const answer: Promise<MethodResult> = ml.invoke(MODULE, 'runDiagnostics', payload, {
      responseTimeoutInSeconds: 8,
    });
    await mod.waitForLog((l) => l.msg === 'check started' && l['trigger'] === 'method', 5000, logIndex);
    await ml.emu.stopBroker();
    const stoppedAt = performance.now();
    // And a change of the examined interface while offline: the link watcher checks again.
    await ml.lab.ip('vm', ['addr', 'add', '198.18.0.11/24', 'dev', 'eth0']);
    const methodRun = await mod.waitForLog(
      (l) => l.msg === 'check complete' && l['trigger'] === 'method',
      10_000,
      logIndex,
    );
    const linkRun = await mod.waitForLog(
      (l) => l.msg === 'check complete' && l['trigger'] === 'linkChange',
      15_000,
      logIndex,
    );
    const offlineIds = [methodRun['checkId'] as string, linkRun['checkId'] as string];
    assert.equal(lastCheckId(), startupId, 'nothing reached the twin while edgeHub was down');
    assert.equal(
      ml.emu.events.some((e) => offlineIds.includes(summaryOf(e)['checkId'] as string)),
      false,
    );
    assert.equal(mod.running, true);

    const connections = ml.emu.connections.length;
    const t0 = performance.now();
    await ml.emu.startBroker();
    await ml.emu.waitForConnection((c) => c.moduleId === MODULE && c.accepted, 30_000, connections);
    const reconnectMs = Math.round(performance.now() - t0);
    // The latest state (the link-change run) replaces what the twin held.
    await ml.until(() => lastCheckId() === offlineIds[1], 'the twin shows the latest run', 20_000);
    const [first, second] = await Promise.all(offlineIds.map((id) => ml.eventFor(MODULE, id, 20_000)));
    t.diagnostic(
      `edgeHub down ${Math.round(t0 - stoppedAt)} ms; module reconnected ${reconnectMs} ms after it came back; ` +
        `twin and queued telemetry within ${Math.round(performance.now() - t0)} ms`,
    );
    const [firstAt, secondAt] = [ml.emu.events.indexOf(first!), ml.emu.events.indexOf(second!)];
    assert.ok(firstAt >= 0 && firstAt < secondAt, `queued telemetry is sent in order (events ${firstAt}, ${secondAt})`);
    const latest = reportFrom(await ml.invoke(MODULE, 'getLastReport', null, { responseTimeoutInSeconds: 5 }));
    assert.equal(latest.checkId, offlineIds[1]);
    assert.equal(latest.trigger, 'linkChange');
    assert.ok(
      latest.components.ip.interfaces[0]?.ipv4.some((a) => a.address === '198.18.0.11'),
      'the link-change run saw the new address',
    );
    assertTwinShowsReport(ml.reported(MODULE), latest);
    assertTelemetryOf(second!, latest);
    assert.equal(summaryOf(first!)['trigger'], 'method');
    // The caller of the interrupted method gets the report of that very run (answered after the
    // reconnect, within the method timeout) or IoT Hub's 504: never another answer.
    const r = await answer;
    t.diagnostic(`the interrupted runDiagnostics call: status ${r.status}`);
    assert.ok(r.status === 200 || r.status === 504, `status ${r.status}: ${r.rawPayload.slice(0, 500)}`);
    if (r.status === 200) assert.equal(reportFrom(r).checkId, offlineIds[0]);
  });

  it('reads the desired change it missed while edgeHub was down, acknowledges it and checks with it', async () => {
    await ml.emu.stopBroker();
    const desired = await ml.emu.updateDesired({ timeoutMs: 1300 }, MODULE);
    assert.equal(desired.delivered, false, 'edgeHub is down: the patch cannot reach the module');
    await ml.emu.startBroker();
    await ml.until(
      () => (ml.reported(MODULE)['timeoutMs'] as { av?: number } | undefined)?.av === desired.version,
      'the missed change is acknowledged',
      30_000,
    );
    const ack = ml.reported(MODULE)['timeoutMs'] as JsonObject;
    assert.deepEqual([ack['value'], ack['ac']], [1300, 200]);
    await ml.until(
      () => (ml.reported(MODULE)['lastCheck'] as { trigger?: string } | undefined)?.trigger === 'configChange',
      'a configChange check follows',
    );
    const latest = reportFrom(await ml.invoke(MODULE, 'getLastReport', null, { responseTimeoutInSeconds: 5 }));
    assert.equal(latest.trigger, 'configChange');
    await ml.until(() => lastCheckId() === latest.checkId, 'the twin shows it');
    assertTwinShowsReport(ml.reported(MODULE), latest);
  });

  it('survives edgeHub dropping its connection: methods and desired properties still work', async (t) => {
    const connections = ml.emu.connections.length;
    const twinGets = ml.emu.twinGets.length;
    const t0 = performance.now();
    assert.equal(await ml.emu.kickClients(), 1);
    await ml.emu.waitForConnection((c) => c.moduleId === MODULE && c.accepted, 30_000, connections);
    // Desired patches sent while it was away are lost, so it reads the twin again once reconnected.
    await ml.until(
      () => ml.emu.twinGets.slice(twinGets).some((g) => g.moduleId === MODULE && g.delivered),
      'the module reads its twin again',
    );
    t.diagnostic(`reconnected and re-read the twin ${Math.round(performance.now() - t0)} ms after being dropped`);
    const report = reportFrom(
      await ml.invoke(MODULE, 'runDiagnostics', { components: ['ip'] }, { responseTimeoutInSeconds: 10 }),
    );
    await ml.until(() => lastCheckId() === report.checkId, 'the twin shows the run after the reconnect');
    const { version } = await ml.emu.updateDesired({ timeoutMs: 1500 }, MODULE);
    await ml.until(
      () => (ml.reported(MODULE)['timeoutMs'] as { av?: number } | undefined)?.av === version,
      'the desired change is acknowledged',
    );
  });

  it('kept the twin valid and its logs clean', () => {
    assert.deepEqual(
      ml.emu.rejectedPatches.map((p) => `${p.rule ?? ''}: ${p.error ?? ''}`),
      [],
    );
    assertHealthyLogs(mod, [ml.emu.identity(MODULE)?.hubKey ?? '']);
  });
});
