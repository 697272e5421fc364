/**
 * The module at fleet scale (CONTRACT.md 8.1, 8.2), against the edgeHub emulator with the real
 * module process in the lab: over a steady period of scheduled checks (the module's periods
 * shortened 300 times with NETDIAG_TIME_SCALE: a check every second, a heartbeat every 12 s), at
 * most 1.1 metered messages per scheduled check and every patch within one 512-byte block; then a
 * real fault appearing (since = the check that first saw it), persisting (since unchanged, nothing
 * patched), surviving a restart of the module (since read back from the twin), and clearing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReportedPatchRecord } from '../hub/emulator.js';
import type { JsonObject } from '../hub/twin-rules.js';
import { HUB_NAME, LAB_ADDR } from '../lab/harness.js';
import { requireLab } from '../lab/require-lab.js';
import { assertHealthyLogs } from './assertions.js';
import { markOf, meter, TWIN_BLOCK } from './metering.js';
import { STOP_BUDGET_MS, startModuleLab, summaryOf } from './module-harness.js';
import type { ModuleLab, ModuleProcess } from './module-harness.js';

const skip = requireLab();
const MODULE = 'netdiagcost';
const SCALE = 300;
const FAULT = `${HUB_NAME}:5671`;

const isHeartbeat = (p: ReportedPatchRecord): boolean => {
  const patch = p.patch as JsonObject;
  return Object.keys(patch).length === 1 && 'lastCheck' in patch;
};

describe('module: one metered message a scheduled check, and history that holds', { skip }, () => {
  let ml: ModuleLab;
  let mod: ModuleProcess;

  before(async () => {
    ml = await startModuleLab({ label: 'module-cost' });
    mod = await ml.startModule({
      moduleId: MODULE,
      env: { NETDIAG_TIME_SCALE: String(SCALE), NETDIAG_LOG_LEVEL: 'info' },
    });
    await ml.until(() => ml.reported(MODULE)['lastCheck'], 'the startup report is in the twin', 20_000);
  });
  after(async () => {
    await ml?.close();
  });

  const patchesOf = (since: number) =>
    ml.emu.reportedPatches.slice(since).filter((p) => p.moduleId === MODULE && p.accepted);
  const scheduledSince = (since: number, status?: string) =>
    ml.emu.events
      .slice(since)
      .filter(
        (e) =>
          e.moduleId === MODULE &&
          e.properties['trigger'] === 'schedule' &&
          (status === undefined || e.properties['status'] === status),
      );
  const finding = (code: string): JsonObject | undefined =>
    (ml.reported(MODULE)['findings'] as JsonObject[] | undefined)?.find(
      (f) => f['code'] === code && f['subject'] === FAULT,
    );

  it('steady state: at most 1.1 metered messages per scheduled check, every patch one block or less', async (t) => {
    // After the first heartbeat: it also reads the twin back once to verify the startup patch.
    const first = patchesOf(0).length;
    await ml.until(() => patchesOf(first).some(isHeartbeat), 'the first heartbeat', 30_000);
    const from = markOf(ml.emu);
    await ml.until(() => patchesOf(from.patches).filter(isHeartbeat).length >= 2, 'two more heartbeats', 40_000);
    const m = meter(ml.emu, MODULE, from);
    t.diagnostic(
      `${m.scheduledChecks} scheduled checks: ${m.telemetryBlocks} telemetry blocks, ${m.patches.length} patches ` +
        `(${m.patches.map((p) => p.patchBytes).join(', ')} bytes), ${m.reads.length} reads; ` +
        `${m.perScheduledCheck.toFixed(3)} metered messages per scheduled check`,
    );
    assert.ok(m.scheduledChecks >= 18, `${m.scheduledChecks} scheduled checks in two heartbeats`);
    assert.equal(m.messages, m.scheduledChecks, 'one telemetry message per check, every one of them scheduled');
    assert.equal(m.telemetryBlocks, m.messages, 'each message within one 4 KB block');
    assert.ok(
      m.patches.every((p) => p.patchBytes <= TWIN_BLOCK),
      'every steady-state patch fits one 512-byte block',
    );
    assert.ok(m.patches.every(isHeartbeat), 'and holds lastCheck alone');
    assert.equal(m.reads.length, 0, 'no read-back of a twin that did not change');
    assert.ok(m.perScheduledCheck <= 1.1, `${m.perScheduledCheck} metered messages per scheduled check`);
  });

  let since = '';
  let statusSince = '';

  it('a fault appears: the twin shows it at once, since = the check that first saw it', async () => {
    const from = markOf(ml.emu);
    await ml.lab.drop({ protocol: 'tcp', port: 5671, address: LAB_ADDR.hub });
    const f = await ml.until(() => finding('FW_PORT_BLOCKED'), `${FAULT} blocked in the twin`, 30_000);
    const firstSeen = scheduledSince(from.events, 'unhealthy')[0];
    assert.ok(firstSeen, 'a scheduled check saw it');
    const startedAt = String(summaryOf(firstSeen)['startedAt']);
    assert.equal(f['since'], startedAt);
    assert.equal(ml.reported(MODULE)['status'], 'unhealthy');
    assert.equal(ml.reported(MODULE)['statusSince'], startedAt);
    assert.equal(ml.reported(MODULE)['lastStatusChangeAt'], startedAt);
    since = startedAt;
    statusSince = startedAt;
  });

  it('the fault persists: since unchanged, and nothing but heartbeats patched', async () => {
    const from = markOf(ml.emu);
    await ml.until(() => scheduledSince(from.events, 'unhealthy').length >= 5, 'five more checks see it', 40_000);
    assert.equal(finding('FW_PORT_BLOCKED')?.['since'], since);
    assert.equal(ml.reported(MODULE)['statusSince'], statusSince);
    assert.ok(patchesOf(from.patches).every(isHeartbeat), 'no patch but the heartbeat while it persists');
  });

  it('a restart of the module keeps since and statusSince from the twin', async (t) => {
    const before = String((ml.reported(MODULE)['lastCheck'] as JsonObject)['checkId']);
    const stop = await mod.stop();
    assert.deepEqual([stop.code, stop.killed], [0, false]);
    assert.ok(stop.ms < STOP_BUDGET_MS, `SIGTERM to exit: ${stop.ms} ms`);
    t.diagnostic(`SIGTERM to exit: ${stop.ms} ms`);
    assertHealthyLogs(mod, [ml.emu.identity(MODULE)?.hubKey ?? ''], { alive: false });
    mod = await ml.startModule({
      moduleId: MODULE,
      env: { NETDIAG_TIME_SCALE: String(SCALE), NETDIAG_LOG_LEVEL: 'info' },
    });
    await ml.until(
      () => {
        const last = ml.reported(MODULE)['lastCheck'] as JsonObject | undefined;
        return last?.['trigger'] === 'startup' && last['checkId'] !== before;
      },
      'the new startup check is in the twin',
      30_000,
    );
    assert.equal(ml.reported(MODULE)['status'], 'unhealthy');
    assert.equal(finding('FW_PORT_BLOCKED')?.['since'], since, 'since read back from the twin, not restarted');
    assert.equal(ml.reported(MODULE)['statusSince'], statusSince);
  });

  it('the fault clears: the twin drops it, and the status starts anew', async () => {
    const from = markOf(ml.emu);
    const r = await ml.lab.exec('net', 'nft', ['flush', 'table', 'inet', 'ndlab']);
    assert.equal(r.code, 0, r.stderr);
    await ml.until(() => ml.reported(MODULE)['status'] === 'healthy', 'the twin is healthy again', 30_000);
    const reported = ml.reported(MODULE);
    assert.deepEqual(reported['findings'], []);
    assert.equal(reported['failingComponent'], undefined);
    assert.ok(!JSON.stringify(reported).includes('FW_PORT_BLOCKED'));
    const healed = scheduledSince(from.events, 'healthy')[0];
    assert.ok(healed);
    assert.equal(reported['statusSince'], summaryOf(healed)['startedAt']);
  });

  it('kept every patch inside the twin rules, and its logs clean', () => {
    assert.deepEqual(
      ml.emu.rejectedPatches.map((p) => `${p.rule ?? ''}: ${p.error ?? ''}`),
      [],
    );
    assertHealthyLogs(mod, [ml.emu.identity(MODULE)?.hubKey ?? '']);
  });
});
