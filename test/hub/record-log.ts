/**
 * An append-only list of things the emulator saw, which a test can also wait on
 * ("the next telemetry message with status=error"). Waits are bounded and cancelled on close so a
 * failing test ends instead of hanging.
 */

interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class RecordLog<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<Waiter<T>>();

  push(item: T): void {
    this.items.push(item);
    for (const w of [...this.waiters]) {
      let matched: boolean;
      try {
        matched = w.predicate(item);
      } catch (err) {
        this.settle(w);
        w.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (matched) {
        this.settle(w);
        w.resolve(item);
      }
    }
  }

  /**
   * Resolves with the first item (already logged, or logged later) that satisfies `predicate`.
   * Pass `since` (an earlier `items.length`) to consider only items logged after that point.
   */
  waitFor(predicate: (item: T) => boolean, timeoutMs: number, what: string, since = 0): Promise<T> {
    const existing = this.items.slice(since).find(predicate);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${this.items.length} recorded)`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  cancelAll(reason: string): void {
    for (const w of [...this.waiters]) {
      this.settle(w);
      w.reject(new Error(reason));
    }
  }

  private settle(w: Waiter<T>): void {
    clearTimeout(w.timer);
    this.waiters.delete(w);
  }
}
