/**
 * The VM's own plumbing (CONTRACT 7.5): where the kernel sends the destinations the check needs,
 * the container bridges (subnets, MTU), the path MTU and the VM's address on its segment. Pure
 * rules over the observations; each returns findings, and the route rule also says whether the
 * layers above cannot work at all because of what it found.
 */
import { finding } from '../findings/finding.js';
import type { BridgeReport, EndpointReport, Finding, InterfaceReport, RouteReport } from '../report/types.js';
import { networkOf, subnetsOverlap } from '../util/address.js';
import type { Observations } from './observations.js';

type IpObservations = NonNullable<Observations['ip']>;

/** Docker's own bridges: only these are container plumbing (another bridge is the operator's). */
function isDockerBridge(b: BridgeReport): boolean {
  return b.kind === 'docker-default' || b.kind === 'docker-network';
}

/** EFLOW names every NIC eth<N> (Add-EflowVmEndpoint); a tunnel or a veth is something else. */
const EFLOW_NIC = /^eth\d+$/;

/** What a needed destination is, in words: "DNS server 198.18.1.53", "the endpoint lab-hub…". */
function describeNeed(r: RouteReport, endpoints: readonly EndpointReport[]): string {
  const names = r.names.length ? ` ${r.names.join(', ')}` : '';
  if (r.needs.includes('gateway')) return 'The default gateway';
  if (r.needs.includes('dns')) return 'The DNS server';
  if (r.needs.includes('proxy')) return 'The proxy';
  if (r.needs.includes('endpoint')) {
    const role = endpoints.find((e) => e.address === r.destination)?.role;
    return `${role === 'hub' ? 'The hub' : role === 'dps' ? 'DPS' : 'The endpoint'}${names}`;
  }
  return "A DNS server of the containers'";
}

export interface RouteVerdict {
  findings: Finding[];
  /** The gateway in use, or every DNS server of the VM, is routed where it cannot work. */
  blocking: boolean;
}

/**
 * IP_ROUTE_CONFLICT for each needed destination the kernel sends into a container bridge, drops
 * (reject, blackhole, no route), or sends out of an interface that is neither examined, nor
 * carries a default route, nor an EFLOW NIC. The VM's own addresses are IP_GATEWAY_INVALID's.
 */
export function routeConflicts(obs: Observations): RouteVerdict {
  const ip = obs.ip as IpObservations;
  const examined = new Set(obs.config.interfaces);
  const uplinks = new Set(ip.defaultRoutes.map((r) => r.interface).filter((i): i is string => i !== null));
  // "No route" is a conflict only where the family has a default route: an IPv6 server on a VM
  // without IPv6 routing is the DNS layer's unreachable server, not a route sending it elsewhere.
  const hasDefault = (address: string) => ip.defaultRoutes.some((r) => r.family === (address.includes(':') ? 6 : 4));
  const expected = [...new Set([...uplinks, ...examined])];
  const endpoints = obs.firewall?.endpoints ?? [];
  const findings: Finding[] = [];
  const conflicted = new Set<string>();
  for (const r of ip.routes) {
    if (r.kind === 'local') continue;
    const dropped =
      r.kind === 'unreachable' || r.kind === 'blackhole' || (r.kind === 'none' && hasDefault(r.destination));
    const elsewhere =
      r.interface !== null && !examined.has(r.interface) && !uplinks.has(r.interface) && !EFLOW_NIC.test(r.interface);
    if (!r.bridge && !dropped && !elsewhere) continue;
    conflicted.add(r.destination);
    findings.push(
      finding('IP_ROUTE_CONFLICT', r.destination, {
        destination: r.destination,
        what: describeNeed(r, endpoints),
        iface: r.interface,
        kind: r.kind,
        matched: r.matched,
        bridge: r.bridge,
        expected,
      }),
    );
  }
  const gateway = ip.defaultGateway?.address;
  const vmServers = obs.dns?.resolvers.servers ?? [];
  const reachable = (address: string) => !conflicted.has(address);
  const blocking =
    (gateway !== undefined && conflicted.has(gateway)) ||
    (vmServers.length > 0 && ip.routes.some((r) => r.needs.includes('dns')) && !vmServers.some(reachable));
  return { findings, blocking };
}

