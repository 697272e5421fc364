/**
 * The DNS layer's measurements: the resolver configuration and, for each server (at most
 * MAX_DNS_SERVERS), a ping and our own query for every name; then the servers containers on the
 * azure-iot-edge network will use (daemon.json and the same resolver files, by moby's rules), each
 * tested the same way, except that a server the VM uses too is tested once and both get its
 * result. Everything runs in parallel under the deadline.
 */
import { dnsNamesFor } from '../config/targets.js';
import type { CheckConfig } from '../config/types.js';
import type { Deadline } from '../deadline.js';
import type { Observations } from '../diagnosis/observations.js';
import type { ContainerDns } from '../probes/container-dns.js';
import type { DockerDaemonConfig } from '../probes/docker-config.js';
import { publicResolverProvider } from '../probes/public-resolvers.js';
import type { CheckDeps } from '../probes/types.js';
import type { ContainerDnsReport, DnsServerReport } from '../report/types.js';
import { canonicalIp, inSubnet } from '../util/address.js';
import { examinesUplink, type SharedReads } from './reads.js';
import { PING_COUNT, timedOutPing, timedOutQuery } from './timed-out.js';

const MAX_DNS_SERVERS = 8;

function isLoopback(address: string): boolean {
  const a = canonicalIp(address, { unmap: true, dropZone: true });
  return a === '::1' || (a !== null && inSubnet(a, '127.0.0.0', 8));
}

export async function examineDns(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
  reads: SharedReads,
): Promise<NonNullable<Observations['dns']>> {
  const names = dnsNamesFor(config);
  const probe = { signal: deadline.signal, timeoutMs: config.timeoutMs };
  const tests = new Map<string, Promise<DnsServerReport>>();
  const test = (address: string): Promise<DnsServerReport> => {
    const known = tests.get(address);
    if (known) return known;
    const started = (async (): Promise<DnsServerReport> => {
      const [ping, queries] = await Promise.all([
        deadline.guard(`ping dns ${address}`, deps.ping(address, { count: PING_COUNT, ...probe }), timedOutPing),
        Promise.all(
          names.map((name) =>
            deadline.guard(`dns ${address} ${name}`, deps.queryDns(address, name, 'A', probe), () =>
              timedOutQuery(name, 'A'),
            ),
          ),
        ),
      ]);
      const provider = publicResolverProvider(address);
      return { address, public: provider !== null, provider, ping, queries };
    })();
    tests.set(address, started);
    return started;
  };

  const resolvers = await reads.resolvers;
  // The VM's servers start before the container files are even read: they are the check's floor.
  const vmServers = resolvers.servers.slice(0, MAX_DNS_SERVERS);
  const servers = Promise.all(vmServers.map(test));
  const containers = examineContainers(config, deps, deadline, reads, vmServers, test);
  return { resolvers, servers: await servers, names, containers: await containers };
}

/** The containers' servers and their tests; null when the files could not be read in time. */
async function examineContainers(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
  reads: SharedReads,
  vmServers: readonly string[],
  test: (address: string) => Promise<DnsServerReport>,
): Promise<ContainerDnsReport | null> {
  if (!deps.readContainerDns) return null;
  const paths = { daemonConfig: config.dockerConfig, resolvConf: config.resolvConf, resolvedConf: config.resolvedConf };
  const [read, table] = await Promise.all([
    deadline.guard('container dns', deps.readContainerDns(paths), () => null),
    reads.routeTable,
  ]);
  if (read === null) return null;
  const { daemon, containers } = read;
  // A server the VM does not use is asked only when this check looks at the VM's own uplink and the
  // VM has servers of its own: a check of a missing interface, or one run on a workstation with no
  // resolver, must never end up asking Docker's public fallback (8.8.8.8) from the real network.
  const mayAsk = vmServers.length > 0 && examinesUplink(config, table);
  const tested: string[] = [];
  const untested: string[] = [];
  for (const address of containers.servers) {
    const shared = vmServers.includes(address);
    if (shared || (mayAsk && !isLoopback(address))) tested.push(address);
    else untested.push(address);
  }
  const why = untestedReason(untested, vmServers, mayAsk);
  return {
    ...containerFields(containers, why),
    servers: await Promise.all(tested.map(test)),
    untested,
    daemonConfig: daemonFields(daemon),
  };
}

function untestedReason(untested: readonly string[], vmServers: readonly string[], mayAsk: boolean): string | null {
  if (untested.length === 0) return null;
  if (untested.every(isLoopback))
    return `${untested.join(', ')} is a loopback address inside the container: not tested from the VM.`;
  if (vmServers.length === 0)
    return `Not tested (${untested.join(', ')}): the VM has no DNS server of its own to compare with.`;
  if (!mayAsk) return `Not tested (${untested.join(', ')}): the examined interface does not carry the default route.`;
  return `Not tested: ${untested.join(', ')}.`;
}

function containerFields(
  c: ContainerDns,
  untestedNote: string | null,
): Omit<ContainerDnsReport, 'servers' | 'untested' | 'daemonConfig'> {
  return {
    source: c.source,
    addresses: c.servers,
    fallbackPublic: c.fallbackPublic,
    network: c.network,
    rules: c.rules,
    hostLoopback: c.hostLoopback,
    ignored: c.ignored,
    note: untestedNote ? `${c.note} ${untestedNote}` : c.note,
  };
}

function daemonFields(d: DockerDaemonConfig): ContainerDnsReport['daemonConfig'] {
  return { path: d.path, state: d.state, dns: d.dns, mtu: d.mtu, bip: d.bip, reason: d.reason, problems: d.problems };
}
