/**
 * The IP layer's measurements for one check, all under the check's deadline and all at once:
 * interfaces, the routing table, the networkd configuration and lease of each interface, the
 * container bridges, a ping of every default route's gateway from its own interface (then the ARP
 * table: did the gateway answer at all?), don't-fragment sweeps to the gateway in use and a DNS
 * server, and duplicate address detection for each IPv4 address. Nothing here waits for anything
 * but the file reads it needs to know what to probe.
 */
import type { CheckConfig } from '../config/types.js';
import type { Deadline } from '../deadline.js';
import type { Observations } from '../diagnosis/observations.js';
import { absentInterface } from '../probes/interfaces.js';
import { assignmentOf, matchNetworkFile } from '../probes/networkd.js';
import { defaultRoutes, lookupRoute, type DefaultRouteEntry, type RouteTable } from '../probes/route-table.js';
import type { CheckDeps, InterfaceObservation, ResolverConfig } from '../probes/types.js';
import type {
  DefaultRouteReport,
  DuplicateAddressReport,
  GatewayReport,
  InterfaceReport,
  PathMtuReport,
  PingOutcome,
} from '../report/types.js';
import { canonicalIp, inSubnet } from '../util/address.js';
import { examinesUplink, type SharedReads } from './reads.js';
import { PING_COUNT, timedOutPing } from './timed-out.js';

/** At most this many default routes' gateways are pinged (one per NIC in practice). */
const MAX_GATEWAYS = 4;
/** At most this many addresses get duplicate address detection. */
const MAX_DAD = 4;
/** Per don't-fragment ping: a reply comes within milliseconds, and the sweep has two rounds. */
const DF_TIMEOUT_MS = 1000;

/** An interface the deadline kept us from reading: not absent, unknown. */
function unread(name: string): InterfaceObservation {
  return { ...absentInterface(name), observed: false };
}

function answered(p: PingOutcome | null | undefined): boolean | null {
  if (!p || 'error' in p) return null;
  return p.received > 0;
}

function isLoopback(address: string): boolean {
  const a = canonicalIp(address, { unmap: true, dropZone: true });
  return a === '::1' || (a !== null && inSubnet(a, '127.0.0.0', 8));
}

/** The sweep of a path, or its timed-out form. */
function timedOutSweep(target: string, role: PathMtuReport['role'], interfaceMtu: number | null): PathMtuReport {
  return {
    target,
    role,
    interfaceMtu: interfaceMtu ?? 1500,
    largestPassingDf: null,
    smallestFailingDf: null,
    reportedMtu: null,
    probed: [],
    error: 'unavailable',
    detail: 'check deadline reached',
  };
}

/**
 * The sweep that limits the path most: the smallest size that still passed where a larger one
 * failed; the gateway's when none shows a limit (or they are equal). null when none ran.
 */
export function limitingPathMtu(sweeps: readonly PathMtuReport[]): PathMtuReport | null {
  const limited = sweeps
    .filter((s) => s.largestPassingDf !== null && s.smallestFailingDf !== null)
    .sort((a, b) => (a.largestPassingDf ?? 0) - (b.largestPassingDf ?? 0) || (a.role === 'gateway' ? -1 : 1));
  return limited[0] ?? sweeps.find((s) => s.role === 'gateway') ?? sweeps[0] ?? null;
}

interface GatewayTarget {
  route: DefaultRouteEntry;
  gateway: string;
  iface: string;
}

/** The IPv4 default routes whose gateway is pinged: with a gateway and a device, the one in use first. */
function gatewayTargets(entries: readonly DefaultRouteEntry[]): GatewayTarget[] {
  return entries
    .filter((r) => r.family === 4 && r.gateway !== null && r.interface !== null)
    .sort((a, b) => Number(b.inUse) - Number(a.inUse))
    .slice(0, MAX_GATEWAYS)
    .map((route) => ({ route, gateway: route.gateway as string, iface: route.interface as string }));
}

