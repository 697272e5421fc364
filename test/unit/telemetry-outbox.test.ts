/**
 * TelemetryOutbox (src/module/telemetry-outbox.ts, CONTRACT.md 5.4/5.5): one summary per check,
 * queued while offline, bounded with a count of what was dropped, sent in order, one at a time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { OutputMessage } from '../../src/module/edge.js';
import {
  OUTPUT_NAME,
  TELEMETRY_QUEUE_MAX,
  TelemetryOutbox,
  messageOf,
  withDroppedCount,
  type DeliveredSummary,
  type TelemetrySink,
} from '../../src/module/telemetry-outbox.js';
import { telemetrySummary, type TelemetrySummary } from '../../src/report/telemetry.js';
import type { Finding } from '../../src/report/types.js';
import { makeReport } from '../support/reports.js';

const report = (i: number, over: Parameters<typeof makeReport>[0] = {}) =>
  makeReport({ checkId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, ...over });

/** A sink that records, can be offline, and can fail a send; `sent` resolves waiters as messages arrive. */
class Sink implements TelemetrySink {
  connected = true;
  fail = false;
  readonly sent: Array<{ output: string; msg: OutputMessage }> = [];
  async sendOutput(output: string, msg: OutputMessage): Promise<void> {
    if (this.fail) throw new Error('not connected to edgeHub');
    this.sent.push({ output, msg });
  }
  bodies(): DeliveredSummary[] {
    return this.sent.map((s) => JSON.parse(s.msg.body) as DeliveredSummary);
  }
}

function setUp(max?: number) {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  return { outbox: new TelemetryOutbox(log, max), lines };
}

describe('TelemetryOutbox', () => {
  test('one message per report on the diagnostics output: summary body, messageId = checkId, routable properties', async () => {
    const { outbox } = setUp();
    const sink = new Sink();
    const r = report(1, {
      status: 'unhealthy',
      failingComponent: 'dns',
      trigger: 'method',
      findings: [
        {
          code: 'DNS_SERVER_NOT_ANSWERING',
          severity: 'error',
          component: 'dns',
          subject: '198.18.0.53',
          message: 'm',
          guidance: 'g',
        },
      ],
    });
    assert.equal(outbox.add(r, 'always'), true);
    await outbox.flush(sink);
    assert.equal(sink.sent.length, 1);
    const { output, msg } = sink.sent[0]!;
    assert.equal(output, OUTPUT_NAME);
    assert.equal(msg.messageId, r.checkId);
    assert.deepEqual(msg.properties, { status: 'unhealthy', failingComponent: 'dns', trigger: 'method' });
    assert.deepEqual(JSON.parse(msg.body), telemetrySummary(r));
    assert.equal(outbox.size, 0);
  });

  test('"failingComponent" is "none" when nothing fails', () => {
    assert.equal(messageOf(telemetrySummary(report(1))).properties['failingComponent'], 'none');
  });

  test('modes: off sends nothing, onChange only when the state changes', async () => {
    const { outbox } = setUp();
    assert.equal(outbox.add(report(1), 'off'), false);
    assert.equal(outbox.add(report(2), 'onChange'), true);
    assert.equal(outbox.add(report(3), 'onChange'), false, 'same state');
    assert.equal(outbox.add(report(4, { status: 'degraded' }), 'onChange'), true);
    assert.equal(outbox.size, 2);
  });

  test('offline: queued; beyond the bound the oldest are dropped, and the first message delivered says how many', async () => {
    const { outbox, lines } = setUp();
    const sink = new Sink();
    sink.connected = false;
    for (let i = 0; i < TELEMETRY_QUEUE_MAX + 5; i++) outbox.add(report(i), 'always');
    await outbox.flush(sink);
    assert.equal(sink.sent.length, 0);
    assert.equal(outbox.size, TELEMETRY_QUEUE_MAX);
    assert.equal(outbox.dropped, 5);
    sink.connected = true;
    await outbox.flush(sink);
    const bodies = sink.bodies();
    assert.deepEqual(
      bodies.map((b) => b.checkId),
      Array.from({ length: TELEMETRY_QUEUE_MAX }, (_, i) => report(i + 5).checkId),
      'the newest, oldest first',
    );
    assert.deepEqual(
      bodies.map((b) => b.droppedWhileOffline),
      [5, ...Array<undefined>(TELEMETRY_QUEUE_MAX - 1).fill(undefined)],
    );
    assert.ok(sink.sent.every((s) => Buffer.byteLength(s.msg.body) <= 4096));
    assert.equal(outbox.dropped, 0);
    assert.ok(
      lines.some(
        (l) => l['msg'] === 'telemetry messages were dropped while offline (queue full)' && l['dropped'] === 5,
      ),
    );
  });

  test('a failed send keeps the message (and the rest) for the next flush, in order', async () => {
    const { outbox, lines } = setUp();
    const sink = new Sink();
    sink.fail = true;
    outbox.add(report(1), 'always');
    outbox.add(report(2), 'always');
    await outbox.flush(sink);
    assert.equal(outbox.size, 2);
    assert.ok(lines.some((l) => l['msg'] === 'telemetry not delivered; kept for after reconnect'));
    sink.fail = false;
    await outbox.flush(sink);
    assert.deepEqual(
      sink.bodies().map((b) => b.checkId),
      [report(1).checkId, report(2).checkId],
    );
  });

  test('one flush at a time; a message added while it runs is sent by it', async () => {
    const { outbox } = setUp();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    let inFlight = 0;
    let most = 0;
    const sink: TelemetrySink = {
      connected: true,
      async sendOutput(_o, msg) {
        inFlight++;
        most = Math.max(most, inFlight);
        await gate;
        sent.push(msg.messageId ?? '');
        inFlight--;
      },
    };
    outbox.add(report(1), 'always');
    const a = outbox.flush(sink);
    outbox.add(report(2), 'always');
    const b = outbox.flush(sink);
    release();
    await Promise.all([a, b]);
    assert.equal(most, 1);
    assert.deepEqual(sent, [report(1).checkId, report(2).checkId]);
  });

  test('a stopped module sends no more', async () => {
    const { outbox } = setUp();
    const sink = new Sink();
    outbox.add(report(1), 'always');
    await outbox.flush(sink, () => true);
    assert.equal(sink.sent.length, 0);
  });
});

describe('withDroppedCount', () => {
  test('adds the count and still fits one 4 KB block, dropping the least severe findings first', () => {
    const findings: Finding[] = Array.from({ length: 40 }, (_, i) => ({
      code: 'FW_PORT_REJECTED',
      severity: i < 5 ? 'error' : 'warning',
      component: 'firewall',
      subject: `${'h'.repeat(60)}${i}:1`,
      message: 'm',
      guidance: 'g',
    }));
    const summary: TelemetrySummary = telemetrySummary(
      report(1, { status: 'unhealthy', failingComponent: 'firewall', findings }),
    );
    assert.ok(summary.findingsOmitted > 0, 'the summary itself had to leave some out');
    const out = withDroppedCount(summary, 7);
    assert.ok(Buffer.byteLength(JSON.stringify(out)) <= 4096);
    assert.equal(out.droppedWhileOffline, 7);
    assert.equal(out.findings.length + out.findingsOmitted, 40);
    assert.deepEqual(
      out.findings.slice(0, 5).map((f) => f.severity),
      Array(5).fill('error'),
    );
    assert.equal((summary as DeliveredSummary).droppedWhileOffline, undefined, 'the queued summary is not changed');
  });
});
