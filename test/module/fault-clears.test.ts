/**
 * A real fault on the lab network shows in the twin, and disappears from it once cleared
 * (CONTRACT.md 5.2: a patch merges, so what is no longer true must be removed). The module runs
 * in the lab's vm namespace; faults are nft rules in the net namespace (the "corporate firewall").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../../src/report/types.js';
import type { JsonObject } from '../hub/twin-rules.js';
import { HUB_NAME, LAB_ADDR } from '../lab/harness.js';
import { requireLab } from '../lab/require-lab.js';
import { assertHealthyLogs, assertTelemetryOf, assertTwinShowsReport, reportFrom } from './assertions.js';
import { startModuleLab } from './module-harness.js';
import type { ModuleLab, ModuleProcess } from './module-harness.js';

const skip = requireLab();
const MODULE = 'netdiagfault';

describe('module: a real fault appears in the twin, then disappears', { skip }, () => {
  let ml: ModuleLab;
  let mod: ModuleProcess;
  let firstRun: ModuleProcess | undefined;

  before(async () => {
    ml = await startModuleLab({ label: 'module-fault' });
    mod = await ml.startModule({ moduleId: MODULE });
    await ml.until(() => ml.reported(MODULE)['lastCheck'], 'the startup report is in the twin', 20_000);
  });
  after(async () => {
    await ml?.close();
  });

  /** runDiagnostics, then the twin and telemetry must show exactly that run. */
  async function diagnose(): Promise<{ report: Report; reported: JsonObject }> {
    const report = reportFrom(await ml.invoke(MODULE, 'runDiagnostics', null, { responseTimeoutInSeconds: 10 }));
    await ml.until(
      () => (ml.reported(MODULE)['lastCheck'] as { checkId?: string } | undefined)?.checkId === report.checkId,
      'the twin shows the run',
    );
    const reported = ml.reported(MODULE);
    assertTwinShowsReport(reported, report);
    assertTelemetryOf(await ml.eventFor(MODULE, report.checkId), report);
    return { report, reported };
  }

  const codes = (reported: JsonObject): string[] =>
    (reported['findings'] as JsonObject[]).map((f) => `${String(f['code'])} ${String(f['subject'])}`);
  const clearFaults = async (): Promise<void> => {
    const r = await ml.lab.exec('net', 'nft', ['flush', 'table', 'inet', 'ndlab']);
    assert.equal(r.code, 0, r.stderr);
  };

  it('starts healthy', async () => {
    const { report, reported } = await diagnose();
    assert.equal(report.status, 'healthy');
    assert.deepEqual(reported['findings'], []);
    assert.equal(reported['failingComponent'], undefined);
  });

  it('shows a dropped 5671 in the twin, and removes it once the port is open again', async () => {
    await ml.lab.drop({ protocol: 'tcp', port: 5671, address: LAB_ADDR.hub });
    const broken = await diagnose();
    assert.equal(broken.report.status, 'unhealthy');
    assert.equal(broken.reported['status'], 'unhealthy');
    assert.equal(broken.reported['failingComponent'], 'firewall');
    assert.ok(codes(broken.reported).includes(`FW_PORT_BLOCKED ${HUB_NAME}:5671`), codes(broken.reported).join(', '));
    const amqp = (broken.reported['firewall'] as { endpoints: JsonObject[] }).endpoints.find((e) => e['port'] === 5671);
    assert.equal(amqp?.['outcome'], 'blocked');

    await clearFaults();
    const fixed = await diagnose();
    assert.equal(fixed.report.status, 'healthy');
    assert.equal(fixed.reported['status'], 'healthy');
    assert.equal(fixed.reported['failingComponent'], undefined, 'the failing component is removed, not left behind');
    assert.deepEqual(fixed.reported['findings'], [], 'the cleared fault is gone from the twin');
    assert.equal((fixed.reported['firewall'] as { status: string }).status, 'healthy');
    assert.ok(!JSON.stringify(ml.reported(MODULE)).includes('FW_PORT_BLOCKED'));
  });

  it('shows a DNS server that drops queries, and removes it once it answers again', async () => {
    await ml.lab.drop({ protocol: 'dns', address: LAB_ADDR.dns });
    const broken = await diagnose();
    assert.equal(broken.reported['failingComponent'], 'dns');
    assert.ok(
      codes(broken.reported).includes(`DNS_SERVER_NOT_ANSWERING ${LAB_ADDR.dns}`),
      codes(broken.reported).join(', '),
    );
    // The firewall cannot be judged without DNS: inconclusive, with no findings of its own.
    assert.equal((broken.reported['firewall'] as { status: string }).status, 'inconclusive');

    await clearFaults();
    const fixed = await diagnose();
    assert.equal(fixed.report.status, 'healthy');
    assert.equal(fixed.reported['failingComponent'], undefined);
    assert.deepEqual(fixed.reported['findings'], []);
    assert.equal((fixed.reported['dns'] as { status: string }).status, 'healthy');
    assert.ok(!JSON.stringify(ml.reported(MODULE)).includes('DNS_SERVER_NOT_ANSWERING'));
  });

  it('after a restart, keeps the last state until its own first check, then replaces it without leftovers', async () => {
    await ml.emu.updateDesired({ colour: 'blue' }, MODULE);
    await ml.until(
      () => (ml.reported(MODULE)['colour'] as { ac?: number } | undefined)?.ac === 400,
      'the unknown key is refused',
    );
    const before = ml.reported(MODULE);
    const stop = await mod.stop();
    assert.deepEqual([stop.code, stop.killed], [0, false]);
    firstRun = mod;
    // While it is down, the deployment changes: the unknown key goes, a setting comes.
    ml.emu.setDesired({ timeoutMs: 3000 }, MODULE);
    const since = ml.emu.acceptedPatches.length;
    mod = await ml.startModule({ moduleId: MODULE });
    const previousId = (before['lastCheck'] as { checkId: string }).checkId;
    await ml.until(
      () => {
        const last = ml.reported(MODULE)['lastCheck'] as { checkId?: string; trigger?: string } | undefined;
        return last?.trigger === 'startup' && last.checkId !== previousId;
      },
      'the new startup report is in the twin',
      20_000,
    );
    const patches = ml.emu.acceptedPatches.slice(since).map((p) => p.patch as JsonObject);
    for (const key of ['status', 'lastCheck', 'findings', 'ip', 'dns', 'firewall', 'lastStatusChangeAt']) {
      assert.ok(
        patches.every((p) => p[key] !== null),
        `${key} is never deleted: the twin always shows a state`,
      );
    }
    const report = reportFrom(await ml.invoke(MODULE, 'getLastReport', null, { responseTimeoutInSeconds: 5 }));
    const reported = ml.reported(MODULE);
    assertTwinShowsReport(reported, report);
    assert.equal('colour' in reported, false, 'the refusal of a key no longer desired is gone');
    assert.deepEqual(
      [(reported['timeoutMs'] as { value: number; ac: number }).value, (reported['timeoutMs'] as { ac: number }).ac],
      [3000, 200],
    );
    // The verdict's time survives the restart when the verdict is the same (the usual case here).
    const same =
      report.status === before['status'] && (report.failingComponent ?? undefined) === before['failingComponent'];
    assert.equal(reported['lastStatusChangeAt'], same ? before['lastStatusChangeAt'] : report.startedAt);
  });

  it('kept the twin valid and its logs clean', () => {
    assert.deepEqual(
      ml.emu.rejectedPatches.map((p) => `${p.rule ?? ''}: ${p.error ?? ''}`),
      [],
    );
    assertHealthyLogs(mod, [ml.emu.identity(MODULE)?.hubKey ?? '']);
    if (firstRun) assertHealthyLogs(firstRun, [ml.emu.identity(MODULE)?.hubKey ?? ''], { alive: false });
  });
});
