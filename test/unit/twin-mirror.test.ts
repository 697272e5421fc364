/**
 * TwinMirror (src/module/twin-mirror.ts, CONTRACT.md 8.1): minimal patches, nothing for a
 * scheduled check that changes nothing, the heartbeat, the read-back after a change patch, a
 * refused patch, and the previous run's report kept until this process has one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { TwinRefusedError } from '../../src/module/edge.js';
import {
  RECONCILE_HEARTBEATS,
  TwinMirror,
  canonicalJson,
  type TwinLink,
  type Wanted,
} from '../../src/module/twin-mirror.js';
import { applyPatch, type JsonObject } from '../../src/report/twin.js';

const HOUR = 3_600_000;

/** A twin that applies patches like IoT Hub (or refuses them), and counts reads. */
class FakeTwin implements TwinLink {
  connected = true;
  reported: JsonObject = {};
  patches: JsonObject[] = [];
  reads = 0;
  refuse = false;
  /** Accept the patch but do not apply it: edgeHub's empty-bodied refusal, which the SDK reports as success. */
  silentlyDrop = false;
  async updateReported(patch: JsonObject): Promise<void> {
    if (this.refuse) throw new TwinRefusedError('Twin section size would exceed 32768');
    this.patches.push(patch);
    if (!this.silentlyDrop) this.reported = applyPatch(this.reported, patch);
  }
  async readReported(): Promise<JsonObject> {
    this.reads++;
    return { ...structuredClone(this.reported), $version: 7 };
  }
}

function setUp(heartbeatMs = HOUR) {
  let now = Date.UTC(2026, 10, 26, 6);
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  const mirror = new TwinMirror({ log, heartbeatMs: () => heartbeatMs, now: () => now });
  const twin = new FakeTwin();
  mirror.onConnected({ $version: 1 });
  return {
    mirror,
    twin,
    lines,
    advance: (ms: number) => (now += ms),
  };
}

/** A document as the agent builds it: a verdict, findings, a lastCheck naming check `n`. */
function doc(n: number, over: JsonObject = {}): Wanted {
  return {
    hasReport: true,
    doc: {
      schemaVersion: 1,
      status: 'healthy',
      statusSince: '2026-11-26T06:00:00.000Z',
      lastCheck: { checkId: `check-${n}`, trigger: 'schedule', startedAt: `t${n}`, durationMs: 400 + n },
      ip: { status: 'healthy', interfaces: [{ name: 'eth0', mtu: 1500 }] },
      findings: [],
      intervalSeconds: { value: 300, ac: 200, av: 2, ad: 'applied' },
      ...over,
    },
  };
}

