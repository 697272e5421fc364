/**
 * Proxy-layer rules (CONTRACT.md 7.1). The layer is `skipped` when no proxy is configured (then
 * it may only say, as info, that the network looks like one that needs a proxy). With a proxy:
 * its URL must be plain http://; it must be reachable and accept the credentials (else the path
 * behind it cannot be judged: blocking); each CONNECT it refuses is a finding of the endpoint's
 * severity; a non-WebSocket upstream protocol cannot use it; and IoT Edge's components must all
 * be given the same proxy. The CONNECT outcomes are measured by the endpoint probes through the
 * proxy (the firewall's 443 tests): no tunnel is opened twice.
 */
import { finding } from '../findings/finding.js';
import { parseProxyUrl, proxyIdentity } from '../probes/proxy-url.js';
import type { EndpointReport, Finding, ProxyConnect, ProxySource } from '../report/types.js';
import { PRIMARY_PORT, endpointSeverity, isNested } from './endpoints.js';
import type { Earlier, LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';

/** The sources that are IoT Edge's own (the process is this tool's; --proxy is the operator's). */
const HOST_SOURCES: ReadonlySet<string> = new Set(['edgeAgent', 'aziot-edged', 'aziot-identityd', 'docker']);

const NOT_A_TUNNEL = new Set<ProxyConnect['outcome']>(['unreachable', 'timeout', 'malformed']);

/** Roles whose endpoints are Azure's (for "every direct port to Azure is dropped"). */
const AZURE_ROLES = new Set(['hub', 'dps', 'registry']);

function sourceLabel(s: Pick<ProxySource, 'component'>): string {
  return s.component;
}

/** The differences between IoT Edge's readable proxy settings, as phrases; empty when they agree. */
export function proxyDifferences(sources: readonly ProxySource[]): string[] {
  const readable = sources.filter((s) => HOST_SOURCES.has(s.component) && (s.state === 'set' || s.state === 'unset'));
  const identity = (s: ProxySource): string | null => {
    if (s.state !== 'set' || s.url === null) return null;
    return proxyIdentity(parseProxyUrl(s.url)) ?? s.url;
  };
  const values = new Set(readable.map(identity));
  if (values.size <= 1) return [];
  return readable.map((s) => `${sourceLabel(s)} ${s.state === 'set' ? (s.url ?? '?') : 'names none'}`);
}

/** PROXY_MAY_BE_REQUIRED: no proxy, and every direct endpoint of Azure timed out. */
function mayBeRequired(obs: Observations): Finding[] {
  const endpoints = (obs.firewall?.endpoints ?? []).filter((e) => AZURE_ROLES.has(e.role ?? 'hub'));
  if (isNested(obs) || endpoints.length === 0 || !endpoints.every((e) => e.outcome === 'blocked')) return [];
  const dropped = endpoints.map((e) => `${e.host}:${e.port}`);
  return [finding('PROXY_MAY_BE_REQUIRED', 'proxy', { dropped })];
}

function endpointOf(obs: Observations, c: ProxyConnect): EndpointReport | undefined {
  return obs.firewall?.endpoints.find((e) => e.host === c.host && e.port === c.port && e.via === 'proxy');
}

export function diagnoseProxy(obs: Observations, earlier: Earlier): LayerVerdict {
  const p = obs.proxy;
  if (!p) return { findings: [], blocking: false };
  if (p.url === null) return { findings: mayBeRequired(obs), blocking: false, skipped: true };

  const findings: Finding[] = [];
  let blocking = false;
  const parsed = parseProxyUrl(p.url);
  const proxy = parsed.host !== null && parsed.port !== null ? `${parsed.host}:${parsed.port}` : p.url;
  const source = p.source ?? 'configuration';
  const tunnels = p.connect.filter((c) => c.outcome === 'established').length;

  // The URL in use, then every other source IoT Edge would read a broken URL from.
  if (p.valid === false) {
    const httpWorks = (p.testedAs ?? null) === null ? null : tunnels > 0;
    findings.push(
      finding('PROXY_URL_INVALID', source, {
        url: p.url,
        source,
        detail: p.problem ?? 'not http://host:port',
        httpWorks,
      }),
    );
    if (httpWorks !== true) blocking = true;
  }
  for (const s of p.sources) {
    if (s.state !== 'set' || s.valid !== false || s.url === null) continue;
    if (p.valid === false && s.url === p.url) continue; // the one in use, said above
    const detail = parseProxyUrl(s.url).detail ?? 'not http://host:port';
    findings.push(
      finding('PROXY_URL_INVALID', s.component, { url: s.url, source: s.component, detail, httpWorks: null }),
    );
  }

  // The proxy itself: reachable, and accepting us. One finding each, from the first CONNECT that says so.
  const dead = p.connect.find((c) => NOT_A_TUNNEL.has(c.outcome));
  if (dead !== undefined) {
    // A proxy whose name does not resolve because DNS is broken: DNS is the root cause.
    if (tunnels === 0 && dead.phase === 'resolve' && (earlier.dns?.blocking ?? false))
      return { findings: findings.filter((f) => f.severity === 'info'), blocking: true, inconclusive: 'dns' };
    const args = {
      proxy,
      host: parsed.host ?? proxy,
      port: parsed.port ?? 0,
      detail: dead.detail ?? dead.outcome,
      phase: dead.phase ?? 'connect',
    };
    // Other tunnels worked: only this endpoint's way through the proxy failed, at its own severity.
    const e = tunnels === 0 ? undefined : endpointOf(obs, dead);
    findings.push(finding('PROXY_UNREACHABLE', proxy, args, e ? endpointSeverity(e, obs) : 'error'));
    if (tunnels === 0) blocking = true;
  }
  const auth = p.connect.find((c) => c.outcome === 'auth-required');
  if (auth !== undefined) {
    const args = {
      proxy,
      status: auth.httpStatus ?? 407,
      sentCredentials: auth.sentCredentials ?? false,
      schemes: auth.proxyAuthenticate ?? [],
    };
    findings.push(finding('PROXY_AUTH_REQUIRED', proxy, args));
    blocking = true;
  }
  for (const c of p.connect) {
    if (c.outcome !== 'denied') continue;
    const e = endpointOf(obs, c);
    const severity = e ? endpointSeverity(e, obs) : 'error';
    const args = { proxy, host: c.host, port: c.port, status: c.httpStatus, reason: c.reason ?? null };
    findings.push(finding('PROXY_CONNECT_DENIED', `${c.host}:${c.port}`, args, severity));
  }

  // Amqp and Mqtt go direct whatever the proxy: say to use their WebSocket form.
  const { upstreamProtocol } = obs.config;
  const port = PRIMARY_PORT[upstreamProtocol];
  if (port !== null) {
    const upstream = (obs.firewall?.endpoints ?? []).filter(
      (e) => e.port === port && (e.role === 'parent' || (!isNested(obs) && (e.role ?? 'hub') === 'hub')),
    );
    const directOpen = upstream.length > 0 && upstream.every((e) => e.outcome === 'open');
    // An error even while the port is open directly (CONTRACT 7.1): the site runs on a path the
    // operator meant to close, and the proxy the runtime was given goes unused.
    findings.push(finding('PROXY_PROTOCOL_MISMATCH', proxy, { proxy, protocol: upstreamProtocol, port, directOpen }));
  }

  const differences = proxyDifferences(p.sources);
  if (differences.length > 0) findings.push(finding('PROXY_INCONSISTENT', 'proxy sources', { differences }));
  return { findings, blocking };
}
