/**
 * One deadline for a whole check. Every probe races it; a probe still running when it fires
 * gets GRACE_MS to report its own aborted state, then is replaced by its timed-out form and named
 * in `timedOut`. The timer is a plain (ref'd) one, so a check with only hung probes still returns.
 */
import { setMaxListeners } from 'node:events';

/** After the deadline, probes get this long to report their own aborted state before being replaced. */
const GRACE_MS = 40;

export class Deadline {
  readonly timedOut: string[] = [];
  private readonly controller = new AbortController();
  private readonly expired: Promise<void>;
  private readonly timer: NodeJS.Timeout;
  private readonly detach: () => void;
  private disposed = false;

  constructor(ms: number, outer?: AbortSignal) {
    // Every probe of a check listens on this one signal: more than Node's default of 10.
    setMaxListeners(0, this.controller.signal);
    this.timer = setTimeout(() => this.controller.abort(), ms);
    const onOuter = () => this.controller.abort();
    outer?.addEventListener('abort', onOuter, { once: true });
    // The module's signal lives as long as the process: a listener left on it per check would leak.
    this.detach = () => outer?.removeEventListener('abort', onOuter);
    if (outer?.aborted) this.controller.abort();
    this.expired = new Promise((resolve) =>
      this.controller.signal.addEventListener('abort', () => setTimeout(resolve, GRACE_MS), { once: true }),
    );
  }

  /** Fires at the deadline (or when the outer signal fires): every probe stops there. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** `work`, or `late()` once the deadline and its grace period have passed; either way named if cut short. */
  guard<T>(name: string, work: Promise<T>, late: () => T): Promise<T> {
    let counted = false;
    const cutShort = () => {
      if (!counted && this.controller.signal.aborted && !this.disposed) this.timedOut.push(name);
      counted = true;
    };
    return Promise.race([
      // A probe that finished only because the deadline aborted it was cut short too.
      work.then((r) => (cutShort(), r)),
      this.expired.then(() => (cutShort(), late())),
    ]);
  }

  dispose(): void {
    this.disposed = true;
    this.detach();
    clearTimeout(this.timer);
    this.controller.abort(); // releases every probe still listening
  }
}
