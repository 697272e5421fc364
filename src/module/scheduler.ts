/**
 * The schedule of checks (CONTRACT.md 5.5): every interval, start to start, with ±10 % jitter so a
 * fleet does not check in lockstep. Each start is planned from the previous planned start, before
 * the run begins, so a slow run does not shift the cadence; a start that comes while a run is still
 * busy waits for it to end (never two at once, none lost).
 */

export interface SchedulerOptions {
  /** The interval in effect, in milliseconds (read at every planning). */
  intervalMs: () => number;
  /** Jitter source, [0, 1); default Math.random. */
  random?: () => number;
  /** The shortest wait for a planned start. */
  minDelayMs?: number;
  now?: () => number;
  /** Hears each planned start (ms since the epoch): for logs and tests. */
  onPlanned?: (dueAt: number) => void;
}

export const JITTER = 0.1;

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  /** When the current cycle started (the last planned start); null before start(). */
  private anchor: number | null = null;
  private jitter = 0;
  private busy = false;
  private pending = false;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly opts: SchedulerOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Starts the cadence with a cycle beginning now (the startup check is its first run). */
  start(): void {
    if (this.stopped) return;
    this.anchor = this.now();
    this.plan();
  }

  /** The interval changed: the next start follows it, counted from the current cycle's start. */
  reschedule(): void {
    if (this.anchor !== null) this.plan();
  }

  /** When the next run is due (ms since the epoch), or null when none is planned. */
  get nextAt(): number | null {
    return this.timer && this.anchor !== null ? this.anchor + this.cycleMs() : null;
  }

  /** Settles when no run is under way (nor waiting to start). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private cycleMs(): number {
    return Math.round(this.opts.intervalMs() * (1 + this.jitter));
  }

  private plan(): void {
    if (this.stopped || this.anchor === null) return;
    if (this.timer) clearTimeout(this.timer);
    this.jitter = ((this.opts.random ?? Math.random)() * 2 - 1) * JITTER;
    const due = this.anchor + this.cycleMs();
    const delay = Math.max(this.opts.minDelayMs ?? 0, due - this.now());
    this.timer = setTimeout(() => this.fire(due), delay);
    this.timer.unref?.();
    this.opts.onPlanned?.(this.now() + delay);
  }

  private fire(planned: number): void {
    this.timer = null;
    if (this.stopped) return;
    // A start late by more than a cycle (a suspended VM) begins a fresh cycle instead of catching up.
    this.anchor = this.now() - planned > this.opts.intervalMs() ? this.now() : planned;
    this.plan();
    if (this.busy) this.pending = true;
    else this.execute();
  }

  private execute(): void {
    this.busy = true;
    void this.run()
      .catch(() => undefined)
      .finally(() => {
        this.busy = false;
        if (this.pending && !this.stopped) {
          this.pending = false;
          this.execute();
          return;
        }
        for (const wake of this.idleWaiters.splice(0)) wake();
      });
  }
}
