/**
 * NetdiagAgent on its own, with fake probes and a fake edgeHub link: the states the process-level
 * tests cannot pin down exactly (no report yet, a check held open on purpose, a full offline
 * queue, a refused twin patch), plus the 32 KB budget of the reported section.
 */
import assert from 'node:assert/strict';
import { createSecureContext } from 'node:tls';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { CheckDeps } from '../../src/check.js';
import type { Link } from '../../src/module/agent.js';
import { NetdiagAgent, TELEMETRY_QUEUE_MAX, withDroppedCount } from '../../src/module/agent.js';
import { TwinRefusedError } from '../../src/module/edge.js';
import type { OutputMessage } from '../../src/module/edge.js';
import { REPORTED_MAX_BYTES, fitAcks } from '../../src/module/twin-budget.js';
import { fitReport, reportToTwin, reportedSize, type JsonObject } from '../../src/report/twin.js';
import type { Report } from '../../src/report/types.js';
import { assertValidReport } from '../support/report-schema.js';
import { makeReport, skippedClock, skippedProxy } from '../support/reports.js';
import { endpoint, healthyInterface, healthyServer, HUB } from '../support/observations.js';

const defaultVia = (gateway: string) =>
  ({
    family: 4,
    destination: '0.0.0.0',
    prefixLength: 0,
    gateway,
    interface: 'eth0',
    metric: 100,
    type: 'unicast',
  }) as const;

/** Healthy fake probes; `hold` keeps the DNS query pending until released. */
function fakeDeps(hold?: Promise<void>): CheckDeps {
  const secureContext = createSecureContext();
  return {
    observeInterfaces: async (names) => names.map((name) => ({ ...healthyInterface({ name }), ifindex: 2 })),
    readRouteTable: async () => ({ routes: [defaultVia('198.18.0.1')], problems: [] }),
    readNetworkd: async () => ({ files: [], problems: [] }),
    readLease: async () => null,
    readResolvers: async () => ({
      source: 'resolv.conf',
      files: ['/etc/resolv.conf'],
      servers: ['198.18.0.53'],
      stub: false,
      problems: [],
    }),
    ping: async () => ({ sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.2 }),
    queryDns: async (_server, name) => {
      await hold;
      return { ...healthyServer().queries[0]!, name };
    },
    loadTrust: async () => ({ secureContext, problems: [] }),
    probeEndpoint: async (t) => endpoint(t.port, { host: t.host }),
    hostInfo: async () => null,
  };
}

class FakeLink implements Link {
  connected = false;
  patches: JsonObject[] = [];
  sent: OutputMessage[] = [];
  refuse = false;
  start(): void {}
  async updateReported(patch: JsonObject): Promise<void> {
    if (this.refuse) throw new TwinRefusedError('Twin section size 40000 after this patch would exceed maximum 32768');
    this.patches.push(patch);
  }
  async sendOutput(_output: string, msg: OutputMessage): Promise<void> {
    this.sent.push(msg);
  }
  async close(): Promise<void> {}
}

function makeAgent(deps = fakeDeps(), random?: () => number) {
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
    ...(random ? { random } : {}),
  });
  return { agent, lines };
}

