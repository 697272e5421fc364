/**
 * What the module twin's reported properties hold, and the patches that keep them true at the
 * lowest cost (CONTRACT.md 5.2, 8.1). IoT Hub meters every twin update, and every twin read, in
 * 512-byte blocks, so:
 * - a patch is the minimal difference between what the twin holds and what it should hold;
 * - a scheduled check whose result changes nothing the twin holds (twin.ts stableView) sends
 *   nothing, except the heartbeat: `lastCheck` at most every heartbeatSeconds. Checks with another
 *   trigger (startup, a method call, a configuration or link change) always show in lastCheck;
 * - edgeHub answers a refused patch with an empty body, which the SDK reports as success, so what
 *   this mirror believes can drift from the twin. The twin is read back ("reconciled") at the
 *   first heartbeat after a patch that changed more than lastCheck (the kind that can break a
 *   twin rule), after a refusal, and at least every RECONCILE_HEARTBEATS heartbeats; never on a
 *   steady hour, where a read would cost several times the heartbeat itself. lastCheck is always
 *   sent whole, so even a lost heartbeat heals with the next one.
 * Publishing is serialized: one patch at a time, each computed against the result of the last.
 */
import type { Logger } from '../log.js';
import { REPORT_KEYS, applyPatch, reportedPatch, stableView, type JsonObject, type JsonValue } from '../report/twin.js';
import { TwinRefusedError } from './edge.js';

/**
 * A blind read-back at least this many heartbeats apart: a week at the defaults. A read is metered
 * like a patch, in 512-byte blocks of the whole twin (desired and reported, 3-8 blocks): daily it
 * would cost 0.01-0.03 messages a check, which with the heartbeat (1/12) and the telemetry (1) is
 * already at the 1.1 bar; weekly it costs under 0.005.
 */
export const RECONCILE_HEARTBEATS = 168;

/** What the mirror needs from the edgeHub link. */
export interface TwinLink {
  readonly connected: boolean;
  updateReported(patch: JsonObject): Promise<void>;
  /** Reads the twin again (a metered twin GET) and returns its reported properties. */
  readReported(): Promise<JsonObject>;
}

/** The document the module wants the twin to hold, built when a publish runs. */
export interface Wanted {
  /** Reported members, lastCheck naming the newest check (when there is a report). */
  doc: JsonObject;
  /** False before this process's first report: the previous run's report then stays in the twin. */
  hasReport: boolean;
}

/**
 * Why a publish happens: a scheduled check (cheap: only a change or the heartbeat is sent), any
 * other check (its lastCheck is always shown), or something else (desired change, reconnect,
 * inventory: sent when it changes something).
 */
export type PublishReason = 'scheduledCheck' | 'check' | 'state';

export type PublishOutcome = 'sent' | 'unchanged' | 'offline' | 'refused' | 'failed';

export interface TwinMirrorOptions {
  log: Logger;
  heartbeatMs: () => number;
  now?: () => number;
}

/** Reported properties as received, without the read-only $version and $metadata. */
function plain(reported: JsonObject): JsonObject {
  const out = { ...reported };
  delete out['$version'];
  delete out['$metadata'];
  return out;
}

