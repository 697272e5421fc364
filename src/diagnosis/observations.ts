import type { CheckConfig } from '../config/types.js';
import type {
  BridgeReport,
  ClockComponent,
  ContainerDnsReport,
  DefaultRouteReport,
  DnsServerReport,
  DuplicateAddressReport,
  EndpointReport,
  GatewayReport,
  InterfaceReport,
  PathMtuReport,
  ProxyComponent,
  RouteReport,
} from '../report/types.js';
import type { Route } from '../probes/route-table.js';
import type { ResolverConfig } from '../probes/types.js';

/** Everything the probes measured in one check: the input of the (pure) diagnosis. null = layer not asked for. */
export interface Observations {
  config: Pick<
    CheckConfig,
    'interfaces' | 'hub' | 'expectedIp' | 'switchType' | 'upstreamProtocol' | 'dnsNames' | 'timeoutMs'
  > &
    Partial<Pick<CheckConfig, 'parent' | 'provisioningSource' | 'exchanges'>>;
  ip: {
    interfaces: InterfaceReport[];
    /** Every default route, the one in use marked, each gateway's ping (-I) and ARP answer. */
    defaultRoutes: DefaultRouteReport[];
    /** false when the routing table could not be read before the deadline. */
    routesObserved?: boolean;
    /** The gateway of the default route the kernel uses. */
    defaultGateway: GatewayReport | null;
    /** The whole routing table as read (empty when unread), for the lookups below. */
    routeTable: Route[];
    /**
     * The route of every destination the check needs: looked up in `routeTable` once every probe is
     * done (endpoint addresses are known only then), by src/examine/ip-routes.ts.
     */
    routes: RouteReport[];
    bridges: BridgeReport[];
    /** Don't-fragment sweeps: the gateway's, a DNS server's. */
    pathMtu: PathMtuReport[];
    duplicateAddress: DuplicateAddressReport[];
  } | null;
  dns: {
    resolvers: ResolverConfig;
    servers: DnsServerReport[];
    /** The names every server was asked for. */
    names: string[];
    /** The servers containers will use and their tests; null when daemon.json and the files were not read. */
    containers: ContainerDnsReport | null;
  } | null;
  /** The proxy the check used and what it saw through it; null when the layer was not examined. */
  proxy: Omit<ProxyComponent, 'status' | 'inconclusiveBecause'> | null;
  firewall: {
    endpoints: EndpointReport[];
    trustProblems: string[];
    /** The VM's CA bundle the chains were verified against; null: none found. */
    trustStore?: string | null;
  } | null;
  clock:
    | (Omit<ClockComponent, 'status' | 'inconclusiveBecause'> & {
        /**
         * The local wall clock (ms since the epoch) when the offset was measured: to tell whether it explains a
         * certificate's dates.
         */
        observedAt?: number | null;
      })
    | null;
}
