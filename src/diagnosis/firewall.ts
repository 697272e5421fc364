/**
 * Firewall-layer rules: port outcomes to findings, with protocol-aware severity
 * (CONTRACT.md 4.3): 443 always matters; 5671 matters for Amqp, 8883 for Mqtt; any other
 * closed hub port is a warning. Endpoints that did not resolve are the DNS layer's business.
 */
import type { EndpointReport, Finding, Severity, UpstreamProtocol } from '../report/types.js';
import { fwWords, type Words } from './guidance.js';
import type { LayerVerdict } from './ip.js';
import type { Observations } from './observations.js';

function finding(code: string, severity: Severity, subject: string, words: Words): Finding {
  return { code, severity, component: 'firewall', subject, ...words };
}

/** The port each upstream protocol needs besides 443. */
const PRIMARY_PORT: Record<UpstreamProtocol, number | null> = { Amqp: 5671, Mqtt: 8883, AmqpWs: null, MqttWs: null };

export function portSeverity(
  e: Pick<EndpointReport, 'port' | 'protocol' | 'role'>,
  upstream: UpstreamProtocol,
): Severity {
  if (e.role === 'extra' || e.protocol === 'custom') return 'error'; // the operator asked for this endpoint explicitly
  if (e.port === 443) return 'error';
  return PRIMARY_PORT[upstream] === e.port ? 'error' : 'warning';
}

const CLOSED = new Set<EndpointReport['outcome']>(['blocked', 'rejected', 'unreachable', 'tls-failed']);

function endpointFinding(e: EndpointReport, upstream: UpstreamProtocol, timeoutMs: number): Finding | null {
  const subject = `${e.host}:${e.port}`;
  const sev = portSeverity(e, upstream);
  const code = e.error?.code ?? 'unknown';
  switch (e.outcome) {
    case 'blocked':
      return finding('FW_PORT_BLOCKED', sev, subject, fwWords.blocked(e.host, e.port, timeoutMs));
    case 'rejected':
      return finding('FW_PORT_REJECTED', sev, subject, fwWords.rejected(e.host, e.port, code));
    case 'unreachable':
      return finding('FW_HOST_UNREACHABLE', sev, subject, fwWords.unreachable(e.host, e.port, code));
    case 'tls-failed':
      return finding('FW_TLS_FAILED', sev, subject, fwWords.tlsFailed(e.host, e.port, e.error?.message ?? code));
    case 'tls-untrusted': {
      const issuer = e.tls?.rootIssuer ?? e.tls?.issuer ?? 'an unknown issuer';
      return finding(
        'FW_TLS_UNTRUSTED',
        'error',
        subject,
        fwWords.untrusted(e.host, e.port, issuer, e.tls?.authorizationError ?? 'not trusted'),
      );
    }
    default:
      return null; // open, skipped, unresolved (judged by the DNS layer)
  }
}

export function diagnoseFirewall(obs: Observations, upstreamBlocked: boolean): LayerVerdict & { judged: number } {
  const fw = obs.firewall;
  if (!fw) return { findings: [], blocking: false, judged: 0 };
  if (
    upstreamBlocked &&
    !fw.endpoints.some((e) => e.outcome !== 'unresolved' && e.outcome !== 'skipped' && e.address !== null)
  ) {
    return { findings: [], blocking: false, judged: 0 };
  }
  const { upstreamProtocol, timeoutMs } = obs.config;
  const findings: Finding[] = fw.trustProblems.map((p) =>
    finding('FW_CA_FILE_INVALID', 'warning', 'ca-file', fwWords.caFileProblem(p)),
  );
  let judged = 0;
  for (const e of fw.endpoints) {
    if (e.outcome === 'unresolved' || e.outcome === 'skipped') continue;
    judged++;
    const f = endpointFinding(e, upstreamProtocol, timeoutMs);
    if (f) findings.push(f);
  }

  // The upstream protocol's own port is closed but WebSockets over 443 work on the same host.
  const primary = PRIMARY_PORT[upstreamProtocol];
  if (primary !== null) {
    for (const e of fw.endpoints) {
      if (e.port !== primary || !CLOSED.has(e.outcome)) continue;
      const ws = fw.endpoints.find((o) => o.host === e.host && o.port === 443 && o.outcome === 'open');
      if (ws)
        findings.push(
          finding(
            'FW_PROTOCOL_FALLBACK',
            'warning',
            `${e.host}:${e.port}`,
            fwWords.fallback(e.host, e.port, upstreamProtocol),
          ),
        );
    }
  }
  return { findings, blocking: false, judged };
}
