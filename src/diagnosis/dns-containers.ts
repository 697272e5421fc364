/**
 * The containers' DNS (CONTRACT 7.5): what modules on azure-iot-edge will ask, judged like the
 * VM's servers. A daemon.json dockerd refuses is an error of its own; other servers than the VM's
 * are said (info) with what was tested; a failing one is an error when none of the containers'
 * servers works, else a warning. A server the VM uses too already has the VM's finding, so it gets
 * a container finding only when the containers are worse off than the VM (none of theirs works).
 * When the VM itself has no working server, that is the finding: the same cause is not repeated.
 */
import { finding } from '../findings/finding.js';
import type { ContainerDnsReport, Finding } from '../report/types.js';
import { failureOf, serverWorks } from './dns-servers.js';
import type { Observations } from './observations.js';

/** Where the containers' servers are set: the daemon.json the check read. */
function daemonPath(c: ContainerDnsReport): string {
  return c.daemonConfig.path;
}

export function containerFindings(obs: Observations, vmWorks: boolean): Finding[] {
  const c = obs.dns?.containers;
  if (!c) return [];
  const d = c.daemonConfig;
  if (d.state === 'invalid') {
    return [finding('DNS_CONTAINER_CONFIG_INVALID', d.path, { path: d.path, reason: d.reason ?? 'is invalid' })];
  }
  const vm = obs.dns?.resolvers.servers ?? [];
  const findings: Finding[] = [];
  const differs = c.addresses.length !== vm.length || c.addresses.some((a) => !vm.includes(a));
  if (differs && (c.addresses.length > 0 || vm.length > 0)) {
    findings.push(
      finding('DNS_CONTAINER_SERVERS_DIFFER', 'azure-iot-edge', {
        containers: c.addresses,
        vm,
        source: c.source,
        tested: c.servers.map((s) => s.address),
        untested: c.untested,
        fallbackPublic: c.fallbackPublic,
      }),
    );
  }
  // The VM cannot resolve either: DNS_NO_SERVERS or the VM's server findings say so already.
  if (!vmWorks) return findings;

  const name = obs.dns?.names[0] ?? obs.config.hub ?? '<name>';
  const common = {
    source: c.source,
    fallbackPublic: c.fallbackPublic,
    daemonConfig: daemonPath(c),
    name,
  };
  if (c.addresses.length === 0) {
    const detail = c.note.length > 200 ? `${c.note.slice(0, 199)}…` : c.note;
    findings.push(
      finding('DNS_CONTAINER_SERVER_FAILED', 'azure-iot-edge', { ...common, server: 'none', failure: 'none', detail }),
    );
    return findings;
  }
  const anyWorks = c.servers.some(serverWorks) || c.untested.length > 0;
  for (const s of c.servers) {
    if (serverWorks(s)) continue;
    const shared = vm.includes(s.address);
    // The VM's finding covers a shared server, unless the containers have nothing else.
    if (shared && anyWorks) continue;
    const { kind, detail } = failureOf(s);
    const args = { ...common, server: s.address, failure: kind, detail };
    findings.push(finding('DNS_CONTAINER_SERVER_FAILED', s.address, args, anyWorks ? 'warning' : 'error'));
  }
  return findings;
}
