/**
 * Every operator-facing sentence of a finding lives here, so the product speaks with one voice
 * and a wording change is one edit. Messages say what was seen with the actual and expected
 * values; guidance says the next concrete step, with the EFLOW cmdlet (run on the Windows host,
 * in an elevated PowerShell) where one applies.
 */
import type { SwitchType, UpstreamProtocol } from '../report/types.js';

export interface Words {
  message: string;
  guidance: string;
}

const SWITCH_HINT: Record<SwitchType | 'unknown', string> = {
  default:
    'The Default Switch gives the VM its address by DHCP from Windows (ICS) and may change subnet after a host reboot or network change; ' +
    'restart the VM with Stop-EflowVm; Start-EflowVm, then check the address with Get-EflowVmAddr.',
  internal:
    'An internal switch has no DHCP server of its own: either run one (with New-NetNat for the NAT) or give the VM a static address ' +
    '(Deploy-Eflow or Add-EflowVmEndpoint with -ip4Address, -ip4PrefixLength and -ip4GatewayAddress).',
  external:
    "An external switch bridges the VM onto the physical network, so its address comes from that network's DHCP server: check that the " +
    'switch is bound to the NIC that is actually connected (it breaks when a laptop moves from wired to Wi-Fi) and that the DHCP server ' +
    "accepts the VM's MAC (Get-EflowVmAddr shows it).",
  unknown: 'Check which switch the VM uses with Get-EflowNetwork and Get-EflowVmEndpoint on the Windows host.',
};

export const ipWords = {
  missing: (name: string, present: string[]): Words => ({
    message: `Interface ${name} does not exist in the VM${present.length ? ` (present: ${present.join(', ')})` : ''}.`,
    guidance:
      name === 'eth0'
        ? "eth0 is the VM's management NIC and always exists in EFLOW: check with Get-EflowVmEndpoint on the Windows host; if it is gone, redeploy or repair the VM (Stop-EflowVm; Start-EflowVm)."
        : `Extra NICs are added from Windows with Add-EflowNetwork and Add-EflowVmEndpoint; check that the endpoint for ${name} exists with Get-EflowVmEndpoint, or examine the right interface with --interface.`,
  }),
  down: (name: string, operState: string | null, adminUp: boolean | null): Words => ({
    message: `Interface ${name} is down (administratively ${adminUp ? 'up' : 'down'}, link state ${operState ?? 'unknown'}; expected up).`,
    guidance: adminUp
      ? `The link has no carrier: check that the Hyper-V switch of ${name} is connected (Get-EflowVmEndpoint shows its switch and health), then restart the VM with Stop-EflowVm; Start-EflowVm.`
      : `Bring it up inside the VM with "sudo ip link set ${name} up" and check the .network file that manages it; if it goes down again, restart the VM with Stop-EflowVm; Start-EflowVm.`,
  }),
  noAddress: (name: string, assignment: string, switchType: SwitchType | null, configFile: string | null): Words => ({
    message: `Interface ${name} has no IPv4 address (configured as ${assignment}${configFile ? ` by ${configFile}` : ''}).`,
    guidance:
      assignment === 'static'
        ? `The static configuration was not applied: check Address= (with the /prefix) and Gateway= in ${configFile ?? 'the .network file'}, or re-create the endpoint from Windows with Add-EflowVmEndpoint -ip4Address -ip4PrefixLength -ip4GatewayAddress, then restart the VM.`
        : `No DHCP lease was obtained. ${SWITCH_HINT[switchType ?? 'unknown']}`,
  }),
  linkLocalOnly: (name: string, address: string, switchType: SwitchType | null): Words => ({
    message: `Interface ${name} has only the link-local address ${address}: DHCP did not answer.`,
    guidance: `The VM gave itself an automatic 169.254.x.x address because no DHCP server replied. ${SWITCH_HINT[switchType ?? 'unknown']}`,
  }),
  mismatch: (name: string, actual: string[], expected: string): Words => ({
    message: `Interface ${name} has ${actual.join(', ')} but the host reports ${expected} for the VM.`,
    guidance:
      "The VM's address changed since the host last saw it (DHCP renewal, Default Switch subnet change) or the wrong interface is examined: " +
      'run Get-EflowVmAddr again on the Windows host; if you use a static address, compare it with Get-EflowVmEndpoint; update anything on the host that points at the old address.',
  }),
  staticIncomplete: (file: string, missing: string[]): Words => ({
    message: `Static configuration ${file} lacks ${missing.join(' and ')}.`,
    guidance:
      'A static EFLOW address needs all three of address, prefix length and gateway: set them together from Windows ' +
      '(Add-EflowVmEndpoint -ip4Address -ip4PrefixLength -ip4GatewayAddress), or fix Address=a.b.c.d/len and Gateway= in the file and run "sudo networkctl reload".',
  }),
  noDefaultRoute: (interfaces: string[]): Words => ({
    message: `There is no default route (examined: ${interfaces.join(', ')}); traffic to Azure has no way out of the VM.`,
    guidance:
      'With DHCP the router option was missing from the lease; with a static address the gateway is missing (Get-EflowVmEndpoint shows what Windows configured): ' +
      'add Gateway= to the .network file and run "sudo networkctl reload". With several NICs, check that the one with internet access has a default route.',
  }),
  gatewayUnreachable: (gateway: string, iface: string, detail: string): Words => ({
    message: `The default gateway ${gateway} on ${iface} did not answer ping (${detail}).`,
    guidance:
      'Many gateways ignore ping, so this alone is not fatal; if DNS or ports also fail, check the gateway address (Get-EflowVmEndpoint shows the configured one) and the Hyper-V switch (Get-EflowNetwork).',
  }),
  pingNotPermitted: (targets: string[]): Words => ({
    message: `ping is not permitted here (${targets.join(', ')}), so "unreachable" and "filtered" cannot be told apart by ping.`,
    guidance:
      'Give the module the NET_RAW capability (CapAdd ["NET_RAW"] in createOptions, as deployment.template.json does) and do not set no-new-privileges; on a host, run as root or give ping cap_net_raw.',
  }),
  interfaceErrors: (name: string, summary: string): Words => ({
    message: `Interface ${name} shows ${summary}.`,
    guidance:
      'Errors and drops point at a bad link, an MTU mismatch (VPNs, nested virtualization) or an overloaded host: compare the MTU with the host\'s adapter and watch the counters grow with "ip -s link show".',
  }),
};

