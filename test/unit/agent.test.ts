/**
 * NetdiagAgent wiring its parts together, with fake probes and a fake edgeHub link (each part has
 * its own tests). Every wait is on something observable: a promise the fake link settles when a
 * message, a patch or a read arrives, or mock timers moved on purpose; never a count of event-loop
 * turns or a sleep.
 */
import assert from 'node:assert/strict';
import { createSecureContext } from 'node:tls';
import { describe, test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { CheckDeps } from '../../src/check.js';
import type { Link } from '../../src/module/agent.js';
import { NetdiagAgent, TELEMETRY_QUEUE_MAX } from '../../src/module/agent.js';
import { TwinRefusedError, type OutputMessage } from '../../src/module/edge.js';
import type { HostInventory } from '../../src/module/host-inventory.js';
import { applyPatch, type JsonObject } from '../../src/report/twin.js';
import type { Report } from '../../src/report/types.js';
import { assertValidReport } from '../support/report-schema.js';
import { endpoint, healthyInterface, healthyServer, HUB } from '../support/observations.js';
import { healthyRouteTable } from '../support/plumbing.js';

/** Overrides of an endpoint's report, as endpoint() takes them. */
type Bent = NonNullable<Parameters<typeof endpoint>[1]>;

interface DepsOptions {
  /** Keeps DNS queries pending until it settles. */
  hold?: Promise<void>;
  /** What the hub's 5671 answers (default open). */
  amqp?: () => Bent;
}

function fakeDeps(o: DepsOptions = {}): CheckDeps {
  const secureContext = createSecureContext();
  return {
    observeInterfaces: async (names) => names.map((name) => ({ ...healthyInterface({ name }), ifindex: 2 })),
    readRouteTable: async () => healthyRouteTable(),
    readNetworkd: async () => ({ files: [], problems: [] }),
    readLease: async () => null,
    readResolvers: async () => ({
      source: 'resolv.conf',
      files: ['/etc/resolv.conf'],
      servers: ['198.18.0.53'],
      stub: false,
      problems: [],
    }),
    ping: async () => ({ sent: 3, received: 3, lossPercent: 0, rttAvgMs: Math.random() }),
    queryDns: async (_server, name) => {
      await o.hold;
      return { ...healthyServer().queries[0]!, name, rttMs: Math.random() * 10 };
    },
    loadTrust: async () => ({ secureContext, problems: [] }),
    probeEndpoint: async (t) =>
      endpoint(t.port, { host: t.host, tcpConnectMs: Math.random(), ...(t.port === 5671 ? o.amqp?.() : {}) }),
    hostInfo: async () => null,
  };
}

const refused = (): Bent => ({
  outcome: 'rejected',
  tls: undefined,
  error: { phase: 'connect', code: 'ECONNREFUSED', message: 'refused' },
});

/** A stand-in for EdgeLink that applies patches like IoT Hub and lets a test wait for what arrives. */
class FakeLink implements Link {
  connected = false;
  reported: JsonObject = {};
  readonly patches: JsonObject[] = [];
  readonly sent: OutputMessage[] = [];
  reads = 0;
  refuse = false;
  private waiters: Array<{ what: 'send' | 'patch'; count: number; resolve: () => void }> = [];
  start(): void {}
  async updateReported(patch: JsonObject): Promise<void> {
    if (this.refuse) throw new TwinRefusedError('Twin section size 40000 after this patch would exceed maximum 32768');
    this.patches.push(patch);
    this.reported = applyPatch(this.reported, patch);
    this.wake();
  }
  async readReported(): Promise<JsonObject> {
    this.reads++;
    return { ...structuredClone(this.reported), $version: 3 };
  }
  async sendOutput(_output: string, msg: OutputMessage): Promise<void> {
    this.sent.push(msg);
    this.wake();
  }
  async close(): Promise<void> {}
  /** Settles once `count` telemetry messages (or patches) have arrived in all. */
  until(what: 'send' | 'patch', count: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ what, count, resolve });
      this.wake();
    });
  }
  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      const n = w.what === 'send' ? this.sent.length : this.patches.length;
      if (n < w.count) return true;
      w.resolve();
      return false;
    });
  }
  summaries(): Array<{ checkId: string; trigger: string; droppedWhileOffline?: number }> {
    return this.sent.map((m) => JSON.parse(m.body) as { checkId: string; trigger: string });
  }
}

function makeAgent(deps = fakeDeps(), extra: Partial<ConstructorParameters<typeof NetdiagAgent>[0]> = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  const agent = new NetdiagAgent({
    env: { IOTEDGE_IOTHUBHOSTNAME: HUB, NETDIAG_DEADLINE: '2000' },
    log,
    checkDeps: deps,
    linkPollMs: 3_600_000,
    random: () => 0.5, // no jitter: the schedule is exact
    ...extra,
  });
  return { agent, lines };
}

