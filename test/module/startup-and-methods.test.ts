/**
 * The module process against the edgeHub emulator: the startup report in the twin and in
 * telemetry, the direct methods (runDiagnostics, getLastReport) and their refusals, and logs.
 * The lab's hub resets connections on 5671 (the Amqp port), so the device is unhealthy with a
 * failing component: the twin and telemetry must carry a real verdict, not just "healthy".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../../src/report/types.js';
import { mergeSkipped } from '../../src/module/merge-skipped.js';
import { LAB_ADDR } from '../lab/harness.js';
import { requireLab } from '../lab/require-lab.js';
import { assertHealthyLogs, assertTelemetryOf, assertTwinShowsReport, errorFrom, reportFrom } from './assertions.js';
import { SLOW_PORT, secretLeaks, startModuleLab } from './module-harness.js';
import type { ModuleLab, ModuleProcess } from './module-harness.js';

const skip = requireLab();
const MODULE = 'netdiag';

describe('module: startup report and direct methods', { skip }, () => {
  let ml: ModuleLab;
  let mod: ModuleProcess;
  let debugging: ModuleProcess;
  let lastCheckId = '';

  before(async () => {
    ml = await startModuleLab({ label: 'module-methods', lab: { hub: { ports: { 5671: 'reset' } } }, slowPort: true });
    [mod, debugging] = await Promise.all([
      ml.startModule({ moduleId: MODULE }),
      // An operator troubleshooting the SDK sets DEBUG: its libraries then print the MQTT CONNECT.
      ml.startModule({ moduleId: 'debugging', env: { DEBUG: '*' } }),
    ]);
  });
  after(async () => {
    await ml?.close();
  });

  const invoke = (method: string, payload: unknown, responseTimeoutInSeconds = 10) =>
    ml.invoke(MODULE, method, payload, { responseTimeoutInSeconds });

  it('publishes the startup report to the twin and as one telemetry message', async () => {
    const lastCheck = await ml.until(
      () => ml.reported(MODULE)['lastCheck'] as { checkId: string; trigger: string } | undefined,
      'the startup report is in the twin',
      20_000,
    );
    assert.equal(lastCheck.trigger, 'startup');
    // The full startup report, to compare the twin and the telemetry with.
    const report = reportFrom(await invoke('getLastReport', null));
    assert.equal(report.checkId, lastCheck.checkId);
    assert.equal(report.trigger, 'startup');
    assert.equal(report.status, 'unhealthy');
    assert.equal(report.failingComponent, 'firewall');
    assert.ok(
      report.findings.some((f) => f.subject === 'lab-hub.azure-devices.net:5671'),
      'the 5671 fault is a finding',
    );
    assertTwinShowsReport(ml.reported(MODULE), report);

    const event = await ml.eventFor(MODULE, report.checkId);
    assertTelemetryOf(event, report);
    assert.equal(event.messageId, report.checkId, 'the message-id is the checkId, so a duplicate can be recognised');
    assert.equal(event.properties['status'], 'unhealthy');
    assert.equal(event.properties['failingComponent'], 'firewall');
    assert.equal(ml.emu.events.filter((e) => e.moduleId === MODULE).length, 1, 'one message per completed check');
    lastCheckId = report.checkId;
  });

  it('runDiagnostics with null runs a full check, answers within its deadline, updates the twin and sends telemetry', async () => {
    // deadline 6 s (NETDIAG_DEADLINE): IoT Hub's 8 s response timeout turns a late answer into a 504.
    const report = reportFrom(await invoke('runDiagnostics', null, 8));
    assert.equal(report.trigger, 'method');
    assert.ok(report.durationMs <= 6000, `durationMs ${report.durationMs} within the 6000 ms deadline`);
    assert.deepEqual([report.components.ip.status, report.components.dns.status], ['healthy', 'healthy']);
    assert.equal(report.failingComponent, 'firewall');
    await ml.until(
      () => (ml.reported(MODULE)['lastCheck'] as { checkId?: string } | undefined)?.checkId === report.checkId,
      'the twin shows the method run',
    );
    assertTwinShowsReport(ml.reported(MODULE), report);
    assertTelemetryOf(await ml.eventFor(MODULE, report.checkId), report);
    lastCheckId = report.checkId;
  });

  it('runDiagnostics {components: ["dns"], deadlineMs: 3000} examines DNS only, within 3 s', async () => {
    const previous = reportFrom(await invoke('getLastReport', null));
    const report = reportFrom(await invoke('runDiagnostics', { components: ['dns'], deadlineMs: 3000 }, 5));
    assert.equal(report.trigger, 'method');
    assert.ok(report.durationMs <= 3000, `durationMs ${report.durationMs} within the 3000 ms deadline`);
    assert.equal(report.components.dns.status, 'healthy');
    assert.equal(report.components.ip.status, 'skipped');
    assert.equal(report.components.firewall.status, 'skipped');
    assert.deepEqual(report.components.firewall.endpoints, []);
    assert.equal(report.status, 'healthy');
    await ml.until(
      () => (ml.reported(MODULE)['lastCheck'] as { checkId?: string } | undefined)?.checkId === report.checkId,
      'the twin shows the DNS-only run',
    );
    // The twin describes the device: the layers this call skipped keep the earlier full check's
    // result and findings (a DNS-only call must not hide a broken firewall from the fleet view).
    const state = mergeSkipped(report, previous);
    // The clock is examined by every full check now (CONTRACT 7.4); the proxy stays skipped (none configured).
    assert.deepEqual(
      state.carriedOver?.map((c) => c.component),
      ['ip', 'firewall', 'clock'],
    );
    assertTwinShowsReport(ml.reported(MODULE), state);
    assert.equal(ml.reported(MODULE)['status'], previous.status);
    const last = reportFrom(await invoke('getLastReport', null));
    assert.equal(last.checkId, report.checkId);
    assert.deepEqual(
      last.carriedOver?.map((c) => c.checkId),
      [previous.checkId, previous.checkId, previous.checkId],
    );
    const event = await ml.eventFor(MODULE, report.checkId);
    assertTelemetryOf(event, state);
    assert.equal(event.properties['trigger'], 'method');
    lastCheckId = report.checkId;
  });

  it('two concurrent identical runDiagnostics calls share one check', async () => {
    // The probe of a dropped port lasts its whole timeout, so the second call surely finds the first running.
    const payload = {
      components: ['firewall'],
      endpoints: [{ host: LAB_ADDR.hub, port: SLOW_PORT }],
      timeoutMs: 1500,
      deadlineMs: 3000,
    };
    const [a, b] = await Promise.all([invoke('runDiagnostics', payload, 5), invoke('runDiagnostics', payload, 5)]);
    const ra = reportFrom(a);
    const rb = reportFrom(b);
    assert.equal(ra.checkId, rb.checkId, 'one check answered both calls');
    const slow = ra.components.firewall.endpoints.find((e) => e.port === SLOW_PORT);
    assert.equal(slow?.outcome, 'blocked');
    assert.ok(ra.findings.some((f) => f.code === 'FW_PORT_BLOCKED' && f.subject === `${LAB_ADDR.hub}:${SLOW_PORT}`));
    const completions = mod.logs().filter((l) => l.msg === 'check complete' && l['checkId'] === ra.checkId);
    assert.equal(completions.length, 1);
    // A different request does not join it.
    const other = reportFrom(await invoke('runDiagnostics', { components: ['ip'], deadlineMs: 3000 }, 5));
    assert.notEqual(other.checkId, ra.checkId);
    lastCheckId = other.checkId;
  });

  it('getLastReport answers 200 with the last report', async () => {
    const report: Report = reportFrom(await invoke('getLastReport', null));
    assert.equal(report.checkId, lastCheckId);
    await ml.until(
      () => (ml.reported(MODULE)['lastCheck'] as { checkId?: string } | undefined)?.checkId === lastCheckId,
      'the twin shows the last run',
    );
    // Reading the last report is not a check: nothing new is published.
    const before = ml.emu.events.length;
    reportFrom(await invoke('getLastReport', {}));
    assert.equal(ml.emu.events.length, before);
  });

  it('refuses invalid runDiagnostics payloads with 400 {error: {code, message}} and keeps running', async () => {
    const endpoints17 = Array.from({ length: 17 }, (_, i) => ({ host: LAB_ADDR.hub, port: 10_000 + i }));
    const bad: Array<[string, unknown]> = [
      ['an unknown key', { components: ['dns'], verbose: true }],
      ['deadlineMs 999999', { deadlineMs: 999_999 }],
      ['17 endpoints', { endpoints: endpoints17 }],
      ['a string payload', 'run everything'],
      ['components: []', { components: [] }],
      ['an unknown component', { components: ['dns', 'http'] }],
      ['a negative timeout', { timeoutMs: -1 }],
      ['a fractional deadline', { deadlineMs: 1500.5 }],
      ['endpoints as a string', { endpoints: 'x' }],
      ['an endpoint without a port', { endpoints: [{ host: LAB_ADDR.hub }] }],
      ['an endpoint with a bad host', { endpoints: [{ host: 'not a host', port: 443 }] }],
      ['an array payload', [1, 2, 3]],
      ['a number payload', 42],
      ['nested garbage', { components: [[['dns']]], timeoutMs: { ms: 100 } }],
    ];
    const before = ml.emu.events.length;
    for (const [what, payload] of bad) {
      const error = errorFrom(await invoke('runDiagnostics', payload, 5));
      assert.match(error.code, /^[A-Za-z]+$/, what);
    }
    // Bodies that are not JSON never reach the handler: the SDK itself answers 400.
    for (const rawBody of ['', '{"components":', 'not json']) {
      const r = await ml.emu.invokeMethod(ml.emu.deviceId, MODULE, 'runDiagnostics', undefined, {
        rawBody,
        responseTimeoutInSeconds: 5,
      });
      assert.equal(r.status, 400, `raw body ${JSON.stringify(rawBody)}`);
    }
    // A method the module does not implement is answered at once, naming the ones it does (no 504).
    const unknown = await invoke('reboot', null, 20);
    assert.equal(unknown.status, 404, unknown.rawPayload);
    assert.equal((unknown.payload as { error: { code: string } }).error.code, 'UnknownMethod');
    assert.deepEqual((unknown.payload as { error: { methods: string[] } }).error.methods, [
      'runDiagnostics',
      'getLastReport',
    ]);
    assert.equal(ml.emu.events.length, before, 'no check ran for a refused call');
    assert.equal(mod.running, true);
    assert.equal(reportFrom(await invoke('getLastReport', null)).checkId, lastCheckId, 'the module still answers');
  });

  it("keeps every reported patch inside IoT Hub's twin rules", () => {
    assert.ok(ml.emu.acceptedPatches.filter((p) => p.moduleId === MODULE).length >= 4);
    assert.deepEqual(
      ml.emu.rejectedPatches.map((p) => `${p.rule ?? ''}: ${p.error ?? ''}`),
      [],
    );
  });

  it("masks the SAS token even in the SDK's own debug output (DEBUG=*)", async () => {
    await ml.until(
      () => ml.reported('debugging')['lastCheck'],
      'the debugging module published its startup report',
      20_000,
    );
    assert.ok(debugging.strayLines().length > 0, 'the SDK wrote debug output');
    assert.ok(
      debugging.stderr.includes('SharedAccessSignature=<redacted>'),
      'the CONNECT password was printed, masked',
    );
    assert.deepEqual(secretLeaks(debugging.stderr, [ml.emu.identity('debugging')?.hubKey ?? '']), []);
    assert.equal(debugging.running, true);
  });

  it('logs IoT Edge lines without secrets, at the level asked for, and never crashed', () => {
    const key = ml.emu.identity(MODULE)?.hubKey ?? '';
    assert.ok(key.length > 0);
    assertHealthyLogs(mod, [key]);
    // NETDIAG_LOG_LEVEL=debug (the harness) reaches the logger: debug lines, with severity 7.
    const debug = mod.logs().filter((l) => l.msg === 'direct method called');
    assert.ok(debug.length > 0 && debug.every((l) => l.level === 20 && l.severity === 7));
    assert.ok(mod.logs().some((l) => l.msg === 'unknown direct method answered 404' && l['method'] === 'reboot'));
    const complete = mod.logs().filter((l) => l.msg === 'check complete');
    assert.ok(complete.length >= 5, 'each check is logged');
    for (const l of complete) assert.equal(typeof l['checkId'], 'string');
  });
});
