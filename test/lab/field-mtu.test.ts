/**
 * The field matrix, path MTU (CONTRACT 7.5 IP_MTU_BLACKHOLE): nft on the net side drops every
 * packet over 1280 bytes and every ICMP "fragmentation needed", and the hub's 443 serves a
 * certificate chain larger than that, so TLS stalls after TCP connected. The same hole without a
 * large chain is the control: large pings vanishing alone prove nothing (rate-limited ICMP).
 */
import assert from 'node:assert/strict';
import { HUB_NAME } from './harness.js';
import { fieldScenarios, type FieldScenario } from './field-scenario.js';

const HOLE = { maxPacketBytes: 1280 };

const SCENARIOS: FieldScenario[] = [
  {
    id: 'M1',
    title: 'a path-MTU black hole with a TLS chain larger than the limit: IP_MTU_BLACKHOLE',
    lab: {
      hosts: { hub: { ports: { 443: 'large-chain' } }, dps: false, registry: false, parent: false },
      pathMtuBlackhole: HOLE,
    },
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      components: { ip: 'unhealthy', dns: 'healthy' },
      present: [
        {
          code: 'IP_MTU_BLACKHOLE',
          severity: 'error',
          subject: 'eth0',
          message: [/1400 bytes/, /1280 bytes pass/, new RegExp(`${HUB_NAME.replace(/\./g, '\\.')}:443`)],
          mentions: [/MTUBytes=1280/, /com\.docker\.network\.driver\.mtu=1280/],
        },
      ],
      // Root cause first: the firewall's word on the stall is info (ipExplainsTlsStall).
      quiet: ['dns', 'firewall'],
      more: (report) => {
        const ip = report.components.ip;
        assert.equal(ip.pathMtu?.largestPassingDf, 1280);
        assert.equal(ip.pathMtu?.smallestFailingDf, 1400);
        assert.ok(ip.pathMtu?.probed.every((p) => p.outcome !== 'frag-needed'));
        const e443 = report.components.firewall.endpoints.find((e) => e.port === 443);
        assert.equal(e443?.outcome, 'tls-failed');
        assert.equal(e443?.error?.phase, 'tls');
        assert.equal(e443?.error?.code, 'ETIMEDOUT');
        assert.ok(e443?.tcpConnectMs !== null, 'TCP connected before TLS stalled');
        for (const port of [8883, 5671]) {
          assert.equal(report.components.firewall.endpoints.find((e) => e.port === port)?.outcome, 'open');
        }
      },
    },
  },
  {
    id: 'M2',
    title: 'the same hole, but every chain fits: large pings vanish, nothing stalls, no finding',
    lab: { pathMtuBlackhole: HOLE },
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { ip: 'healthy', dns: 'healthy', firewall: 'healthy' },
      absent: ['IP_MTU_BLACKHOLE'],
      more: (report) => assert.equal(report.components.ip.pathMtu?.largestPassingDf, 1280),
    },
  },
];

fieldScenarios('field matrix: path MTU (CONTRACT 7.5)', SCENARIOS);
