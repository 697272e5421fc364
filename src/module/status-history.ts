/**
 * When things began (CONTRACT.md 8.2): `statusSince`, when the current status began, and each
 * finding's `since`, when this code on this subject was first seen in the unbroken run of checks
 * that still shows it. A check without the finding ends its run; the next sighting starts anew.
 *
 * Across a restart only what the twin already holds is reused, and only where it continues: the
 * first check of this process keeps the twin's statusSince when the status is the same, and a
 * finding's since when the twin shows the same code on the same subject with a since. If edgeHub
 * is late and the twin can only be read after some checks, the same holds for what has not changed
 * since this process's first check. Nothing is ever invented: a time is either a check's startedAt
 * or a value read from the twin (a valid time, not later than this process first saw the state).
 */
import { findingKey, isObject, type JsonObject, type TwinHistory } from '../report/twin.js';
import type { Report } from '../report/types.js';

/** What the twin held from before this process started. */
interface Prior {
  status: string | null;
  statusSince: string | null;
  since: Map<string, string>;
}

function validTime(value: unknown): string | null {
  return typeof value === 'string' && Number.isFinite(Date.parse(value)) ? value : null;
}

/** The earlier of a remembered time and ours, or ours when the remembered one is not earlier (never invented). */
function continued(remembered: string | null | undefined, ours: string): string {
  return remembered && Date.parse(remembered) <= Date.parse(ours) ? remembered : ours;
}

/** Reads statusSince (or the older lastStatusChangeAt) and the findings' since from reported properties. */
export function priorFromTwin(reported: JsonObject): Prior {
  const since = new Map<string, string>();
  const findings = reported['findings'];
  if (Array.isArray(findings)) {
    for (const f of findings) {
      if (!isObject(f) || typeof f['code'] !== 'string' || typeof f['subject'] !== 'string') continue;
      const at = validTime(f['since']);
      if (at) since.set(findingKey({ code: f['code'], subject: f['subject'] }), at);
    }
  }
  return {
    status: typeof reported['status'] === 'string' ? reported['status'] : null,
    // Twins written before statusSince existed have lastStatusChangeAt: when the verdict (status
    // and failing layer) last changed, so never before the status itself began.
    statusSince: validTime(reported['statusSince']) ?? validTime(reported['lastStatusChangeAt']),
    since,
  };
}

export class StatusHistory {
  private status: string | null = null;
  private statusSince: string | null = null;
  private since = new Map<string, string>();
  /** startedAt of this process's first check; null before it. */
  private firstStartedAt: string | null = null;
  private statusChangedHere = false;
  /** undefined until the twin has been read once. */
  private prior: Prior | null | undefined = undefined;

  /** Whether the twin has been read (restore called). */
  get restored(): boolean {
    return this.prior !== undefined;
  }

  /**
   * The twin as first read by this process (later reads show what this process wrote). Checks
   * already made continue the twin's times where nothing changed since the first of them.
   */
  restore(reported: JsonObject): void {
    if (this.prior !== undefined) return;
    const prior = priorFromTwin(reported);
    this.prior = prior;
    if (this.firstStartedAt === null) return;
    const first = this.firstStartedAt;
    if (!this.statusChangedHere && prior.status === this.status && this.statusSince !== null)
      this.statusSince = continued(prior.statusSince, this.statusSince);
    for (const [key, at] of this.since) {
      // Seen since the first check here without a break: the twin's run may be the same one.
      if (at === first) this.since.set(key, continued(prior.since.get(key), at));
    }
  }

  /** Takes in a report (the device's state after a check) and returns the times it shows. */
  observe(report: Report): TwinHistory {
    const first = this.firstStartedAt === null;
    if (first) this.firstStartedAt = report.startedAt;
    const prior = first ? this.prior : null;
    if (this.status === report.status && this.statusSince !== null) {
      // unchanged: the status began when it began
    } else if (first) {
      this.statusSince =
        prior && prior.status === report.status ? continued(prior.statusSince, report.startedAt) : report.startedAt;
    } else {
      this.statusSince = report.startedAt;
      this.statusChangedHere = true;
    }
    this.status = report.status;
    const next = new Map<string, string>();
    for (const f of report.findings) {
      const key = findingKey(f);
      if (next.has(key)) continue;
      const kept = this.since.get(key);
      next.set(key, kept ?? (first && prior ? continued(prior.since.get(key), report.startedAt) : report.startedAt));
    }
    this.since = next;
    return this.current(report.startedAt);
  }

  /** The times as they stand (statusSince falls back to `now` before any check). */
  current(now: string): TwinHistory {
    return { statusSince: this.statusSince ?? now, since: new Map(this.since) };
  }
}