export const dnsWords = {
  noServers: (stub: boolean, files: string[], staticIp: boolean): Words => ({
    message: stub
      ? `resolv.conf points at the systemd-resolved stub 127.0.0.53, but resolved has no upstream DNS server (${files.join(', ')}).`
      : `No DNS server is configured (${files.join(', ')}).`,
    guidance: staticIp
      ? 'With a static address the VM gets no DNS servers by DHCP: set them from Windows with Set-EflowVmDnsServers -vendpointName <name from Get-EflowVmEndpoint> -dnsServers @("<your DNS server>"), then Stop-EflowVm; Start-EflowVm.'
      : 'The DHCP server did not hand out DNS servers: fix its DNS option, or set them from Windows with Set-EflowVmDnsServers -vendpointName <name from Get-EflowVmEndpoint> -dnsServers @("<your DNS server>").',
  }),
  unreachable: (server: string, ping: string): Words => ({
    message: `DNS server ${server} did not answer any query, and ping ${ping}.`,
    guidance:
      "The server is down or not routable from the VM: check the address (resolvectl status), that the switch's network reaches it, and replace it with a reachable server using Set-EflowVmDnsServers.",
  }),
  notAnswering: (server: string, detail: string): Words => ({
    message: `DNS server ${server} answers ping but not DNS queries (${detail}).`,
    guidance:
      "Something between the VM and the server filters DNS (UDP/TCP port 53), or the server only answers listed clients: allow the VM's address on the server, open port 53, or use your network's own resolver with Set-EflowVmDnsServers.",
  }),
  refused: (server: string, names: string[]): Words => ({
    message: `DNS server ${server} refused to resolve ${names.join(', ')} (REFUSED).`,
    guidance:
      "The server does not serve recursion to the VM's address: allow the VM's subnet on that server, or point the VM at a resolver that does with Set-EflowVmDnsServers.",
  }),
  failure: (server: string, detail: string): Words => ({
    message: `DNS server ${server} failed to resolve: ${detail}.`,
    guidance:
      "SERVFAIL or a broken answer means the server cannot reach its own upstream or a middlebox mangles DNS: check the server's forwarders, or use another resolver with Set-EflowVmDnsServers.",
  }),
  nameNotFound: (name: string, servers: string[], kind: 'hub' | 'azure' | 'other'): Words => ({
    message: `${name} does not exist according to ${servers.join(', ')} (NXDOMAIN).`,
    guidance:
      kind === 'hub'
        ? 'Check the hub name for typos (it is the HostName of the device connection string, as in /etc/aziot/config.toml); with a private endpoint or split DNS, the server must know the privatelink zone.'
        : kind === 'azure'
          ? `${name} is a public Azure name, so a server that denies it does not resolve internet names for the VM (an internal-only or filtering resolver): make it forward to the internet, allow *.azure-devices.net and *.azure-devices-provisioning.net, or set a resolver that does with Set-EflowVmDnsServers.`
          : `Check the name for typos; if it is an internal name, the VM must use the DNS server that knows its zone (Set-EflowVmDnsServers).`,
  }),
  systemResolverFailed: (host: string, code: string): Words => ({
    message: `The system resolver could not resolve ${host} (${code}) although the DNS servers answered our own queries.`,
    guidance:
      'Look at /etc/hosts, /etc/nsswitch.conf and systemd-resolved ("resolvectl query <name>"): the VM\'s resolver path differs from the servers examined here.',
  }),
  publicServer: (server: string, provider: string, failing: boolean): Words => ({
    message: `${server} is a public DNS resolver (${provider})${failing ? ' and it is not answering' : ''}.`,
    guidance: failing
      ? "Corporate networks often block public resolvers: use your network's own DNS server with Set-EflowVmDnsServers."
      : "Public resolvers work on open networks but are often blocked on corporate ones and cannot see private endpoints; prefer your network's DNS server.",
  }),
};

