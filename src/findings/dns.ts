/**
 * The DNS layer's codes (CONTRACT.md 4.2 and 7.5) and their words. Each finding about a server
 * starts where Microsoft's troubleshooting does: the same question asked from the Windows host
 * (Resolve-DnsName <name> -Server <ip>), which tells the VM's path from the server itself.
 */
import type { SwitchType } from '../report/vocabulary.js';
import { defineCodes } from './define.js';
import { hostResolve, setDockerDns } from './phrases.js';

const WHEN_NONE_WORKS = 'error if no server works, else warning';

export type NameKind = 'hub' | 'azure' | 'other';

/** How a server failed, in the terms of 4.2 (DNS_CONTAINER_SERVER_FAILED names the same kinds). */
export type ServerFailure = 'unreachable' | 'not-answering' | 'refused' | 'failure';

const FAILURE_WORDS: Record<ServerFailure | 'none', string> = {
  unreachable: 'does not answer at all (neither ping nor queries)',
  'not-answering': 'answers ping but not DNS queries',
  refused: 'refuses the queries (REFUSED)',
  failure: 'fails to resolve (SERVFAIL or a malformed answer)',
  none: 'is missing: containers have no DNS server at all',
};

const SET_VM_DNS =
  'Set-EflowVmDnsServers -vendpointName <name from Get-EflowVmEndpoint> -dnsServers @("<your DNS server>"), then ' +
  'Stop-EflowVm; Start-EflowVm';

