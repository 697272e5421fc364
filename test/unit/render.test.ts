/**
 * `eflow-netdiag render` on its own (src/render.ts, src/report/twin-text.ts): a Report prints exactly
 * as `check` prints it, a method response prints its Report, a module twin prints its compact form
 * with what it has, and anything else is a DataError (exit 65) with a one-line reason.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DataError, readInput, renderDocument, renderInput } from '../../src/render.js';
import { renderText } from '../../src/report/text.js';
import { isModuleTwin, renderTwin } from '../../src/report/twin-text.js';
import { reportToTwin, findingKey, type JsonObject } from '../../src/report/twin.js';
import type { Finding, Report } from '../../src/report/types.js';
import { UsageError } from '../../src/cli.js';
import { endpoint, HUB } from '../support/observations.js';
import { makeReport } from '../support/reports.js';

const blocked: Finding = {
  code: 'FW_PORT_BLOCKED',
  severity: 'error',
  component: 'firewall',
  subject: `${HUB}:5671`,
  message: 'No answer connecting to the hub on 5671 within 3000 ms.',
  guidance: 'Ask the network team to allow outbound TCP 5671.',
};
const publicDns: Finding = {
  code: 'DNS_PUBLIC_SERVER',
  severity: 'info',
  component: 'dns',
  subject: '8.8.8.8',
  message: 'A public resolver is configured.',
  guidance: 'Corporate networks often block them.',
};

function broken(): Report {
  const r = makeReport({ status: 'unhealthy', failingComponent: 'firewall', findings: [blocked, publicDns] });
  r.components.firewall.status = 'unhealthy';
  r.components.firewall.endpoints[1] = endpoint(5671, {
    outcome: 'blocked',
    tls: undefined,
    tcpConnectMs: null,
    error: { phase: 'connect', code: 'ETIMEDOUT', message: 'timed out' },
  });
  return r;
}

const SINCE = '2026-11-26T05:00:00.000Z';
const twinOf = (r: Report): JsonObject =>
  reportToTwin(r, { statusSince: SINCE, since: new Map([[findingKey(blocked), SINCE]]) });

describe('render: Reports and method responses', () => {
  test('a Report prints exactly what check prints', () => {
    const r = broken();
    assert.equal(renderDocument(JSON.parse(JSON.stringify(r))), renderText(r));
  });

  test('a runDiagnostics/getLastReport response ({status, payload}) prints its Report', () => {
    const r = broken();
    assert.equal(renderInput(JSON.stringify({ status: 200, payload: r }), 'x'), renderText(r));
  });

  test('a Report from before the proxy and clock layers prints them as not examined', () => {
    const r = JSON.parse(JSON.stringify(makeReport())) as Record<string, unknown>;
    const components = r['components'] as Record<string, unknown>;
    delete components['proxy'];
    delete components['clock'];
    delete r['timedOut'];
    const text = renderDocument(r);
    assert.match(text, /^Proxy {5}skipped/m);
    assert.match(text, /^Clock {5}skipped/m);
  });
});

describe('render: a module twin', () => {
  const reported = twinOf(broken());

  test('az iot hub module-twin show (with $metadata and $version), or its properties.reported: the same text', () => {
    const shown = {
      deviceId: 'edge-1',
      moduleId: 'netdiag',
      properties: {
        desired: { $version: 2 },
        reported: { ...reported, $version: 9, $metadata: { $lastUpdated: SINCE } },
      },
    };
    assert.equal(renderDocument(shown), renderTwin(reported));
    assert.equal(renderDocument({ ...reported, $version: 9 }), renderTwin(reported));
    assert.ok(isModuleTwin(reported));
  });

  test("it has check's verdict, finding lines and layer sections, with since, and says what a twin does not hold", () => {
    const text = renderTwin(reported);
    const lines = text.split('\n');
    assert.equal(lines[0], renderText(broken()).split('\n')[0], 'the same verdict line');
    for (const line of [
      `  [ERROR] FW_PORT_BLOCKED  (${HUB}:5671)`,
      `          ${blocked.message}`,
      `          Next step: ${blocked.guidance}`,
      `          Since: ${SINCE}`,
      '  [INFO ] DNS_PUBLIC_SERVER  (8.8.8.8)',
    ])
      assert.ok(lines.includes(line), `has the line ${JSON.stringify(line)}`);
    for (const header of [
      'IP        healthy',
      'DNS       healthy  (from resolv.conf)',
      'Proxy     skipped (no proxy configured)',
      'Firewall  unhealthy  (upstream protocol Amqp)',
      'Clock     skipped',
    ])
      assert.ok(lines.includes(header), header);
    assert.match(text, /lab-hub\.azure-devices\.net:5671 +amqp +blocked +198\.18\.1\.10 \(ETIMEDOUT\)/);
    assert.match(text, /unhealthy since 2026-11-26T05:00:00\.000Z/);
    assert.match(
      text,
      /Not in a twin: round-trip times, durations, counters, DNS answers, TLS details and the clock offset/,
    );
    assert.doesNotMatch(text, /undefined|null|NaN|\[object/);
  });

  test('a twin written before the proxy and clock layers, or with findings left out, still renders', () => {
    const old: JsonObject = { ...reported, findingsOmitted: 3 };
    delete old['proxy'];
    delete old['clock'];
    const text = renderTwin(old);
    assert.match(text, /3 less severe findings left out of the twin/);
    assert.match(text, /^Proxy {5}not in the twin/m);
    assert.doesNotMatch(text, /undefined|NaN|\[object/);
  });
});

describe('render: bad input is a DataError with a one-line reason', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', 'garbage\n{', /^x is not JSON \(/],
    ['an array', '[1,2]', /expected a JSON object/],
    [
      'another JSON object',
      '{"hello":"world"}',
      /not a Report, a direct-method response or an eflow-netdiag module twin/,
    ],
    [
      'a method refusal',
      '{"status":404,"payload":{"error":{"code":"NoReport","message":"no check has completed yet"}}}',
      /the method answered 404: NoReport: no check/,
    ],
    ['a method timeout', '{"status":504,"payload":null}', /the method answered 504/],
    ['a Report of another schema', JSON.stringify({ ...makeReport(), schemaVersion: 2 }), /schemaVersion is 2/],
    [
      'a Report with a broken finding',
      JSON.stringify({ ...makeReport(), findings: [{ code: 'X' }] }),
      /a finding lacks/,
    ],
    [
      'a Report without its dns layer',
      JSON.stringify({ ...makeReport(), components: { ip: makeReport().components.ip } }),
      /components\.dns is missing/,
    ],
    ['an empty twin', JSON.stringify({ properties: { reported: { $version: 1 } } }), /not a Report/],
  ];
  for (const [what, text, message] of cases) {
    test(what, () => {
      assert.throws(
        () => renderInput(text, 'x'),
        (err: unknown) => err instanceof DataError && message.test(err.message) && !err.message.includes('\n'),
      );
    });
  }

  test('arguments: one FILE or -, no options (UsageError, exit 64); a terminal on stdin is a usage error too', async () => {
    const io = { stdout: () => undefined, readStdin: async () => null };
    await assert.rejects(readInput(['a', 'b'], io), UsageError);
    await assert.rejects(readInput(['--json'], io), UsageError);
    await assert.rejects(readInput([], io), UsageError);
    await assert.rejects(
      readInput(['/nonexistent/twin.json'], io),
      (e: unknown) => e instanceof DataError && /ENOENT/.test(e.message),
    );
    assert.deepEqual(await readInput(['-'], { ...io, readStdin: async () => '{}' }), {
      text: '{}',
      source: 'standard input',
    });
  });
});
