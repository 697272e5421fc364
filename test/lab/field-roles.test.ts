/**
 * The endpoint roles of the field matrix (CONTRACT 7.3, 7.1): DPS is provisioned over HTTPS alone,
 * a nested child reaches Azure through its parent, a closed registry only degrades, and a network
 * where every direct path to Azure is dropped and no proxy is configured gets the proxy hint.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIELD_HOSTS, type FieldLab } from './field-lab.js';
import {
  DEADLINE_MS,
  TIMEOUT_MS,
  assertEndpoint,
  runFieldScenarios,
  subjectOf,
  type FieldScenario,
} from './field-scenario.js';

/** A nested child's config.toml: its parent, and DPS provisioning (no hub of its own). */
function nestedConfigToml(lab: FieldLab): string {
  const path = join(lab.paths.dir, 'config.toml');
  writeFileSync(
    path,
    [
      'hostname = "lower-layer-device"',
      `parent_hostname = "${FIELD_HOSTS.parent.name}"`,
      '',
      '[provisioning]',
      'source = "dps"',
      `global_endpoint = "https://${FIELD_HOSTS.dps.name}/"`,
      'id_scope = "0ne00000000"',
      '',
      '[provisioning.attestation]',
      'method = "symmetric_key"',
      'registration_id = "lower-layer-device"',
      'symmetric_key = { value = "bm90LWEtcmVhbC1rZXktZm9yLXRoZS1sYWI=" }',
      '',
    ].join('\n'),
  );
  return path;
}

const SCENARIOS: FieldScenario[] = [
  {
    id: 'R1',
    title: 'DPS only (no hub known) with 5671 closed: healthy, DPS is tested on 443 alone',
    setup: (lab) => lab.reject({ protocol: 'tcp', address: FIELD_HOSTS.dps.address, port: 5671 }),
    allArgs: (lab) => [
      ...['--dps', FIELD_HOSTS.dps.name, '--registry', FIELD_HOSTS.registry.name, '--ca-file', lab.paths.caFile],
      ...['--timeout', String(TIMEOUT_MS), '--deadline', String(DEADLINE_MS)],
    ],
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { firewall: 'healthy', clock: 'healthy' },
      absent: ['FW_PORT_REJECTED', 'FW_PROTOCOL_FALLBACK'],
      more: (report) => {
        assert.deepEqual(
          report.components.firewall.endpoints.map((e) => `${e.host}:${e.port} ${e.role}`),
          [`${subjectOf('dps', 443)} dps`, `${subjectOf('registry', 443)} registry`],
        );
        assert.equal(report.components.clock.reference, subjectOf('dps', 443));
      },
    },
  },
  {
    id: 'R2',
    title: 'a nested child (IOTEDGE_PARENTHOSTNAME): Azure unreachable by design, the parent healthy',
    lab: { unreachable: ['hub', 'dps', 'registry'] },
    run: { env: { IOTEDGE_PARENTHOSTNAME: FIELD_HOSTS.parent.name } },
    args: () => ['--upstream-protocol', 'Mqtt'],
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { dns: 'healthy', firewall: 'healthy' },
      present: [
        { code: 'FW_PORT_BLOCKED', severity: 'info', subject: subjectOf('hub', 8883), mentions: [/nested/] },
        { code: 'FW_PORT_BLOCKED', severity: 'info', subject: subjectOf('hub', 443) },
        { code: 'FW_PORT_BLOCKED', severity: 'info', subject: subjectOf('dps', 443) },
        { code: 'FW_PORT_BLOCKED', severity: 'info', subject: subjectOf('registry', 443) },
      ],
      absent: ['PROXY_MAY_BE_REQUIRED', 'FW_PROTOCOL_FALLBACK'],
      more: (report) => {
        for (const port of [8883, 5671, 443])
          assert.equal(assertEndpoint(report, 'parent', port, 'open').role, 'parent');
        // The parent's edgeHub answered the device's MQTT CONNECT; DNS was asked for the parent.
        assert.equal(assertEndpoint(report, 'parent', 8883, 'open').application?.connackCode, 5);
        assert.deepEqual(
          report.components.dns.servers[0]?.queries.map((q) => q.name),
          [FIELD_HOSTS.parent.name],
        );
        assert.equal(report.components.firewall.endpoints[0]?.role, 'parent', 'the upstream is listed first');
      },
    },
  },
  {
    id: 'R3',
    title:
      "a nested child named by config.toml's parent_hostname, the parent's 443 dropped: the parent is judged as the hub",
    lab: { unreachable: ['hub', 'dps', 'registry'] },
    setup: (lab) => lab.drop({ protocol: 'tcp', address: FIELD_HOSTS.parent.address, port: 443 }),
    args: (lab) => ['--aziot-config', nestedConfigToml(lab), '--upstream-protocol', 'Mqtt'],
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      present: [
        {
          code: 'FW_PORT_BLOCKED',
          severity: 'error',
          subject: subjectOf('parent', 443),
          mentions: [/Test-NetConnection/],
        },
        { code: 'FW_PORT_BLOCKED', severity: 'info', subject: subjectOf('hub', 443) },
      ],
      more: (report) => assertEndpoint(report, 'parent', 8883, 'open'),
    },
  },
  {
    id: 'R4',
    title: 'the registry unreachable: degraded (running modules keep working; pulls fail)',
    lab: { unreachable: ['registry'] },
    expect: {
      status: 'degraded',
      failingComponent: null,
      components: { firewall: 'degraded' },
      present: [{ code: 'FW_PORT_BLOCKED', severity: 'warning', subject: subjectOf('registry', 443) }],
      absent: ['PROXY_MAY_BE_REQUIRED'],
    },
  },
  {
    id: 'R5',
    title: 'every direct path to Azure dropped and no proxy configured: the firewall errors and the proxy hint',
    lab: { unreachable: ['hub', 'dps', 'registry'] },
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      components: { proxy: 'skipped', firewall: 'unhealthy' },
      present: [
        { code: 'PROXY_MAY_BE_REQUIRED', severity: 'info', subject: 'proxy', mentions: [/netsh winhttp show proxy/] },
        {
          code: 'FW_PORT_BLOCKED',
          severity: 'error',
          subject: subjectOf('hub', 443),
          mentions: [/Test-NetConnection lab-hub\.azure-devices\.net -Port 443/, /only through an HTTP proxy/],
        },
      ],
    },
  },
];

runFieldScenarios('field matrix: endpoint roles (CONTRACT 7.3)', SCENARIOS);
