/**
 * Telemetry on its way to edgeHub (CONTRACT.md 5.4, 5.5): one summary per completed check (or per
 * change, with telemetry "onChange"), queued while edgeHub is away, bounded (the oldest dropped,
 * and the first message delivered afterwards says how many), sent in order, one at a time. The
 * queue holds summaries, so adding the dropped count is a field, not a re-parse.
 */
import type { Logger } from '../log.js';
import type { TelemetryMode } from '../config/options.js';
import { fitsOneMessage, stateFingerprint, telemetrySummary, type TelemetrySummary } from '../report/telemetry.js';
import type { Report } from '../report/types.js';
import { popUntil } from '../util/fit.js';
import type { OutputMessage } from './edge.js';

export const OUTPUT_NAME = 'diagnostics';
export const TELEMETRY_QUEUE_MAX = 50;

/** A summary as delivered after losses: it says how many messages before it were dropped. */
export type DeliveredSummary = TelemetrySummary & { droppedWhileOffline?: number };

/** Where the outbox sends: the edgeHub link (or a test's stand-in). */
export interface TelemetrySink {
  readonly connected: boolean;
  sendOutput(output: string, msg: OutputMessage): Promise<void>;
}

/** Adds `droppedWhileOffline` to a summary, still inside one 4 KB block (least severe findings go first). */
export function withDroppedCount(summary: TelemetrySummary, dropped: number): DeliveredSummary {
  const out: DeliveredSummary = { ...summary, findings: [...summary.findings], droppedWhileOffline: dropped };
  const before = summary.findingsOmitted;
  popUntil(
    out.findings,
    () => fitsOneMessage(out),
    (n) => (out.findingsOmitted = before + n),
  );
  return out;
}

/** The message for a summary: JSON body, messageId = checkId, and the routable properties. */
export function messageOf(summary: DeliveredSummary): OutputMessage {
  return {
    body: JSON.stringify(summary),
    messageId: summary.checkId,
    properties: {
      status: summary.status,
      failingComponent: summary.failingComponent ?? 'none',
      trigger: summary.trigger,
    },
  };
}

export class TelemetryOutbox {
  private readonly queue: TelemetrySummary[] = [];
  private droppedCount = 0;
  private flushing: Promise<void> | null = null;
  private again = false;
  private lastFingerprint: string | null = null;

  constructor(
    private readonly log: Logger,
    private readonly max = TELEMETRY_QUEUE_MAX,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /** Messages dropped from a full queue and not yet reported in a delivered message. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Queues the summary of `report` unless the mode says not to; returns whether it did. */
  add(report: Report, mode: TelemetryMode): boolean {
    if (mode === 'off') return false;
    const fingerprint = stateFingerprint(report);
    if (mode === 'onChange' && fingerprint === this.lastFingerprint) return false;
    this.lastFingerprint = fingerprint;
    this.queue.push(telemetrySummary(report));
    while (this.queue.length > this.max) {
      this.queue.shift();
      this.droppedCount++;
    }
    return true;
  }

  /**
   * Sends the queue in order while the sink is connected; stops at the first failure (the rest is
   * sent after the reconnect). Concurrent calls share one flush; the promise settles when it ends.
   */
  flush(sink: TelemetrySink, stopped: () => boolean = () => false): Promise<void> {
    if (this.flushing) {
      // A message queued while a flush is ending is not left behind: the flush goes round once more.
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.again = false;
        if (!(await this.drain(sink, stopped))) return;
      } while (this.again);
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Sends until the queue is empty (true) or a send fails or the sink is gone (false). */
  private async drain(sink: TelemetrySink, stopped: () => boolean): Promise<boolean> {
    while (this.queue.length) {
      if (!sink.connected || stopped()) return false;
      const head = this.queue[0]!;
      // The first message delivered after losses says how many: the cloud side sees the gap.
      const dropped = this.droppedCount;
      try {
        await sink.sendOutput(OUTPUT_NAME, messageOf(dropped ? withDroppedCount(head, dropped) : head));
      } catch (err) {
        this.log.warn({ err, queued: this.queue.length }, 'telemetry not delivered; kept for after reconnect');
        return false;
      }
      if (this.queue[0] === head) this.queue.shift();
      if (dropped) {
        this.log.warn({ dropped }, 'telemetry messages were dropped while offline (queue full)');
        this.droppedCount -= dropped;
      }
    }
    return true;
  }
}
