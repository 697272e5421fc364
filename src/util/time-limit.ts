/**
 * Time limits built on the platform: AbortSignal.any to join a limit with the caller's signal,
 * events.once to wait on an emitter. One error type says which limit stopped the wait, its own
 * timeout (ETIMEDOUT) or the caller's signal (ABORTED: the check's deadline, SIGTERM).
 *
 * The timeout is a plain setTimeout rather than AbortSignal.timeout: that one is unref'd and
 * cannot be cleared, so a wait on something that never settles would let the process exit with
 * the work pending, and a wait that settled early would leave its timer behind until it fires
 * (thousands of them in a long-running module). Ours keeps the process alive while it waits and
 * is cleared the moment the wait ends.
 */
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';

export type StopCode = 'ETIMEDOUT' | 'ABORTED';

/** A wait ended by a time limit rather than by what it waited for. */
export class StoppedError extends Error {
  override name = 'StoppedError';
  constructor(
    readonly code: StopCode,
    message: string,
  ) {
    super(message);
  }
}

export interface TimeLimit {
  /** Fires after `ms`, or as soon as any of the outer signals fires. */
  signal: AbortSignal;
  /** Ends the limit (clears its timer); call it when the wait is over. */
  clear: () => void;
  /** Whether its own timer fired (rather than an outer signal). */
  expired: () => boolean;
}

/** A limit of `ms`, joined with any outer signals. The timer's reason is a TimeoutError, as AbortSignal.timeout's. */
export function timeLimit(ms: number, ...signals: Array<AbortSignal | undefined>): TimeLimit {
  const own = new AbortController();
  const timer = setTimeout(
    () => own.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')),
    Math.max(0, ms),
  );
  const outer = signals.filter((s) => s !== undefined);
  return {
    signal: outer.length ? AbortSignal.any([own.signal, ...outer]) : own.signal,
    clear: () => clearTimeout(timer),
    expired: () => own.signal.aborted,
  };
}

/** A StoppedError about `what`: ETIMEDOUT when its own time limit fired, ABORTED when the caller's signal did. */
export function stopped(expired: boolean, what: string): StoppedError {
  return expired
    ? new StoppedError('ETIMEDOUT', `${what} timed out`)
    : new StoppedError('ABORTED', `${what} was cancelled`);
}

/**
 * Waits for `work` until `signal` fires, then rejects with a StoppedError (`expired` tells a time
 * limit of its own from the caller's cancel); the listener never outlives the wait.
 */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  what: string,
  expired: () => boolean = () => false,
): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined); // its outcome no longer matters, but must not go unhandled
    return Promise.reject(stopped(expired(), what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => undefined);
      reject(stopped(expired(), what));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** `work` bounded by `ms` and by `signal` (when given); the timer is cleared however it ends. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  const limit = timeLimit(ms, signal);
  try {
    return await untilAborted(work, limit.signal, what, limit.expired);
  } finally {
    limit.clear();
  }
}

/**
 * The first `event` of `emitter` within `ms` (and `signal`); an 'error' event rejects with that
 * error (events.once's rule), a limit that fires with a StoppedError.
 */
export async function onceWithin(
  emitter: EventEmitter,
  event: string,
  ms: number,
  what: string,
  signal?: AbortSignal,
): Promise<unknown[]> {
  const limit = timeLimit(ms, signal);
  try {
    return (await once(emitter, event, { signal: limit.signal })) as unknown[];
  } catch (error) {
    if (limit.signal.aborted && error instanceof Error && error.name === 'AbortError') {
      throw stopped(limit.expired(), what);
    }
    throw error;
  } finally {
    limit.clear();
  }
}
