/**
 * The IP layer's measurements for one check: interfaces, routes, the networkd configuration and
 * lease of each interface, and a ping of the default gateway, all under the check's deadline.
 */
import type { CheckConfig } from '../config/types.js';
import type { Deadline } from '../deadline.js';
import type { Observations } from '../diagnosis/observations.js';
import { assignmentOf, matchNetworkFile } from '../probes/networkd.js';
import type { CheckDeps, InterfaceObservation } from '../probes/types.js';
import type { GatewayReport, InterfaceReport } from '../report/types.js';
import { PING_COUNT, timedOutPing } from './timed-out.js';

function unread(name: string): InterfaceObservation {
  return {
    observed: false,
    name,
    present: false,
    ifindex: null,
    operState: null,
    adminUp: null,
    mac: null,
    mtu: null,
    ipv4: [],
    ipv6: [],
    counters: null,
  };
}

export async function examineIp(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
): Promise<NonNullable<Observations['ip']>> {
  const [observed, routes, networkd] = await Promise.all([
    deadline.guard('interfaces', deps.observeInterfaces(config.interfaces), () => config.interfaces.map(unread)),
    deadline.guard('routes', deps.readDefaultRoutes(), () => null),
    deadline.guard('networkd', deps.readNetworkd(config.networkdDir), () => ({
      files: [],
      problems: ['timed out reading'],
    })),
  ]);

  const routesObserved = routes !== null;
  const defaultRoutes = routes ?? [];
  // Only a gateway on an examined interface is pinged: with --interface lo on a workstation, the
  // machine's own gateway is none of this check's business.
  const gatewayRoute =
    defaultRoutes.find((r) => r.family === 4 && config.interfaces.includes(r.interface)) ??
    defaultRoutes.find((r) => r.family === 4);
  const pingGateway = gatewayRoute !== undefined && config.interfaces.includes(gatewayRoute.interface);
  const gatewayPing =
    gatewayRoute && pingGateway
      ? deadline.guard(
          `ping gateway ${gatewayRoute.gateway}`,
          deps.ping(gatewayRoute.gateway, { count: PING_COUNT, timeoutMs: config.timeoutMs, signal: deadline.signal }),
          timedOutPing,
        )
      : Promise.resolve(null);

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

  const ping = await gatewayPing;
  let defaultGateway: GatewayReport | null = null;
  if (gatewayRoute) {
    const stats = ping && !('error' in ping) ? ping : null;
    defaultGateway = {
      address: gatewayRoute.gateway,
      interface: gatewayRoute.interface,
      reachable: stats ? stats.received > 0 : null,
      rttMs: stats?.rttAvgMs ?? null,
      ...(ping ? { ping } : {}),
    };
  }
  return { interfaces, defaultRoutes, routesObserved, defaultGateway };
}
