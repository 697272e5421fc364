/**
 * The composition root of a check: the real probes wired as CheckDeps, with the process-wide
 * state they keep (the TLS trust cache with the parsed public roots, the ping runner's attempt
 * cache, the host inventory) created here, once, and passed in. The process environment is read
 * here too (for the proxy it names), never inside a probe. Tests and the bench pass their own
 * CheckDeps instead.
 */
import { queryDns } from './probes/dns-query.js';
import { probeEndpoint } from './probes/endpoint.js';
import { hostInfoOnce } from './probes/host-info.js';
import { observeInterfaces } from './probes/interfaces.js';
import { readLeaseFor } from './probes/leases.js';
import { readNetworkdDir } from './probes/networkd.js';
import { pingHost, pingRunner, spawnPingWith } from './probes/ping.js';
import { readResolvers } from './probes/resolvers.js';
import { readDefaultRoutes } from './probes/routes.js';
import { sharedLookup, systemLookup } from './probes/system-lookup.js';
import { probeThroughProxy } from './probes/proxy-endpoint.js';
import { discoverProxySources } from './probes/proxy-sources.js';
import { readTimeSync } from './probes/time-sync.js';
import { loadTrust, publicRoots, type TrustCache } from './probes/trust.js';
import type { CheckDeps } from './probes/types.js';
import { processSettings } from './config/options.js';
import { readUtf8 } from './util/files.js';

export interface DepsOptions {
  /** The ping binary (PROCESS_SETTINGS.ping). */
  pingBinary: string;
  /** The PATH children are started with (to find ping, timedatectl, chronyc). */
  path: string | undefined;
  /** The process environment, for the proxy it names (https_proxy, no_proxy). @default none */
  env?: Readonly<Record<string, string | undefined>>;
}

export function defaultDeps(opts: DepsOptions): CheckDeps {
  const trustCache: TrustCache = { last: null };
  const spawn = spawnPingWith(opts.path);
  const pinger = pingRunner(opts.pingBinary, spawn);
  const env = opts.env ?? {};
  return {
    observeInterfaces: (names) => observeInterfaces(names),
    readDefaultRoutes: () => readDefaultRoutes(),
    readNetworkd: (dir) => readNetworkdDir(dir),
    readLease: (dir, ifindex) => readLeaseFor(dir, ifindex),
    readResolvers: (resolvConf, resolvedConf) => readResolvers(resolvConf, resolvedConf),
    ping: (host, o) => pingHost(host, o, pinger),
    queryDns: (server, name, type, ctx) => queryDns(server, name, type, ctx),
    loadTrust: async (caFile) => ({
      ...(await loadTrust(caFile, readUtf8, trustCache)),
      publicRoots: () => publicRoots(trustCache),
    }),
    hostInfo: hostInfoOnce(),
    newLookup: (timeoutMs) => sharedLookup(systemLookup({ timeoutMs })),
    probeEndpoint: (target, ctx) => probeEndpoint(target, ctx),
    proxySources: (request) =>
      discoverProxySources({
        env,
        configToml: request.configToml,
        systemdDir: request.systemdDir,
        rawUrls: request.rawUrls,
      }),
    probeThroughProxy: (target, proxyUrl, ctx) => probeThroughProxy(target, proxyUrl, ctx),
    readTimeSync: (ctx) => readTimeSync(ctx, { run: spawn }),
  };
}

/** The deps of this process, from its environment (the ping binary, PATH). */
export function depsFromEnv(env: NodeJS.ProcessEnv): CheckDeps {
  return defaultDeps({ pingBinary: processSettings(env).pingBinary, path: env['PATH'], env });
}
