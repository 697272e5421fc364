/**
 * The module-twin projection of a Report (CONTRACT.md 5.2) and the patch logic around it: IoT Hub's
 * twin rules (keys, depth, string and document size), findings trimmed most-severe-first with a
 * count of what was left out, collections as arrays, and patches that remove what is no longer true.
 * The twin rules are checked twice: by a walk written here and by test/hub/twin-rules.ts (the
 * emulator's independent implementation of IoT Hub's validator).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  REPORT_BUDGET_BYTES,
  REPORT_KEYS,
  applyPatch,
  reportToTwin,
  reportedPatch,
  reportedSize,
  twinSize,
  type JsonObject,
  type JsonValue,
} from '../../src/report/twin.js';
import type { Finding, Report, Severity } from '../../src/report/types.js';
import {
  applyTwinPatch,
  mergeTwinPatch,
  twinSectionSize,
  validateTwinPatch,
  type JsonObject as HubJson,
} from '../hub/twin-rules.js';
import { endpoint, healthyGateway, healthyInterface, healthyServer, HUB } from '../support/observations.js';
import { assertValidReport } from '../support/report-schema.js';
import { healthyComponents, makeReport } from '../support/reports.js';

const TWIN_MAX = 32 * 1024;
const CHANGED_AT = '2026-11-26T05:00:00.000Z';

function report(over: Partial<Report> = {}): Report {
  const healthy = healthyComponents();
  return makeReport({
    checkId: '3f0c8a52-6a4e-4c8e-9d3b-2f1e0a7b5c11',
    durationMs: 412,
    components: { ...healthy, ip: { ...healthy.ip, defaultGateway: healthyGateway({ rttMs: 0.4 }) } },
    timings: { ip: 12, dns: 40, firewall: 90 },
    ...over,
  });
}

function finding(i: number, severity: Severity, over: Partial<Finding> = {}): Finding {
  return {
    code:
      severity === 'error' ? 'FW_PORT_BLOCKED' : severity === 'warning' ? 'IP_INTERFACE_ERRORS' : 'DNS_PUBLIC_SERVER',
    severity,
    component: 'firewall',
    subject: `${HUB}:${1000 + i}`,
    message: `finding ${i}: connect timed out`,
    guidance: 'open the port on the corporate firewall',
    ...over,
  };
}

/** A blocked AMQP port: the twin of a fault that will later clear. */
function unhealthy(): Report {
  const r = report({
    status: 'unhealthy',
    failingComponent: 'firewall',
    checkId: '4a1b2c3d-0000-4000-8000-000000000001',
  });
  r.components.firewall.status = 'unhealthy';
  r.components.firewall.endpoints[1] = endpoint(5671, { outcome: 'blocked', tcpConnectMs: null, tls: undefined });
  r.findings = [
    finding(0, 'error', { subject: `${HUB}:5671` }),
    finding(1, 'info', { code: 'DNS_PUBLIC_SERVER', component: 'dns', subject: '8.8.8.8' }),
  ];
  return r;
}

/** Many long findings, least severe first, with multi-byte text and oversized strings. */
function crowded(): Report {
  const order: Severity[] = ['info', 'warning', 'error'];
  const findings = Array.from({ length: 300 }, (_, i) =>
    finding(i, order[Math.floor(i / 100)]!, {
      subject: `${'s'.repeat(5000)}${i}`,
      message: `${'é'.repeat(3000)} ${i}`,
      guidance: `${'Set-EflowVmDnsServers '.repeat(300)}${i}`,
    }),
  );
  return report({ status: 'unhealthy', failingComponent: 'firewall', findings });
}

interface Walked {
  path: string;
  key: string | null;
  value: JsonValue;
  depth: number;
}

