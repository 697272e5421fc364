/**
 * The field matrix, the containers' DNS (CONTRACT 7.5): a daemon.json naming a silent server, one
 * naming another server that works, one dockerd would refuse, and a resolv.conf naming only the
 * systemd-resolved stub with no upstream, which Docker's embedded resolver forwards to as well.
 * The lab's daemon.json is always passed (--docker-config, harness.ts), never the machine's.
 */
import assert from 'node:assert/strict';
import { FIELD_DNS_RECORDS } from './field-lab.js';
import { LAB_ADDR, resolvConf } from './harness.js';
import { fieldScenarios, type FieldScenario } from './field-scenario.js';

const SCENARIOS: FieldScenario[] = [
  {
    id: 'C1',
    title: 'daemon.json names a silent server: DNS_CONTAINER_SERVER_FAILED (error), the VM itself resolves',
    lab: { dockerConfig: { dns: [LAB_ADDR.dns2] }, serverAddresses: [LAB_ADDR.dns2] },
    setup: (lab) => lab.drop({ protocol: 'all', address: LAB_ADDR.dns2 }),
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'healthy' },
      present: [
        {
          code: 'DNS_CONTAINER_SERVER_FAILED',
          severity: 'error',
          subject: LAB_ADDR.dns2,
          message: [/from daemon\.json/, /does not answer at all/],
          mentions: [/Resolve-DnsName/, /daemon\.json/],
        },
        { code: 'DNS_CONTAINER_SERVERS_DIFFER', severity: 'info', message: [/tested: 198\.18\.1\.54/] },
      ],
      absent: ['DNS_SERVER_UNREACHABLE'],
      quiet: ['ip', 'firewall'],
      more: (report) => {
        const c = report.components.dns.containers;
        assert.equal(c?.source, 'daemon.json');
        assert.deepEqual(c?.addresses, [LAB_ADDR.dns2]);
        assert.equal(c?.servers[0]?.queries[0]?.outcome, 'timeout');
      },
    },
  },
  {
    id: 'C2',
    title: 'daemon.json names another server that works: said as info, with the server tested',
    lab: {
      dockerConfig: { dns: [LAB_ADDR.dns2] },
      dnsmasq: [
        { address: LAB_ADDR.dns, hosts: FIELD_DNS_RECORDS },
        { address: LAB_ADDR.dns2, hosts: FIELD_DNS_RECORDS },
      ],
    },
    expect: {
      status: 'healthy',
      failingComponent: null,
      components: { ip: 'healthy', dns: 'healthy', firewall: 'healthy' },
      present: [{ code: 'DNS_CONTAINER_SERVERS_DIFFER', severity: 'info', subject: 'azure-iot-edge' }],
      absent: ['DNS_CONTAINER_SERVER_FAILED'],
      more: (report) => {
        const server = report.components.dns.containers?.servers.find((s) => s.address === LAB_ADDR.dns2);
        assert.equal(server?.queries[0]?.outcome, 'answered');
      },
    },
  },
  {
    id: 'C3',
    title: 'a daemon.json with comments: dockerd refuses it, DNS_CONTAINER_CONFIG_INVALID',
    lab: { dockerConfig: `{\n  // the site's resolver\n  "dns": ["${LAB_ADDR.dns}"]\n}\n` },
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'healthy' },
      present: [
        {
          code: 'DNS_CONTAINER_CONFIG_INVALID',
          severity: 'error',
          message: [/not valid JSON/, /comments/],
          mentions: [/dockerd --validate/],
        },
      ],
      quiet: ['ip', 'firewall'],
      more: (report) => assert.equal(report.components.dns.containers?.daemonConfig.state, 'invalid'),
    },
  },
  {
    id: 'C4',
    title: 'resolv.conf names only the 127.0.0.53 stub and resolved has no upstream, as Docker sees it too',
    lab: { resolvConf: resolvConf('127.0.0.53'), resolvedConf: '# no upstream servers\n' },
    expect: {
      status: 'unhealthy',
      failingComponent: 'dns',
      components: { ip: 'healthy', dns: 'unhealthy', firewall: 'inconclusive' },
      present: [{ code: 'DNS_NO_SERVERS', severity: 'error' }],
      // The same cause for the containers: not said twice.
      absent: ['DNS_CONTAINER_SERVER_FAILED', 'DNS_CONTAINER_SERVERS_DIFFER'],
      quiet: ['ip', 'firewall'],
      more: (report) => {
        const c = report.components.dns.containers;
        assert.equal(c?.source, 'systemd-resolved');
        assert.deepEqual(c?.addresses, []);
        assert.deepEqual(c?.hostLoopback, ['127.0.0.53']);
        assert.equal(c?.fallbackPublic, false);
      },
    },
  },
];

fieldScenarios("field matrix: the containers' DNS (CONTRACT 7.5)", SCENARIOS);
