/**
 * The real probes, wired as CheckDeps. Tests and the bench pass their own CheckDeps instead.
 */
import type { CheckDeps } from '../check.js';
import { queryDns } from './dns-query.js';
import { hostInfo } from './host-info.js';
import { probeEndpoint } from './endpoint.js';
import { observeInterfaces } from './interfaces.js';
import { readLeaseFor } from './leases.js';
import { readNetworkdDir } from './networkd.js';
import { pingHost } from './ping.js';
import { readResolvers } from './resolvers.js';
import { readDefaultRoutes } from './routes.js';
import { sharedLookup, systemLookup } from './system-lookup.js';
import { loadTrust } from './trust.js';

export function defaultDeps(): CheckDeps {
  return {
    observeInterfaces: (names) => observeInterfaces(names),
    readDefaultRoutes: () => readDefaultRoutes(),
    readNetworkd: (dir) => readNetworkdDir(dir),
    readLease: (dir, ifindex) => readLeaseFor(dir, ifindex),
    readResolvers: (resolvConf, resolvedConf) => readResolvers(resolvConf, resolvedConf),
    ping: (host, opts) => pingHost(host, opts),
    queryDns: (server, name, type, ctx) => queryDns(server, name, type, ctx),
    loadTrust: (caFile) => loadTrust(caFile),
    hostInfo: () => hostInfo(),
    newLookup: (timeoutMs) => sharedLookup(systemLookup({ timeoutMs })),
    probeEndpoint: (target, ctx) => probeEndpoint(target, ctx),
  };
}
