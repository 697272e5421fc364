/**
 * The field matrix, the VM's address (CONTRACT 7.5, 7.6): a third host on eth0's segment holding
 * the VM's own address, a static 169.254 address with everything else working, and a static
 * gateway outside eth0's prefix. Each scenario asserts status, failingComponent and the codes.
 *
 * The 169.254.44.0/24 addresses exist only on the two ends of the lab's own veth (link-local is
 * never forwarded, and the namespaces have no way out); every server stays in 198.18.0.0/15.
 */
import assert from 'node:assert/strict';
import { LAB_ADDR, resolvConf, staticNetworkFile } from './harness.js';
import { fieldScenarios, type FieldScenario } from './field-scenario.js';

const LINK_LOCAL = { vm: '169.254.44.2', gateway: '169.254.44.1', prefixLength: 24 } as const;
const OUTSIDE_GATEWAY = '198.18.5.1';

const SCENARIOS: FieldScenario[] = [
  {
    id: 'S1',
    title: "a third namespace on eth0's segment holds the VM's address: IP_ADDRESS_CONFLICT, the rest still judged",
    lab: { duplicateAddress: true },
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      components: { ip: 'unhealthy', dns: 'healthy', firewall: 'healthy' },
      present: [
        {
          code: 'IP_ADDRESS_CONFLICT',
          severity: 'error',
          subject: LAB_ADDR.vm,
          message: [/MAC [0-9a-f:]{17}/],
          mentions: [/DHCP/],
        },
      ],
      quiet: ['dns', 'firewall'],
      more: (report) => {
        const dad = report.components.ip.duplicateAddress?.find((d) => d.address === LAB_ADDR.vm);
        assert.equal(dad?.conflict, true);
        assert.equal(dad?.flavour, 'iputils');
      },
    },
  },
  {
    id: 'S2',
    title: 'a static 169.254 address (the old internal-switch recipe) with everything else working: a warning only',
    lab: {
      vmAddress: `${LINK_LOCAL.vm}/${LINK_LOCAL.prefixLength}`,
      lease: null,
      defaultRoute: false,
      networkFiles: {
        '10-eth0.network': staticNetworkFile({
          address: `${LINK_LOCAL.vm}/${LINK_LOCAL.prefixLength}`,
          gateway: LINK_LOCAL.gateway,
        }),
      },
      resolvConf: resolvConf(LAB_ADDR.dns),
    },
    setup: async (lab) => {
      // The Windows host's end of the internal switch, holding the NAT gateway.
      await lab.ip('net', ['addr', 'add', `${LINK_LOCAL.gateway}/${LINK_LOCAL.prefixLength}`, 'dev', 'gw0']);
      await lab.setDefaultRoute(LINK_LOCAL.gateway);
    },
    expect: {
      status: 'degraded',
      failingComponent: null,
      components: { ip: 'degraded', dns: 'healthy', firewall: 'healthy' },
      present: [
        {
          code: 'IP_LINK_LOCAL_STATIC',
          severity: 'warning',
          subject: 'eth0',
          message: [/169\.254\.44\.2/],
          mentions: [/New-NetNat/, /Deploy-Eflow -ip4Address/],
        },
      ],
      absent: ['IP_LINK_LOCAL_ONLY', 'IP_NO_ADDRESS', 'IP_GATEWAY_INVALID'],
      quiet: ['dns', 'firewall'],
    },
  },
  {
    id: 'S3',
    title: "a static gateway outside eth0's prefix (installed on-link): IP_GATEWAY_INVALID blocks the layers above",
    lab: {
      lease: null,
      networkFiles: { '10-eth0.network': staticNetworkFile({ gateway: OUTSIDE_GATEWAY }) },
    },
    setup: (lab) => lab.setDefaultRoute(OUTSIDE_GATEWAY, { onlink: true }),
    expect: {
      status: 'unhealthy',
      failingComponent: 'ip',
      components: { ip: 'unhealthy', dns: 'inconclusive', firewall: 'inconclusive' },
      present: [
        {
          code: 'IP_GATEWAY_INVALID',
          severity: 'error',
          subject: OUTSIDE_GATEWAY,
          message: [/outside every prefix/, /198\.18\.0\.0\/24/, /10-eth0\.network/],
          mentions: [/Deploy-Eflow .*-ip4GatewayAddress/, /systemctl restart systemd-networkd/],
        },
      ],
      absent: ['IP_GATEWAY_UNREACHABLE', 'IP_NO_DEFAULT_ROUTE', 'IP_STATIC_CONFIG_INCOMPLETE'],
      quiet: ['dns', 'firewall'],
    },
  },
];

fieldScenarios('field matrix: the VM’s address and gateway (CONTRACT 7.5, 7.6)', SCENARIOS);