const WS_FOR: Record<UpstreamProtocol, UpstreamProtocol> = {
  Amqp: 'AmqpWs',
  Mqtt: 'MqttWs',
  AmqpWs: 'AmqpWs',
  MqttWs: 'MqttWs',
};

function portPurpose(port: number): string {
  if (port === 8883) return 'MQTT';
  if (port === 5671) return 'AMQP';
  if (port === 443) return 'HTTPS/WebSockets';
  return 'this endpoint';
}

function firewallAsk(target: string, port: number): string {
  return `Ask the network team to allow outbound TCP ${port} from the VM to ${target} (${portPurpose(port)})`;
}

export const fwWords = {
  blocked: (target: string, port: number, ms: number): Words => ({
    message: `No answer connecting to ${target}:${port} within ${ms} ms: the packets are silently dropped.`,
    guidance: `${firewallAsk(target, port)}; dropped packets usually mean a firewall rule, not a down service.`,
  }),
  rejected: (target: string, port: number, code: string): Words => ({
    message: `Connection to ${target}:${port} was actively refused (${code}).`,
    guidance: `${firewallAsk(target, port)}; a refusal comes from a firewall or proxy that rejects the port, or from a wrong address for the name.`,
  }),
  unreachable: (target: string, port: number, code: string): Words => ({
    message: `${target}:${port} is unreachable from the VM (${code}).`,
    guidance:
      'There is no route to that address: check the default gateway and any static routes, and whether a VPN or firewall answers with "host unreachable".',
  }),
  untrusted: (target: string, port: number, issuer: string, error: string): Words => ({
    message: `TLS to ${target}:${port} is not trusted (${error}): the certificate chain was issued by "${issuer}".`,
    guidance:
      `Azure presents Microsoft/DigiCert certificates, so "${issuer}" is most likely a TLS-inspecting proxy or firewall. Either exempt the IoT Hub and DPS hostnames from inspection, ` +
      'or trust that CA: add it to the VM (/etc/pki/ca-trust/source/anchors then update-ca-trust, and trust_bundle_cert in /etc/aziot/config.toml), and pass it here with --ca-file to confirm.',
  }),
  tlsFailed: (target: string, port: number, detail: string): Words => ({
    message: `TCP to ${target}:${port} connects but the TLS handshake fails (${detail}).`,
    guidance:
      'A proxy or firewall accepts the connection and then cuts it (often deep packet inspection that does not allow TLS to this host): ask the network team to allow TLS to the hub without inspection.',
  }),
  fallback: (hub: string, closedPort: number, protocol: UpstreamProtocol): Words => ({
    message: `${hub}:${closedPort} is closed for ${protocol}, but ${hub}:443 works.`,
    guidance:
      `Switch the IoT Edge runtime to WebSockets over 443: set UpstreamProtocol=${WS_FOR[protocol]} in the environment of edgeAgent and edgeHub in the deployment ` +
      `(and [agent.env] UpstreamProtocol = "${WS_FOR[protocol]}" in /etc/aziot/config.toml, then "sudo iotedge config apply"), or open ${closedPort}.`,
  }),
  caFileProblem: (problem: string): Words => ({
    message: problem,
    guidance: 'Pass a readable PEM file with --ca-file (or caFile); the TLS checks ran with the system roots only.',
  }),
};
