/**
 * The direct methods on their own (src/module/methods.ts, CONTRACT.md 5.3): answers, refusals and
 * the 128 KB response limit, against a stand-in module.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSync } from '../../src/config/resolve.js';
import type { CheckConfig } from '../../src/config/types.js';
import { answerMethod, fitResponse, type MethodTarget } from '../../src/module/methods.js';
import type { Report, Trigger } from '../../src/report/types.js';
import { assertValidReport } from '../support/report-schema.js';
import { healthyServer, HUB } from '../support/observations.js';
import { makeReport } from '../support/reports.js';

function target(last: Report | null = null) {
  const calls: Array<{ trigger: Trigger; config: CheckConfig }> = [];
  const t: MethodTarget = {
    lastReport: () => last,
    config: () => resolveSync({ env: { IOTEDGE_IOTHUBHOSTNAME: HUB } }),
    check: async (trigger, config) => {
      calls.push({ trigger, config });
      return makeReport({ trigger });
    },
  };
  return { t, calls };
}

describe('answerMethod', () => {
  test('getLastReport: 404 NoReport before any check, 200 with the last report after', async () => {
    const none = await answerMethod(target().t, 'getLastReport', null);
    assert.equal(none.status, 404);
    assert.equal((none.payload as { error: { code: string } }).error.code, 'NoReport');
    const last = makeReport();
    const some = await answerMethod(target(last).t, 'getLastReport', {});
    assert.equal(some.status, 200);
    assert.equal(some.payload, last);
  });

  test('runDiagnostics null: a full check with trigger method, answered 200 with its report', async () => {
    const { t, calls } = target();
    const r = await answerMethod(t, 'runDiagnostics', null);
    assert.equal(r.status, 200);
    assertValidReport(r.payload);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.trigger, 'method');
    assert.deepEqual(calls[0]!.config.components, ['ip', 'dns', 'proxy', 'firewall', 'clock']);
  });

  test('runDiagnostics with a payload narrows the check, the deadline capped to the method window', async () => {
    const { t, calls } = target();
    await answerMethod(t, 'runDiagnostics', { components: ['dns'], deadlineMs: 20_000, timeoutMs: 60_000 });
    assert.deepEqual(calls[0]!.config.components, ['dns']);
    assert.equal(calls[0]!.config.deadlineMs, 20_000);
    assert.equal(calls[0]!.config.timeoutMs, 20_000, 'a probe timeout never exceeds the deadline');
  });

  test('an invalid payload is refused 400 {error: {code, message}} and no check runs', async () => {
    const { t, calls } = target();
    for (const payload of ['all', [1], { verbose: true }, { deadlineMs: 999_999 }, { components: [] }]) {
      const r = await answerMethod(t, 'runDiagnostics', payload);
      assert.equal(r.status, 400, JSON.stringify(payload));
      const e = (r.payload as { error: { code: string; message: string } }).error;
      assert.match(e.code, /^[A-Za-z]+$/);
      assert.ok(e.message.length > 0);
    }
    assert.equal(calls.length, 0);
  });

  test('a name it does not implement: 404 UnknownMethod (edge.ts answers these before the handler, too)', async () => {
    const r = await answerMethod(target().t, 'reboot', null);
    assert.equal(r.status, 404);
    assert.equal((r.payload as { error: { code: string } }).error.code, 'UnknownMethod');
  });
});

describe('fitResponse', () => {
  test('a normal report is answered as it is', () => {
    const r = makeReport();
    assert.equal(fitResponse(r), r);
  });

  test('an oversized report drops bulky evidence first, and is marked truncated; never over 128 KB', () => {
    const r = makeReport();
    r.components.dns.servers = Array.from({ length: 8 }, (_, i) =>
      healthyServer(`198.18.0.${50 + i}`, {
        queries: Array.from({ length: 8 }, () => ({
          ...healthyServer().queries[0]!,
          answers: Array.from({ length: 300 }, (_, j) => `198.18.${i}.${j % 250}`),
        })),
      }),
    );
    assert.ok(Buffer.byteLength(JSON.stringify(r)) > 128 * 1024);
    const fitted = fitResponse(r) as Report & { truncated?: boolean };
    assert.equal(fitted.truncated, true);
    assert.ok(Buffer.byteLength(JSON.stringify(fitted)) <= 128 * 1024);
    assert.ok(fitted.components.dns.servers.every((s) => s.queries.every((q) => q.answers.length <= 4)));
  });
});
