/**
 * The composition root of a check: the real probes wired as CheckDeps, with the process-wide
 * state they keep (the TLS trust cache with the parsed public roots, the ping runner's attempt
 * cache, the arping flavour, the host inventory) created here, once, and passed in. The process
 * environment is read here too (for the proxy it names), never inside a probe. Tests and the bench
 * pass their own CheckDeps instead.
 */
import { arpingDad, type ArpingFlavour } from './probes/arping.js';
import { observeBridges } from './probes/bridges.js';
import { readContainerDns } from './probes/container-dns.js';
import { pingDfStaged } from './probes/df-ping.js';
import { queryDns } from './probes/dns-query.js';
import { probeEndpoint } from './probes/endpoint.js';
import { hostInfoOnce } from './probes/host-info.js';
import { observeInterfaces } from './probes/interfaces.js';
import { readLeaseFor } from './probes/leases.js';
import { readNeighbours } from './probes/neighbours.js';
import { readNetworkdDir } from './probes/networkd.js';
import { pingHost, pingRunner, spawnPingWith } from './probes/ping.js';
import { readResolvers } from './probes/resolvers.js';
import { readRouteTable } from './probes/route-table.js';
import { sharedLookup, systemLookup } from './probes/system-lookup.js';
import { probeThroughProxy } from './probes/proxy-endpoint.js';
import { discoverProxySources } from './probes/proxy-sources.js';
import { readTimeSync } from './probes/time-sync.js';
import { loadTrust, publicRoots, type TrustCache } from './probes/trust.js';
import type { CheckDeps } from './probes/types.js';
import { processSettings } from './config/options.js';
import { readUtf8 } from './util/files.js';

/**
 * How long duplicate address detection waits for an answer: a neighbour answers within
 * milliseconds, and CONTRACT 7.5 bounds the wait at 500 ms; 400 keeps it inside the gateway ping's
 * own 0.4 s (three echoes 0.2 s apart), so it adds nothing to a healthy check's duration.
 */
const ARPING_WAIT_MS = 400;

export interface DepsOptions {
  /** The ping binary (PROCESS_SETTINGS.ping). */
  pingBinary: string;
  /** The arping binary (PROCESS_SETTINGS.arping). @default 'arping' */
  arpingBinary?: string;
  /** The PATH children are started with (to find ping, arping, timedatectl, chronyc). */
  path: string | undefined;
  /** The process environment, for the proxy it names (https_proxy, no_proxy). @default none */
  env?: Readonly<Record<string, string | undefined>>;
}

export function defaultDeps(opts: DepsOptions): CheckDeps {
  const trustCache: TrustCache = { last: null };
  const exec = spawnPingWith(opts.path);
  const pinger = pingRunner(opts.pingBinary, exec);
  const arpingBinary = opts.arpingBinary ?? 'arping';
  // Which arping this is does not change while the process runs: `-V` is asked once.
  const arpingFlavour: { known: ArpingFlavour | null } = { known: null };
  const env = opts.env ?? {};
  return {
    observeInterfaces: (names) => observeInterfaces(names),
    readRouteTable: () => readRouteTable(),
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
    readNeighbours: () => readNeighbours(),
    observeBridges: () => observeBridges(),
    readContainerDns: (paths) =>
      readContainerDns({
        daemonConfigPath: paths.daemonConfig,
        resolvConfPath: paths.resolvConf,
        resolvedConfPath: paths.resolvedConf,
      }),
    pingDf: (target, ctx) =>
      pingDfStaged(target, {
        interfaceMtu: ctx.interfaceMtu,
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
        binary: opts.pingBinary,
        exec,
      }),
    arping: async (address, iface, ctx) => {
      const result = await arpingDad(address, iface, {
        binary: arpingBinary,
        exec,
        timeoutMs: ARPING_WAIT_MS,
        signal: ctx.signal,
        ...(arpingFlavour.known ? { flavour: arpingFlavour.known } : {}),
      });
      if (result.flavour !== null && result.error === undefined) arpingFlavour.known = result.flavour;
      return result;
    },
    proxySources: (request) =>
      discoverProxySources({
        env,
        configToml: request.configToml,
        systemdDir: request.systemdDir,
        rawUrls: request.rawUrls,
      }),
    probeThroughProxy: (target, proxyUrl, ctx) => probeThroughProxy(target, proxyUrl, ctx),
    readTimeSync: (ctx) => readTimeSync(ctx, { run: exec }),
  };
}

/** The deps of this process, from its environment (the ping and arping binaries, PATH). */
export function depsFromEnv(env: NodeJS.ProcessEnv): CheckDeps {
  const settings = processSettings(env);
  return defaultDeps({
    pingBinary: settings.pingBinary,
    arpingBinary: settings.arpingBinary,
    path: env['PATH'],
    env,
  });
}
