/**
 * Builders for the field layers' observations (CONTRACT 7.1-7.4), over the healthy VM of
 * ./observations.ts: a proxy in use and what its tunnels met, an endpoint reached through it, a
 * host proxy source, a clock reading, and the application exchange an endpoint did.
 */
import type { Observations } from '../../src/diagnosis/observations.js';
import type { ApplicationReport, EndpointReport, ProxyConnect, ProxySource } from '../../src/report/types.js';
import { HUB, endpoint, healthy } from './observations.js';

/** Overrides of an endpoint; `undefined` removes an optional field (see endpoint()). */
export type EndpointBend = NonNullable<Parameters<typeof endpoint>[1]>;

export const PROXY_URL = 'http://198.18.1.30:3128';
export const PROXY_SUBJECT = '198.18.1.30:3128';
export const DPS = 'lab-dps.azure-devices-provisioning.net';
export const REGISTRY = 'lab-registry.azurecr.io';
export const PARENT = 'lab-parent.local';

/** The exchange a healthy endpoint of `port` did. */
export function application(port: number, over: Partial<ApplicationReport> = {}): ApplicationReport {
  const exchange = port === 8883 ? 'mqtt' : port === 5671 ? 'amqp' : 'http';
  return { exchange, outcome: 'ok', detail: 'the protocol answered', ms: 2, bytesReceived: 4, ...over };
}

/** An endpoint of another role (dps, registry, parent, custom) on `port`. */
export function roleEndpoint(
  role: NonNullable<EndpointReport['role']>,
  port: number,
  over: EndpointBend = {},
): EndpointReport {
  const host = role === 'dps' ? DPS : role === 'registry' ? REGISTRY : role === 'parent' ? PARENT : 'custom.lab';
  return endpoint(port, { host, role, via: 'direct', ...over });
}

/** An endpoint tested through the proxy: no address of its own, the tunnel's time as tcpConnectMs. */
export function proxied(port: number, over: EndpointBend = {}): EndpointReport {
  return endpoint(port, { via: 'proxy', address: null, application: application(port), ...over });
}

export function connect(host: string, port: number, over: Partial<ProxyConnect> = {}): ProxyConnect {
  return { host, port, outcome: 'established', httpStatus: 200, ms: 3, detail: null, phase: null, ...over };
}

export function source(component: string, url: string | null, over: Partial<ProxySource> = {}): ProxySource {
  return {
    component,
    url,
    state: url === null ? 'unset' : 'set',
    origin: [`/etc/systemd/system/${component}.service.d/proxy.conf`],
    valid: url === null ? null : !url.startsWith('https://'),
    noProxy: null,
    problems: [],
    ...over,
  };
}

/** The healthy VM behind a proxy (AmqpWs): 443 through the proxy, the direct ports dropped. */
export function behindProxy(over: Partial<NonNullable<Observations['proxy']>> = {}): Observations {
  const obs = healthy();
  obs.config.upstreamProtocol = 'AmqpWs';
  obs.proxy = {
    url: PROXY_URL,
    source: '--proxy',
    valid: true,
    problem: null,
    testedAs: null,
    noProxy: null,
    bypassed: [],
    sources: [],
    connect: [connect(HUB, 443)],
    ...over,
  };
  obs.firewall = {
    endpoints: [
      endpoint(8883, { via: 'direct', outcome: 'blocked', tcpConnectMs: null, tls: undefined, error: timedOut() }),
      endpoint(5671, { via: 'direct', outcome: 'blocked', tcpConnectMs: null, tls: undefined, error: timedOut() }),
      proxied(443),
    ],
    trustProblems: [],
  };
  return obs;
}

export function timedOut(): NonNullable<EndpointReport['error']> {
  return { phase: 'connect', code: 'ETIMEDOUT', message: 'connect got no answer within 3000 ms' };
}

/** A clock reading: `offsetMs` against the hub's 443, the time service's word. */
export function clock(
  offsetMs: number | null,
  over: Partial<NonNullable<Observations['clock']>> = {},
): NonNullable<Observations['clock']> {
  return {
    offsetMs,
    uncertaintyMs: offsetMs === null ? null : 500,
    reference: offsetMs === null ? null : `${HUB}:443`,
    synchronized: null,
    syncSource: null,
    service: null,
    lastSyncAt: null,
    detail: 'systemd-timesyncd is not running',
    observedAt: offsetMs === null ? null : Date.parse('2026-11-26T06:00:00Z'),
    ...over,
  };
}