export const DNS_CODES = defineCodes({
  DNS_NO_SERVERS: {
    component: 'dns',
    severity: 'error',
    when: 'no resolver (including a stub with no upstream)',
    words: ({
      stub,
      files,
      staticIp,
      switchType,
    }: {
      stub: boolean;
      files: string[];
      staticIp: boolean;
      switchType: SwitchType | null;
    }) => ({
      message: stub
        ? `resolv.conf points at the systemd-resolved stub 127.0.0.53, but resolved has no upstream DNS server ` +
          `(${files.join(', ')}).`
        : `No DNS server is configured (${files.join(', ')}).`,
      guidance: staticIp
        ? `With a static address the DNS servers must be set by hand (the VM gets none by DHCP): on the Windows ` +
          `host, ${SET_VM_DNS}.`
        : switchType === 'default'
          ? 'The Default Switch always hands out its own DNS proxy, so a lease without one means Internet ' +
            'Connection Sharing is broken: reboot the Windows host (then disable and re-enable Hyper-V if it ' +
            'persists), and check with Get-EflowVmAddr.'
          : switchType === 'internal'
            ? `The DHCP server of the internal switch hands out no DNS server: on a Windows DHCP server, ` +
              `Set-DhcpServerV4OptionValue -DnsServer <your DNS server> (-Router <gateway>), then Stop-EflowVm; ` +
              `Start-EflowVm; or set them for the VM with ${SET_VM_DNS}.`
            : `The DHCP server did not hand out DNS servers: ask the network team to add the DNS option to the ` +
              `scope, or set them for the VM with ${SET_VM_DNS}.`,
    }),
  },
  DNS_SERVER_UNREACHABLE: {
    component: 'dns',
    severity: 'error',
    when: 'no answer to ping or queries',
    severityRule: WHEN_NONE_WORKS,
    words: ({ server, ping, name }: { server: string; ping: string; name: string }) => ({
      message: `DNS server ${server} did not answer any query, and ping ${ping}.`,
      guidance:
        `${hostResolve(name, server)}: if the host gets no answer either, the server is down or not routable from ` +
        `this network; if it does, the VM's path to it is cut (switch, NAT, a route). ` +
        `Check the address (resolvectl status), or use a reachable server: ${SET_VM_DNS}.`,
    }),
  },
  DNS_SERVER_NOT_ANSWERING: {
    component: 'dns',
    severity: 'error',
    when: 'answers ping, but queries time out or port 53 is refused',
    severityRule: WHEN_NONE_WORKS,
    words: ({ server, detail, name }: { server: string; detail: string; name: string }) => ({
      message: `DNS server ${server} answers ping but not DNS queries (${detail}).`,
      guidance:
        `${hostResolve(name, server)}: if the host gets an answer, the server or a firewall only lets listed ` +
        `clients query it — ask the network team to add the VM's address to the allow-list and open UDP/TCP 53 ` +
        `from it; ` +
        `if the host gets none either, the server does not serve DNS on that address. Or use your network's own ` +
        `resolver: ${SET_VM_DNS}.`,
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
        `${hostResolve(names[0] ?? '<name>', server)}: if the host gets an answer, the server does not serve ` +
        `recursion to the VM's address — ask the network team to allow the VM's address or subnet on it; ` +
        `otherwise point the VM at a resolver that does: ${SET_VM_DNS}.`,
    }),
  },
  DNS_SERVER_FAILURE: {
    component: 'dns',
    severity: 'error',
    when: 'SERVFAIL or a malformed answer',
    severityRule: WHEN_NONE_WORKS,
    words: ({ server, detail, name }: { server: string; detail: string; name: string }) => ({
      message: `DNS server ${server} failed to resolve: ${detail}.`,
      guidance:
        `${hostResolve(name, server)}: SERVFAIL there too means the server cannot reach its own upstream (check its ` +
        `forwarders); an answer there means something between the VM and the server mangles DNS. ` +
        `Or use another resolver: ${SET_VM_DNS}.`,
    }),
  },
  DNS_NAME_NOT_FOUND: {
    component: 'dns',
    severity: 'error',
    when: 'NXDOMAIN for a name that must resolve',
    severityRule: 'error (warning if another server knows it)',
    words: ({ name, servers, kind }: { name: string; servers: string[]; kind: NameKind }) => {
      const server = servers.find((s) => /^[\d.:a-f]+$/i.test(s)) ?? '<DNS server>';
      const onHost = hostResolve(name, server);
      return {
        message: `${name} does not exist according to ${servers.join(', ')} (NXDOMAIN).`,
        guidance:
          kind === 'hub'
            ? `Check the hub name for typos, and that the hub still exists (deleted or renamed hubs give NXDOMAIN): ` +
              `it is --hub, IOTEDGE_IOTHUBHOSTNAME, or for a DPS-provisioned device the hub DPS assigned ` +
              `(hub_name in /var/lib/aziot/identityd/device_info); sovereign clouds use other suffixes ` +
              `(.azure-devices.us, .azure-devices.cn). ` +
              `${onHost}; with a private endpoint or split DNS, the server must know the privatelink zone.`
            : kind === 'azure'
              ? `${name} is a public Azure name, so a server that denies it does not resolve internet names for the ` +
                `VM (an internal-only or filtering resolver). ${onHost}; make the server forward to the internet ` +
                `and allow *.azure-devices.net, *.azure-devices-provisioning.net and the registry's names ` +
                `(mcr.microsoft.com, *.azurecr.io), or set one that does with ${SET_VM_DNS}.`
              : `Check the name for typos. If it is an internal name, the VM must use the DNS server that knows its ` +
                `zone: ${onHost}, then ${SET_VM_DNS}.`,
      };
    },
  },
  DNS_SYSTEM_RESOLVER_FAILED: {
    component: 'dns',
    severity: 'error',
    when: "an endpoint did not resolve through the VM's resolver although the servers answer our queries",
    extension: true,
    words: ({ host, code }: { host: string; code: string }) => ({
      message:
        `The VM's configured resolver (resolv.conf, then systemd-resolved at 127.0.0.53) could not resolve ` +
        `${host} (${code}) although the DNS servers answered our own queries.`,
      guidance:
        `Ask the way the VM does: "resolvectl query ${host}" and "resolvectl status" (with several NICs ` +
        `resolved sends each query to one link's servers, a common reason the stub fails while the servers ` +
        `answer); look for ${host} in /etc/hosts.`,
    }),
  },
  DNS_PUBLIC_SERVER: {
    component: 'dns',
    severity: 'info',
    when: 'a public resolver is configured',
    severityRule: 'info, or warning when it fails',
    words: ({
      server,
      provider,
      failing,
      name,
    }: {
      server: string;
      provider: string;
      failing: boolean;
      name: string;
    }) => ({
      message: `${server} is a public DNS resolver (${provider})${failing ? ' and it is not answering' : ''}.`,
      guidance: failing
        ? `Corporate networks often block public resolvers (${hostResolve(name, server)} to see whether the host is ` +
          `blocked too): use your network's own DNS server with ${SET_VM_DNS}.`
        : 'Public resolvers work on open networks but are often blocked on corporate ones and cannot see private ' +
          "endpoints; prefer your network's DNS server (Set-EflowVmDnsServers).",
    }),
  },
  DNS_CONTAINER_SERVERS_DIFFER: {
    component: 'dns',
    severity: 'info',
    when: 'containers will use other servers than the VM (says which, and that they were tested)',
    words: (a: {
      containers: string[];
      vm: string[];
      source: string;
      tested: string[];
      untested: string[];
      fallbackPublic: boolean;
    }) => ({
      message:
        `Containers on azure-iot-edge will use ${a.containers.join(', ') || 'no DNS server'} ` +
        `(${a.fallbackPublic ? "Docker's public fallback" : `from ${a.source}`}), not the VM's ` +
        `${a.vm.join(', ') || 'none'}` +
        `${a.tested.length ? `; tested: ${a.tested.join(', ')}` : ''}${a.untested.length ? `; not tested: ${a.untested.join(', ')}` : ''}.`,
      guidance: a.fallbackPublic
        ? `Docker falls back to Google's public DNS when the VM's resolv.conf has no server it can use: give ` +
          `containers your network's server instead, ${setDockerDns('/etc/docker/daemon.json')}.`
        : 'Modules resolve through these servers, edgeHub included: keep them able to resolve the hub and DPS (a ' +
          'failure of one is reported as DNS_CONTAINER_SERVER_FAILED).',
    }),
  },
  DNS_CONTAINER_CONFIG_INVALID: {
    component: 'dns',
    severity: 'error',
    when: 'daemon.json cannot be parsed or has a wrong type for `dns` (dockerd refuses to start with it)',
    words: ({ path, reason }: { path: string; reason: string }) => ({
      message: `${path} ${reason}: dockerd refuses to start with it, so no module can run.`,
      guidance:
        `Fix the file (strict JSON, no comments; "dns" an array of addresses like ["10.0.0.53"]), check it ` +
        `with "sudo dockerd --validate --config-file ${path}" (Docker 23 and later), then "sudo systemctl restart ` +
        `docker".`,
    }),
  },
  DNS_CONTAINER_SERVER_FAILED: {
    component: 'dns',
    severity: 'error',
    when:
      'a server the containers will use fails (same failure kinds as 4.2); e.g. Docker’s public fallback on a ' +
      'network that blocks public resolvers',
    severityRule: "error if none of the containers' servers works, else warning",
    words: (a: {
      server: string;
      failure: ServerFailure | 'none';
      detail: string;
      source: string;
      fallbackPublic: boolean;
      daemonConfig: string;
      name: string;
    }) => ({
      message:
        a.failure === 'none'
          ? `Containers on azure-iot-edge have no DNS server (${a.detail}): modules cannot resolve the hub although ` +
            `the VM can.`
          : `DNS server ${a.server}, which containers on azure-iot-edge will use ` +
            `(${a.fallbackPublic ? "Docker's public fallback" : `from ${a.source}`}), ` +
            `${FAILURE_WORDS[a.failure]}${a.detail ? ` (${a.detail})` : ''}.`,
      guidance:
        a.failure === 'none'
          ? `Give containers a server: ${setDockerDns(a.daemonConfig)}.`
          : a.fallbackPublic
            ? `Docker falls back to 8.8.8.8/8.8.4.4 when the VM's resolv.conf leaves it no server, and this network ` +
              `blocks public resolvers: ${setDockerDns(a.daemonConfig)}.`
            : `${hostResolve(a.name, a.server)}; then ` +
              `${a.source === 'daemon.json' ? `correct "dns" in ${a.daemonConfig} and run "sudo systemctl restart docker"` : `give containers a working server: ${setDockerDns(a.daemonConfig)}`}.`,
    }),
  },
});