/** Every value in the document with its key and object depth (the root's members are at depth 1). */
function walk(value: JsonValue, path = '', key: string | null = null, depth = 0, out: Walked[] = []): Walked[] {
  out.push({ path, key, value, depth });
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}/${i}`, null, depth, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walk(v, `${path}/${k}`, k, depth + 1, out);
  }
  return out;
}

function assertTwinRules(doc: JsonObject): void {
  for (const { path, key, value, depth } of walk(doc)) {
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this checks for
    if (key !== null) assert.doesNotMatch(key, /[.$#\s\u0000-\u001f\u007f]/, `key at ${path}`);
    if (key !== null) assert.ok(key.length > 0 && Buffer.byteLength(key) <= 1024, `key length at ${path}`);
    assert.ok(depth <= 10, `depth ${depth} at ${path}`);
    if (typeof value === 'string')
      assert.ok(Buffer.byteLength(value) <= 4096, `string of ${Buffer.byteLength(value)} bytes at ${path}`);
    if (Array.isArray(value)) assert.ok(!value.includes(null), `null inside the array at ${path}`);
  }
  assert.ok(twinSize(doc) <= TWIN_MAX, `twinSize ${twinSize(doc)}`);
  assert.ok(twinSectionSize(doc) <= TWIN_MAX, `section size ${twinSectionSize(doc)}`);
  assert.ok(
    Buffer.byteLength(JSON.stringify(doc)) <= TWIN_MAX,
    `patch JSON ${Buffer.byteLength(JSON.stringify(doc))} bytes`,
  );
  assert.equal(validateTwinPatch(doc), undefined);
  const outcome = applyTwinPatch({}, doc);
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.violation.message);
}

const rank = { error: 0, warning: 1, info: 2 } as const;
const findingsOf = (doc: JsonObject) => doc['findings'] as JsonObject[];

describe('reportToTwin', () => {
  test('the literal reports used here are valid Reports', () => {
    assertValidReport(report());
    assertValidReport(unhealthy());
    assertValidReport(crowded());
  });

  test('carries the top-level fields of CONTRACT.md 5.2', () => {
    const doc = reportToTwin(unhealthy(), CHANGED_AT);
    for (const k of [
      'schemaVersion',
      'status',
      'failingComponent',
      'lastCheck',
      'statusSince',
      'lastStatusChangeAt',
      'ip',
      'dns',
      'firewall',
      'findings',
    ]) {
      assert.ok(k in doc, k);
    }
    assert.equal(doc['schemaVersion'], 1);
    assert.equal(doc['status'], 'unhealthy');
    assert.equal(doc['failingComponent'], 'firewall');
    assert.equal(doc['statusSince'], CHANGED_AT);
    assert.equal(
      doc['lastStatusChangeAt'],
      CHANGED_AT,
      'the older name, kept equal for fleet queries written against it',
    );
    assert.deepEqual(doc['lastCheck'], {
      checkId: '4a1b2c3d-0000-4000-8000-000000000001',
      trigger: 'schedule',
      startedAt: '2026-11-26T06:00:00.000Z',
      durationMs: 412,
    });
    assert.deepEqual(findingsOf(doc)[0], {
      code: 'FW_PORT_BLOCKED',
      severity: 'error',
      component: 'firewall',
      subject: `${HUB}:5671`,
      message: 'finding 0: connect timed out',
      guidance: 'open the port on the corporate firewall',
      since: '2026-11-26T06:00:00.000Z', // no history given: first seen by this report
    });
    assert.equal(doc['findingsOmitted'], 0);
    assertTwinRules(doc);
  });

  test('every top-level key is one the module declares as its own', () => {
    const withHost: Report = {
      ...unhealthy(),
      vantage: 'host',
      host: { hostname: 'vm', distro: 'Azure Linux', release: '3.0', kernel: '6.6.44.1-2.azl3', arch: 'x64' },
    };
    assert.deepEqual(Object.keys(reportToTwin(withHost, CHANGED_AT)).sort(), [...REPORT_KEYS].sort());
    // Without host information the key is left out rather than reported as null.
    assert.ok(!('host' in reportToTwin(unhealthy(), CHANGED_AT)));
  });

  describe('a report with many long findings', () => {
    const big = crowded();
    const doc = reportToTwin(big, CHANGED_AT);
    const kept = findingsOf(doc);

    test("obeys every twin rule and stays under 32 KB by IoT Hub's size rule", () => assertTwinRules(doc));

    test('stays within the report budget, leaving room for the acknowledgements', () => {
      assert.ok(twinSize(doc) <= REPORT_BUDGET_BYTES, `${twinSize(doc)} > ${REPORT_BUDGET_BYTES}`);
    });

    test('findingsOmitted counts exactly what was left out', () => {
      assert.ok(kept.length > 0, 'some findings are kept');
      assert.ok((doc['findingsOmitted'] as number) > 0, 'some are omitted');
      assert.equal(kept.length + (doc['findingsOmitted'] as number), big.findings.length);
    });

    test('errors are kept before warnings, warnings before info', () => {
      const severities = kept.map((f) => f['severity'] as Severity);
      assert.deepEqual(
        severities,
        [...severities].sort((a, b) => rank[a] - rank[b]),
        'kept list is most severe first',
      );
      const errors = big.findings.filter((f) => f.severity === 'error').length;
      const keptErrors = severities.filter((s) => s === 'error').length;
      assert.equal(keptErrors, Math.min(errors, kept.length), 'no error dropped while a less severe finding was kept');
      assert.equal(severities[0], 'error');
    });

    test('long texts are shortened, not dropped, and each kept finding is complete', () => {
      assert.ok(kept.length > 0, 'some findings are kept');
      for (const f of kept) {
        for (const field of ['code', 'severity', 'component', 'subject', 'message', 'guidance'])
          assert.equal(typeof f[field], 'string', field);
        assert.ok((f['message'] as string).startsWith('éé'));
        assert.ok((f['subject'] as string).length < 5000);
      }
    });
  });

  test('a tiny budget keeps the error first', () => {
    const r = report({
      findings: [finding(1, 'info'), finding(2, 'warning'), finding(3, 'error')],
      status: 'unhealthy',
      failingComponent: 'firewall',
    });
    // The same verdict without findings (failingComponent is in both: a null is never written),
    // measured as the fitting measures: the larger of IoT Hub's formula and the JSON length.
    const base = reportedSize(reportToTwin(report({ status: 'unhealthy', failingComponent: 'firewall' }), CHANGED_AT));
    const oneFinding = reportedSize(
      findingsOf(reportToTwin(report({ findings: [finding(3, 'error')] }), CHANGED_AT))[0]!,
    );
    const doc = reportToTwin(r, CHANGED_AT, base + oneFinding + 10);
    // The budget may also drop open endpoints' evidence to make room; the error still comes first.
    const kept = findingsOf(doc).map((f) => f['code']);
    assert.equal(kept[0], 'FW_PORT_BLOCKED');
    assert.ok(kept.length < 3);
    assert.equal(doc['findingsOmitted'], 3 - kept.length);
  });

  test('collections are arrays, never objects keyed by a hostname, address or interface', () => {
    const r = unhealthy();
    r.components.ip.interfaces.push(
      healthyInterface({ name: 'eth1', ipv4: [{ address: '198.18.5.10', prefixLength: 24, broadcast: null }] }),
    );
    r.components.dns.servers.push(
      healthyServer('fd00::53'),
      healthyServer('8.8.8.8', { public: true, ping: { error: 'not-permitted' } }),
    );
    r.components.firewall.endpoints.push(
      endpoint(443, { host: 'reg.azurecr.io', role: 'extra' }),
      endpoint(8443, { host: 'fd00::10', address: 'fd00::10' }),
    );
    assertValidReport(r);
    const doc = reportToTwin(r, CHANGED_AT);
    const ip = doc['ip'] as JsonObject;
    const dns = doc['dns'] as JsonObject;
    const fw = doc['firewall'] as JsonObject;
    assert.ok(Array.isArray(ip['interfaces']) && ip['interfaces'].length === 2);
    assert.ok(Array.isArray(dns['servers']) && dns['servers'].length === 3);
    assert.ok(Array.isArray(fw['endpoints']) && fw['endpoints'].length === 5);
    assert.ok(Array.isArray(doc['findings']));
    const names = new Set<string>([
      ...r.components.ip.interfaces.flatMap((i) => [i.name, ...i.ipv4.map((a) => a.address)]),
      ...r.components.dns.servers.map((s) => s.address),
      ...r.components.firewall.endpoints.flatMap((e) => [e.host, `${e.host}:${e.port}`, e.address ?? '']),
      ...r.findings.map((f) => f.subject),
    ]);
    for (const { key, path } of walk(doc)) {
      if (key === null) continue;
      assert.ok(!names.has(key), `object keyed by ${key} at ${path}`);
      assert.match(key, /^[A-Za-z][A-Za-z0-9]*$/, `keys are fixed identifiers: ${path}`);
    }
    assertTwinRules(doc);
  });

  test('a report of an absent interface, a failing ping and no gateway still obeys the rules', () => {
    const r = report({ status: 'unhealthy', failingComponent: 'ip' });
    r.components.ip = {
      status: 'unhealthy',
      interfaces: [
        healthyInterface({
          present: false,
          operState: null,
          adminUp: null,
          mac: null,
          mtu: null,
          ipv4: [],
          ipv6: [],
          lease: null,
          counters: null,
          configFile: null,
          config: null,
        }),
      ],
      defaultGateway: null,
    };
    r.components.dns = {
      status: 'inconclusive',
      source: 'resolv.conf',
      files: [],
      servers: [healthyServer('198.18.0.53', { ping: { error: 'unavailable' }, queries: [] })],
    };
    r.components.firewall.status = 'inconclusive';
    r.findings = [finding(0, 'error', { code: 'IP_INTERFACE_MISSING', component: 'ip', subject: 'eth0' })];
    assertValidReport(r);
    const doc = reportToTwin(r, CHANGED_AT);
    assertTwinRules(doc);
    // No default route: no defaultGateway member (IoT Hub stores no null; a patch's null deletes).
    assert.ok(!('defaultGateway' in (doc['ip'] as JsonObject)));
  });
});

describe('twinSize (IoT Hub: key and value lengths in UTF-8 bytes, numbers 8, booleans 4)', () => {
  const cases: Array<[JsonValue, number]> = [
    ['abc', 3],
    ['é', 2],
    [12345, 8],
    [true, 4],
    [{ ab: 'xyz' }, 5],
    [{ n: 1 }, 9],
    [{ a: { b: false } }, 6],
    [['ab', 'cd'], 4],
    [{ list: [{ k: 'v' }, { k: 'vv' }] }, 4 + 2 + 3],
  ];
  for (const [value, size] of cases) test(JSON.stringify(value), () => assert.equal(twinSize(value), size));

  test("never smaller than the emulator's measure of the same section", () => {
    const doc = reportToTwin(crowded(), CHANGED_AT);
    assert.ok(twinSize(doc) >= twinSectionSize(doc));
  });
});

describe('reportedPatch', () => {
  test('nothing when unchanged', () => {
    const doc = reportToTwin(unhealthy(), CHANGED_AT);
    assert.equal(reportedPatch(doc, structuredClone(doc)), null);
  });

  test('a changed scalar: only that key', () => {
    assert.deepEqual(reportedPatch({ status: 'healthy', schemaVersion: 1 }, { status: 'degraded', schemaVersion: 1 }), {
      status: 'degraded',
    });
  });

  test('nested objects give minimal nested diffs', () => {
    const current: JsonObject = {
      ip: {
        status: 'healthy',
        interfaces: [{ name: 'eth0' }],
        defaultGateway: { address: '198.18.0.1', reachable: true },
      },
    };
    const next: JsonObject = {
      ip: {
        status: 'healthy',
        interfaces: [{ name: 'eth0' }],
        defaultGateway: { address: '198.18.0.1', reachable: false },
      },
    };
    assert.deepEqual(reportedPatch(current, next), { ip: { defaultGateway: { reachable: false } } });
  });

  test('a cleared fault: the findings array is replaced whole', () => {
    const current: JsonObject = { findings: [{ code: 'FW_PORT_BLOCKED' }, { code: 'DNS_PUBLIC_SERVER' }] };
    const next: JsonObject = { findings: [{ code: 'DNS_PUBLIC_SERVER' }] };
    assert.deepEqual(reportedPatch(current, next), { findings: [{ code: 'DNS_PUBLIC_SERVER' }] });
    assert.deepEqual(reportedPatch(current, { findings: [] }), { findings: [] });
  });

  test('a key gone from an object becomes null', () => {
    const current: JsonObject = { firewall: { status: 'unhealthy', tlsIssuer: 'Corp Proxy CA' } };
    assert.deepEqual(reportedPatch(current, { firewall: { status: 'healthy' } }), {
      firewall: { status: 'healthy', tlsIssuer: null },
    });
  });

  test('an owned top-level key gone from the document becomes null; keys not owned are left alone', () => {
    const current: JsonObject = {
      status: 'unhealthy',
      failingComponent: 'dns',
      timeoutMs: { value: 2000, ac: 200, av: 3, ad: 'applied' },
    };
    const next: JsonObject = { status: 'healthy' };
    assert.deepEqual(reportedPatch(current, next, ['status', 'failingComponent']), {
      status: 'healthy',
      failingComponent: null,
    });
  });

  test('an object replaced by a scalar, and the reverse', () => {
    assert.deepEqual(
      reportedPatch({ ip: { defaultGateway: { address: '198.18.0.1' } } }, { ip: { defaultGateway: null } }),
      { ip: { defaultGateway: null } },
    );
    assert.deepEqual(
      reportedPatch({ ip: { defaultGateway: null } }, { ip: { defaultGateway: { address: '198.18.0.1' } } }),
      { ip: { defaultGateway: { address: '198.18.0.1' } } },
    );
  });

  test('from the twin of a fault to the twin of health: nothing of the fault remains after IoT Hub merges the patch', () => {
    const before = reportToTwin(unhealthy(), CHANGED_AT);
    const after = reportToTwin(report({ checkId: '4a1b2c3d-0000-4000-8000-000000000002' }), '2026-11-26T06:05:00.000Z');
    const patch = reportedPatch(before, after, REPORT_KEYS);
    assert.ok(patch);
    assertTwinRules(patch);
    const merged = mergeTwinPatch(before, patch);
    assert.ok(!JSON.stringify(merged).includes('FW_PORT_BLOCKED'));
    assert.ok(!JSON.stringify(merged).includes('"blocked"'));
    assert.deepEqual(merged['findings'], []);
    assert.equal(merged['status'], 'healthy');
    // Everything the new document says is what the twin now says (a null is an absent key in a twin).
    assert.deepEqual(merged, mergeTwinPatch({}, after));
  });

  test('after the patch is merged, the same document needs no further patch', {}, () => {
    const next = reportToTwin(report(), CHANGED_AT);
    const twin = mergeTwinPatch({}, reportedPatch({}, next) as HubJson);
    assert.equal(reportedPatch(twin, next, REPORT_KEYS), null);
  });
});

describe('applyPatch: IoT Hub merge semantics', () => {
  const cases: Array<[string, JsonObject, JsonObject, JsonObject]> = [
    ['null deletes', { a: 1, b: 2 }, { a: null }, { b: 2 }],
    ['null for an absent key is a no-op', { b: 2 }, { a: null }, { b: 2 }],
    ['arrays are replaced, not merged', { f: [{ c: 'A' }, { c: 'B' }] }, { f: [{ c: 'B' }] }, { f: [{ c: 'B' }] }],
    [
      'objects merge recursively',
      { ip: { status: 'x', gw: { a: '1', r: true } } },
      { ip: { gw: { r: false } } },
      { ip: { status: 'x', gw: { a: '1', r: false } } },
    ],
    [
      'nested null deletes inside the object',
      { ip: { gw: { a: '1' }, status: 'x' } },
      { ip: { gw: null } },
      { ip: { status: 'x' } },
    ],
    ['a scalar replaces an object', { a: { b: 1 } }, { a: 'x' }, { a: 'x' }],
    ['an object replaces a scalar', { a: 'x' }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['new keys are added', {}, { a: { b: [1, 2] } }, { a: { b: [1, 2] } }],
  ];
  for (const [name, doc, patch, expected] of cases) {
    test(name, () => {
      const before = structuredClone(doc);
      assert.deepEqual(applyPatch(doc, patch), expected);
      assert.deepEqual(doc, before, 'the input document is not modified');
      assert.deepEqual(applyPatch(doc, patch), mergeTwinPatch(doc, patch), "same as the emulator's merge");
    });
  }

  test('nulls inside an object that did not exist yet are dropped (RFC 7386), as IoT Hub does', {}, () => {
    assert.deepEqual(applyPatch({}, { ip: { defaultGateway: null, status: 'healthy' } }), {
      ip: { status: 'healthy' },
    });
  });
});