/** A connected agent whose startup check is done; the twin read at connect is `reported`. */
async function started(t: TestContext, deps = fakeDeps(), reported: JsonObject = {}, extra = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.UTC(2026, 10, 26, 6) });
  const { agent, lines } = makeAgent(deps, extra);
  const link = new FakeLink();
  link.connected = true;
  link.reported = structuredClone(reported);
  agent.start(link);
  agent.onConnected({ ...reported, $version: 2 });
  agent.onDesired({ $version: 2 }, 2, true); // the full desired document: the startup check starts
  await link.until('send', 1);
  await link.until('patch', 1);
  return { agent, link, lines };
}

/** Moves the mock clock by one interval (300 s) and waits for that scheduled check's telemetry. */
async function nextScheduled(t: TestContext, link: FakeLink): Promise<void> {
  const arrived = link.until('send', link.sent.length + 1);
  t.mock.timers.tick(300_000);
  await arrived;
}

describe('NetdiagAgent', () => {
  test('getLastReport answers 404 before any check, and 200 with the last report after one', async () => {
    const { agent } = makeAgent();
    assert.equal((await agent.onMethod('getLastReport', null)).status, 404);
    const run = await agent.onMethod('runDiagnostics', null);
    assert.equal(run.status, 200);
    assertValidReport(run.payload);
    const last = await agent.onMethod('getLastReport', null);
    assert.equal((last.payload as Report).checkId, (run.payload as Report).checkId);
    await agent.stop();
  });

  test('identical calls share one running check, different ones do not', async () => {
    let release: () => void = () => undefined;
    const hold = new Promise<void>((r) => (release = r));
    const { agent } = makeAgent(fakeDeps({ hold }));
    const a = agent.onMethod('runDiagnostics', { components: ['dns'] });
    const b = agent.onMethod('runDiagnostics', { components: ['dns'] });
    const c = agent.onMethod('runDiagnostics', { components: ['dns'], timeoutMs: 500 });
    release();
    const [ra, rb, rc] = (await Promise.all([a, b, c])).map((r) => r.payload as Report);
    assert.equal(ra!.checkId, rb!.checkId);
    assert.notEqual(ra!.checkId, rc!.checkId);
    await agent.stop();
  });

  test('offline: telemetry is queued (bounded, counted) and sent in order on connect; the twin gets the latest in one patch', async () => {
    const { agent } = makeAgent();
    const link = new FakeLink();
    agent.start(link);
    const ids: string[] = [];
    for (let i = 0; i < TELEMETRY_QUEUE_MAX + 5; i++)
      ids.push(((await agent.onMethod('runDiagnostics', { components: ['ip'] })).payload as Report).checkId);
    assert.equal(link.sent.length, 0);
    link.connected = true;
    agent.onConnected({});
    await link.until('send', TELEMETRY_QUEUE_MAX);
    await link.until('patch', 1);
    assert.deepEqual(
      link.summaries().map((s) => s.checkId),
      ids.slice(5),
    );
    assert.equal(link.summaries()[0]!.droppedWhileOffline, 5);
    assert.equal(link.patches.length, 1);
    assert.equal((link.patches[0]!['lastCheck'] as JsonObject)['checkId'], ids.at(-1));
    await agent.stop();
  });

  test('steady state: scheduled checks patch nothing until the heartbeat, which is lastCheck alone (≤ 512 bytes)', async (t) => {
    const { agent, link } = await started(t);
    assert.equal(link.summaries()[0]!.trigger, 'startup');
    const afterStartup = link.patches.length;
    for (let i = 1; i <= 11; i++) await nextScheduled(t, link);
    assert.equal(link.patches.length, afterStartup, '11 scheduled checks of a steady device: no patch');
    assert.equal(link.sent.length, 12, 'but one telemetry message each');
    const patched = link.until('patch', afterStartup + 1);
    await nextScheduled(t, link); // 3600 s after the startup check: the heartbeat
    await patched;
    const heartbeat = link.patches.at(-1)!;
    assert.deepEqual(Object.keys(heartbeat), ['lastCheck']);
    assert.equal((heartbeat['lastCheck'] as JsonObject)['trigger'], 'schedule');
    assert.ok(Buffer.byteLength(JSON.stringify(heartbeat)) <= 512);
    assert.equal(link.reads, 1, 'the first heartbeat reads the twin back: the startup patch was a change');
    await agent.stop();
  });

  test('a fault appears (patched at once, since = that check), persists (since unchanged, no patch), clears (removed)', async (t) => {
    let amqp: () => Bent = () => ({});
    const { agent, link } = await started(t, fakeDeps({ amqp: () => amqp() }));
    amqp = refused;
    const appeared = link.until('patch', link.patches.length + 1);
    await nextScheduled(t, link);
    await appeared;
    const findings = () => link.reported['findings'] as JsonObject[];
    const fault = findings().find((f) => f['code'] === 'FW_PORT_REJECTED')!;
    const firstSeen = (agent.report as Report).startedAt;
    assert.equal(fault['since'], firstSeen);
    assert.equal(link.reported['statusSince'], firstSeen);
    assert.equal(link.reported['status'], 'unhealthy');
    const patches = link.patches.length;
    for (let i = 0; i < 3; i++) await nextScheduled(t, link);
    assert.equal(link.patches.length, patches, 'a persisting fault changes nothing in the twin');
    assert.equal(findings().find((f) => f['code'] === 'FW_PORT_REJECTED')!['since'], firstSeen);
    amqp = () => ({});
    const cleared = link.until('patch', patches + 1);
    await nextScheduled(t, link);
    await cleared;
    assert.equal(link.reported['status'], 'healthy');
    assert.ok(!JSON.stringify(link.reported).includes('FW_PORT_REJECTED'), 'the cleared fault is gone');
    assert.equal(link.reported['failingComponent'], undefined);
    await agent.stop();
  });

  test('a restart keeps statusSince and since from the twin when the state is the same', async (t) => {
    const earlier = '2026-11-20T00:00:00.000Z';
    const first = await started(t, fakeDeps({ amqp: refused }));
    await first.agent.stop();
    const twin = structuredClone(first.link.reported);
    // What the previous run reported, but older: the fault has been there since `earlier`.
    twin['statusSince'] = earlier;
    for (const f of twin['findings'] as JsonObject[]) f['since'] = earlier;
    t.mock.timers.reset();
    const second = await started(t, fakeDeps({ amqp: refused }), twin);
    assert.equal(second.link.reported['statusSince'], earlier);
    assert.ok((second.link.reported['findings'] as JsonObject[]).every((f) => f['since'] === earlier));
    assert.ok(!('statusSince' in second.link.patches.at(-1)!), 'unchanged, so not in the patch');
    await second.agent.stop();
  });

  test('a desired change is acknowledged, and a change to what is examined runs a configChange check', async (t) => {
    const { agent, link } = await started(t);
    const sent = link.until('send', 2);
    agent.onDesired({ dnsNames: ['a.example'], $version: 3 }, 3, false);
    await sent;
    assert.equal(link.summaries()[1]!.trigger, 'configChange');
    assert.deepEqual(link.reported['dnsNames'], { value: ['a.example'], ac: 200, av: 3, ad: 'applied' });
    await agent.stop();
  });

  test('the host inventory is the twin host; the vantage is in every report and in the twin', async (t) => {
    const inventory: HostInventory = {
      os: 'Azure Linux 3.0',
      osFrom: 'kernel',
      kernel: '6.6.44.1-2.azl3',
      arch: 'x64',
      cpus: 4,
      cpuModel: null,
      memoryMB: 4096,
      bootedAt: '2026-11-26T05:00:00.000Z',
    };
    const { agent, link } = await started(
      t,
      fakeDeps(),
      {},
      { inventory: Promise.resolve(inventory), vantage: 'container' },
    );
    assert.deepEqual(link.reported['host'], {
      os: 'Azure Linux 3.0',
      osFrom: 'kernel',
      kernel: '6.6.44.1-2.azl3',
      arch: 'x64',
      cpus: 4,
      memoryMB: 4096,
      bootedAt: '2026-11-26T05:00:00.000Z',
    });
    assert.equal(link.reported['vantage'], 'container');
    assert.equal((agent.report as Report).vantage, 'container');
    await agent.stop();
  });

  test('a refused patch is logged and the module carries on; the next change lands', async (t) => {
    const { agent, link, lines } = await started(t);
    link.refuse = true;
    await agent.onMethod('runDiagnostics', { components: ['ip'] });
    link.refuse = false;
    const patched = link.until('patch', link.patches.length + 1);
    const ok = (await agent.onMethod('runDiagnostics', { components: ['dns'] })).payload as Report;
    await patched;
    assert.ok(lines.some((l) => l['msg'] === 'edgeHub refused the reported properties'));
    assert.equal((link.reported['lastCheck'] as JsonObject)['checkId'], ok.checkId);
    await agent.stop();
  });
});
