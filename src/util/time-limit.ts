/**
 * Time limits built on the platform: AbortSignal.timeout / AbortSignal.any for the limit and
 * events.once for waiting on an emitter. One error type says which limit stopped the wait, its
 * own timeout (ETIMEDOUT) or the caller's signal (ABORTED: the check's deadline, SIGTERM).
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

function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

/** Fires after `ms`, or as soon as any of `signals` fires. */
export function limitSignal(ms: number, ...signals: Array<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(Math.max(0, ms)), ...signals.filter((s) => s !== undefined)]);
}

/** Why `signal` fired, as a StoppedError about `what`. */
export function stoppedBy(signal: AbortSignal, what: string): StoppedError {
  return isTimeout(signal.reason)
    ? new StoppedError('ETIMEDOUT', `${what} timed out`)
    : new StoppedError('ABORTED', `${what} was cancelled`);
}

/** Waits for `work` until `signal` fires, then rejects with a StoppedError; the listener never outlives the wait. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined); // its outcome no longer matters, but must not go unhandled
    return Promise.reject(stoppedBy(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => undefined);
      reject(stoppedBy(signal, what));
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

/** `work` bounded by `ms` and by `signal` (when given). */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  return untilAborted(work, limitSignal(ms, signal), what);
}

/**
 * The first `event` of `emitter`, bounded by `signal`; an 'error' event rejects with that error
 * (events.once's rule), a fired signal with a StoppedError.
 */
export async function onceWithin(
  emitter: EventEmitter,
  event: string,
  signal: AbortSignal,
  what: string,
): Promise<unknown[]> {
  try {
    return await once(emitter, event, { signal });
  } catch (error) {
    if (signal.aborted && error instanceof Error && error.name === 'AbortError') throw stoppedBy(signal, what);
    throw error;
  }
}
