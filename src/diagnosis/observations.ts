import type { CheckConfig } from '../config/types.js';
import type {
  ClockComponent,
  DnsServerReport,
  EndpointReport,
  GatewayReport,
  InterfaceReport,
  ProxyComponent,
} from '../report/types.js';
import type { DefaultRoute, ResolverConfig } from '../probes/types.js';

/** Everything the probes measured in one check: the input of the (pure) diagnosis. null = layer not asked for. */
export interface Observations {
  config: Pick<
    CheckConfig,
    'interfaces' | 'hub' | 'expectedIp' | 'switchType' | 'upstreamProtocol' | 'dnsNames' | 'timeoutMs'
  > &
    Partial<Pick<CheckConfig, 'parent' | 'provisioningSource' | 'exchanges'>>;
  ip: {
    interfaces: InterfaceReport[];
    defaultRoutes: DefaultRoute[];
    /** false when the routing table could not be read before the deadline. */
    routesObserved?: boolean;
    defaultGateway: GatewayReport | null;
  } | null;
  dns: {
    resolvers: ResolverConfig;
    servers: DnsServerReport[];
    /** The names every server was asked for. */
    names: string[];
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
        /** The local wall clock (ms since the epoch) when the offset was measured: to tell whether it explains a certificate's dates. */
        observedAt?: number | null;
      })
    | null;
}
