/**
 * The clock layer's measurements (CONTRACT 7.4): the offset from the `Date` of an HTTPS answer the
 * endpoint probes already got (no extra connection: the hub's 443, through the proxy when there is
 * one; else DPS's, a registry's…), and what the VM's time service says, read in parallel with
 * everything else.
 */
import type { Observations } from '../diagnosis/observations.js';
import type { TimeSyncState } from '../probes/time-sync.js';
import type { EndpointReport } from '../report/types.js';

/**
 * Which endpoint's Date is the reference: a trusted chain first (an interceptor's Date is its own clock), then the
 * upstream.
 */
const ROLE_RANK: Record<string, number> = { parent: 0, hub: 1, dps: 2, registry: 3, custom: 4, extra: 4 };

export const UNKNOWN_TIME_SYNC: TimeSyncState = {
  synchronized: null,
  syncSource: null,
  service: null,
  lastSyncAt: null,
  detail: 'the time service was not asked',
};

/** The endpoint whose HTTPS Date the offset is taken from, or undefined when none answered with one. */
export function clockReference(endpoints: readonly EndpointReport[]): EndpointReport | undefined {
  const dated = endpoints.filter((e) => (e.application?.clock ?? null) !== null);
  const rank = (e: EndpointReport): number => (e.tls?.authorized === true ? 0 : 10) + (ROLE_RANK[e.role ?? 'hub'] ?? 5);
  return [...dated].sort((a, b) => rank(a) - rank(b))[0];
}

export function clockObservation(
  timeSync: TimeSyncState,
  endpoints: readonly EndpointReport[],
  observedAt: number,
): NonNullable<Observations['clock']> {
  const reference = clockReference(endpoints);
  const offset = reference?.application?.clock ?? null;
  return {
    offsetMs: offset?.offsetMs ?? null,
    uncertaintyMs: offset?.uncertaintyMs ?? null,
    reference: reference ? `${reference.host}:${reference.port}` : null,
    synchronized: timeSync.synchronized,
    syncSource: timeSync.syncSource,
    service: timeSync.service,
    lastSyncAt: timeSync.lastSyncAt,
    detail: timeSync.detail,
    observedAt: offset === null ? null : observedAt,
  };
}
