/**
 * The IP layer's codes (CONTRACT.md 4.1 and 7.5) and their words. Every remedy names the EFLOW
 * cmdlet with its real parameters (the AzureEFLOW PowerShell reference) or the command inside the
 * VM that the situation needs; docs-notes/issue8-guidance.md says where each text comes from.
 */
import type { SwitchType } from '../report/vocabulary.js';
import { defineCodes } from './define.js';
import { REDEPLOY_STATIC, RESTART_NETWORKD, editNetworkFile, lowerMtu, switchHint } from './phrases.js';

/** Why a gateway cannot be one (IP_GATEWAY_INVALID). */
export type GatewayFault = 'outside' | 'own-address' | 'network-address' | 'broadcast-address';

const GATEWAY_FAULT: Record<GatewayFault, string> = {
  outside: 'is outside every prefix configured on',
  'own-address': 'is the VM’s own address on',
  'network-address': 'is the network address of the prefix on',
  'broadcast-address': 'is the broadcast address of the prefix on',
};

export const IP_CODES = defineCodes({
  IP_INTERFACE_MISSING: {
    component: 'ip',
    severity: 'error',
    when: 'the interface does not exist',
    words: ({ name, present }: { name: string; present: string[] }) => ({
      message:
        `Interface ${name} does not exist in the ` + `VM${present.length ? ` (present: ${present.join(', ')})` : ''}.`,
      guidance:
        name === 'eth0'
          ? "eth0 is the VM's first NIC and always exists in EFLOW: on the Windows host, Get-EflowVmEndpoint lists " +
            "the VM's endpoints (GuestInterfaceName, HealthStatus); if eth0 is gone, restart the VM with " +
            'Stop-EflowVm; Start-EflowVm, and redeploy (Deploy-Eflow) if it stays gone.'
          : `Extra NICs are added from Windows with Add-EflowNetwork -vswitchName <switch> -vswitchType ` +
            `<Internal|External>, then Add-EflowVmEndpoint -vswitchName <switch> -vendpointName <name> and ` +
            `Stop-EflowVm; Start-EflowVm; check that the endpoint for ${name} exists with Get-EflowVmEndpoint, or ` +
            `examine the right interface with --interface.`,
    }),
  },
  IP_INTERFACE_DOWN: {
    component: 'ip',
    severity: 'error',
    when: 'administratively or operationally down',
    words: ({ name, operState, adminUp }: { name: string; operState: string | null; adminUp: boolean | null }) => ({
      message:
        `Interface ${name} is down (administratively ` +
        `${adminUp === null ? 'unknown' : adminUp ? 'up' : 'down'}, link state ${operState ?? 'unknown'}; ` +
        `expected up).`,
      guidance:
        adminUp === false
          ? `Bring it up inside the VM with "sudo ip link set ${name} up" and check the .network file that manages ` +
            `it ("${RESTART_NETWORKD}" applies it again); if it goes down again, restart the VM with ` +
            `Stop-EflowVm; Start-EflowVm.`
          : `The link has no carrier: on the Windows host, Get-EflowVmEndpoint shows the endpoint's HealthStatus ` +
            `and Get-EflowNetwork the switch it is on (name, type); check that switch is connected, then restart ` +
            `the VM with Stop-EflowVm; Start-EflowVm.`,
    }),
  },
  IP_NO_ADDRESS: {
    component: 'ip',
    severity: 'error',
    when: 'no IPv4 address (guidance for DHCP vs static, and by switch type)',
    words: (a: { name: string; assignment: string; switchType: SwitchType | null; configFile: string | null }) => ({
      message:
        `Interface ${a.name} has no IPv4 address (configured as ` +
        `${a.assignment}${a.configFile ? ` by ${a.configFile}` : ''}).`,
      guidance:
        a.assignment === 'static'
          ? `The static configuration was not applied: check Address= (with the /prefix) and Gateway= in ` +
            `${a.configFile ?? 'the .network file'} and run "${RESTART_NETWORKD}". ${REDEPLOY_STATIC}.`
          : `No DHCP lease was obtained. ${switchHint(a.switchType)}`,
    }),
  },
  IP_LINK_LOCAL_ONLY: {
    component: 'ip',
    severity: 'error',
    when: 'only 169.254.x.x from DHCP (or an unknown source): DHCP did not answer',
    words: ({ name, address, switchType }: { name: string; address: string; switchType: SwitchType | null }) => ({
      message: `Interface ${name} has only the link-local address ${address}: DHCP did not answer.`,
      guidance:
        `The VM gave itself an automatic 169.254.x.x address because no DHCP server replied. ` +
        `${switchHint(switchType)}`,
    }),
  },
  IP_LINK_LOCAL_STATIC: {
    component: 'ip',
    severity: 'warning',
    when:
      'a static 169.254.0.0/16 address (an old internal-switch recipe): it reaches only the Windows host; the ' +
      'layers above are still judged',
    words: ({ name, address, configFile }: { name: string; address: string; configFile: string | null }) => ({
      message:
        `Interface ${name} has the static link-local address ` +
        `${address}${configFile ? ` (${configFile})` : ''}: 169.254.0.0/16 is never routed, so only the Windows ` +
        `host can be reached through it.`,
      guidance:
        'Move the internal switch and the VM to a private (RFC 1918) prefix: on the Windows host, New-NetIPAddress ' +
        '-IPAddress 192.168.<n>.1 -PrefixLength 24 -InterfaceIndex <index of vEthernet (<switch>)> ' +
        'and New-NetNat -Name <name> -InternalIPInterfaceAddressPrefix 192.168.<n>.0/24, then redeploy with ' +
        'Deploy-Eflow -ip4Address 192.168.<n>.2 -ip4PrefixLength 24 -ip4GatewayAddress 192.168.<n>.1 ' +
        "(eth0's static address is set only at deployment) and Set-EflowVmDnsServers.",
    }),
  },
  IP_ADDRESS_MISMATCH: {
    component: 'ip',
    severity: 'warning',
    when: 'differs from `--expected-ip` (usually stale input: a warning, so a working path is not called broken)',
    words: ({ name, actual, expected }: { name: string; actual: string[]; expected: string }) => ({
      message: `Interface ${name} has ${actual.join(', ')} but the host reports ${expected} for the VM.`,
      guidance:
        'Get-EflowVmAddr reads the address from the VM itself, so a difference is almost always a stale value or a ' +
        'second address: run Get-EflowVmAddr again on the Windows host and update ' +
        'whatever on the host points at the old address. If the address changed (a DHCP renewal, a Default Switch ' +
        "subnet change after a host reboot), consider a DHCP reservation for the VM's MAC or a static address " +
        'at deployment.',
    }),
  },
  IP_STATIC_CONFIG_INCOMPLETE: {
    component: 'ip',
    severity: 'error',
    when: 'a static `.network` lacks Address with prefix, or Gateway',
    words: ({ file, missing }: { file: string; missing: string[] }) => ({
      message: `Static configuration ${file} lacks ${missing.join(' and ')}.`,
      guidance:
        `A static EFLOW address needs all three of address, prefix length and gateway. ${REDEPLOY_STATIC}. ` +
        `${editNetworkFile(file, 'Address=a.b.c.d/len and Gateway=')}.`,
    }),
  },
  IP_GATEWAY_INVALID: {
    component: 'ip',
    severity: 'error',
    when: 'the gateway is outside every configured prefix, is the VM’s own address, or its network/broadcast address',
    words: (a: {
      gateway: string;
      iface: string;
      fault: GatewayFault;
      prefixes: string[];
      configFile: string | null;
      assignment: string;
    }) => ({
      message:
        `The gateway ${a.gateway} ${GATEWAY_FAULT[a.fault]} ${a.iface} ` +
        `(${a.prefixes.join(', ') || 'no prefix'})${a.configFile && a.assignment === 'static' ? `, as ${a.configFile} sets it` : ''}: nothing can leave the VM through it.`,
      guidance:
        a.assignment === 'dhcp'
          ? `The DHCP server hands out this router: fix its router option (on a Windows DHCP server: ` +
            `Set-DhcpServerV4OptionValue -Router <gateway inside the scope>), then "${RESTART_NETWORKD}" in the ` +
            `VM.`
          : `The gateway must be another host inside eth0's prefix. ${REDEPLOY_STATIC}. ` +
            `${editNetworkFile(a.configFile, 'Gateway=')}.`,
    }),
  },
  IP_NO_DEFAULT_ROUTE: {
    component: 'ip',
    severity: 'error',
    when: 'no default route',
    words: ({ interfaces }: { interfaces: string[] }) => ({
      message:
        `There is no default route (examined: ${interfaces.join(', ')}); traffic to Azure has no way out of ` +
        `the VM.`,
      guidance:
        `With DHCP the router option was missing from the lease: fix the DHCP scope. With a static address the ` +
        `gateway is missing: ${REDEPLOY_STATIC}, ` +
        `or as a stop-gap add Gateway= to the .network file and run "${RESTART_NETWORKD}". With several NICs, check ` +
        `that the one with internet access has a default route (ip route show default).`,
    }),
  },
  IP_MULTIPLE_DEFAULT_ROUTES: {
    component: 'ip',
    severity: 'warning',
    when: 'several default routes; names the one in use and its interface',
    severityRule:
      'warning; error when the gateway of the route in use answers neither ARP nor ping (`ping -I <interface>`) ' +
      'while another default route’s gateway does',
    words: (a: {
      inUse: { gateway: string; iface: string; metric: number; answers: boolean | null };
      others: Array<{ gateway: string; iface: string; metric: number; answers: boolean | null }>;
    }) => {
      const said = (x: boolean | null) => (x === null ? 'not tested' : x ? 'answers' : 'does not answer ARP or ping');
      const others = a.others
        .map((o) => `${o.gateway} on ${o.iface} (metric ${o.metric}, ${said(o.answers)})`)
        .join('; ');
      const working = a.others.find((o) => o.answers === true);
      return {
        message:
          `There are ${a.others.length + 1} default routes; the kernel uses ${a.inUse.gateway} on ` +
          `${a.inUse.iface} (metric ${a.inUse.metric}, ${said(a.inUse.answers)}); also: ${others}.`,
        guidance:
          (a.inUse.answers === false && working
            ? `Traffic leaves by ${a.inUse.iface}, whose gateway is not there, while ${working.iface}'s is. `
            : 'EFLOW creates one default route per NIC and the metrics decide which is used: ') +
          `give the NIC with internet access the lowest metric in its .network file ([DHCPv4] RouteMetric= for ` +
          `DHCP, [Route] Gateway= with Metric= for a static address) and run "${RESTART_NETWORKD}"; ` +
          `to try it at once: sudo ip route change default via ${working?.gateway ?? '<gateway>'} dev ` +
          `${working?.iface ?? '<interface>'} metric 1.`,
      };
    },
  },
  IP_ROUTE_CONFLICT: {
    component: 'ip',
    severity: 'error',
    when:
      'a needed destination is routed into a container bridge or an unexpected interface (a bridge subnet ' +
      'covers the DNS server, the hub’s address, the proxy…)',
    words: (a: {
      destination: string;
      what: string;
      iface: string | null;
      kind: string;
      matched: string | null;
      bridge: boolean;
      expected: string[];
    }) => ({
      message:
        a.kind === 'unreachable' || a.kind === 'blackhole' || a.kind === 'none'
          ? `${a.what} (${a.destination}) has no usable route: the kernel ` +
            `${a.kind === 'blackhole' ? 'drops it (blackhole route' : a.kind === 'none' ? 'has no route for it (' : 'refuses it (unreachable route'}${a.matched ? ` ${a.matched}` : ''}).`
          : `${a.what} (${a.destination}) is routed into ` +
            `${a.bridge ? 'the container bridge ' : ''}${a.iface ?? '?'}${a.matched ? ` by the route ${a.matched}` : ''}, not out through ${a.expected.join(' or ') || 'the uplink'}.`,
      guidance: a.bridge
        ? `A Docker network's subnet covers this address, so the VM sends it to the containers instead of the ` +
          `network. Give the bridge a subnet nobody uses: docker0 with "bip": "<unused address>/24" in ` +
          `/etc/docker/daemon.json ("sudo systemctl restart docker"); azure-iot-edge with ` +
          `[[moby_runtime.network.ipam.config]] subnet = "<unused prefix>" under [moby_runtime.network] in ` +
          `/etc/aziot/config.toml, then sudo iotedge system stop; docker network rm azure-iot-edge; sudo iotedge ` +
          `config apply. Check with "ip route get ${a.destination}".`
        : `Look at the route that matched with "ip route get ${a.destination}" and "ip route show": remove the ` +
          `route that sends it elsewhere (a static route in a .network file, a VPN's route), then ` +
          `"${RESTART_NETWORKD}".`,
    }),
  },
  IP_SUBNET_OVERLAP: {
    component: 'ip',
    severity: 'warning',
    when: 'a container bridge subnet overlaps eth0’s subnet',
    words: (a: { bridge: string; bridgeSubnet: string; iface: string; ifaceSubnet: string }) => ({
      message:
        `The container bridge ${a.bridge} (${a.bridgeSubnet}) overlaps ${a.iface}'s subnet ${a.ifaceSubnet}: ` +
        `hosts of that subnet may be sent to the containers instead.`,
      guidance:
        'Give the Docker networks prefixes that no network of the site uses: docker0 with "bip" (and ' +
        '"default-address-pools") in /etc/docker/daemon.json, then "sudo systemctl restart docker"; ' +
        'azure-iot-edge with [[moby_runtime.network.ipam.config]] subnet = under [moby_runtime.network] in ' +
        '/etc/aziot/config.toml, then sudo iotedge system stop; docker network rm azure-iot-edge; sudo iotedge ' +
        'config apply. The Default Switch picks its subnet from 172.16.0.0/12 and 192.168.0.0/16 anew at host ' +
        'reboots, so it can collide later.',
    }),
  },
  IP_MTU_BLACKHOLE: {
    component: 'ip',
    severity: 'error',
    when:
      'large don’t-fragment packets vanish while small ones pass (no “fragmentation needed” comes back), and ' +
      'TLS stalls after connect',
    words: (a: {
      iface: string;
      target: string;
      largestPassing: number;
      smallestFailing: number;
      interfaceMtu: number;
      stalled: string[];
    }) => ({
      message:
        `Packets of ${a.smallestFailing} bytes to ${a.target} vanish while ${a.largestPassing} bytes pass, ` +
        `and no "fragmentation needed" comes back (${a.iface} MTU ${a.interfaceMtu}); TLS stalls after TCP ` +
        `connected to ${a.stalled.join(', ')}: a path-MTU black hole (VPN, LTE, nested virtualization).`,
      guidance:
        `Lower the MTU to what passes: ${lowerMtu(a.largestPassing)}. Better, ask the network team to let ` +
        `ICMP "fragmentation needed" through so path MTU discovery works.`,
    }),
  },
  IP_MTU_MISMATCH: {
    component: 'ip',
    severity: 'warning',
    when: 'a container bridge MTU is larger than eth0’s',
    words: (a: { bridge: string; bridgeMtu: number; iface: string; ifaceMtu: number }) => ({
      message:
        `The container bridge ${a.bridge} has MTU ${a.bridgeMtu}, larger than ${a.iface}'s ${a.ifaceMtu}: ` +
        `full-size packets from modules do not fit the link (TLS stalls on VPN and LTE).`,
      guidance: `The Docker network MTU must not be higher than the device's: ${lowerMtu(a.ifaceMtu)}.`,
    }),
  },
  IP_ADDRESS_CONFLICT: {
    component: 'ip',
    severity: 'error',
    when: 'another host answers ARP for the VM’s address (duplicate address detection, `arping -D`, bounded at 500 ms)',
    words: (a: { address: string; iface: string; mac: string | null; assignment: string }) => ({
      message:
        `Another host${a.mac ? ` (MAC ${a.mac})` : ''} answers ARP for ${a.address}, the address of ` +
        `${a.iface}: two machines use the same address, so traffic goes to either.`,
      guidance:
        a.assignment === 'static'
          ? `Choose an address nobody uses (the EFLOW networking doc warns that a static address may already be ` +
            `taken by another device) and ${REDEPLOY_STATIC.charAt(0).toLowerCase()}${REDEPLOY_STATIC.slice(1)}; ` +
            `find the other device by its MAC in the switch's or DHCP server's tables.`
          : 'The DHCP server handed out an address another device holds (a static device inside the scope, or two ' +
            'DHCP servers): ask the network team to find that MAC and exclude its address from the scope (or ' +
            'reserve one for the VM), then renew the lease with Stop-EflowVm; Start-EflowVm.',
    }),
  },
  IP_GATEWAY_UNREACHABLE: {
    component: 'ip',
    severity: 'warning',
    when: 'the default gateway does not answer ping',
    severityRule: 'warning; info when DNS or an endpoint beyond the gateway works (Windows hosts often drop ICMP)',
    words: ({
      gateway,
      iface,
      detail,
      arp,
      beyond,
    }: {
      gateway: string;
      iface: string;
      detail: string;
      arp: boolean | null;
      beyond: string | null;
    }) => ({
      message:
        `The default gateway ${gateway} on ${iface} did not answer ping ` +
        `(${detail})${arp === true ? ', but it answers ARP' : arp === false ? ' nor ARP' : ''}${beyond ? `; ${beyond} beyond it works` : ''}.`,
      guidance: beyond
        ? 'The gateway forwards traffic but ignores ping, as Windows hosts (internal switch with WinNAT, the ' +
          'Default Switch) often do: nothing to fix.'
        : arp === false
          ? 'Nothing answers at that address: check the gateway the VM uses (ip route show default) against the ' +
            "network's router, Get-EflowNetwork for the switch and its CIDR, and Get-EflowVmEndpoint for the " +
            "endpoint's HealthStatus."
          : 'Many gateways ignore ping, so this alone is not fatal; if DNS or ports also fail, check the gateway ' +
            '(ip route show default), the switch (Get-EflowNetwork) and, on an internal switch, that New-NetNat ' +
            "covers the VM's prefix (Get-NetNat).",
    }),
  },
  IP_INTERFACE_ERRORS: {
    component: 'ip',
    severity: 'warning',
    when: 'rx/tx errors, or drops above 1 % (at least 100)',
    words: ({ name, summary, mtu }: { name: string; summary: string; mtu: number | null }) => ({
      message: `Interface ${name} shows ${summary}.`,
      guidance:
        `Errors and drops point at a bad link, an MTU too large for the path (VPNs, LTE, nested virtualization) or ` +
        `an overloaded host; watch them grow with "ip -s link show ${name}". ` +
        `EFLOW has no MTU cmdlet: to lower it, ${lowerMtu(mtu === null ? null : Math.min(mtu, 1400))}.`,
    }),
  },
  IP_PING_NOT_PERMITTED: {
    component: 'ip',
    severity: 'info',
    when: 'ping (or arping) lacks `NET_RAW`, so silence and filtering cannot be told apart',
    extension: true,
    words: ({ targets }: { targets: string[] }) => ({
      message:
        `ping or arping is not permitted here (${targets.join(', ')}), so "unreachable" and "filtered" (or ` +
        `"no duplicate") cannot be told apart.`,
      guidance:
        'Give the module the NET_RAW capability (CapAdd ["NET_RAW"] in createOptions, as deployment.template.json ' +
        'does) and do not set no-new-privileges; on a host, run as root or give ping and arping cap_net_raw.',
    }),
  },
});