/** IP_SUBNET_OVERLAP for each Docker bridge whose subnet overlaps an examined interface's. */
export function subnetOverlaps(ip: IpObservations, examined: readonly InterfaceReport[]): Finding[] {
  const out: Finding[] = [];
  for (const b of ip.bridges.filter(isDockerBridge)) {
    for (const ba of b.ipv4) {
      const i = examined.find((x) =>
        x.ipv4.some((a) => subnetsOverlap({ address: ba.subnet, prefixLength: ba.prefixLength }, a)),
      );
      const a = i?.ipv4.find((x) => subnetsOverlap({ address: ba.subnet, prefixLength: ba.prefixLength }, x));
      if (!i || !a) continue;
      out.push(
        finding('IP_SUBNET_OVERLAP', b.name, {
          bridge: b.name,
          bridgeSubnet: `${ba.subnet}/${ba.prefixLength}`,
          iface: i.name,
          ifaceSubnet: `${networkOf(a.address, a.prefixLength) ?? a.address}/${a.prefixLength}`,
        }),
      );
      break;
    }
  }
  return out;
}

/** IP_MTU_MISMATCH for each Docker bridge (or a container's veth on it) with an MTU above eth0's. */
export function mtuMismatches(ip: IpObservations, examined: readonly InterfaceReport[]): Finding[] {
  const link = examined.find((i) => i.present && i.mtu !== null);
  if (!link || link.mtu === null) return [];
  const out: Finding[] = [];
  for (const b of ip.bridges.filter(isDockerBridge)) {
    const mtus = [b.mtu, ...b.members.map((m) => m.mtu)].filter((m): m is number => m !== null);
    const highest = mtus.length ? Math.max(...mtus) : null;
    if (highest === null || highest <= link.mtu) continue;
    const args = { bridge: b.name, bridgeMtu: highest, iface: link.name, ifaceMtu: link.mtu };
    out.push(finding('IP_MTU_MISMATCH', b.name, args));
  }
  return out;
}

/** A TLS handshake that timed out after TCP connected: the classic first symptom of a PMTU black hole. */
export function isTlsStall(e: EndpointReport): boolean {
  return e.outcome === 'tls-failed' && e.error?.phase === 'tls' && e.error.code === 'ETIMEDOUT';
}

/**
 * IP_MTU_BLACKHOLE: a sweep where every size above the largest that passed got no reply at all (no
 * "fragmentation needed", no local refusal: path MTU discovery cannot work), and a TLS handshake
 * that stalled after connect. Either alone proves nothing: big pings may be rate-limited, and a
 * stall may be a middlebox.
 */
export function mtuBlackhole(obs: Observations): Finding | null {
  const ip = obs.ip as IpObservations;
  const stalled = (obs.firewall?.endpoints ?? []).filter(isTlsStall).map((e) => `${e.host}:${e.port}`);
  if (stalled.length === 0) return null;
  for (const s of ip.pathMtu) {
    const passing = s.largestPassingDf;
    if (passing === null) continue;
    const above = s.probed.filter((p) => p.size > passing);
    if (above.length === 0 || !above.every((p) => p.outcome === 'no-reply')) continue;
    const smallestFailing = Math.min(...above.map((p) => p.size));
    const iface = ip.defaultGateway?.interface ?? obs.config.interfaces[0] ?? 'eth0';
    return finding('IP_MTU_BLACKHOLE', iface, {
      iface,
      target: s.target,
      largestPassing: passing,
      smallestFailing,
      interfaceMtu: s.interfaceMtu,
      stalled: [...new Set(stalled)],
    });
  }
  return null;
}

/** IP_ADDRESS_CONFLICT for each address another host answered ARP for. */
export function addressConflicts(ip: IpObservations): Finding[] {
  return ip.duplicateAddress
    .filter((d) => d.conflict === true)
    .map((d) => {
      const assignment = ip.interfaces.find((i) => i.name === d.interface)?.assignment ?? 'unknown';
      return finding('IP_ADDRESS_CONFLICT', d.address, {
        address: d.address,
        iface: d.interface,
        mac: d.conflictingMac,
        assignment,
      });
    });
}