/** Lets pending promise chains (a check with fake probes) run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

const triggers = (link: FakeLink): string[] =>
  link.sent.map((m) => (JSON.parse(m.body) as { trigger: string }).trigger);

describe('NetdiagAgent', () => {
  it('answers getLastReport with 404 {error} before any check, and 200 after one', async () => {
    const { agent } = makeAgent();
    const none = await agent.onMethod('getLastReport', null);
    assert.equal(none.status, 404);
    const error = (none.payload as { error: { code: string; message: string } }).error;
    assert.equal(typeof error.code, 'string');
    assert.ok(error.message.length > 0);
    const run = await agent.onMethod('runDiagnostics', null);
    assert.equal(run.status, 200);
    assertValidReport(run.payload);
    const last = await agent.onMethod('getLastReport', null);
    assert.equal(last.status, 200);
    assert.equal((last.payload as Report).checkId, (run.payload as Report).checkId);
    await agent.stop();
  });

  it('shares one running check between identical calls, not between different ones', async () => {
    let release: () => void = () => undefined;
    const hold = new Promise<void>((r) => (release = r));
    const { agent } = makeAgent(fakeDeps(hold));
    const a = agent.onMethod('runDiagnostics', { components: ['dns'] });
    const b = agent.onMethod('runDiagnostics', { components: ['dns'] });
    const c = agent.onMethod('runDiagnostics', { components: ['dns'], timeoutMs: 500 });
    release();
    const [ra, rb, rc] = (await Promise.all([a, b, c])).map((r) => r.payload as Report);
    assert.equal(ra!.checkId, rb!.checkId);
    assert.notEqual(ra!.checkId, rc!.checkId);
    await agent.stop();
  });

  it('queues telemetry while offline, drops the oldest beyond the bound with a count, and sends the rest in order', async () => {
    const { agent, lines } = makeAgent();
    const link = new FakeLink();
    agent.start(link);
    const ids: string[] = [];
    for (let i = 0; i < TELEMETRY_QUEUE_MAX + 5; i++)
      ids.push(((await agent.onMethod('runDiagnostics', { components: ['ip'] })).payload as Report).checkId);
    assert.equal(link.sent.length, 0);
    link.connected = true;
    agent.onConnected({});
    await new Promise((r) => setTimeout(r, 50));
    const sentIds = link.sent.map((m) => (JSON.parse(m.body) as { checkId: string }).checkId);
    assert.deepEqual(sentIds, ids.slice(5), 'the newest 50, oldest first');
    // The first message after the gap says how many were lost; the others do not repeat it.
    const counts = link.sent.map((m) => (JSON.parse(m.body) as { droppedWhileOffline?: number }).droppedWhileOffline);
    assert.deepEqual(counts, [5, ...Array<undefined>(TELEMETRY_QUEUE_MAX - 1).fill(undefined)]);
    assert.ok(link.sent.every((m) => Buffer.byteLength(m.body) <= 4096));
    assert.ok(
      lines.some(
        (l) => l['msg'] === 'telemetry messages were dropped while offline (queue full)' && l['dropped'] === 5,
      ),
    );
    // The twin gets the latest state only, in one patch.
    assert.equal(link.patches.length, 1);
    assert.equal((link.patches[0]!['lastCheck'] as { checkId: string }).checkId, ids.at(-1));
    await agent.stop();
  });

  it('checks every intervalSeconds (jitter at most +10 %), and follows a desired interval change', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const { agent } = makeAgent(fakeDeps(), () => 1); // the largest jitter: +10 %
    const link = new FakeLink();
    link.connected = true;
    agent.start(link);
    agent.onDesired({ $version: 2 }, 2, true);
    agent.onConnected({});
    await settle();
    assert.deepEqual(triggers(link), ['startup']);
    t.mock.timers.tick(330_000 - 1);
    await settle();
    assert.deepEqual(triggers(link), ['startup'], 'not before 300 s + 10 %');
    t.mock.timers.tick(1);
    await settle();
    assert.deepEqual(triggers(link), ['startup', 'schedule']);
    // A shorter interval takes effect at once, and is not itself a reason to check (nothing examined changed).
    agent.onDesired({ intervalSeconds: 60, $version: 3 }, 3, false);
    await settle();
    assert.deepEqual(triggers(link), ['startup', 'schedule']);
    t.mock.timers.tick(66_000);
    await settle();
    assert.deepEqual(triggers(link), ['startup', 'schedule', 'schedule']);
    await agent.stop();
  });

  it('keeps lastStatusChangeAt from before a restart when the verdict is the same, even if edgeHub came late', async () => {
    const { agent } = makeAgent();
    const link = new FakeLink();
    agent.start(link);
    await agent.onMethod('runDiagnostics', null); // checked while edgeHub was away
    link.connected = true;
    const earlier = '2026-01-01T00:00:00.000Z';
    agent.onConnected({ status: 'healthy', lastStatusChangeAt: earlier, lastCheck: { checkId: 'old' }, $version: 9 });
    await settle();
    assert.equal(link.patches.length, 1);
    assert.equal(link.patches[0]!['lastStatusChangeAt'], undefined, 'unchanged, so not in the patch');
    assert.equal(link.patches[0]!['failingComponent'], undefined, 'absent before and after: null is never written');
    // A different verdict is a change, dated by the check that saw it.
    const bad = fakeDeps();
    bad.probeEndpoint = async (t) =>
      endpoint(t.port, {
        host: t.host,
        outcome: 'rejected',
        tls: undefined,
        error: { phase: 'connect', code: 'ECONNREFUSED', message: 'refused' },
      });
    const { agent: other } = makeAgent(bad);
    const link2 = new FakeLink();
    link2.connected = true;
    other.start(link2);
    other.onConnected({ status: 'healthy', lastStatusChangeAt: earlier });
    const report = (await other.onMethod('runDiagnostics', null)).payload as Report;
    await settle();
    assert.equal(report.status, 'unhealthy');
    assert.equal(link2.patches.at(-1)!['lastStatusChangeAt'], report.startedAt);
    await agent.stop();
    await other.stop();
  });

  it('keeps working when edgeHub refuses a reported patch', async () => {
    const { agent, lines } = makeAgent();
    const link = new FakeLink();
    link.connected = true;
    agent.start(link);
    agent.onConnected({});
    link.refuse = true;
    await agent.onMethod('runDiagnostics', { components: ['ip'] });
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(lines.some((l) => l['msg'] === 'edgeHub refused the reported properties'));
    link.refuse = false;
    const ok = (await agent.onMethod('runDiagnostics', { components: ['dns'] })).payload as Report;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((link.patches.at(-1)!['lastCheck'] as { checkId: string }).checkId, ok.checkId);
    await agent.stop();
  });
});

describe('withDroppedCount', () => {
  it('adds the count and still fits one 4 KB block, dropping the least severe findings first', () => {
    const findings = Array.from({ length: 40 }, (_, i) => ({
      code: 'FW_PORT_REJECTED',
      severity: i < 5 ? 'error' : 'warning',
      component: 'firewall',
      subject: `${'h'.repeat(60)}${i}:1`,
    }));
    const summary = {
      schemaVersion: 1,
      checkId: 'c',
      trigger: 'schedule',
      startedAt: 's',
      durationMs: 1,
      status: 'unhealthy',
      failingComponent: 'firewall',
      findings,
      findingsOmitted: 0,
      timings: {},
    };
    while (Buffer.byteLength(JSON.stringify(summary)) > 4096) summary.findings.pop();
    summary.findingsOmitted = 40 - summary.findings.length;
    const body = withDroppedCount(JSON.stringify(summary), 7);
    assert.ok(Buffer.byteLength(body) <= 4096);
    const out = JSON.parse(body) as typeof summary & { droppedWhileOffline: number };
    assert.equal(out.droppedWhileOffline, 7);
    assert.equal(out.findings.length + out.findingsOmitted, 40);
    assert.deepEqual(
      out.findings.slice(0, 5).map((f) => f.severity),
      ['error', 'error', 'error', 'error', 'error'],
    );
  });
});

describe('the reported section stays inside 32 KB', () => {
  const bigAck = (i: number): JsonObject => ({ value: `/${'x'.repeat(4000)}${i}`, ac: 200, av: 3, ad: 'applied' });

  it('leaves normal acknowledgements exact, and shortens the longest ones beyond the budget', () => {
    const small: JsonObject = { timeoutMs: { value: 2000, ac: 200, av: 2, ad: 'applied' } };
    assert.equal(fitAcks(small), small);
    const acks: JsonObject = { ...small };
    for (let i = 0; i < 5; i++) acks[`path${i}`] = bigAck(i);
    const fitted = fitAcks(acks);
    assert.ok(reportedSize(fitted) <= 8 * 1024, `${reportedSize(fitted)} bytes`);
    assert.deepEqual(fitted['timeoutMs'], small['timeoutMs'], 'small ones untouched');
    assert.match(String((fitted['path0'] as JsonObject)['ad']), /shortened/);
    assert.equal((fitted['path0'] as JsonObject)['ac'], 200);
  });

  it('fits any report projection into its budget: evidence strings first, then findings (counted)', () => {
    const base = healthyInterface({ name: 'eth0', configFile: `/${'n'.repeat(4000)}` });
    const healthy = makeReport();
    const report = makeReport({
      trigger: 'method',
      status: 'unhealthy',
      failingComponent: 'firewall',
      components: {
        ip: { status: 'healthy', interfaces: [base], defaultGateway: null },
        dns: healthy.components.dns,
        firewall: { status: 'unhealthy', upstreamProtocol: 'Amqp', endpoints: [endpoint(443)] },
        proxy: skippedProxy(),
        clock: skippedClock(),
      },
      findings: Array.from(
        { length: 60 },
        (_, i) =>
          ({
            code: 'FW_PORT_REJECTED',
            severity: i < 10 ? 'error' : 'warning',
            component: 'firewall',
            subject: `h${i}:1`,
            message: 'm'.repeat(400),
            guidance: 'g'.repeat(400),
          }) as const,
      ),
    });
    assertValidReport(report);
    const budget = 12 * 1024;
    // reportToTwin fits itself; fitReport on its output must change nothing more.
    const doc = reportToTwin(report, report.startedAt, budget);
    assert.deepEqual(fitReport(doc, budget), doc);
    assert.ok(reportedSize(doc) <= budget, `${reportedSize(doc)} bytes`);
    const kept = doc['findings'] as JsonObject[];
    assert.equal(kept.length + (doc['findingsOmitted'] as number), 60);
    assert.ok(kept.length > 0 && kept.every((f, i) => i >= 10 || f['severity'] === 'error'), 'most severe kept first');
    assert.ok(reportedSize(doc) < REPORTED_MAX_BYTES);
  });
});
