/**
 * Builders for the VM's plumbing in observations (CONTRACT 7.5), to bend the healthy observations
 * of ./observations.ts into each fault: routing table entries, bridges, don't-fragment sweeps, and
 * the route lookups the check does after its probes (src/examine/ip-routes.ts), run for real.
 */
import type { Observations } from '../../src/diagnosis/observations.js';
import { neededRoutes } from '../../src/examine/ip-routes.js';
import type { Route, RouteTable } from '../../src/probes/route-table.js';
import type { BridgeReport, DefaultRouteReport, DfProbeReport, PathMtuReport } from '../../src/report/types.js';
import { healthyDefaultRoute } from './observations.js';

export function route(destination: string, prefixLength: number, over: Partial<Route> = {}): Route {
  return {
    family: destination.includes(':') ? 6 : 4,
    destination,
    prefixLength,
    gateway: null,
    interface: 'eth0',
    metric: 0,
    type: 'unicast',
    ...over,
  };
}

export const defaultVia = (gateway: string, iface = 'eth0', metric = 100): Route =>
  route('0.0.0.0', 0, { gateway, interface: iface, metric });

/** A Docker bridge holding `address/prefixLength`, its route added to the table by `withBridge`. */
export function bridge(
  name: string,
  address: string,
  prefixLength: number,
  over: Partial<BridgeReport> = {},
): BridgeReport {
  const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
  const bits =
    (((a << 24) | (b << 16) | (c << 8) | d) >>> 0) & (prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0);
  const subnet = [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
  return {
    name,
    kind: name === 'docker0' ? 'docker-default' : /^br-[0-9a-f]{12}$/.test(name) ? 'docker-network' : 'other',
    mtu: 1500,
    operState: 'up',
    ipv4: [{ address, prefixLength, subnet }],
    ipv6: [],
    members: [],
    ...over,
  };
}

/** Adds a bridge and the connected route the kernel has for it. */
export function withBridge(obs: Observations, b: BridgeReport): void {
  const ip = obs.ip!;
  ip.bridges.push(b);
  for (const a of b.ipv4) ip.routeTable.push(route(a.subnet, a.prefixLength, { interface: b.name }));
}

/** A second default route on eth1 (its table entries too); `inUse` moves to the lower metric. */
export function withSecondDefault(obs: Observations, over: Partial<DefaultRouteReport> = {}): DefaultRouteReport {
  const ip = obs.ip!;
  const second = healthyDefaultRoute({ gateway: '198.18.2.1', interface: 'eth1', metric: 50, ...over });
  ip.routeTable.push(defaultVia(second.gateway!, second.interface!, second.metric));
  ip.routeTable.push(route('198.18.2.0', 24, { interface: 'eth1' }));
  ip.defaultRoutes.push(second);
  const lowest = Math.min(...ip.defaultRoutes.map((r) => r.metric));
  for (const r of ip.defaultRoutes)
    r.inUse = r.metric === lowest && r === ip.defaultRoutes.find((x) => x.metric === lowest);
  return second;
}

export function probe(
  size: number,
  outcome: DfProbeReport['outcome'],
  over: Partial<DfProbeReport> = {},
): DfProbeReport {
  return { size, outcome, mtu: null, from: null, rttMs: outcome === 'reply' ? 0.1 : null, ...over };
}

/** A sweep from its probes, summarised as df-ping.ts does. */
export function sweep(
  target: string,
  role: PathMtuReport['role'],
  probed: DfProbeReport[],
  interfaceMtu = 1500,
): PathMtuReport {
  const passing = probed.filter((p) => p.outcome === 'reply').map((p) => p.size);
  const failing = probed
    .filter((p) => p.outcome === 'no-reply' || p.outcome === 'frag-needed' || p.outcome === 'too-big-local')
    .map((p) => p.size);
  const mtus = probed.map((p) => p.mtu).filter((m): m is number => m !== null);
  return {
    target,
    role,
    interfaceMtu,
    largestPassingDf: passing.length ? Math.max(...passing) : null,
    smallestFailingDf: failing.length ? Math.min(...failing) : null,
    reportedMtu: mtus.length ? Math.min(...mtus) : null,
    probed,
  };
}

/** The route lookups the check does once every probe is done. */
export function lookUpRoutes(obs: Observations): Observations {
  if (obs.ip) obs.ip.routes = neededRoutes(obs);
  return obs;
}

/** The kernel's table of a healthy VM: a default route via 198.18.0.1 and eth0's own subnet. */
export function healthyRouteTable(): RouteTable {
  return { routes: [route('0.0.0.0', 0, { gateway: '198.18.0.1' }), route('198.18.0.0', 24)], problems: [] };
}