/** A DNS server to sweep besides the gateway: the first one that is neither loopback nor the gateway. */
function dnsSweepTarget(resolvers: ResolverConfig, gateway: string | null): string | null {
  return resolvers.servers.find((s) => !isLoopback(s) && s !== gateway && !s.includes(':')) ?? null;
}

export async function examineIp(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
  reads: SharedReads,
): Promise<NonNullable<Observations['ip']>> {
  const probe = { signal: deadline.signal, timeoutMs: config.timeoutMs };
  const [observed, table, networkd, bridges] = await Promise.all([
    deadline.guard('interfaces', deps.observeInterfaces(config.interfaces), () => config.interfaces.map(unread)),
    reads.routeTable,
    deadline.guard('networkd', deps.readNetworkd(config.networkdDir), () => ({
      files: [],
      problems: ['timed out reading'],
    })),
    deps.observeBridges ? deadline.guard('bridges', deps.observeBridges(), () => []) : Promise.resolve([]),
  ]);

  const routesObserved = table !== null;
  const entries = defaultRoutes(table?.routes ?? []);
  const uplink = examinesUplink(config, table);
  const targets = uplink ? gatewayTargets(entries) : [];
  const inUse = entries.find((r) => r.family === 4 && r.inUse && r.gateway !== null) ?? null;

  // Every default route's gateway from its own NIC, the one in use among them: with two NICs the
  // kernel's choice may lead nowhere while the other works (CONTRACT 7.5 IP_MULTIPLE_DEFAULT_ROUTES).
  const pings = targets.map((t) => {
    const name = t.route === inUse ? `ping gateway ${t.gateway}` : `ping gateway ${t.gateway} via ${t.iface}`;
    return deadline.guard(
      name,
      deps.ping(t.gateway, { count: PING_COUNT, ...probe, interface: t.iface }),
      timedOutPing,
    );
  });
  // Read once the pings are done (they made the kernel ask); not at all once the deadline has passed.
  const neighbours = Promise.all(pings).then(() =>
    deps.readNeighbours && targets.length > 0 && !deadline.signal.aborted
      ? deadline.guard('neighbours', deps.readNeighbours(), () => [])
      : Promise.resolve([]),
  );

  const mtuOf = (iface: string | null): number | null => observed.find((o) => o.name === iface)?.mtu ?? null;
  const sweeps = sweepPaths(config, deps, deadline, reads, { table, uplink, inUse, mtuOf });
  const dad = detectDuplicates(deps, deadline, observed);

  const interfaces = await Promise.all(
    observed.map(async (o): Promise<InterfaceReport> => {
      const file = matchNetworkFile(networkd.files, o.name, o.mac);
      const lease =
        o.ifindex === null
          ? null
          : await deadline.guard(`lease ${o.name}`, deps.readLease(config.leasesDir, o.ifindex), () => null);
      const { ifindex: _ifindex, ...seen } = o;
      return {
        ...seen,
        // A lease without a file still tells us DHCP is in use (networkd only writes leases for DHCP links).
        assignment: file ? assignmentOf(file) : lease ? 'dhcp' : 'unknown',
        configFile: file?.path ?? null,
        config: file
          ? {
              dhcp: file.dhcp,
              addresses: file.addresses,
              gateways: file.gateways,
              dns: file.dns,
              problems: file.problems,
            }
          : null,
        lease,
      };
    }),
  );

  const pinged = await Promise.all(pings);
  const arpTable = await neighbours;
  const arpOf = (gateway: string, iface: string): boolean | null => {
    if (!deps.readNeighbours || targets.length === 0) return null;
    const entry = arpTable.find((n) => n.address === gateway && n.interface === iface);
    return entry ? entry.complete : null;
  };
  const reports: DefaultRouteReport[] = entries.map((r) => {
    const i = targets.findIndex((t) => t.route === r);
    if (i < 0) return { ...r, reachable: null, arp: null };
    const ping = pinged[i] as PingOutcome;
    const arp = arpOf(targets[i]!.gateway, targets[i]!.iface);
    const byPing = answered(ping);
    const reachable = byPing === true || arp === true ? true : byPing === null && arp === null ? null : false;
    return { ...r, reachable, arp, ping };
  });

  let defaultGateway: GatewayReport | null = null;
  if (inUse) {
    const report = reports[entries.indexOf(inUse)];
    const ping = report?.ping ?? null;
    const stats = ping && !('error' in ping) ? ping : null;
    defaultGateway = {
      address: inUse.gateway as string,
      interface: inUse.interface ?? '?',
      reachable: stats ? stats.received > 0 : null,
      rttMs: stats?.rttAvgMs ?? null,
      ...(ping ? { ping } : {}),
      ...(report && report.arp !== null ? { arp: report.arp } : {}),
    };
  }
  return {
    interfaces,
    defaultRoutes: reports,
    routesObserved,
    defaultGateway,
    routeTable: table?.routes ?? [],
    routes: [],
    bridges,
    pathMtu: await sweeps,
    duplicateAddress: await dad,
  };
}

