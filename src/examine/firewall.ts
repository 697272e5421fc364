/**
 * The firewall layer's measurements: every endpoint of the check, in parallel, against the roots
 * loaded once for the check (the VM's store and --ca-file). 8883 and 5671 are always tested direct
 * (only the WebSocket protocols can use an HTTP proxy); 443 goes through the proxy when there is
 * one (HTTP CONNECT, then TLS and the exchange inside the tunnel) unless no_proxy sends it direct.
 * After TLS each endpoint does its one application exchange (CONTRACT 7.2); the hub's 443 with a
 * WebSocket protocol also does the upgrade, on its own connection, which then decides.
 *
 * Direct ports start at once; 443 waits only for the proxy choice (a few local files).
 */
import { createSecureContext } from 'node:tls';
import { endpointTargets, type CheckTarget } from '../config/targets.js';
import type { CheckConfig } from '../config/types.js';
import type { Deadline } from '../deadline.js';
import type { Observations } from '../diagnosis/observations.js';
import type { ProxiedEndpointResult } from '../probes/proxy-endpoint.js';
import { emptyConnectResult } from '../probes/proxy-connect.js';
import { noProxyMatch } from '../probes/proxy-url.js';
import type { CheckDeps, EndpointContext, Trust } from '../probes/types.js';
import type { EndpointReport, ProxyConnect } from '../report/types.js';
import type { ProxyChoice } from './proxy.js';
import { timedOutEndpoint } from './timed-out.js';

export interface EndpointsObservation extends NonNullable<Observations['firewall']> {
  /** One CONNECT per endpoint tested through the proxy, for the proxy layer. */
  connect: ProxyConnect[];
  /** Endpoints (host:port) no_proxy sent direct. */
  bypassed: string[];
}

/** A report of an endpoint tested through the proxy, in the firewall's terms. */
export function proxiedReport(t: CheckTarget, r: ProxiedEndpointResult): EndpointReport {
  const c = r.connect;
  const report: EndpointReport = {
    host: t.host,
    port: t.port,
    protocol: t.protocol,
    role: t.role,
    via: 'proxy',
    address: null,
    outcome: r.outcome,
    resolveMs: c.resolveMs,
    tcpConnectMs: c.outcome === 'established' ? c.ms : c.tcpConnectMs,
  };
  if (r.tls) report.tls = r.tls;
  if (r.application) {
    report.application = r.application;
    if (r.application.httpDate !== undefined) report.httpDate = r.application.httpDate;
  }
  if (r.outcome === 'proxy-failed') {
    report.error = {
      phase: 'proxy',
      code: c.error?.code ?? `HTTP_${c.httpStatus ?? '?'}`,
      message: c.error?.message ?? c.outcome,
    };
  } else if (r.error) report.error = r.error;
  return report;
}

export function connectEntry(r: ProxiedEndpointResult): ProxyConnect {
  const c = r.connect;
  return {
    host: c.host,
    port: c.port,
    outcome: c.outcome,
    httpStatus: c.httpStatus,
    reason: c.reason,
    ms: c.ms,
    detail: c.error?.message ?? null,
    phase: c.error?.phase ?? null,
    sentCredentials: c.sentCredentials,
    proxyAuthenticate: c.proxyAuthenticate,
  };
}

/** A proxied probe replaced by the deadline: the tunnel did not come in time. */
function timedOutProxied(t: CheckTarget, proxy: string): ProxiedEndpointResult {
  return {
    host: t.host,
    port: t.port,
    via: 'proxy',
    outcome: 'proxy-failed',
    connect: emptyConnectResult(t, proxy, 'timeout', {
      phase: 'answer',
      code: 'DEADLINE',
      message: 'the check deadline was reached first',
    }),
    tls: null,
    application: null,
    error: null,
    ms: 0,
  };
}

