/**
 * Reads more than one layer needs, started once per check and shared: the routing table (the IP
 * layer's default routes; the DNS layer's question whether this check looks at the VM's uplink)
 * and the resolver configuration (the DNS layer's servers; the IP layer's path-MTU target). Both
 * are file reads of a few milliseconds, so sharing them costs no layer any wait.
 */
import type { CheckConfig } from '../config/types.js';
import type { Deadline } from '../deadline.js';
import { defaultRoutes, type RouteTable } from '../probes/route-table.js';
import type { CheckDeps, ResolverConfig } from '../probes/types.js';

export interface SharedReads {
  /** null when the deadline came first. */
  routeTable: Promise<RouteTable | null>;
  resolvers: Promise<ResolverConfig>;
}

export function startSharedReads(
  config: Pick<CheckConfig, 'resolvConf' | 'resolvedConf'>,
  deps: CheckDeps,
  deadline: Deadline,
): SharedReads {
  return {
    routeTable: deadline.guard('routes', deps.readRouteTable(), () => null),
    resolvers: deadline.guard('resolvers', deps.readResolvers(config.resolvConf, config.resolvedConf), () => ({
      source: 'resolv.conf' as const,
      files: [config.resolvConf],
      servers: [],
      stub: false,
      problems: ['timed out reading'],
    })),
  };
}

/**
 * Whether this check looks at the VM's own way out: an IPv4 default route leaves by an examined
 * interface. Only then are other default routes' gateways pinged, paths swept for their MTU and
 * servers the VM itself does not use (the containers') asked: a check of `--interface lo` on a
 * workstation, or of an interface that does not exist, must not probe the machine's real network.
 */
export function examinesUplink(config: Pick<CheckConfig, 'interfaces'>, table: RouteTable | null): boolean {
  if (table === null) return false;
  return defaultRoutes(table.routes).some(
    (r) => r.family === 4 && r.interface !== null && config.interfaces.includes(r.interface),
  );
}
