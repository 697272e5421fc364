/**
 * What IoT Hub would bill a module for, counted from what reached the edgeHub emulator
 * (research/azure-iot-sdk-and-edgehub-protocol.md section 4, CONTRACT.md 8.1): device-to-cloud
 * messages in 4 KB blocks (body, application properties and system property values), twin
 * updates and twin reads in 512-byte blocks. Each block is one metered message of the daily quota.
 */
import type { EdgeHubEmulator, ReportedPatchRecord, TelemetryEvent, TwinGetRecord } from '../hub/emulator.js';

export const D2C_BLOCK = 4096;
export const TWIN_BLOCK = 512;

export const blocksOf = (bytes: number, block: number): number => Math.max(1, Math.ceil(bytes / block));

/** The size IoT Hub meters a telemetry message by. */
export function messageBytes(e: TelemetryEvent): number {
  const props = Object.entries(e.properties).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const system = Object.values(e.systemProperties).reduce((n, v) => n + Buffer.byteLength(v), 0);
  return e.body.length + props + system;
}

/** Where the emulator's records stood at some moment: what came after is a window. */
export interface MeterMark {
  events: number;
  patches: number;
  reads: number;
}

export function markOf(emu: EdgeHubEmulator): MeterMark {
  return { events: emu.events.length, patches: emu.reportedPatches.length, reads: emu.twinGets.length };
}

export interface Metered {
  /** Telemetry messages and scheduled-check telemetry among them. */
  messages: number;
  scheduledChecks: number;
  telemetryBlocks: number;
  patches: ReportedPatchRecord[];
  patchBlocks: number;
  reads: TwinGetRecord[];
  readBlocks: number;
  /** Every metered message: telemetry, twin updates and twin reads. */
  total: number;
  /** total / scheduled checks (NaN without one). */
  perScheduledCheck: number;
}

/** What `moduleId` cost between two marks (to now when `to` is left out). */
export function meter(emu: EdgeHubEmulator, moduleId: string, from: MeterMark, to: MeterMark = markOf(emu)): Metered {
  const events = emu.events.slice(from.events, to.events).filter((e) => e.moduleId === moduleId);
  const patches = emu.reportedPatches
    .slice(from.patches, to.patches)
    .filter((p) => p.moduleId === moduleId && p.accepted);
  const reads = emu.twinGets.slice(from.reads, to.reads).filter((g) => g.moduleId === moduleId);
  const telemetryBlocks = events.reduce((n, e) => n + blocksOf(messageBytes(e), D2C_BLOCK), 0);
  const patchBlocks = patches.reduce((n, p) => n + blocksOf(p.patchBytes, TWIN_BLOCK), 0);
  const readBlocks = reads.reduce((n, r) => n + blocksOf(r.bytes, TWIN_BLOCK), 0);
  const scheduledChecks = events.filter((e) => e.properties['trigger'] === 'schedule').length;
  const total = telemetryBlocks + patchBlocks + readBlocks;
  return {
    messages: events.length,
    scheduledChecks,
    telemetryBlocks,
    patches,
    patchBlocks,
    reads,
    readBlocks,
    total,
    perScheduledCheck: scheduledChecks ? total / scheduledChecks : Number.NaN,
  };
}
