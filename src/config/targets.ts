/** What a check tests, derived from its configuration: the endpoints and the names DNS is asked for. */
import type { EndpointTarget } from '../probes/types.js';
import type { EndpointProtocol, EndpointRole } from '../report/vocabulary.js';
import { DEFAULT_DPS_HOST } from './options.js';
import type { CheckConfig } from './types.js';

export const HUB_PORTS: ReadonlyArray<{ port: number; protocol: EndpointProtocol }> = [
  { port: 8883, protocol: 'mqtt' },
  { port: 5671, protocol: 'amqp' },
  { port: 443, protocol: 'https' },
];

/** An endpoint to test, and why it is tested. */
export interface CheckTarget extends EndpointTarget {
  role: EndpointRole;
}

export function protocolForPort(port: number): EndpointProtocol {
  return HUB_PORTS.find((p) => p.port === port)?.protocol ?? 'custom';
}

/** The endpoints a check tests: the hub's (or DPS's) three ports, then every extra one. */
export function endpointTargets(config: Pick<CheckConfig, 'hub' | 'endpoints'>): CheckTarget[] {
  const host = config.hub ?? DEFAULT_DPS_HOST;
  const role = config.hub ? 'hub' : 'dps';
  const targets: CheckTarget[] = HUB_PORTS.map((p) => ({ host, port: p.port, protocol: p.protocol, role }));
  const seen = new Set(targets.map((t) => `${t.host}:${t.port}`));
  const extras = config.endpoints
    .filter((e) => !seen.has(`${e.host}:${e.port}`) && seen.add(`${e.host}:${e.port}`))
    .map((e): CheckTarget => ({ ...e, protocol: protocolForPort(e.port), role: 'extra' }));
  return [...targets, ...extras];
}

/** The names every DNS server is asked for: the configured ones, else the hub, else DPS. */
export function dnsNamesFor(config: Pick<CheckConfig, 'hub' | 'dnsNames'>): string[] {
  return config.dnsNames.length ? config.dnsNames : [config.hub ?? DEFAULT_DPS_HOST];
}