/** JSON text with object keys sorted: the twin may hand members back in another order. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] ?? null)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function pick(doc: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) if (doc[k] !== undefined && doc[k] !== null) out[k] = doc[k];
  return out;
}

export class TwinMirror {
  private held: JsonObject = {};
  private known = false;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** When lastCheck was last patched (-Infinity: not by this process). */
  private lastCheckAt = Number.NEGATIVE_INFINITY;
  /** When the twin was last read (connect or reconcile). */
  private readAt = Number.NEGATIVE_INFINITY;
  /** A patch that changed more than lastCheck went out since the last read (or was refused). */
  private unverified = false;
  private readonly now: () => number;
  /** Counters for the log and the tests: patches sent and their JSON bytes, reads made. */
  readonly counts = { patches: 0, patchBytes: 0, reads: 0 };

  constructor(private readonly opts: TwinMirrorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** What the twin holds, as far as this mirror knows (a copy). */
  get reported(): JsonObject {
    return structuredClone(this.held);
  }

  get ready(): boolean {
    return this.known;
  }

  /** The reported properties read after a (re)connection: what the twin holds now. */
  onConnected(reported: JsonObject): void {
    this.held = plain(reported);
    this.known = true;
    this.readAt = this.now();
    this.unverified = false;
  }

  /** Publishes `want()` for `reason`, after any publish already under way; settles with the outcome. */
  publish(link: TwinLink, want: () => Wanted, reason: PublishReason): Promise<PublishOutcome> {
    const run = this.queue.then(() => this.publishNow(link, want, reason));
    this.queue = run.catch(() => undefined);
    return run;
  }

  stop(): void {
    this.stopped = true;
  }

  private heartbeatDue(): boolean {
    return this.now() - this.lastCheckAt >= this.opts.heartbeatMs();
  }

  private reconcileDue(): boolean {
    return this.unverified || this.now() - this.readAt >= RECONCILE_HEARTBEATS * this.opts.heartbeatMs();
  }

  private async publishNow(link: TwinLink, want: () => Wanted, reason: PublishReason): Promise<PublishOutcome> {
    if (!link.connected || !this.known || this.stopped) return 'offline';
    if (reason === 'scheduledCheck' && this.heartbeatDue() && this.reconcileDue()) await this.reconcile(link);
    const { doc, hasReport } = want();
    // Until this process has a report of its own, the previous run's report stays: it is the last
    // known state, better than a twin with no status at all while the first check runs.
    const owned = [...new Set([...Object.keys(this.held), ...Object.keys(doc)])].filter(
      (k) => hasReport || !(REPORT_KEYS as readonly string[]).includes(k),
    );
    const changed = canonicalJson(stableView(pick(this.held, owned))) !== canonicalJson(stableView(pick(doc, owned)));
    const showCheck =
      hasReport &&
      doc['lastCheck'] !== undefined &&
      (reason === 'check' ||
        changed ||
        (reason === 'scheduledCheck' && (this.heartbeatDue() || this.held['lastCheck'] === undefined)));
    if (!changed && !showCheck) return 'unchanged'; // words alone wait for the next patch that is due
    const next: JsonObject = { ...doc };
    if (!showCheck) {
      if (this.held['lastCheck'] === undefined) delete next['lastCheck'];
      else next['lastCheck'] = this.held['lastCheck'];
    }
    const patch = reportedPatch(this.held, next, owned);
    if (!patch) return 'unchanged';
    // lastCheck goes whole, so a lost heartbeat cannot leave a mix of two checks behind.
    if (patch['lastCheck'] !== undefined && next['lastCheck'] !== undefined) patch['lastCheck'] = next['lastCheck'];
    const bytes = Buffer.byteLength(JSON.stringify(patch));
    try {
      await link.updateReported(patch);
    } catch (err) {
      if (err instanceof TwinRefusedError) {
        // Retrying the same patch would be refused again; the next report or desired change tries anew.
        this.opts.log.error({ err, patchBytes: bytes }, 'edgeHub refused the reported properties');
        this.unverified = true;
        return 'refused';
      }
      this.opts.log.warn({ err }, 'reported properties not updated; will retry after reconnect');
      return 'failed';
    }
    this.held = applyPatch(this.held, patch);
    this.counts.patches++;
    this.counts.patchBytes += bytes;
    if (showCheck) this.lastCheckAt = this.now();
    if (changed) this.unverified = true;
    this.opts.log.debug({ patchBytes: bytes, changed, heartbeat: showCheck && !changed, reason }, 'twin patched');
    return 'sent';
  }

  /** Reads the twin back; what it holds replaces what this mirror believed. */
  private async reconcile(link: TwinLink): Promise<void> {
    try {
      const reported = plain(await link.readReported());
      this.counts.reads++;
      const drifted = canonicalJson(reported) !== canonicalJson(this.held);
      if (drifted) this.opts.log.warn('the twin did not hold what the module last reported; correcting it');
      this.held = reported;
      this.readAt = this.now();
      this.unverified = false;
    } catch (err) {
      // Not fatal: the patch below is computed against what the mirror believes, as before.
      this.opts.log.warn({ err }, 'could not read the twin back to check it');
    }
  }
}
