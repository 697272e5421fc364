/**
 * What a check tests, derived from its configuration: the endpoints (each with its role, CONTRACT
 * 7.3, and the exchange after TLS, 7.2) and the names DNS is asked for.
 *
 * Roles, in the order they are listed: the `parent` of a nested edge device (its 8883/5671/443,
 * the upstream instead of the hub), the `hub` (8883/5671/443), `dps` (443 only: IoT Edge
 * provisions over HTTPS; tested also when the hub is known, since aziot-identityd provisions at
 * every start), each `registry` (443), then every `--endpoint` (`custom`). An endpoint named twice
 * is tested once, under its first role.
 */
import { isIP } from 'node:net';
import type { ExchangeKind, WebSocketProtocol } from '../probes/exchange.js';
import type { EndpointTarget } from '../probes/types.js';
import type { EndpointProtocol, TargetRole, UpstreamProtocol } from '../report/vocabulary.js';
import { DEFAULT_DPS_HOST } from './options.js';
import type { CheckConfig } from './types.js';

export const HUB_PORTS: ReadonlyArray<{ port: number; protocol: EndpointProtocol }> = [
  { port: 8883, protocol: 'mqtt' },
  { port: 5671, protocol: 'amqp' },
  { port: 443, protocol: 'https' },
];

/** The WebSocket subprotocol of each WebSocket upstream protocol (edgeHub's /$iothub/websocket). */
export const WEBSOCKET_SUBPROTOCOL: Readonly<Partial<Record<UpstreamProtocol, WebSocketProtocol>>> = {
  MqttWs: 'mqtt',
  AmqpWs: 'AMQPWSB10',
};

/** An endpoint to test, and why it is tested. */
export interface CheckTarget extends EndpointTarget {
  role: TargetRole;
  /** 443 of the hub or parent with a WebSocket protocol: the upgrade is tried too, on its own connection. */
  webSocket?: WebSocketProtocol;
}

export function protocolForPort(port: number): EndpointProtocol {
  return HUB_PORTS.find((p) => p.port === port)?.protocol ?? 'custom';
}

/** The exchange a port gets after TLS: the protocol IoT Edge speaks there; TLS alone for other ports. */
export function exchangeForPort(port: number): ExchangeKind | null {
  if (port === 8883) return 'mqtt';
  if (port === 5671) return 'amqp';
  if (port === 443) return 'http';
  return null;
}

export type TargetConfig = Pick<
  CheckConfig,
  'hub' | 'endpoints' | 'dps' | 'registries' | 'parent' | 'upstreamProtocol' | 'exchanges'
>;

/** The endpoints a check tests, in the order above. */
export function endpointTargets(config: TargetConfig): CheckTarget[] {
  const targets: CheckTarget[] = [];
  const seen = new Set<string>();
  const ws = WEBSOCKET_SUBPROTOCOL[config.upstreamProtocol];
  const add = (host: string, port: number, role: TargetRole): void => {
    const key = `${host}:${port}`;
    if (seen.has(key)) return;
    seen.add(key);
    const target: CheckTarget = { host, port, protocol: protocolForPort(port), role };
    if (config.exchanges) {
      target.exchange = exchangeForPort(port);
      // A device names its hub in the MQTT username, also when it connects through its parent.
      if (role === 'parent' && config.hub !== null) target.exchangeHost = config.hub;
      if ((role === 'hub' || role === 'parent') && port === 443 && ws !== undefined) target.webSocket = ws;
    }
    targets.push(target);
  };
  for (const role of ['parent', 'hub'] as const) {
    const host = role === 'parent' ? config.parent : config.hub;
    if (host !== null) for (const p of HUB_PORTS) add(host, p.port, role);
  }
  add(config.dps ?? DEFAULT_DPS_HOST, 443, 'dps');
  for (const registry of config.registries) add(registry, 443, 'registry');
  for (const e of config.endpoints) add(e.host, e.port, 'custom');
  return targets;
}

/**
 * The names every DNS server is asked for: the configured ones; else the parent of a nested
 * device (a lower layer need not resolve Azure's names at all); else the hub, else DPS.
 */
export function dnsNamesFor(config: Pick<CheckConfig, 'hub' | 'dnsNames' | 'dps' | 'parent'>): string[] {
  if (config.dnsNames.length) return config.dnsNames;
  if (config.parent !== null && isIP(config.parent) === 0) return [config.parent];
  return [config.hub ?? config.dps ?? DEFAULT_DPS_HOST];
}
