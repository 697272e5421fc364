/** What a probe reports when the check's deadline replaced it: its timed-out form. */
import type { DnsQueryReport, EndpointReport, PingOutcome } from '../report/types.js';

/** Echo requests per ping (gateway and DNS servers), 0.2 s apart. */
export const PING_COUNT = 3;

export function timedOutPing(): PingOutcome {
  return { sent: PING_COUNT, received: 0, lossPercent: 100, rttAvgMs: null };
}

export function timedOutQuery(name: string, type: 'A' | 'AAAA'): DnsQueryReport {
  return {
    name,
    type,
    outcome: 'timeout',
    rcode: null,
    answers: [],
    rttMs: null,
    transport: 'udp',
    detail: 'check deadline reached',
  };
}

export function timedOutEndpoint(t: Pick<EndpointReport, 'host' | 'port' | 'protocol'>): EndpointReport {
  return {
    host: t.host,
    port: t.port,
    protocol: t.protocol,
    address: null,
    outcome: 'blocked',
    resolveMs: null,
    tcpConnectMs: null,
    error: { phase: 'connect', code: 'DEADLINE', message: 'the check deadline was reached first' },
  };
}
