/**
 * A certificate "not yet valid" or "expired" by the VM's clock: the clock's business (CONTRACT 7.4)
 * when the measured offset explains it (by the server's time the certificate is valid) or when no
 * offset could be measured; otherwise the firewall's (a certificate that really expired: whoever
 * serves it is not Azure). One rule, read by both layers, so a date error is reported exactly once.
 */
import type { EndpointReport } from '../report/types.js';
import type { Observations } from './observations.js';

export const DATE_ERRORS: ReadonlySet<string> = new Set(['CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED']);

/** Extra slack on the server's time, beyond the measurement's own uncertainty. */
const SLACK_MS = 1000;

export function hasDateError(e: Pick<EndpointReport, 'tls'>): boolean {
  return DATE_ERRORS.has(e.tls?.authorizationError ?? '');
}

function time(text: string | null | undefined): number | null {
  if (!text) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/** Whether the clock layer reports this endpoint's certificate date error (see the module comment). */
export function clockExplains(e: Pick<EndpointReport, 'tls'>, clock: Observations['clock']): boolean {
  if (!hasDateError(e)) return false;
  // The clock was not examined: nobody would report it there.
  if (clock === null) return false;
  const observedAt = clock.observedAt ?? null;
  if (clock.offsetMs === null || observedAt === null) return true;
  const serverNow = observedAt - clock.offsetMs;
  const slack = (clock.uncertaintyMs ?? 0) + SLACK_MS;
  if (e.tls?.authorizationError === 'CERT_NOT_YET_VALID') {
    const from = time(e.tls.validFrom);
    return from === null || from <= serverNow + slack;
  }
  const to = time(e.tls?.validTo);
  return to === null || to >= serverNow - slack;
}

/** The date error in words, for a finding: "the certificate of h:443 is not valid before …". */
export function describeDateError(e: Pick<EndpointReport, 'host' | 'port' | 'tls'>): string {
  const where = `the certificate of ${e.host}:${e.port}`;
  return e.tls?.authorizationError === 'CERT_NOT_YET_VALID'
    ? `${where} is not valid yet (valid from ${e.tls.validFrom ?? 'an unknown date'})`
    : `${where} has expired (valid until ${e.tls?.validTo ?? 'an unknown date'})`;
}
