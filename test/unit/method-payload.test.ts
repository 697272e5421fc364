/**
 * The runDiagnostics payload (CONTRACT.md 5.3): null or {components?, timeoutMs?, deadlineMs?,
 * endpoints? (≤ 16)}; anything else is a PayloadError with a code and a clear message. Also the
 * configuration a call runs with, the key that lets equal calls share one check, and the 128 KB
 * cap on a method response.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSync } from '../../src/config/resolve.js';
import type { CheckConfig } from '../../src/config/types.js';
import { fitResponse } from '../../src/module/agent.js';
import {
  METHOD_DEADLINE_MAX_MS,
  METHOD_MAX_ENDPOINTS,
  PayloadError,
  configForRequest,
  parseRunDiagnostics,
  requestKey,
  type RunDiagnosticsRequest,
} from '../../src/module/method-payload.js';
import type { Finding, Report } from '../../src/report/types.js';
import { healthyGateway, healthyServer, HUB } from '../support/observations.js';
import { assertValidReport } from '../support/report-schema.js';
import { healthyComponents, makeReport } from '../support/reports.js';

const endpoints = (n: number) => Array.from({ length: n }, (_, i) => ({ host: `h${i}.example`, port: 443 }));

describe('parseRunDiagnostics: accepted payloads', () => {
  const cases: Array<[string, unknown, RunDiagnosticsRequest]> = [
    ['null', null, {}],
    ['undefined (no payload)', undefined, {}],
    ['an empty object', {}, {}],
    ['one component', { components: ['dns'] }, { components: ['dns'] }],
    [
      'components in any order come out in layer order',
      { components: ['firewall', 'ip'] },
      { components: ['ip', 'firewall'] },
    ],
    ['components in any letter case', { components: ['DNS', 'Firewall'] }, { components: ['dns', 'firewall'] }],
    ['all three', { components: ['ip', 'dns', 'firewall'] }, { components: ['ip', 'dns', 'firewall'] }],
    ['timeoutMs', { timeoutMs: 1000 }, { timeoutMs: 1000 }],
    ['deadlineMs at the cap', { deadlineMs: METHOD_DEADLINE_MAX_MS }, { deadlineMs: 25000 }],
    ['deadlineMs at the minimum', { deadlineMs: 500 }, { deadlineMs: 500 }],
    [
      'endpoints as objects',
      { endpoints: [{ host: 'Reg.AzureCR.io', port: 443 }] },
      { endpoints: [{ host: 'reg.azurecr.io', port: 443 }] },
    ],
    [
      'an IPv6 endpoint',
      { endpoints: [{ host: 'fd00::1', port: 8883 }] },
      { endpoints: [{ host: 'fd00::1', port: 8883 }] },
    ],
    ['16 endpoints', { endpoints: endpoints(16) }, { endpoints: endpoints(16) }],
    ['an empty endpoint list', { endpoints: [] }, { endpoints: [] }],
    [
      'everything',
      { components: ['firewall'], timeoutMs: 2000, deadlineMs: 10000, endpoints: [{ host: 'a.example', port: 5671 }] },
      { components: ['firewall'], timeoutMs: 2000, deadlineMs: 10000, endpoints: [{ host: 'a.example', port: 5671 }] },
    ],
  ];
  for (const [name, payload, expected] of cases) {
    test(name, () => assert.deepEqual(parseRunDiagnostics(payload), expected));
  }

  test('the limits of the contract', () => {
    assert.equal(METHOD_DEADLINE_MAX_MS, 25000);
    assert.equal(METHOD_MAX_ENDPOINTS, 16);
  });
});

describe('parseRunDiagnostics: refused payloads → PayloadError {code, message}', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a string instead of an object', 'runDiagnostics', 'InvalidPayload', /JSON object/],
    ['a JSON string of an object (double-encoded)', '{"components":["dns"]}', 'InvalidPayload', /JSON object/],
    ['a number', 42, 'InvalidPayload', /JSON object/],
    ['a boolean', true, 'InvalidPayload', /JSON object/],
    ['an array', [{ components: ['dns'] }], 'InvalidPayload', /JSON object/],
    [
      'an unknown key',
      { component: ['dns'] },
      'UnknownProperty',
      /component\b.*allowed: components, timeoutMs, deadlineMs, endpoints/,
    ],
    ['several unknown keys', { verbose: true, force: 1, deadlineMs: 1000 }, 'UnknownProperty', /verbose, force/],
    ['components empty', { components: [] }, 'InvalidValue', /components.*non-empty/],
    [
      'components unknown',
      { components: ['dns', 'disk'] },
      'InvalidValue',
      /"disk".*components.*ip, dns, proxy, firewall, clock/,
    ],
    ['components not a list', { components: { dns: true } }, 'InvalidValue', /components/],
    ['components of the wrong type', { components: [1] }, 'InvalidValue', /components/],
    [
      'components with more entries than there are layers',
      { components: ['ip', 'dns', 'proxy', 'firewall', 'clock', 'ip'] },
      'InvalidValue',
      /components/,
    ],
    ['timeoutMs a string of words', { timeoutMs: 'fast' }, 'InvalidValue', /"fast".*timeoutMs.*whole number/],
    ['timeoutMs a boolean', { timeoutMs: true }, 'InvalidValue', /timeoutMs/],
    ['timeoutMs a fraction', { timeoutMs: 1500.5 }, 'InvalidValue', /timeoutMs/],
    ['timeoutMs below the minimum', { timeoutMs: 10 }, 'InvalidValue', /timeoutMs.*100 to 60000/],
    ['timeoutMs null', { timeoutMs: null }, 'InvalidValue', /timeoutMs/],
    ['deadlineMs above 25000', { deadlineMs: 25001 }, 'InvalidValue', /deadlineMs.*500 to 25000/],
    ['deadlineMs of a minute', { deadlineMs: 60000 }, 'InvalidValue', /deadlineMs.*25000/],
    ['deadlineMs below 500', { deadlineMs: 100 }, 'InvalidValue', /deadlineMs/],
    ['deadlineMs an object', { deadlineMs: { ms: 1000 } }, 'InvalidValue', /deadlineMs/],
    ['more than 16 endpoints', { endpoints: endpoints(17) }, 'InvalidValue', /endpoints.*at most 16/],
    ['endpoints as one string', { endpoints: 'reg.azurecr.io:443' }, 'InvalidValue', /endpoints.*array/],
    ['endpoints as one object', { endpoints: { host: 'reg.azurecr.io', port: 443 } }, 'InvalidValue', /endpoints/],
    [
      'an endpoint without a port',
      { endpoints: [{ host: 'reg.azurecr.io' }] },
      'InvalidValue',
      /endpoints.*1 to 65535/,
    ],
    ['an endpoint with port 0', { endpoints: [{ host: 'reg.azurecr.io', port: 0 }] }, 'InvalidValue', /endpoints/],
    [
      'an endpoint with an extra key',
      { endpoints: [{ host: 'reg.azurecr.io', port: 443, tls: false }] },
      'InvalidValue',
      /endpoints.*\{host, port\}/,
    ],
    [
      'an endpoint with a bad host',
      { endpoints: [{ host: 'not a host', port: 443 }] },
      'InvalidValue',
      /"not a host".*endpoints/,
    ],
    ['an endpoint that is a number', { endpoints: [443] }, 'InvalidValue', /endpoints/],
  ];
  for (const [name, payload, code, message] of cases) {
    test(`${name} → ${code}`, () => {
      assert.throws(
        () => parseRunDiagnostics(payload),
        (err: unknown) => {
          assert.ok(err instanceof PayloadError, `expected PayloadError, got ${String(err)}`);
          assert.equal(err.name, 'PayloadError');
          assert.equal(err.code, code);
          assert.match(err.message, message);
          assert.ok(!err.message.includes('\n'), 'one line');
          assert.ok(err.message.length < 400, 'short enough to read in the portal');
          return true;
        },
      );
    });
  }

  test('a PayloadError maps onto the 400 body {error: {code, message}}', () => {
    try {
      parseRunDiagnostics({ deadlineMs: 99999 });
      assert.fail('expected a PayloadError');
    } catch (err) {
      assert.ok(err instanceof PayloadError);
      const body = JSON.parse(JSON.stringify({ error: { code: err.code, message: err.message } })) as {
        error: { code: string; message: string };
      };
      assert.equal(body.error.code, 'InvalidValue');
      assert.match(body.error.message, /99999/);
    }
  });
});

describe('configForRequest', () => {
  const base: CheckConfig = resolveSync({
    env: { NETDIAG_TIMEOUT: '4000', NETDIAG_DEADLINE: '20000', NETDIAG_HUB: 'h.azure-devices.net' },
  });

  test('an empty request keeps the base configuration', () => {
    assert.deepEqual(configForRequest(base, {}), base);
  });

  test("the request's components, timeout, deadline and endpoints replace the base ones; the rest is kept", () => {
    const c = configForRequest(base, {
      components: ['dns'],
      timeoutMs: 1000,
      deadlineMs: 5000,
      endpoints: [{ host: 'a.example', port: 443 }],
    });
    assert.deepEqual(c.components, ['dns']);
    assert.equal(c.timeoutMs, 1000);
    assert.equal(c.deadlineMs, 5000);
    assert.deepEqual(c.endpoints, [{ host: 'a.example', port: 443 }]);
    assert.equal(c.hub, 'h.azure-devices.net');
    assert.deepEqual(c.interfaces, base.interfaces);
    assert.equal(c.resolvConf, base.resolvConf);
  });

  test('a base deadline above the method cap is capped at 25000', () => {
    const long = resolveSync({ env: { NETDIAG_DEADLINE: '120000' } });
    assert.equal(configForRequest(long, {}).deadlineMs, METHOD_DEADLINE_MAX_MS);
  });

  test('the probe timeout never exceeds the deadline', () => {
    assert.equal(configForRequest(base, { deadlineMs: 800 }).timeoutMs, 800);
    assert.equal(configForRequest(base, { timeoutMs: 60000, deadlineMs: 3000 }).timeoutMs, 3000);
    const slow = resolveSync({ env: { NETDIAG_TIMEOUT: '60000', NETDIAG_DEADLINE: '300000' } });
    const c = configForRequest(slow, {});
    assert.equal(c.deadlineMs, 25000);
    assert.equal(c.timeoutMs, 25000);
  });

  test('the base is not modified', () => {
    const before = structuredClone(base);
    configForRequest(base, { components: ['ip'], timeoutMs: 100, deadlineMs: 500, endpoints: [] });
    assert.deepEqual(base, before);
  });
});

describe('requestKey: equal parameters share one running check', () => {
  const base = resolveSync({ env: { NETDIAG_HUB: 'h.azure-devices.net' } });
  const keyOf = (payload: unknown) => requestKey(configForRequest(base, parseRunDiagnostics(payload)));

  const same: Array<[unknown, unknown]> = [
    [null, {}],
    [null, undefined],
    [{ components: ['dns', 'ip'] }, { components: ['ip', 'dns'] }],
    [{ components: ['DNS'] }, { components: ['dns'] }],
    [{ endpoints: [{ host: 'A.example', port: 443 }] }, { endpoints: [{ port: 443, host: 'a.example' }] }],
    [{ deadlineMs: 15000 }, {}],
    [{ timeoutMs: 3000, deadlineMs: 15000, components: ['ip', 'dns', 'proxy', 'firewall', 'clock'] }, null],
  ];
  for (const [a, b] of same) {
    test(`${JSON.stringify(a)} ≡ ${JSON.stringify(b)}`, () => assert.equal(keyOf(a), keyOf(b)));
  }

  const different: Array<[unknown, unknown]> = [
    [{ components: ['dns'] }, { components: ['ip'] }],
    [{ timeoutMs: 1000 }, { timeoutMs: 2000 }],
    [{ deadlineMs: 5000 }, { deadlineMs: 6000 }],
    [{ endpoints: [{ host: 'a.example', port: 443 }] }, { endpoints: [{ host: 'a.example', port: 8443 }] }],
    [null, { endpoints: [{ host: 'a.example', port: 443 }] }],
  ];
  for (const [a, b] of different) {
    test(`${JSON.stringify(a)} ≢ ${JSON.stringify(b)}`, () => assert.notEqual(keyOf(a), keyOf(b)));
  }

  test('a different hub or interface list is a different check', () => {
    const k = requestKey(base);
    assert.notEqual(requestKey({ ...base, hub: 'other.azure-devices.net' }), k);
    assert.notEqual(requestKey({ ...base, interfaces: ['eth1'] }), k);
  });
});

describe('fitResponse: a method response stays under 128 KB', () => {
  const LIMIT = 128 * 1024;

  function report(over: Partial<Report> = {}): Report {
    const healthy = healthyComponents();
    return makeReport({
      checkId: '9b2f4c1e-3d5a-4e6f-8a7b-1c2d3e4f5a6b',
      trigger: 'method',
      durationMs: 640,
      components: { ...healthy, ip: { ...healthy.ip, defaultGateway: healthyGateway({ rttMs: 0.3 }) } },
      timings: { ip: 10, dns: 20, firewall: 30 },
      ...over,
    });
  }

  test('a normal report is returned as it is', () => {
    const r = report();
    assertValidReport(r);
    assert.equal(fitResponse(r), r);
  });

  test('a report bloated by DNS answers and IPv6 addresses is slimmed, marked truncated, and still a valid Report', () => {
    const r = report();
    const answers = Array.from({ length: 400 }, (_, i) => `198.18.${Math.floor(i / 250)}.${i % 250}`);
    r.components.dns.servers = Array.from({ length: 8 }, (_, i) =>
      healthyServer(`198.18.0.${50 + i}`, {
        queries: Array.from({ length: 8 }, (_, j) => ({
          name: `n${j}.${HUB}`,
          type: 'A' as const,
          outcome: 'answered' as const,
          rcode: 'NOERROR',
          answers,
          rttMs: 1,
          transport: 'tcp' as const,
        })),
      }),
    );
    assertValidReport(r);
    assert.ok(Buffer.byteLength(JSON.stringify(r)) > LIMIT, 'the input is over the limit');
    const out = fitResponse(r) as Report & { truncated?: boolean };
    assert.ok(Buffer.byteLength(JSON.stringify(out)) <= LIMIT, `${Buffer.byteLength(JSON.stringify(out))} bytes`);
    assert.equal(out.truncated, true);
    assertValidReport(out);
    assert.equal(out.checkId, r.checkId);
    assert.equal(out.components.dns.servers.length, 8, 'every server is still there');
    assert.ok(out.components.dns.servers.every((s) => s.queries.every((q) => q.answers.length <= 4)));
    assert.equal(r.components.dns.servers[0]!.queries[0]!.answers.length, 400, 'the stored report is not modified');
  });

  test('a report that slimming cannot save falls back to the compact twin form, still under the limit', () => {
    const findings: Finding[] = Array.from({ length: 200 }, (_, i) => ({
      code: 'FW_PORT_BLOCKED',
      severity: 'error',
      component: 'firewall',
      subject: `h${i}.example:443`,
      message: 'm'.repeat(800),
      guidance: 'g'.repeat(800),
    }));
    const r = report({ status: 'unhealthy', failingComponent: 'firewall', findings });
    assertValidReport(r);
    assert.ok(Buffer.byteLength(JSON.stringify(r)) > LIMIT);
    const out = fitResponse(r) as Record<string, unknown>;
    assert.ok(Buffer.byteLength(JSON.stringify(out)) <= LIMIT);
    assert.equal(out['truncated'], true);
    assert.equal(out['status'], 'unhealthy');
    assert.equal(out['failingComponent'], 'firewall');
    assert.ok(Array.isArray(out['findings']) && out['findings'].length > 0, 'the verdict keeps its evidence');
    assert.equal((out['findings'] as unknown[]).length + (out['findingsOmitted'] as number), 200);
  });
});
