/**
 * How one tested DNS server fared, shared by the VM's rules and the containers' (and by the IP
 * layer's question whether anything beyond the gateway works). A server "works" when at least
 * one of our queries got a real DNS answer (an address, NODATA or NXDOMAIN).
 */
import type { ServerFailure } from '../findings/dns.js';
import { describePing } from '../findings/phrases.js';
import type { DnsQueryReport, DnsServerReport } from '../report/types.js';

const RESPONDED = new Set<DnsQueryReport['outcome']>(['answered', 'nxdomain']);

export function serverWorks(s: DnsServerReport): boolean {
  return s.queries.some((q) => RESPONDED.has(q.outcome));
}

function pingAnswered(s: DnsServerReport): boolean {
  return !('error' in s.ping) && s.ping.received > 0;
}

/** The one kind of failure that best describes a server whose queries all failed, with its detail. */
export function failureOf(s: DnsServerReport): { kind: ServerFailure; detail: string; names: string[] } {
  const names = [...new Set(s.queries.map((q) => q.name))];
  if (s.queries.some((q) => q.outcome === 'refused')) return { kind: 'refused', detail: 'REFUSED', names };
  const broken = s.queries.find((q) => q.outcome === 'servfail' || q.outcome === 'malformed');
  if (broken) {
    const detail =
      broken.outcome === 'servfail'
        ? `SERVFAIL for ${broken.name}`
        : `malformed answer for ${broken.name}${broken.detail ? ` (${broken.detail})` : ''}`;
    return { kind: 'failure', detail, names };
  }
  // Port 53 refused (ICMP port unreachable) means the host is up but serves no DNS: not answering.
  const portRefused = s.queries.find((q) => q.outcome === 'error' && /ECONNREFUSED/.test(q.detail ?? ''));
  if (pingAnswered(s) || portRefused) {
    const n = s.queries.length;
    const detail = portRefused ? 'port 53 refused' : `${n} ${n === 1 ? 'query' : 'queries'} timed out`;
    return { kind: 'not-answering', detail, names };
  }
  return { kind: 'unreachable', detail: `ping ${describePing(s.ping)}`, names };
}
