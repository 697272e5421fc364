/**
 * The route of every destination the check needs (CONTRACT 7.5 `components.ip.routes`): the
 * gateways of the default routes, each DNS server of the VM and of its containers, each address an
 * endpoint resolved to, and the proxy's address when it is written as one. A pure step on the
 * routing table read for the check, run once every probe is done (the endpoint addresses are known
 * only after the firewall probes resolved them): no second round of probing, no `ip route get`.
 */
import type { Observations } from '../diagnosis/observations.js';
import { lookupRoute, type LocalAddress } from '../probes/route-table.js';
import type { RouteReport } from '../report/types.js';
import { canonicalIp, inSubnet, parseIp } from '../util/address.js';

type Need = RouteReport['needs'][number];

function isLoopback(address: string): boolean {
  const a = canonicalIp(address, { unmap: true, dropZone: true });
  return a === '::1' || (a !== null && inSubnet(a, '127.0.0.0', 8));
}

/** The host of an `http://host:port` URL when it is an IP literal (credentials masked or not). */
export function proxyAddress(url: string | null | undefined): string | null {
  if (typeof url !== 'string') return null;
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return parseIp(host) === null ? null : host;
  } catch {
    return null;
  }
}

/** Every needed destination with why it is needed and the names behind it, in a stable order. */
function destinations(obs: Observations): Map<string, { needs: Set<Need>; names: Set<string> }> {
  const out = new Map<string, { needs: Set<Need>; names: Set<string> }>();
  const add = (address: string | null | undefined, need: Need, name?: string): void => {
    if (!address || parseIp(address) === null || isLoopback(address)) return;
    const key = canonicalIp(address, { unmap: true }) ?? address;
    const entry = out.get(key) ?? { needs: new Set<Need>(), names: new Set<string>() };
    entry.needs.add(need);
    if (name !== undefined && name !== key) entry.names.add(name);
    out.set(key, entry);
  };
  for (const r of obs.ip?.defaultRoutes ?? []) add(r.gateway, 'gateway');
  for (const s of obs.dns?.resolvers.servers ?? []) add(s, 'dns');
  for (const s of obs.dns?.containers?.addresses ?? []) add(s, 'container-dns');
  for (const e of obs.firewall?.endpoints ?? []) add(e.address, 'endpoint', e.host);
  add(proxyAddress(obs.proxy?.url), 'proxy');
  return out;
}

export function neededRoutes(obs: Observations): RouteReport[] {
  const ip = obs.ip;
  if (!ip || (ip.routesObserved === false && ip.routeTable.length === 0)) return [];
  const bridges = new Set(ip.bridges.map((b) => b.name));
  const local: LocalAddress[] = [
    ...ip.interfaces.flatMap((i) => [...i.ipv4, ...i.ipv6].map((a) => ({ address: a.address, interface: i.name }))),
    ...ip.bridges.flatMap((b) => [...b.ipv4, ...b.ipv6].map((a) => ({ address: a.address, interface: b.name }))),
  ];
  return [...destinations(obs)].map(([destination, { needs, names }]): RouteReport => {
    const r = lookupRoute(ip.routeTable, destination, { localAddresses: local });
    return {
      destination,
      needs: [...needs],
      names: [...names],
      kind: r.kind,
      interface: r.interface,
      gateway: r.gateway,
      matched: r.matched,
      metric: r.metric,
      bridge: r.interface !== null && bridges.has(r.interface),
    };
  });
}
