/**
 * Phrases more than one code's words share: the switch-type hints, the firewall request, a ping
 * outcome in words. The operator reads these on the Windows host, in an elevated PowerShell.
 */
import type { PingOutcome } from '../report/types.js';
import type { SwitchType, UpstreamProtocol } from '../report/vocabulary.js';

export const SWITCH_HINT: Record<SwitchType | 'unknown', string> = {
  // The seed article's remedy for the Default Switch (ICS): rebooting Windows, then Hyper-V itself.
  default:
    'The Default Switch (Windows client editions only) hands out addresses through Internet Connection Sharing and ' +
    'picks a new subnet at host reboots and network changes. ' +
    'When it stops handing them out, reboot the Windows host; if that does not help, disable and re-enable Hyper-V ' +
    '(Disable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V-All, reboot, ' +
    'Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V-All, reboot). ' +
    'Then check the address with Get-EflowVmAddr.',
  // NAT and DHCP are two things (how-to-create-virtual-switch): New-NetNat gives no addresses.
  internal:
    'An internal switch (Windows Server only) has neither internet access nor addresses of its own. It needs NAT: ' +
    'New-NetIPAddress -IPAddress <gateway> -PrefixLength 24 -InterfaceIndex <index of vEthernet (<switch>)> and ' +
    'New-NetNat -Name <name> -InternalIPInterfaceAddressPrefix <network>/24; and it needs an address for the VM, ' +
    'either from the DHCP Server role ' +
    '(Install-WindowsFeature -Name DHCP -IncludeManagementTools; Add-DhcpServerV4Scope; Set-DhcpServerV4OptionValue ' +
    '-Router <gateway> -DnsServer <DNS server>) ' +
    'or as a static address set at deployment (Deploy-Eflow -ip4Address -ip4PrefixLength -ip4GatewayAddress, then ' +
    'Set-EflowVmDnsServers).',
  external:
    "An external switch bridges the VM onto the physical network, so its address comes from that network's DHCP " +
    'server. Check that the ' +
    'switch is bound to the NIC that is actually connected (it breaks when a laptop moves from wired to Wi-Fi): ' +
    'Set-VMSwitch -Name <switch> -NetAdapterName <connected NIC>; ' +
    "that the DHCP server accepts the VM's MAC (Get-EflowVmAddr shows it); and, when Windows itself runs in a VM, " +
    "that the outer hypervisor lets the VM's MAC through " +
    '(MAC address spoofing on Hyper-V, promiscuous mode and forged transmits on VMware).',
  unknown:
    'Check which switch the VM uses on the Windows host: Get-EflowNetwork shows its name, type and CIDR, ' +
    "Get-EflowVmEndpoint the VM's endpoint and its HealthStatus " +
    '(pass --switch-type for advice specific to it).',
};

export function switchHint(switchType: SwitchType | null): string {
  return SWITCH_HINT[switchType ?? 'unknown'];
}

/**
 * eth0's static address, prefix and gateway are set at deployment only: there is no cmdlet that
 * changes them afterwards, and Add-EflowVmEndpoint adds another NIC (field-failure-modes A4).
 */
export const REDEPLOY_STATIC =
  "eth0's static address is set only at deployment: redeploy with Deploy-Eflow -vswitchName <switch> -vswitchType " +
  '<Internal|External> ' +
  '-ip4Address <address> -ip4PrefixLength <length> -ip4GatewayAddress <gateway> (Add-EflowVmEndpoint adds another ' +
  'NIC; it cannot change eth0)';

/** The stop-gap inside the VM for a static eth0, and what it costs. */
export function editNetworkFile(file: string | null, what: string): string {
  return (
    `As a stop-gap, fix ${what} in ${file ?? 'the .network file of eth0'} inside the VM and run "sudo systemctl ` +
    `restart systemd-networkd" ` +
    '(it persists through the /etc overlay, but Get-EflowVmEndpoint keeps showing the values of the deployment)'
  );
}

/** networkd's own reload exists only from systemd 244; EFLOW 1.1 (CBL-Mariner 1.0) has 239. */
export const RESTART_NETWORKD = 'sudo systemctl restart systemd-networkd';

/** The host-side comparison for a DNS server: the seed article's first step for DNS. */
export function hostResolve(name: string, server: string): string {
  return `From the Windows host, run Resolve-DnsName ${name} -Server ${server}`;
}

/** How to lower the MTU where EFLOW lets you: there is no EFLOW cmdlet for it. */
export function lowerMtu(mtu: number | null): string {
  const n = mtu === null ? '<mtu>' : String(mtu);
  return (
    `set [Link] MTUBytes=${n} in the .network file of eth0 and run "${RESTART_NETWORKD}"; for the containers, ` +
    `"mtu": ${n} in /etc/docker/daemon.json ` +
    `(then "sudo systemctl restart docker") and recreate the azure-iot-edge network with --opt ` +
    `com.docker.network.driver.mtu=${n} ` +
    '(sudo iotedge system stop; docker network rm azure-iot-edge; docker network create --opt ' +
    'com.docker.network.driver.mtu=' +
    `${n} azure-iot-edge; sudo iotedge system restart)`
  );
}

/** Where containers' DNS servers are set, and how dockerd picks the change up. */
export function setDockerDns(path: string, server = '<your DNS server>'): string {
  return (
    `set "dns": ["${server}"] in ${path} and run "sudo systemctl restart docker" (modules restart with the new ` +
    `servers)`
  );
}

/** The WebSocket form of each upstream protocol (the WebSocket forms are their own). */
export const WS_FOR: Record<UpstreamProtocol, UpstreamProtocol> = {
  Amqp: 'AmqpWs',
  Mqtt: 'MqttWs',
  AmqpWs: 'AmqpWs',
  MqttWs: 'MqttWs',
};

export function portPurpose(port: number): string {
  if (port === 8883) return 'MQTT';
  if (port === 5671) return 'AMQP';
  if (port === 443) return 'HTTPS/WebSockets';
  return 'this endpoint';
}

export function firewallAsk(target: string, port: number): string {
  return `Ask the network team to allow outbound TCP ${port} from the VM to ${target} (${portPurpose(port)})`;
}

/** A ping outcome as the end of a sentence starting "ping …". */
export function describePing(p: PingOutcome | undefined): string {
  if (!p) return 'was not tried';
  if ('error' in p)
    return p.error === 'not-permitted' ? 'is not permitted in this container (no NET_RAW)' : 'is not available';
  if (p.received === 0) return p.sent === 1 ? 'lost its echo request' : `lost all ${p.sent} echo requests`;
  return `lost ${p.sent - p.received} of ${p.sent} echo requests`;
}
