/**
 * Scheduler (src/module/scheduler.ts): every interval start to start, jitter within ±10 %, never
 * two runs at once, an interval change followed at once. Mock timers and clock: no real waiting;
 * each step waits on what the scheduler announces (onPlanned), never on a count of event-loop turns.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { JITTER, Scheduler } from '../../src/module/scheduler.js';

function setUp(t: TestContext, opts: { random?: () => number; holdRuns?: boolean } = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const starts: number[] = [];
  let interval = 300_000;
  let release: (() => void) | null = null;
  let onStart: (() => void) | null = null;
  const planned: number[] = [];
  let onPlan: (() => void) | null = null;
  const scheduler = new Scheduler(
    async () => {
      starts.push(Date.now());
      onStart?.();
      if (opts.holdRuns) await new Promise<void>((r) => (release = r));
    },
    {
      intervalMs: () => interval,
      random: opts.random ?? (() => 0.5),
      minDelayMs: 1000,
      onPlanned: (at) => {
        planned.push(at);
        onPlan?.();
      },
    },
  );
  /** Resolves when the scheduler plans its next start (after a run has ended). */
  const nextPlan = () => new Promise<void>((r) => (onPlan = r));
  return {
    scheduler,
    starts,
    planned,
    nextPlan,
    setInterval: (ms: number) => (interval = ms),
    /** Ends the run being held; settles when the next run has started (`next`) or the scheduler is idle. */
    finishRun: async (next = false) => {
      const started = new Promise<void>((r) => (onStart = r));
      release?.();
      release = null;
      await (next ? started : scheduler.whenIdle());
    },
    /** Ticks to the planned start: the next start is planned and the run begins inside the tick. */
    tickToRun: async (ms: number) => {
      const plan = nextPlan();
      t.mock.timers.tick(ms);
      await plan;
    },
  };
}

describe('Scheduler', () => {
  test('runs every interval, counted start to start from start()', async (t) => {
    const { scheduler, starts, planned, tickToRun } = setUp(t);
    scheduler.start();
    assert.deepEqual(planned, [300_000]);
    for (let i = 0; i < 3; i++) await tickToRun(300_000);
    assert.deepEqual(starts, [300_000, 600_000, 900_000]);
    assert.deepEqual(planned, [300_000, 600_000, 900_000, 1_200_000]);
    scheduler.stop();
  });

  test('jitter stays within ±10 %: the largest draw waits 330 s, the smallest 270 s', (t) => {
    for (const [draw, wait] of [
      [1 - Number.EPSILON, 330_000],
      [0, 270_000],
    ] as const) {
      const { scheduler, starts } = setUp(t, { random: () => draw, holdRuns: true });
      scheduler.start();
      t.mock.timers.tick(wait - 1);
      assert.deepEqual(starts, [], `not before ${wait} ms`);
      t.mock.timers.tick(1);
      assert.equal(starts.length, 1);
      scheduler.stop();
      t.mock.timers.reset();
    }
    assert.equal(JITTER, 0.1);
  });

  test('a slow run does not shift the cadence; a start due while it is busy waits for it, never two at once', async (t) => {
    const { scheduler, starts, planned, finishRun, tickToRun } = setUp(t, { holdRuns: true });
    scheduler.start();
    await tickToRun(300_000);
    assert.equal(planned.at(-1), 600_000, 'the next start is planned before the run begins');
    t.mock.timers.tick(400_000); // the run takes 400 s: longer than the interval
    assert.equal(starts.length, 1, 'no second run while the first is busy');
    assert.equal(planned.at(-1), 900_000, 'the cadence goes on');
    await finishRun(true); // the start due at 600 s runs now
    assert.deepEqual(starts, [300_000, 700_000]);
    await finishRun();
    t.mock.timers.tick(200_000);
    assert.deepEqual(starts, [300_000, 700_000, 900_000]);
    scheduler.stop();
  });

  test('an interval change is followed at once, from the current cycle start', async (t) => {
    const { scheduler, starts, setInterval, tickToRun } = setUp(t);
    scheduler.start();
    t.mock.timers.tick(10_000);
    setInterval(60_000);
    scheduler.reschedule();
    await tickToRun(50_000);
    await tickToRun(60_000);
    assert.deepEqual(starts, [60_000, 120_000]);
    scheduler.stop();
  });

  test('stop() cancels what is planned', (t) => {
    const { scheduler, starts } = setUp(t);
    scheduler.start();
    scheduler.stop();
    t.mock.timers.tick(1_000_000);
    assert.deepEqual(starts, []);
    assert.equal(scheduler.nextAt, null);
  });
});