/** The deciding result of 443 with a WebSocket protocol: the upgrade's, with the plain request's Date. */
export function withUpgrade(plain: EndpointReport, upgrade: EndpointReport): EndpointReport {
  const merged: EndpointReport = { ...plain };
  if (upgrade.application) merged.application = upgrade.application;
  if (plain.outcome === 'open' || plain.outcome === 'protocol-blocked') {
    if (upgrade.outcome === 'open' || upgrade.outcome === 'protocol-blocked') merged.outcome = upgrade.outcome;
  }
  return merged;
}

export async function examineEndpoints(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
  proxyChoice: Promise<ProxyChoice>,
): Promise<EndpointsObservation> {
  const trust = await deadline.guard<Trust>('trust store', deps.loadTrust(config.caFile), () => ({
    secureContext: createSecureContext({ ca: [] }),
    problems: ['the CA files could not be read before the deadline; nothing was trusted'],
  }));
  const lookup = deps.newLookup?.(config.timeoutMs);
  const now = deps.now;
  const context: EndpointContext = {
    signal: deadline.signal,
    timeoutMs: config.timeoutMs,
    secureContext: trust.secureContext,
    ...(lookup ? { lookup } : {}),
    ...(trust.publicRoots ? { publicRoots: trust.publicRoots } : {}),
    ...(now ? { now } : {}),
  };
  const connects = new Map<string, ProxyConnect>();
  const bypassed: string[] = [];

  const direct = async (t: CheckTarget, exchange = t.exchange, name = 'connect'): Promise<EndpointReport> => {
    const target = { ...t, exchange: exchange ?? null };
    const report = await deadline.guard(`${name} ${t.host}:${t.port}`, deps.probeEndpoint(target, context), () =>
      timedOutEndpoint(t),
    );
    return { ...report, role: t.role, via: 'direct' };
  };

  const throughProxy = async (
    t: CheckTarget,
    probe: NonNullable<CheckDeps['probeThroughProxy']>,
    via: string,
    masked: string,
  ): Promise<EndpointReport> => {
    const one = (exchange: CheckTarget['exchange'], name: string) =>
      deadline.guard(
        `${name} ${t.host}:${t.port}`,
        probe(
          {
            host: t.host,
            port: t.port,
            exchange: exchange ?? null,
            ...(t.webSocket ? { webSocketProtocol: t.webSocket } : {}),
            ...(t.exchangeHost ? { exchangeHost: t.exchangeHost } : {}),
          },
          via,
          context,
        ),
        () => timedOutProxied(t, masked),
      );
    const [plain, upgrade] = await Promise.all([
      one(t.exchange, 'proxy'),
      t.webSocket ? one('websocket', 'proxy websocket') : Promise.resolve(null),
    ]);
    connects.set(`${t.host}:${t.port}`, connectEntry(plain));
    const report = proxiedReport(t, plain);
    return upgrade === null ? report : withUpgrade(report, proxiedReport(t, upgrade));
  };

  const targets = endpointTargets(config);
  const endpoints = await Promise.all(
    targets.map(async (t): Promise<EndpointReport> => {
      const probe = deps.probeThroughProxy;
      if (t.port === 443 && probe) {
        const chosen = await proxyChoice;
        if (chosen.tunnelVia !== null && chosen.info !== null) {
          if (!noProxyMatch(chosen.noProxy, t.host, t.port).bypass)
            return throughProxy(t, probe, chosen.tunnelVia, chosen.info.url);
          bypassed.push(`${t.host}:${t.port}`);
        }
      }
      if (!t.webSocket) return direct(t);
      const [plain, upgrade] = await Promise.all([direct(t), direct(t, 'websocket', 'websocket')]);
      return withUpgrade(plain, upgrade);
    }),
  );
  return {
    endpoints,
    trustProblems: trust.problems,
    trustStore: trust.systemBundle ?? null,
    // In the order the endpoints are listed, whatever order the tunnels finished in.
    connect: targets.flatMap((t) => connects.get(`${t.host}:${t.port}`) ?? []),
    bypassed,
  };
}
