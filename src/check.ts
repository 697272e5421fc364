/**
 * runCheck(): one full check. Every layer's probes start at once (diagnosis, not scheduling,
 * decides what an earlier failure means), under one deadline. When the deadline fires, whatever
 * is still pending is recorded as timed out and the report is returned anyway.
 */
import { randomUUID } from 'node:crypto';
import type { CheckConfig } from './config/types.js';
import { Deadline } from './deadline.js';
import { diagnose } from './diagnosis/diagnose.js';
import type { Observations } from './diagnosis/observations.js';
import { UNKNOWN_TIME_SYNC, clockObservation } from './examine/clock.js';
import { examineDns } from './examine/dns.js';
import { examineEndpoints, type EndpointsObservation } from './examine/firewall.js';
import { examineIp, limitingPathMtu } from './examine/ip.js';
import { neededRoutes } from './examine/ip-routes.js';
import { NO_PROXY_CHOICE, chooseProxy, proxyObservation } from './examine/proxy.js';
import { startSharedReads } from './examine/reads.js';
import type { TimeSyncState } from './probes/time-sync.js';
import type { CheckDeps } from './probes/types.js';
import type { Report } from './report/types.js';
import type { ComponentName, Trigger, Vantage } from './report/vocabulary.js';
import { VERSION } from './version.js';

export type { CheckDeps };

export interface CheckOptions {
  trigger: Trigger;
  /** Aborts the check from outside (SIGTERM): pending probes are reported as timed out. */
  signal?: AbortSignal;
  /** Where the check looks from (CONTRACT.md 8.4); default host. */
  vantage?: Vantage;
}

/** The evidence of a layer that was not examined. */
const NO_PROXY: NonNullable<Observations['proxy']> = { url: null, source: null, sources: [], connect: [] };
const NO_CLOCK: NonNullable<Observations['clock']> = {
  offsetMs: null,
  reference: null,
  synchronized: null,
  syncSource: null,
};

/** The clock's observation as reported (observedAt is the diagnosis's alone). */
function clockComponent(clock: Observations['clock']): NonNullable<Observations['clock']> {
  if (clock === null) return NO_CLOCK;
  const { observedAt: _observedAt, ...reported } = clock;
  return reported;
}

/** Time kept back from the deadline for diagnosis and output. */
const RESERVE_MS = 100;

export async function runCheck(config: CheckConfig, deps: CheckDeps, options: CheckOptions): Promise<Report> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const deadline = new Deadline(Math.max(config.deadlineMs - RESERVE_MS, 50), options.signal);
  const timings: Record<string, number> = {};
  const wants = new Set(config.components);
  const layer = async <T>(name: ComponentName, work: () => Promise<T>): Promise<T | null> => {
    if (!wants.has(name)) return null;
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };

  try {
    const host = deadline.guard('host info', deps.hostInfo(), () => null);
    const reads = wants.has('ip') || wants.has('dns') ? startSharedReads(config, deps, deadline) : null;
    // The endpoints feed three layers: the firewall's outcomes, the proxy's CONNECTs, the clock's Date.
    const needsEndpoints = wants.has('firewall') || wants.has('proxy') || wants.has('clock');
    const choice = needsEndpoints ? chooseProxy(config, deps, deadline) : Promise.resolve(NO_PROXY_CHOICE);
    const endpoints: Promise<EndpointsObservation | null> = needsEndpoints
      ? examineEndpoints(config, deps, deadline, choice)
      : Promise.resolve(null);
    const probe = { signal: deadline.signal, timeoutMs: config.timeoutMs };
    const timeSync: Promise<TimeSyncState> =
      wants.has('clock') && deps.readTimeSync
        ? deadline.guard(
            'time service',
            deps.readTimeSync(probe).catch(() => UNKNOWN_TIME_SYNC),
            () => UNKNOWN_TIME_SYNC,
          )
        : Promise.resolve(UNKNOWN_TIME_SYNC);
    const now = deps.now ?? Date.now;
    const [ip, dns, firewall, proxy, clock] = await Promise.all([
      layer('ip', () => examineIp(config, deps, deadline, reads!)),
      layer('dns', () => examineDns(config, deps, deadline, reads!)),
      layer('firewall', () => endpoints),
      layer('proxy', async () => {
        const seen = await endpoints;
        return proxyObservation(await choice, seen?.connect ?? [], seen?.bypassed ?? []);
      }),
      layer('clock', async () => {
        const [sync, seen] = await Promise.all([timeSync, endpoints]);
        return clockObservation(sync, seen?.endpoints ?? [], now());
      }),
    ]);
    const fw: Observations['firewall'] = firewall
      ? {
          endpoints: firewall.endpoints,
          trustProblems: firewall.trustProblems,
          trustStore: firewall.trustStore ?? null,
        }
      : null;
    const observations: Observations = { config, ip, dns, proxy, firewall: fw, clock };
    // Pure, after every probe: the endpoint addresses are known only now (no second round of probing).
    if (observations.ip) observations.ip.routes = neededRoutes(observations);
    const d = diagnose(observations);
    const statusOf = (c: ComponentName) => {
      const because = d.inconclusiveBecause[c];
      return { status: d.components[c], ...(because ? { inconclusiveBecause: because } : {}) };
    };
    return {
      schemaVersion: 1,
      agent: { name: 'eflow-netdiag', version: VERSION },
      host: await host,
      checkId: randomUUID(),
      trigger: options.trigger,
      vantage: options.vantage ?? 'host',
      startedAt,
      durationMs: Math.round(performance.now() - started),
      status: d.status,
      failingComponent: d.failingComponent,
      components: {
        ip: {
          ...statusOf('ip'),
          interfaces: ip?.interfaces ?? [],
          defaultGateway: ip?.defaultGateway ?? null,
          defaultRoutes: ip?.defaultRoutes ?? [],
          routes: ip?.routes ?? [],
          bridges: ip?.bridges ?? [],
          pathMtu: limitingPathMtu(ip?.pathMtu ?? []),
          pathMtuSweeps: ip?.pathMtu ?? [],
          duplicateAddress: ip?.duplicateAddress ?? [],
        },
        dns: {
          ...statusOf('dns'),
          source: dns?.resolvers.source ?? 'resolv.conf',
          files: dns?.resolvers.files ?? [],
          servers: dns?.servers ?? [],
          containers: dns?.containers ?? null,
        },
        proxy: { ...statusOf('proxy'), ...(observations.proxy ?? NO_PROXY) },
        firewall: {
          ...statusOf('firewall'),
          upstreamProtocol: config.upstreamProtocol,
          trustStore: firewall?.trustStore ?? null,
          exchanges: config.exchanges,
          endpoints: firewall?.endpoints ?? [],
        },
        clock: { ...statusOf('clock'), ...clockComponent(observations.clock) },
      },
      findings: d.findings,
      timings,
      timedOut: deadline.timedOut,
    };
  } finally {
    deadline.dispose();
  }
}
