/** The DNS layer's codes (CONTRACT.md 4.2) and their words. */
import { defineCodes } from './define.js';

const WHEN_NONE_WORKS = 'error if no server works, else warning';

export type NameKind = 'hub' | 'azure' | 'other';

export const DNS_CODES = defineCodes({
  DNS_NO_SERVERS: {
    component: 'dns',
    severity: 'error',
    when: 'no resolver (including a stub with no upstream)',
    words: ({ stub, files, staticIp }: { stub: boolean; files: string[]; staticIp: boolean }) => ({
      message: stub
        ? `resolv.conf points at the systemd-resolved stub 127.0.0.53, but resolved has no upstream DNS server (${files.join(', ')}).`
        : `No DNS server is configured (${files.join(', ')}).`,
      guidance: staticIp
        ? 'With a static address the VM gets no DNS servers by DHCP: set them from Windows with Set-EflowVmDnsServers -vendpointName <name from Get-EflowVmEndpoint> -dnsServers @("<your DNS server>"), then Stop-EflowVm; Start-EflowVm.'
        : 'The DHCP server did not hand out DNS servers: fix its DNS option, or set them from Windows with Set-EflowVmDnsServers -vendpointName <name from Get-EflowVmEndpoint> -dnsServers @("<your DNS server>").',
    }),
  },
  DNS_SERVER_UNREACHABLE: {
    component: 'dns',
    severity: 'error',
    when: 'no answer to ping or queries',
    severityRule: WHEN_NONE_WORKS,
    words: ({ server, ping }: { server: string; ping: string }) => ({
      message: `DNS server ${server} did not answer any query, and ping ${ping}.`,
      guidance:
        "The server is down or not routable from the VM: check the address (resolvectl status), that the switch's network reaches it, and replace it with a reachable server using Set-EflowVmDnsServers.",
    }),
  },
  DNS_SERVER_NOT_ANSWERING: {
    component: 'dns',
    severity: 'error',
    when: 'answers ping, but queries time out or port 53 is refused',
    severityRule: WHEN_NONE_WORKS,
    words: ({ server, detail }: { server: string; detail: string }) => ({
      message: `DNS server ${server} answers ping but not DNS queries (${detail}).`,
      guidance:
        "Something between the VM and the server filters DNS (UDP/TCP port 53), or the server only answers listed clients: allow the VM's address on the server, open port 53, or use your network's own resolver with Set-EflowVmDnsServers.",
    }),
  },
  DNS_SERVER_REFUSED: {
    component: 'dns',
    severity: 'error',
    when: 'REFUSED',
    severityRule: WHEN_NONE_WORKS,
    words: ({ server, names }: { server: string; names: string[] }) => ({
      message: `DNS server ${server} refused to resolve ${names.join(', ')} (REFUSED).`,
      guidance:
        "The server does not serve recursion to the VM's address: allow the VM's subnet on that server, or point the VM at a resolver that does with Set-EflowVmDnsServers.",
    }),
  },
  DNS_SERVER_FAILURE: {
    component: 'dns',
    severity: 'error',
    when: 'SERVFAIL or a malformed answer',
    severityRule: WHEN_NONE_WORKS,
    words: ({ server, detail }: { server: string; detail: string }) => ({
      message: `DNS server ${server} failed to resolve: ${detail}.`,
      guidance:
        "SERVFAIL or a broken answer means the server cannot reach its own upstream or a middlebox mangles DNS: check the server's forwarders, or use another resolver with Set-EflowVmDnsServers.",
    }),
  },
  DNS_NAME_NOT_FOUND: {
    component: 'dns',
    severity: 'error',
    when: 'NXDOMAIN for a name that must resolve',
    severityRule: 'error (warning if another server knows it)',
    words: ({ name, servers, kind }: { name: string; servers: string[]; kind: NameKind }) => ({
      message: `${name} does not exist according to ${servers.join(', ')} (NXDOMAIN).`,
      guidance:
        kind === 'hub'
          ? 'Check the hub name for typos (it is the HostName of the device connection string, as in /etc/aziot/config.toml); with a private endpoint or split DNS, the server must know the privatelink zone.'
          : kind === 'azure'
            ? `${name} is a public Azure name, so a server that denies it does not resolve internet names for the VM (an internal-only or filtering resolver): make it forward to the internet, allow *.azure-devices.net and *.azure-devices-provisioning.net, or set a resolver that does with Set-EflowVmDnsServers.`
            : `Check the name for typos; if it is an internal name, the VM must use the DNS server that knows its zone (Set-EflowVmDnsServers).`,
    }),
  },
  DNS_SYSTEM_RESOLVER_FAILED: {
    component: 'dns',
    severity: 'error',
    when: "an endpoint did not resolve through the VM's resolver although the servers answer our queries",
    extension: true,
    words: ({ host, code }: { host: string; code: string }) => ({
      message: `The system resolver could not resolve ${host} (${code}) although the DNS servers answered our own queries.`,
      guidance:
        'Look at /etc/hosts, /etc/nsswitch.conf and systemd-resolved ("resolvectl query <name>"): the VM\'s resolver path differs from the servers examined here.',
    }),
  },
  DNS_PUBLIC_SERVER: {
    component: 'dns',
    severity: 'info',
    when: 'a public resolver is configured',
    severityRule: 'info, or warning when it fails',
    words: ({ server, provider, failing }: { server: string; provider: string; failing: boolean }) => ({
      message: `${server} is a public DNS resolver (${provider})${failing ? ' and it is not answering' : ''}.`,
      guidance: failing
        ? "Corporate networks often block public resolvers: use your network's own DNS server with Set-EflowVmDnsServers."
        : "Public resolvers work on open networks but are often blocked on corporate ones and cannot see private endpoints; prefer your network's DNS server.",
    }),
  },
});
