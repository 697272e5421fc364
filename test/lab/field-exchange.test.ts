/**
 * The application exchange rows of the field matrix (CONTRACT 7.2) and the TLS handshake failures
 * told apart (7.3): application-aware middleboxes that complete TLS and then cut MQTT or answer it
 * with an HTTP block page, `--no-exchange`, and handshakes that stall (the MTU's signature) or are
 * reset (inspection's).
 */
import assert from 'node:assert/strict';
import { assertEndpoint, runFieldScenarios, subjectOf, type FieldScenario } from './field-scenario.js';

const protocol = (p: string) => () => ['--upstream-protocol', p];

const SCENARIOS: FieldScenario[] = [
  {
    id: 'E1',
    title: 'a middlebox completes TLS on 8883, then cuts the MQTT CONNECT; Mqtt in use',
    lab: { hosts: { hub: { ports: { 8883: 'tls-then-cut' } } } },
    args: protocol('Mqtt'),
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      components: { firewall: 'unhealthy' },
      present: [
        {
          code: 'FW_PROTOCOL_BLOCKED',
          severity: 'error',
          subject: subjectOf('hub', 8883),
          message: [/TLS to \S+:8883 works/, /mqtt exchange/],
        },
        // 443 works: MqttWs carries the same traffic.
        { code: 'FW_PROTOCOL_FALLBACK', severity: 'warning', subject: subjectOf('hub', 8883), mentions: [/MqttWs/] },
      ],
      quiet: ['ip', 'dns', 'proxy', 'clock'],
      more: (report) => {
        const e = assertEndpoint(report, 'hub', 8883, 'protocol-blocked', 'direct');
        assert.equal(e.tls?.authorized, true);
        assert.equal(e.application?.outcome, 'cut');
      },
    },
  },
  {
    id: 'E2',
    title: 'the same middlebox with Amqp in use: 8883 is not needed, a warning',
    lab: { hosts: { hub: { ports: { 8883: 'tls-then-cut' } } } },
    args: protocol('Amqp'),
    expect: {
      status: 'degraded',
      failingComponent: null,
      present: [{ code: 'FW_PROTOCOL_BLOCKED', severity: 'warning', subject: subjectOf('hub', 8883) }],
      absent: ['FW_PROTOCOL_FALLBACK'],
    },
  },
  {
    id: 'E3',
    title: 'a web filter answers the MQTT CONNECT on 8883 with an HTTP block page',
    lab: { hosts: { hub: { ports: { 8883: 'http-block-page' } } } },
    args: protocol('Mqtt'),
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      present: [
        {
          code: 'FW_PROTOCOL_BLOCKED',
          severity: 'error',
          subject: subjectOf('hub', 8883),
          message: [/an HTTP answer "HTTP\/1\.1 403/],
        },
      ],
      more: (report) =>
        assert.equal(assertEndpoint(report, 'hub', 8883, 'protocol-blocked').application?.outcome, 'unexpected'),
    },
  },
  {
    id: 'E4',
    title: '--no-exchange: TLS alone decides, so the cutting middlebox is not seen (and the clock has no Date)',
    lab: { hosts: { hub: { ports: { 8883: 'tls-then-cut' } } } },
    args: () => ['--upstream-protocol', 'Mqtt', '--no-exchange'],
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { firewall: 'healthy', clock: 'inconclusive' },
      absent: ['FW_PROTOCOL_BLOCKED'],
      more: (report) => {
        assert.equal(report.components.firewall.exchanges, false);
        const e = assertEndpoint(report, 'hub', 8883, 'open');
        assert.equal(e.application, undefined);
        assert.equal(report.components.clock.inconclusiveBecause, 'unmeasured');
      },
    },
  },
  {
    id: 'E5',
    title: 'TLS that stalls after connect (443) is told apart from TLS that is cut (8883: closed in the handshake)',
    lab: { hosts: { hub: { ports: { 443: 'tls-silent', 8883: 'close' } } } },
    args: protocol('Mqtt'),
    expect: {
      status: 'unhealthy',
      failingComponent: 'firewall',
      present: [
        {
          code: 'FW_TLS_FAILED',
          severity: 'error',
          subject: subjectOf('hub', 443),
          message: [/handshake stalls/],
          mentions: [/path-MTU/, /mtu 1400/],
        },
        {
          code: 'FW_TLS_FAILED',
          severity: 'error',
          subject: subjectOf('hub', 8883),
          mentions: [/resets or closes it during the handshake/, /inspection/],
        },
      ],
      absent: ['FW_PROTOCOL_FALLBACK'],
      more: (report) => {
        assert.equal(assertEndpoint(report, 'hub', 443, 'tls-failed').error?.code, 'ETIMEDOUT');
        assert.equal(assertEndpoint(report, 'hub', 443, 'tls-failed').error?.phase, 'tls');
        // The hub's 443 gave no Date: the clock takes DPS's.
        assert.equal(report.components.clock.reference, subjectOf('dps', 443));
      },
    },
  },
];

runFieldScenarios('field matrix: application exchanges and TLS failures (CONTRACT 7.2, 7.3)', SCENARIOS);
