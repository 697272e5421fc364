/**
 * Root cause first across layers: which IP-layer finding already explains why a later layer's
 * probe of one address failed, so that the later layer adds no error of its own for it (CONTRACT
 * 3 and 7). The DNS judge uses it for its servers; the firewall and proxy judges can use it for
 * their endpoints (`ipExplainsAddress`) and for TLS handshakes that stalled (`ipExplainsTlsStall`).
 */
import type { EndpointReport, Finding } from '../report/types.js';
import { isTlsStall } from './ip-plumbing.js';
import type { Earlier } from './layer.js';
import type { Observations } from './observations.js';

/**
 * The IP finding that explains why `address` cannot be reached: a route conflict for that very
 * address, or a dead default route in use (IP_MULTIPLE_DEFAULT_ROUTES as an error) when the
 * address leaves by a default route. null when none does (or IP was not judged).
 */
export function ipExplainsAddress(obs: Observations, earlier: Earlier, address: string | null): Finding | null {
  if (address === null) return null;
  const findings = earlier.ip?.findings ?? [];
  const conflict = findings.find((f) => f.code === 'IP_ROUTE_CONFLICT' && f.subject === address);
  if (conflict) return conflict;
  const deadRoute = findings.find((f) => f.code === 'IP_MULTIPLE_DEFAULT_ROUTES' && f.severity === 'error');
  if (deadRoute) {
    const route = obs.ip?.routes.find((r) => r.destination === address);
    if (route?.matched === 'default') return deadRoute;
  }
  return null;
}

/** IP_MTU_BLACKHOLE when `endpoint` failed the way a path-MTU black hole makes it fail (TLS stalled after connect). */
export function ipExplainsTlsStall(earlier: Earlier, endpoint: EndpointReport): Finding | null {
  if (!isTlsStall(endpoint)) return null;
  return earlier.ip?.findings.find((f) => f.code === 'IP_MTU_BLACKHOLE') ?? null;
}
