/**
 * The text lines of the VM's plumbing (CONTRACT 7.5) for src/report/text.ts: default routes,
 * the routes of the needed destinations, container bridges, the path MTU and duplicate address
 * detection under IP; the containers' DNS servers under DNS. Each is absent from reports of
 * earlier versions, so each reads what is there.
 */
import type { ContainerDnsReport, DnsServerReport, IpComponent, PathMtuReport, RouteReport } from './types.js';

const NEED_LABEL: Record<RouteReport['needs'][number], string> = {
  gateway: 'gateway',
  dns: 'DNS',
  'container-dns': "containers' DNS",
  endpoint: 'endpoint',
  proxy: 'proxy',
};

function routeLine(r: RouteReport): string {
  const what =
    `${r.destination}${r.names.length ? ` ${r.names.join(', ')}` : ''} ` +
    `(${r.needs.map((n) => NEED_LABEL[n]).join(', ')})`;
  const how =
    r.kind === 'gateway'
      ? `via ${r.gateway ?? '?'} dev ${r.interface ?? '?'}`
      : r.kind === 'on-link'
        ? `on-link dev ${r.interface ?? '?'}`
        : r.kind === 'local'
          ? `local (${r.interface ?? 'lo'})`
          : r.kind === 'none'
            ? 'no route'
            : r.kind;
  const matched = r.matched ? ` [${r.matched}]` : '';
  return `    route to ${what}: ${how}${matched}${r.bridge ? ' <- a container bridge' : ''}`;
}

function sweepLine(s: PathMtuReport): string {
  if (s.error && s.largestPassingDf === null)
    return `    path MTU to ${s.target} (${s.role}): ${s.error}${s.detail ? ` (${s.detail})` : ''}`;
  const passes = s.largestPassingDf === null ? 'nothing passes' : `${s.largestPassingDf} passes`;
  const failing = s.probed.filter((p) => s.largestPassingDf === null || p.size > s.largestPassingDf);
  const how = failing.length
    ? `, ${failing.map((p) => `${p.size} ${p.outcome}${p.mtu !== null ? ` (mtu ${p.mtu})` : ''}`).join(', ')}`
    : '';
  return (
    `    path MTU to ${s.target} (${s.role}, ${s.interfaceMtu} on the interface): ` +
    `${passes}${s.largestPassingDf === null ? '' : how}`
  );
}

export function plumbingLines(ip: IpComponent): string[] {
  const out: string[] = [];
  const defaults = ip.defaultRoutes ?? [];
  if (defaults.length > 1) {
    const text = defaults.map((r) => {
      const said = r.reachable === null ? 'not tested' : r.reachable ? 'answers' : 'no answer';
      return (
        `${r.gateway ?? 'on-link'} dev ${r.interface ?? '?'} metric ${r.metric}${r.inUse ? ' in use' : ''} ` +
        `(${said})`
      );
    });
    out.push(`    default routes: ${text.join('; ')}`);
  }
  for (const r of ip.routes ?? []) out.push(routeLine(r));
  for (const b of ip.bridges ?? []) {
    const subnets = [...b.ipv4, ...b.ipv6].map((a) => `${a.subnet}/${a.prefixLength}`).join(', ') || 'no address';
    out.push(
      `    bridge ${b.name} (${b.kind}): ${subnets}, mtu ${b.mtu ?? '?'}, ${b.operState ?? '?'}, ` +
        `${b.members.length} member(s)`,
    );
  }
  for (const s of ip.pathMtuSweeps ?? (ip.pathMtu ? [ip.pathMtu] : [])) out.push(sweepLine(s));
  for (const d of ip.duplicateAddress ?? []) {
    const said =
      d.conflict === true
        ? `ANOTHER HOST ANSWERS${d.conflictingMac ? ` (${d.conflictingMac})` : ''}`
        : d.conflict === false
          ? 'no other host'
          : `unknown (${d.error ?? 'not run'}${d.detail ? `: ${d.detail}` : ''})`;
    out.push(`    duplicate address ${d.address} on ${d.interface}: ${said}`);
  }
  return out;
}

/** The containers' servers: the VM's own are named, others shown with their tests. */
export function containerLines(
  c: ContainerDnsReport | null | undefined,
  vm: readonly DnsServerReport[],
  serverLine: (s: DnsServerReport) => string,
): string[] {
  if (!c) return [];
  const d = c.daemonConfig;
  const daemon =
    d.state === 'absent'
      ? `${d.path} absent`
      : d.state === 'ok'
        ? `${d.path}${d.dns ? ` dns ${d.dns.join(', ')}` : ''}${d.mtu !== null ? ` mtu ${d.mtu}` : ''}`
        : `${d.path} ${d.state}${d.reason ? `: ${d.reason}` : ''}`;
  const from = c.fallbackPublic ? "Docker's public fallback" : c.source;
  const out = [
    `    containers (azure-iot-edge, ${c.rules} rules) use ${c.addresses.join(', ') || 'no server'}, from ${from}; ` +
      `${daemon}`,
  ];
  const vmAddresses = new Set(vm.map((s) => s.address));
  for (const s of c.servers) if (!vmAddresses.has(s.address)) out.push(`  ${serverLine(s)}`);
  if (c.untested.length) out.push(`      not tested: ${c.untested.join(', ')}`);
  return out;
}
