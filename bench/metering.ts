/**
 * What the module costs in IoT Hub's daily message quota (CONTRACT.md 8.1, issue #9), measured
 * against the edgeHub emulator with the real module process in the lab, over a simulated day: the
 * module's periods shortened 300 times (NETDIAG_TIME_SCALE: a check every second, a heartbeat every
 * 12 s), so 24 heartbeats are one day at the defaults (300 s interval, 3600 s heartbeat) with its
 * 288 scheduled checks. The blind read-back comes once a week (twin-mirror.ts RECONCILE_HEARTBEATS):
 * its measured size is averaged into the day. Every device-to-cloud message is
 * counted in 4 KB blocks, every twin patch and twin read in 512-byte blocks (test/module/metering.ts).
 */
import type { ReportedPatchRecord } from '../test/hub/emulator.js';
import type { JsonObject } from '../test/hub/twin-rules.js';
import { TWIN_BLOCK, blocksOf, markOf, meter } from '../test/module/metering.js';
import { startModuleLab } from '../test/module/module-harness.js';
import { RECONCILE_HEARTBEATS } from '../src/module/twin-mirror.js';

const SCALE = 300;
const HEARTBEATS_A_DAY = 24;
const CHECKS_A_DAY = 288;

const isHeartbeat = (p: ReportedPatchRecord): boolean => {
  const patch = p.patch as JsonObject;
  return Object.keys(patch).length === 1 && 'lastCheck' in patch;
};

export async function benchMetering(): Promise<Array<[string, string, string]>> {
  const moduleId = 'netdiag';
  const ml = await startModuleLab({ label: 'bench-cost' });
  try {
    const start = markOf(ml.emu);
    const mod = await ml.startModule({
      moduleId,
      env: { NETDIAG_TIME_SCALE: String(SCALE), NETDIAG_LOG_LEVEL: 'warn' },
    });
    const patches = (since: number) =>
      ml.emu.reportedPatches.slice(since).filter((p) => p.moduleId === moduleId && p.accepted);
    // The start-up: the twin read at connect, the startup check's full patch, and the read-back of
    // it at the first heartbeat. A day is counted from that first heartbeat on.
    await ml.until(() => patches(start.patches).some(isHeartbeat), 'the first heartbeat', 60_000);
    const dayStart = markOf(ml.emu);
    const startup = meter(ml.emu, moduleId, start, dayStart);
    await ml.until(
      () => patches(dayStart.patches).filter(isHeartbeat).length >= HEARTBEATS_A_DAY,
      `${HEARTBEATS_A_DAY} heartbeats (a simulated day)`,
      HEARTBEATS_A_DAY * 12_000 + 60_000,
    );
    const day = meter(ml.emu, moduleId, dayStart);
    await mod.stop();
    const maxPatch = Math.max(0, ...day.patches.map((p) => p.patchBytes));
    const readBlocks = day.reads.map((r) => blocksOf(r.bytes, TWIN_BLOCK));
    const readBytes = Math.max(0, ...day.reads.map((r) => r.bytes), ...startup.reads.map((r) => r.bytes));
    // A day at the defaults has 288 scheduled checks; the simulated one had what the clock gave.
    // The blind read-back of a steady device comes every RECONCILE_HEARTBEATS heartbeats: its share of a day.
    const readCost = blocksOf(readBytes, TWIN_BLOCK);
    const weeklyShare = (readCost * HEARTBEATS_A_DAY) / RECONCILE_HEARTBEATS;
    const perCheck = (day.total + weeklyShare) / day.scheduledChecks;
    const hourlyReads = HEARTBEATS_A_DAY * readCost;
    return [
      [
        `simulated day (periods / ${SCALE}): scheduled checks`,
        `${day.scheduledChecks} (a day at 300 s has ${CHECKS_A_DAY})`,
        '',
      ],
      ['  telemetry messages, 4 KB blocks', `${day.messages}, ${day.telemetryBlocks}`, '1 block each'],
      [
        '  twin patches (heartbeats), 512-byte blocks, largest',
        `${day.patches.length} (${day.patches.filter(isHeartbeat).length}), ${day.patchBlocks}, ${maxPatch} B`,
        '<= 512 B',
      ],
      [
        '  twin reads (read-back), 512-byte blocks',
        `${day.reads.length}, ${readBlocks.join('+') || 0} (a read: ${readBytes} B, ${readCost} blocks)`,
        '',
      ],
      [`  the weekly read-back (every ${RECONCILE_HEARTBEATS} heartbeats), a day's share`, weeklyShare.toFixed(2), ''],
      ['metered messages per scheduled check (steady, weekly read-back included)', perCheck.toFixed(3), '<= 1.1'],
      [
        'metered messages per device-day at the defaults',
        `${Math.round(perCheck * CHECKS_A_DAY)} (simulated day: ${day.total} for ${day.scheduledChecks} checks)`,
        `<= ${Math.round(1.1 * CHECKS_A_DAY)}`,
      ],
      [
        'one module start (connect read, startup patch, its read-back)',
        `${startup.readBlocks + startup.patchBlocks} twin blocks + ${startup.telemetryBlocks} telemetry`,
        '',
      ],
      [
        'for comparison: an hourly read-back would add',
        `${hourlyReads} a day (${(hourlyReads / CHECKS_A_DAY).toFixed(3)} a check)`,
        '',
      ],
    ];
  } finally {
    await ml.close();
  }
}
