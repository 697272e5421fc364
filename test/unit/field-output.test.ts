/**
 * The field components on the way out (CONTRACT 7, 5.2, 5.4, 8.1): the text shows proxy, firewall
 * and clock in order with the new evidence; the twin carries the stable facts (roles, paths,
 * exchange outcomes, the proxy's sources) inside its budget and never the moving clock offset,
 * which goes to telemetry; a proxy password appears nowhere; the desired `proxy` is acknowledged
 * beside the report's own `proxy`, masked; config.toml gives DPS, the parent and the source.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aziotSettingsFromToml } from '../../src/config/aziot.js';
import { ackName, applyDesired } from '../../src/module/desired.js';
import { renderText } from '../../src/report/text.js';
import { telemetrySummary } from '../../src/report/telemetry.js';
import {
  REPORT_BUDGET_BYTES,
  REPORT_KEYS,
  reportToTwin,
  reportedSize,
  type JsonObject,
} from '../../src/report/twin.js';
import type { Report } from '../../src/report/types.js';
import { DPS, REGISTRY, application, connect, proxied, roleEndpoint, source } from '../support/field-observations.js';
import { HUB, endpoint } from '../support/observations.js';
import { makeReport } from '../support/reports.js';
import { assertValidReport } from '../support/report-schema.js';

const SECRET = 'Pr0xy-S3cret';

function fieldReport(): Report {
  const r = makeReport();
  r.components.proxy = {
    status: 'healthy',
    url: 'http://edge:***@198.18.1.30:3128',
    source: 'https_proxy',
    valid: true,
    problem: null,
    testedAs: null,
    noProxy: null,
    bypassed: [],
    sources: [
      source('process', 'http://edge:***@198.18.1.30:3128'),
      source('edgeAgent', null, { state: 'unknown', unknownReason: 'absent' }),
      source('docker', null),
    ],
    connect: [connect(HUB, 443), connect(DPS, 443), connect(REGISTRY, 443)],
  };
  r.components.firewall.upstreamProtocol = 'AmqpWs';
  r.components.firewall.trustStore = '/etc/pki/tls/certs/ca-bundle.crt';
  r.components.firewall.exchanges = true;
  r.components.firewall.endpoints = [
    endpoint(8883, { via: 'direct', outcome: 'blocked', tls: undefined, tcpConnectMs: null }),
    endpoint(5671, { via: 'direct', outcome: 'blocked', tls: undefined, tcpConnectMs: null }),
    proxied(443, {
      application: application(443, { exchange: 'websocket' }),
      httpDate: 'Thu, 26 Nov 2026 06:00:00 GMT',
    }),
    roleEndpoint('dps', 443, { via: 'proxy', address: null, application: application(443) }),
    roleEndpoint('registry', 443, { via: 'proxy', address: null, application: application(443) }),
  ];
  r.components.clock = {
    status: 'degraded',
    offsetMs: -45_210,
    uncertaintyMs: 503,
    reference: `${HUB}:443`,
    synchronized: false,
    syncSource: null,
    service: 'systemd-timesyncd',
    lastSyncAt: null,
    detail: 'systemd-timesyncd is running and has not synchronised since it started',
  };
  r.status = 'degraded';
  return r;
}

describe('text', () => {
  test('proxy, firewall and clock in that order, with the path, the exchange and the time service', () => {
    const r = fieldReport();
    assertValidReport(r);
    const text = renderText(r);
    const at = (s: string) => text.indexOf(s);
    assert.ok(at('\nProxy ') < at('\nFirewall ') && at('\nFirewall ') < at('\nClock '), text);
    assert.match(text, /Proxy {5}healthy\n {4}http:\/\/edge:\*\*\*@198\.18\.1\.30:3128 \(from https_proxy\)/);
    assert.match(text, /edgeAgent {8}unknown \(absent\)/);
    assert.match(text, /CONNECT lab-hub\.azure-devices\.net:443 +established HTTP 200/);
    assert.match(text, /CA store \/etc\/pki\/tls\/certs\/ca-bundle\.crt/);
    assert.match(text, /lab-hub\.azure-devices\.net:443 +https +open +via proxy .* websocket ok/);
    assert.match(text, /lab-dps\.azure-devices-provisioning\.net:443 dps/);
    assert.match(text, /offset -45\.2 s against lab-hub\.azure-devices\.net:443; systemd-timesyncd: not synchronised/);
  });

  test('an inconclusive clock says why, including when nothing could be measured', () => {
    const r = fieldReport();
    r.components.clock = { ...r.components.clock, status: 'inconclusive', inconclusiveBecause: 'unmeasured' };
    assert.match(renderText(r), /Clock {5}inconclusive \(nothing could be measured\)/);
  });
});

describe('twin and telemetry', () => {
  test('the twin carries roles, paths and exchange outcomes, the sources’ states, never the offset', () => {
    const r = fieldReport();
    const twin = reportToTwin(r, r.startedAt);
    const fw = twin['firewall'] as JsonObject;
    const eps = fw['endpoints'] as JsonObject[];
    assert.deepEqual(
      eps.map(
        (e) =>
          `${String(e['host'])}:${String(e['port'])} ${String(e['role'])} ${String(e['via'])} ${String(e['application'] ?? '-')}`,
      ),
      [
        `${HUB}:8883 hub direct -`,
        `${HUB}:5671 hub direct -`,
        `${HUB}:443 hub proxy ok`,
        `${DPS}:443 dps proxy ok`,
        `${REGISTRY}:443 registry proxy ok`,
      ],
    );
    const proxy = twin['proxy'] as JsonObject;
    assert.deepEqual(
      (proxy['sources'] as JsonObject[]).map((s) => s['state']),
      ['set', 'unknown', 'unset'],
    );
    const clock = twin['clock'] as JsonObject;
    assert.equal(clock['offsetMs'], undefined, 'the offset moves every check: telemetry, not the twin');
    assert.equal(clock['service'], 'systemd-timesyncd');
    assert.ok(reportedSize(twin) <= REPORT_BUDGET_BYTES);
    assert.equal(telemetrySummary(r).clockOffsetMs, -45_210);
  });

  test('a proxy password is in none of the outputs, even when a finding quotes the proxy', () => {
    const r = fieldReport();
    r.findings = [
      {
        code: 'PROXY_AUTH_REQUIRED',
        severity: 'error',
        component: 'proxy',
        subject: '198.18.1.30:3128',
        message: 'The proxy 198.18.1.30:3128 refused the credentials of the proxy URL (HTTP 407).',
        guidance: 'http://user:password@host:port',
      },
    ];
    for (const out of [
      JSON.stringify(r),
      renderText(r),
      JSON.stringify(reportToTwin(r, r.startedAt)),
      JSON.stringify(telemetrySummary(r)),
    ])
      assert.ok(!out.includes(SECRET), out.slice(0, 200));
  });
});

describe('the desired proxy', () => {
  test('is acknowledged as proxyAck (the report owns proxy), its password masked in value and description', () => {
    assert.equal(ackName('proxy'), 'proxyAck');
    assert.equal(ackName('timeoutMs'), 'timeoutMs');
    const effective = () => null;
    const applied = applyDesired({}, { proxy: `http://edge:${SECRET}@198.18.1.30:3128` }, 4, false, effective);
    assert.equal(applied.applied['proxy'], `http://edge:${SECRET}@198.18.1.30:3128`, 'kept for the check');
    const ack = applied.acks['proxyAck'] as JsonObject;
    assert.deepEqual([ack['value'], ack['ac'], ack['av']], ['http://edge:***@198.18.1.30:3128', 200, 4]);
    assert.equal(applied.acks['proxy'], undefined);
    const refused = applyDesired({}, { proxy: `http://edge:${SECRET}@198.18.1.30:99999` }, 5, false, effective);
    const no = refused.acks['proxyAck'] as JsonObject;
    assert.equal(no['ac'], 400);
    assert.ok(!JSON.stringify(refused.acks).includes(SECRET), JSON.stringify(refused.acks));
    for (const key of REPORT_KEYS) assert.ok(!(key in applied.acks), key);
  });

  test('the other new desired properties are accepted: dps, registries, exchanges, systemdDir', () => {
    const u = applyDesired(
      {},
      {
        dps: 'lab-dps.azure-devices-provisioning.net',
        registries: [REGISTRY],
        exchanges: false,
        systemdDir: '/host/systemd',
      },
      2,
      false,
      () => null,
    );
    for (const key of ['dps', 'registries', 'exchanges', 'systemdDir'])
      assert.equal((u.acks[key] as JsonObject)['ac'], 200, key);
    assert.equal(u.applied['exchanges'], false);
  });
});

describe('config.toml settings (smol-toml)', () => {
  test('DPS from global_endpoint, the parent, the source; nothing else is kept', () => {
    const toml = [
      'hostname = "child"',
      'parent_hostname = "Parent.Local"',
      '[provisioning]',
      'source = "DPS"',
      'global_endpoint = "https://global.azure-devices-provisioning.us/"',
      'id_scope = "0ne0001"',
      '[provisioning.attestation]',
      'method = "symmetric_key"',
      'symmetric_key = { value = "c2VjcmV0LWtleQ==" }',
      '[agent.env]',
      `https_proxy = "http://edge:${SECRET}@p:3128"`,
    ].join('\n');
    const s = aziotSettingsFromToml(toml);
    assert.deepEqual(s, {
      hub: null,
      dps: 'global.azure-devices-provisioning.us',
      parent: 'parent.local',
      provisioningSource: 'dps',
    });
    assert.ok(!JSON.stringify(s).includes('c2VjcmV0') && !JSON.stringify(s).includes(SECRET));
    assert.deepEqual(aziotSettingsFromToml('not = = toml'), {
      hub: null,
      dps: null,
      parent: null,
      provisioningSource: null,
    });
  });
});
