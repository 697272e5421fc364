/**
 * The operator acts on the words (CONTRACT 7.6): every IP and DNS code's guidance, in each of its
 * situations, names the EFLOW cmdlet (with its real parameters) or the command that situation
 * needs, and none of the corrections of research/field-failure-modes.md 1.2 slips back in
 * (Add-EflowVmEndpoint for eth0, NAT confused with DHCP, networkctl reload, "Get-EflowVmEndpoint
 * shows the switch", a DHCP story for a static 169.254 address, nsswitch for the resolver).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DNS_CODES } from '../../src/findings/dns.js';
import { finding } from '../../src/findings/finding.js';
import type { FindingCode, WordsArgs } from '../../src/findings/catalogue.js';
import { IP_CODES } from '../../src/findings/ip.js';
import { SWITCH_HINT } from '../../src/findings/phrases.js';

interface Row<C extends FindingCode = FindingCode> {
  code: C;
  situation: string;
  args: WordsArgs<C>;
  /** Each must match the guidance. */
  names: RegExp[];
  /** None may match the message or the guidance. */
  never?: RegExp[];
}

const row = <C extends FindingCode>(r: Row<C>): Row => r;

const SET_DNS = /Set-EflowVmDnsServers -vendpointName <name from Get-EflowVmEndpoint> -dnsServers @\("/;
const HOST_RESOLVE = (name: string, ip: string) =>
  new RegExp(`Resolve-DnsName ${name.replace(/\./g, '\\.')} -Server ${ip.replace(/\./g, '\\.')}`);
const DEPLOY =
  /Deploy-Eflow -vswitchName <switch> -vswitchType <Internal\|External> -ip4Address <address> -ip4PrefixLength <length> -ip4GatewayAddress <gateway>/;
const RESTART = /sudo systemctl restart systemd-networkd/;
const ADD_ENDPOINT_FOR_ETH0 = /Add-EflowVmEndpoint( [^,.;]*)? -ip4Address/;
const HUB = 'hub.azure-devices.net';

const ROWS: Row[] = [
  row({
    code: 'IP_INTERFACE_MISSING',
    situation: 'eth0',
    args: { name: 'eth0', present: ['lo'] },
    names: [/Get-EflowVmEndpoint/, /Stop-EflowVm; Start-EflowVm/],
  }),
  row({
    code: 'IP_INTERFACE_MISSING',
    situation: 'an extra NIC',
    args: { name: 'eth1', present: ['eth0'] },
    names: [
      /Add-EflowNetwork -vswitchName <switch> -vswitchType <Internal\|External>/,
      /Add-EflowVmEndpoint -vswitchName <switch> -vendpointName <name>/,
    ],
  }),
  row({
    code: 'IP_INTERFACE_DOWN',
    situation: 'administratively down',
    args: { name: 'eth0', operState: 'down', adminUp: false },
    names: [/sudo ip link set eth0 up/, RESTART],
  }),
  row({
    code: 'IP_INTERFACE_DOWN',
    situation: 'no carrier: HealthStatus from the endpoint, the switch from Get-EflowNetwork',
    args: { name: 'eth0', operState: 'lowerlayerdown', adminUp: true },
    names: [/Get-EflowVmEndpoint shows the endpoint's HealthStatus/, /Get-EflowNetwork the switch/],
    never: [/Get-EflowVmEndpoint shows its switch/, /ip link set/],
  }),
  row({
    code: 'IP_INTERFACE_DOWN',
    situation: 'admin state unknown (A8): says unknown, not down',
    args: { name: 'eth0', operState: 'down', adminUp: null },
    names: [/HealthStatus/],
    never: [/administratively down/, /ip link set/],
  }),
  row({
    code: 'IP_NO_ADDRESS',
    situation: 'static: Deploy-Eflow, never Add-EflowVmEndpoint (A4)',
    args: { name: 'eth0', assignment: 'static', switchType: null, configFile: '/etc/systemd/network/10-eth0.network' },
    names: [DEPLOY, RESTART],
    never: [ADD_ENDPOINT_FOR_ETH0, /networkctl reload/],
  }),
  row({
    code: 'IP_NO_ADDRESS',
    situation: 'DHCP on the Default Switch: reboot the host, then Hyper-V (A6)',
    args: { name: 'eth0', assignment: 'dhcp', switchType: 'default', configFile: null },
    names: [
      /reboot the Windows host/,
      /disable and re-enable Hyper-V/,
      /Disable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V-All/,
    ],
  }),
  row({
    code: 'IP_NO_ADDRESS',
    situation: 'DHCP on an internal switch: NAT and DHCP are two things (A5)',
    args: { name: 'eth0', assignment: 'dhcp', switchType: 'internal', configFile: null },
    names: [
      /New-NetNat -Name <name> -InternalIPInterfaceAddressPrefix/,
      /Install-WindowsFeature -Name DHCP -IncludeManagementTools/,
      /Add-DhcpServerV4Scope/,
      /Set-DhcpServerV4OptionValue -Router/,
      /Deploy-Eflow -ip4Address -ip4PrefixLength -ip4GatewayAddress/,
    ],
    never: [/either run one \(with New-NetNat/, ADD_ENDPOINT_FOR_ETH0],
  }),
  row({
    code: 'IP_NO_ADDRESS',
    situation: 'DHCP on an external switch: rebinding, nested virtualization (A7)',
    args: { name: 'eth0', assignment: 'dhcp', switchType: 'external', configFile: null },
    names: [/Set-VMSwitch -Name <switch> -NetAdapterName <connected NIC>/, /MAC address spoofing/, /forged transmits/],
  }),
  row({
    code: 'IP_NO_ADDRESS',
    situation: 'DHCP, switch unknown: Get-EflowNetwork for the switch',
    args: { name: 'eth0', assignment: 'dhcp', switchType: null, configFile: null },
    names: [/Get-EflowNetwork shows its name, type and CIDR/, /HealthStatus/],
  }),
  row({
    code: 'IP_LINK_LOCAL_ONLY',
    situation: 'DHCP did not answer on an internal switch',
    args: { name: 'eth0', address: '169.254.3.4', switchType: 'internal' },
    names: [/New-NetNat/, /Install-WindowsFeature -Name DHCP/],
  }),
  row({
    code: 'IP_LINK_LOCAL_STATIC',
    situation: 'static 169.254 (A3): a private prefix, NAT on it, redeploy',
    args: { name: 'eth0', address: '169.254.44.2', configFile: '/etc/systemd/network/10-eth0.network' },
    names: [
      /New-NetIPAddress -IPAddress 192\.168\.<n>\.1 -PrefixLength 24 -InterfaceIndex/,
      /New-NetNat -Name <name> -InternalIPInterfaceAddressPrefix 192\.168\.<n>\.0\/24/,
      /Deploy-Eflow -ip4Address 192\.168\.<n>\.2 -ip4PrefixLength 24 -ip4GatewayAddress 192\.168\.<n>\.1/,
    ],
    never: [/DHCP did not answer/, /no DHCP server replied/],
  }),
  row({
    code: 'IP_ADDRESS_MISMATCH',
    situation: 'stale input',
    args: { name: 'eth0', actual: ['198.18.0.10/24'], expected: '198.18.0.20' },
    names: [/Get-EflowVmAddr/],
  }),
  row({
    code: 'IP_STATIC_CONFIG_INCOMPLETE',
    situation: 'Deploy-Eflow first, the file as a stop-gap (A4, A10)',
    args: { file: '/etc/systemd/network/10-eth0.network', missing: ['a Gateway='] },
    names: [DEPLOY, RESTART, /Get-EflowVmEndpoint keeps showing/],
    never: [ADD_ENDPOINT_FOR_ETH0, /networkctl reload/],
  }),
  row({
    code: 'IP_GATEWAY_INVALID',
    situation: 'static gateway outside the prefix (A9)',
    args: {
      gateway: '172.10.0.1',
      iface: 'eth0',
      fault: 'outside',
      prefixes: ['172.20.0.0/24'],
      configFile: '/etc/systemd/network/10-eth0.network',
      assignment: 'static',
    },
    names: [DEPLOY, RESTART],
    never: [ADD_ENDPOINT_FOR_ETH0],
  }),
  row({
    code: 'IP_GATEWAY_INVALID',
    situation: 'a DHCP router outside the scope',
    args: {
      gateway: '10.9.0.1',
      iface: 'eth0',
      fault: 'outside',
      prefixes: ['10.0.0.0/24'],
      configFile: null,
      assignment: 'dhcp',
    },
    names: [/Set-DhcpServerV4OptionValue -Router/, RESTART],
  }),
  row({
    code: 'IP_NO_DEFAULT_ROUTE',
    situation: 'static or DHCP (A10)',
    args: { interfaces: ['eth0'] },
    names: [DEPLOY, RESTART, /ip route show default/],
    never: [/networkctl reload/],
  }),
  row({
    code: 'IP_MULTIPLE_DEFAULT_ROUTES',
    situation: 'the route in use is dead',
    args: {
      inUse: { gateway: '198.18.2.1', iface: 'eth1', metric: 50, answers: false },
      others: [{ gateway: '198.18.0.1', iface: 'eth0', metric: 100, answers: true }],
    },
    names: [
      /\[DHCPv4\] RouteMetric=/,
      /\[Route\] Gateway= with Metric=/,
      RESTART,
      /sudo ip route change default via 198\.18\.0\.1 dev eth0 metric 1/,
    ],
  }),
  row({
    code: 'IP_ROUTE_CONFLICT',
    situation: 'into a container bridge',
    args: {
      destination: '172.18.0.53',
      what: 'The DNS server',
      iface: 'br-0123456789ab',
      kind: 'on-link',
      matched: '172.18.0.0/16',
      bridge: true,
      expected: ['eth0'],
    },
    names: [
      /"bip"/,
      /\[\[moby_runtime\.network\.ipam\.config\]\] subnet =/,
      /sudo iotedge config apply/,
      /ip route get 172\.18\.0\.53/,
    ],
  }),
  row({
    code: 'IP_ROUTE_CONFLICT',
    situation: 'into a tunnel',
    args: {
      destination: '198.18.1.10',
      what: 'The hub',
      iface: 'tun0',
      kind: 'on-link',
      matched: '198.18.1.0/24',
      bridge: false,
      expected: ['eth0'],
    },
    names: [/ip route get 198\.18\.1\.10/, RESTART],
  }),
  row({
    code: 'IP_SUBNET_OVERLAP',
    situation: 'docker0 over eth0',
    args: { bridge: 'docker0', bridgeSubnet: '172.17.0.0/16', iface: 'eth0', ifaceSubnet: '172.17.32.0/20' },
    names: [/"bip"/, /default-address-pools/, /moby_runtime\.network/],
  }),
  row({
    code: 'IP_MTU_BLACKHOLE',
    situation: 'VPN/LTE (A14)',
    args: {
      iface: 'eth0',
      target: '198.18.0.1',
      largestPassing: 1280,
      smallestFailing: 1400,
      interfaceMtu: 1500,
      stalled: [`${HUB}:443`],
    },
    names: [
      /\[Link\] MTUBytes=1280/,
      RESTART,
      /"mtu": 1280 in \/etc\/docker\/daemon\.json/,
      /--opt com\.docker\.network\.driver\.mtu=1280/,
    ],
  }),
  row({
    code: 'IP_MTU_MISMATCH',
    situation: 'bridge above eth0',
    args: { bridge: 'docker0', bridgeMtu: 1500, iface: 'eth0', ifaceMtu: 1400 },
    names: [/\[Link\] MTUBytes=1400/, /com\.docker\.network\.driver\.mtu=1400/, /sudo systemctl restart docker/],
  }),
  row({
    code: 'IP_ADDRESS_CONFLICT',
    situation: 'static: choose another address, redeploy',
    args: { address: '198.18.0.10', iface: 'eth0', mac: '02:00:00:00:00:99', assignment: 'static' },
    names: [/redeploy with Deploy-Eflow/],
    never: [ADD_ENDPOINT_FOR_ETH0],
  }),
  row({
    code: 'IP_ADDRESS_CONFLICT',
    situation: 'DHCP: the scope, then a new lease',
    args: { address: '198.18.0.10', iface: 'eth0', mac: null, assignment: 'dhcp' },
    names: [/exclude its address from the scope/, /Stop-EflowVm; Start-EflowVm/],
  }),
  row({
    code: 'IP_GATEWAY_UNREACHABLE',
    situation: 'nothing answers at all',
    args: { gateway: '198.18.0.1', iface: 'eth0', detail: 'lost all 3 echo requests', arp: false, beyond: null },
    names: [/ip route show default/, /Get-EflowNetwork/, /HealthStatus/],
  }),
  row({
    code: 'IP_GATEWAY_UNREACHABLE',
    situation: 'answers ARP, nothing beyond known: NAT on an internal switch',
    args: { gateway: '198.18.0.1', iface: 'eth0', detail: 'lost all 3 echo requests', arp: true, beyond: null },
    names: [/Get-NetNat/, /Get-EflowNetwork/],
  }),
  row({
    code: 'IP_GATEWAY_UNREACHABLE',
    situation: 'ignores ping, DNS works beyond it (7.6)',
    args: {
      gateway: '198.18.0.1',
      iface: 'eth0',
      detail: 'lost all 3 echo requests',
      arp: true,
      beyond: 'DNS server 198.18.1.53',
    },
    names: [/nothing to fix/],
  }),
  row({
    code: 'IP_INTERFACE_ERRORS',
    situation: 'how to lower the MTU (A14)',
    args: { name: 'eth0', summary: '12 receive errors', mtu: 1500 },
    names: [/ip -s link show eth0/, /\[Link\] MTUBytes=1400/, /com\.docker\.network\.driver\.mtu=1400/],
    never: [/compare the MTU with the host's adapter/],
  }),
  row({
    code: 'IP_PING_NOT_PERMITTED',
    situation: 'capabilities',
    args: { targets: ['gateway 198.18.0.1', 'arping 198.18.0.10'] },
    names: [/NET_RAW/, /cap_net_raw/],
  }),
  row({
    code: 'DNS_NO_SERVERS',
    situation: 'static address: set by hand',
    args: { stub: false, files: ['/etc/resolv.conf'], staticIp: true, switchType: null },
    names: [SET_DNS, /Stop-EflowVm; Start-EflowVm/],
  }),
  row({
    code: 'DNS_NO_SERVERS',
    situation: 'Default Switch: ICS is broken (A15)',
    args: { stub: false, files: ['/etc/resolv.conf'], staticIp: false, switchType: 'default' },
    names: [/reboot the Windows host/, /Hyper-V/],
  }),
  row({
    code: 'DNS_NO_SERVERS',
    situation: 'internal switch with the Windows DHCP role (A15)',
    args: { stub: false, files: ['/etc/resolv.conf'], staticIp: false, switchType: 'internal' },
    names: [/Set-DhcpServerV4OptionValue -DnsServer/, SET_DNS],
  }),
  row({
    code: 'DNS_NO_SERVERS',
    situation: 'DHCP elsewhere',
    args: {
      stub: true,
      files: ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'],
      staticIp: false,
      switchType: null,
    },
    names: [/DNS option to the scope/, SET_DNS],
  }),
  row({
    code: 'DNS_SERVER_UNREACHABLE',
    situation: 'first the host (A16)',
    args: { server: '198.18.1.53', ping: 'lost all 3 echo requests', name: HUB },
    names: [HOST_RESOLVE(HUB, '198.18.1.53'), /resolvectl status/, SET_DNS],
  }),
  row({
    code: 'DNS_SERVER_NOT_ANSWERING',
    situation: 'an allow-list (A16)',
    args: { server: '198.18.1.53', detail: '1 query timed out', name: HUB },
    names: [HOST_RESOLVE(HUB, '198.18.1.53'), /allow-list/, SET_DNS],
  }),
  row({
    code: 'DNS_SERVER_REFUSED',
    situation: 'recursion refused (A16)',
    args: { server: '198.18.1.53', names: [HUB] },
    names: [HOST_RESOLVE(HUB, '198.18.1.53'), SET_DNS],
  }),
  row({
    code: 'DNS_SERVER_FAILURE',
    situation: 'SERVFAIL',
    args: { server: '198.18.1.53', detail: `SERVFAIL for ${HUB}`, name: HUB },
    names: [HOST_RESOLVE(HUB, '198.18.1.53'), /forwarders/, SET_DNS],
  }),
  row({
    code: 'DNS_NAME_NOT_FOUND',
    situation: 'the hub: DPS devices have no connection string (A18)',
    args: { name: HUB, servers: ['198.18.1.53'], kind: 'hub' },
    names: [
      HOST_RESOLVE(HUB, '198.18.1.53'),
      /\/var\/lib\/aziot\/identityd\/device_info/,
      /IOTEDGE_IOTHUBHOSTNAME/,
      /deleted or renamed/,
      /\.azure-devices\.us/,
    ],
    never: [/HostName of the device connection string/],
  }),
  row({
    code: 'DNS_NAME_NOT_FOUND',
    situation: 'a public Azure name',
    args: { name: 'global.azure-devices-provisioning.net', servers: ['198.18.1.53'], kind: 'azure' },
    names: [HOST_RESOLVE('global.azure-devices-provisioning.net', '198.18.1.53'), SET_DNS],
  }),
  row({
    code: 'DNS_NAME_NOT_FOUND',
    situation: 'the system resolver said it',
    args: { name: 'registry.contoso.internal', servers: ['the system resolver'], kind: 'other' },
    names: [/Resolve-DnsName registry\.contoso\.internal -Server <DNS server>/, SET_DNS],
  }),
  row({
    code: 'DNS_SYSTEM_RESOLVER_FAILED',
    situation: 'the stub path (A11)',
    args: { host: HUB, code: 'ESERVFAIL' },
    names: [new RegExp(`resolvectl query ${HUB.replace(/\./g, '\\.')}`), /resolvectl status/, /\/etc\/hosts/],
    never: [/nsswitch/],
  }),
  row({
    code: 'DNS_PUBLIC_SERVER',
    situation: 'failing',
    args: { server: '8.8.8.8', provider: 'Google Public DNS', failing: true, name: HUB },
    names: [HOST_RESOLVE(HUB, '8.8.8.8'), SET_DNS],
  }),
  row({
    code: 'DNS_PUBLIC_SERVER',
    situation: 'working',
    args: { server: '8.8.8.8', provider: 'Google Public DNS', failing: false, name: HUB },
    names: [/Set-EflowVmDnsServers/],
  }),
  row({
    code: 'DNS_CONTAINER_SERVERS_DIFFER',
    situation: "Docker's public fallback",
    args: {
      containers: ['8.8.8.8', '8.8.4.4'],
      vm: ['::1'],
      source: 'docker-default',
      tested: ['8.8.8.8'],
      untested: [],
      fallbackPublic: true,
    },
    names: [/"dns": \["<your DNS server>"\] in \/etc\/docker\/daemon\.json/, /sudo systemctl restart docker/],
  }),
  row({
    code: 'DNS_CONTAINER_SERVERS_DIFFER',
    situation: 'daemon.json dns',
    args: {
      containers: ['10.0.0.53'],
      vm: ['10.0.0.1'],
      source: 'daemon.json',
      tested: ['10.0.0.53'],
      untested: [],
      fallbackPublic: false,
    },
    names: [/DNS_CONTAINER_SERVER_FAILED/],
  }),
  row({
    code: 'DNS_CONTAINER_CONFIG_INVALID',
    situation: 'dockerd refuses the file',
    args: { path: '/etc/docker/daemon.json', reason: 'is not valid JSON' },
    names: [/sudo dockerd --validate --config-file \/etc\/docker\/daemon\.json/, /sudo systemctl restart docker/],
  }),
  row({
    code: 'DNS_CONTAINER_SERVER_FAILED',
    situation: 'a server from daemon.json',
    args: {
      server: '10.0.0.53',
      failure: 'unreachable',
      detail: 'ping lost all 3 echo requests',
      source: 'daemon.json',
      fallbackPublic: false,
      daemonConfig: '/etc/docker/daemon.json',
      name: HUB,
    },
    names: [
      HOST_RESOLVE(HUB, '10.0.0.53'),
      /correct "dns" in \/etc\/docker\/daemon\.json/,
      /sudo systemctl restart docker/,
    ],
  }),
  row({
    code: 'DNS_CONTAINER_SERVER_FAILED',
    situation: "Docker's public fallback blocked",
    args: {
      server: '8.8.8.8',
      failure: 'not-answering',
      detail: '1 query timed out',
      source: 'docker-default',
      fallbackPublic: true,
      daemonConfig: '/etc/docker/daemon.json',
      name: HUB,
    },
    names: [/"dns": \["<your DNS server>"\] in \/etc\/docker\/daemon\.json/],
  }),
  row({
    code: 'DNS_CONTAINER_SERVER_FAILED',
    situation: 'no server at all',
    args: {
      server: 'none',
      failure: 'none',
      detail: 'no upstream',
      source: 'systemd-resolved',
      fallbackPublic: false,
      daemonConfig: '/etc/docker/daemon.json',
      name: HUB,
    },
    names: [/"dns": \[/],
  }),
];

describe('guidance names the cmdlet or command each situation needs (CONTRACT 7.6)', () => {
  test('every IP and DNS code has at least one row', () => {
    const covered = new Set(ROWS.map((r) => r.code));
    for (const code of [...Object.keys(IP_CODES), ...Object.keys(DNS_CODES)])
      assert.ok(covered.has(code as FindingCode), code);
  });
  for (const r of ROWS) {
    test(`${r.code}: ${r.situation}`, () => {
      const f = finding(r.code, 'subject', r.args as never);
      for (const pattern of r.names) assert.match(f.guidance, pattern);
      for (const pattern of r.never ?? []) {
        assert.doesNotMatch(f.guidance, pattern);
        assert.doesNotMatch(f.message, pattern);
      }
    });
  }
  test('no guidance anywhere offers networkctl reload, or Add-EflowVmEndpoint with an address for eth0', () => {
    for (const r of ROWS) {
      const f = finding(r.code, 'subject', r.args as never);
      assert.doesNotMatch(f.guidance, /networkctl reload/, r.code);
      assert.doesNotMatch(f.guidance, ADD_ENDPOINT_FOR_ETH0, r.code);
    }
    for (const hint of Object.values(SWITCH_HINT)) assert.doesNotMatch(hint, ADD_ENDPOINT_FOR_ETH0);
  });
});