describe('TwinMirror', () => {
  test('the first publish sends the whole document; a scheduled check that changes nothing sends nothing', async () => {
    const { mirror, twin, advance } = setUp();
    assert.equal(await mirror.publish(twin, () => doc(1), 'check'), 'sent');
    assert.deepEqual(twin.reported, doc(1).doc);
    for (let n = 2; n <= 11; n++) {
      advance(300_000);
      assert.equal(await mirror.publish(twin, () => doc(n), 'scheduledCheck'), 'unchanged');
    }
    assert.equal(twin.patches.length, 1);
    assert.equal((twin.reported['lastCheck'] as JsonObject)['checkId'], 'check-1');
  });

  test('the heartbeat: after heartbeatSeconds, a scheduled check sends lastCheck alone, whole, under 512 bytes', async () => {
    const { mirror, twin, advance } = setUp();
    await mirror.publish(twin, () => doc(1), 'check');
    twin.reported = applyPatch(twin.reported, {}); // as read back: the same
    advance(HOUR - 1);
    assert.equal(await mirror.publish(twin, () => doc(2), 'scheduledCheck'), 'unchanged');
    advance(1);
    // The first heartbeat after a change patch reads the twin back first (the change is verified).
    assert.equal(await mirror.publish(twin, () => doc(3), 'scheduledCheck'), 'sent');
    assert.equal(twin.reads, 1);
    const heartbeat = twin.patches.at(-1)!;
    assert.deepEqual(heartbeat, { lastCheck: doc(3).doc['lastCheck'] ?? null });
    assert.ok(Buffer.byteLength(JSON.stringify(heartbeat)) <= 512);
    // The next heartbeat of a steady device does not read: nothing but lastCheck changed since.
    advance(HOUR);
    await mirror.publish(twin, () => doc(4), 'scheduledCheck');
    assert.equal(twin.reads, 1);
    assert.deepEqual(Object.keys(twin.patches.at(-1)!), ['lastCheck']);
  });

  test('a change is sent at once, minimal, with the newest lastCheck', async () => {
    const { mirror, twin, advance } = setUp();
    await mirror.publish(twin, () => doc(1), 'check');
    advance(300_000);
    const broken = doc(2, { status: 'unhealthy', findings: [{ code: 'FW_PORT_BLOCKED', since: 't2' }] });
    assert.equal(await mirror.publish(twin, () => broken, 'scheduledCheck'), 'sent');
    assert.deepEqual(twin.patches.at(-1), {
      status: 'unhealthy',
      lastCheck: broken.doc['lastCheck'] ?? null,
      findings: [{ code: 'FW_PORT_BLOCKED', since: 't2' }],
    });
  });

  test("a finding's words alone do not make a patch; they go with the next one that is due", async () => {
    const { mirror, twin, advance } = setUp();
    const f = (m: string) => ({ findings: [{ code: 'IP_INTERFACE_ERRORS', since: 't1', message: m }] });
    await mirror.publish(twin, () => doc(1, f('12 errors')), 'check');
    advance(300_000);
    assert.equal(await mirror.publish(twin, () => doc(2, f('19 errors')), 'scheduledCheck'), 'unchanged');
    advance(HOUR);
    await mirror.publish(twin, () => doc(3, f('31 errors')), 'scheduledCheck');
    assert.deepEqual(twin.reported['findings'], f('31 errors').findings);
  });

  test('checks of other triggers always show in lastCheck', async () => {
    const { mirror, twin, advance } = setUp();
    await mirror.publish(twin, () => doc(1), 'check');
    advance(1000);
    assert.equal(await mirror.publish(twin, () => doc(2), 'check'), 'sent');
    assert.deepEqual(Object.keys(twin.patches.at(-1)!), ['lastCheck']);
  });

  test('state publishes (a desired change) send what changed, and keep lastCheck unless the state changed', async () => {
    const { mirror, twin } = setUp();
    await mirror.publish(twin, () => doc(1), 'check');
    const acked = doc(2, { intervalSeconds: { value: 600, ac: 200, av: 3, ad: 'applied' } });
    await mirror.publish(twin, () => acked, 'state');
    assert.deepEqual(Object.keys(twin.patches.at(-1)!).sort(), ['intervalSeconds', 'lastCheck']);
    assert.equal(
      await mirror.publish(twin, () => doc(3, { intervalSeconds: acked.doc['intervalSeconds'] ?? null }), 'state'),
      'unchanged',
    );
  });

  test('a patch edgeHub dropped without saying so is found by the read-back and sent again', async () => {
    const { mirror, twin, advance, lines } = setUp();
    await mirror.publish(twin, () => doc(1), 'check');
    twin.silentlyDrop = true;
    const broken = doc(2, { status: 'unhealthy' });
    await mirror.publish(twin, () => broken, 'scheduledCheck'); // "succeeds", but the twin still says healthy
    twin.silentlyDrop = false;
    assert.equal(twin.reported['status'], 'healthy');
    advance(HOUR);
    await mirror.publish(twin, () => doc(3, { status: 'unhealthy' }), 'scheduledCheck');
    assert.equal(twin.reads, 1);
    assert.equal(twin.reported['status'], 'unhealthy', 'corrected at the next heartbeat');
    assert.ok(lines.some((l) => l['msg'] === 'the twin did not hold what the module last reported; correcting it'));
  });

  test(`a blind read-back at least every ${RECONCILE_HEARTBEATS} heartbeats, never more often on a steady device`, async () => {
    const { mirror, twin, advance } = setUp(600_000);
    await mirror.publish(twin, () => doc(0), 'check');
    advance(600_000);
    await mirror.publish(twin, () => doc(1), 'scheduledCheck'); // verifies the first patch
    assert.equal(twin.reads, 1);
    for (let n = 2; n <= RECONCILE_HEARTBEATS + 1; n++) {
      advance(600_000);
      await mirror.publish(twin, () => doc(n), 'scheduledCheck');
    }
    assert.equal(twin.reads, 2, `one read in ${RECONCILE_HEARTBEATS} heartbeats`);
    assert.equal(twin.patches.length, RECONCILE_HEARTBEATS + 2);
  });

  test('a refused patch is logged, not retried, and leaves the mirror as it was', async () => {
    const { mirror, twin, lines } = setUp();
    await mirror.publish(twin, () => doc(1), 'check');
    twin.refuse = true;
    assert.equal(await mirror.publish(twin, () => doc(2, { status: 'degraded' }), 'check'), 'refused');
    assert.ok(lines.some((l) => l['msg'] === 'edgeHub refused the reported properties'));
    twin.refuse = false;
    await mirror.publish(twin, () => doc(3, { status: 'degraded' }), 'check');
    assert.equal(twin.reported['status'], 'degraded');
  });

  test('offline: nothing is sent; the twin read after connecting is the base of the next patch', async () => {
    const { mirror, twin } = setUp();
    twin.connected = false;
    assert.equal(await mirror.publish(twin, () => doc(1), 'check'), 'offline');
    twin.connected = true;
    mirror.onConnected({ ...doc(1).doc, $version: 4 });
    assert.equal(await mirror.publish(twin, () => doc(1), 'state'), 'unchanged');
  });

  test("before this process's first report, the previous run's report stays; only the other members change", async () => {
    const { mirror, twin } = setUp();
    mirror.onConnected({ ...doc(9).doc, status: 'unhealthy', $version: 3 });
    twin.reported = mirror.reported;
    await mirror.publish(
      twin,
      () => ({ hasReport: false, doc: { intervalSeconds: { value: 600, ac: 200, av: 4, ad: 'applied' } } }),
      'state',
    );
    assert.deepEqual(twin.patches, [{ intervalSeconds: { value: 600, av: 4 } }]);
    assert.equal(twin.reported['status'], 'unhealthy');
  });

  test('publishes are serialized: each patch is computed against the result of the previous one', async () => {
    const { mirror, twin } = setUp();
    const results = await Promise.all([
      mirror.publish(twin, () => doc(1), 'check'),
      mirror.publish(twin, () => doc(2), 'check'),
      mirror.publish(twin, () => doc(2), 'check'),
    ]);
    assert.deepEqual(results, ['sent', 'sent', 'unchanged']);
    assert.deepEqual(Object.keys(twin.patches[1]!), ['lastCheck']);
  });

  test('canonicalJson ignores key order, not array order', () => {
    assert.equal(
      canonicalJson({ a: 1, b: { d: [1, 2], c: null } }),
      canonicalJson({ b: { c: null, d: [1, 2] }, a: 1 }),
    );
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
  });
});