interface SweepContext {
  table: RouteTable | null;
  uplink: boolean;
  inUse: DefaultRouteEntry | null;
  mtuOf: (iface: string | null) => number | null;
}

/** Don't-fragment sweeps to the gateway in use and to a DNS server beyond it, in parallel. */
async function sweepPaths(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
  reads: SharedReads,
  ctx: SweepContext,
): Promise<PathMtuReport[]> {
  const pingDf = deps.pingDf?.bind(deps);
  if (!pingDf || !ctx.uplink) return [];
  const gateway = ctx.inUse?.gateway ?? null;
  const dns = dnsSweepTarget(await reads.resolvers, gateway);
  const targets: Array<{ target: string; role: PathMtuReport['role']; mtu: number | null }> = [];
  if (gateway !== null)
    targets.push({ target: gateway, role: 'gateway', mtu: ctx.mtuOf(ctx.inUse?.interface ?? null) });
  if (dns !== null) {
    const via = lookupRoute(ctx.table?.routes ?? [], dns).interface;
    targets.push({ target: dns, role: 'dns', mtu: ctx.mtuOf(via) ?? ctx.mtuOf(ctx.inUse?.interface ?? null) });
  }
  const timeoutMs = Math.min(config.timeoutMs, DF_TIMEOUT_MS);
  return Promise.all(
    targets.map(async ({ target, role, mtu }) => {
      const result = await deadline.guard(
        `path mtu ${target}`,
        pingDf(target, { interfaceMtu: mtu, timeoutMs, signal: deadline.signal }),
        () => null,
      );
      return result === null ? timedOutSweep(target, role, mtu) : { ...result, role };
    }),
  );
}

/** arping -D for each IPv4 address of each examined interface that is up and has a MAC (ARP runs there). */
async function detectDuplicates(
  deps: CheckDeps,
  deadline: Deadline,
  observed: readonly InterfaceObservation[],
): Promise<DuplicateAddressReport[]> {
  const arping = deps.arping?.bind(deps);
  if (!arping) return [];
  const pairs = observed
    .filter((o) => o.present && o.adminUp !== false && o.mac !== null && !/^(00:){5}00$/.test(o.mac))
    .flatMap((o) => o.ipv4.map((a) => ({ address: a.address, iface: o.name })))
    .slice(0, MAX_DAD);
  return Promise.all(
    pairs.map(({ address, iface }) =>
      deadline.guard(`arping ${address}`, arping(address, iface, { signal: deadline.signal }), () => ({
        address,
        interface: iface,
        conflict: null,
        conflictingMac: null,
        flavour: null,
        error: 'unavailable' as const,
        detail: 'check deadline reached',
      })),
    ),
  );
}
