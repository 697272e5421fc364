/**
 * Firewall-layer rules: port outcomes to findings, with protocol-aware severity
 * (CONTRACT.md 4.3): 443 always matters; 5671 matters for Amqp, 8883 for Mqtt; any other
 * closed hub port is a warning. Endpoints that did not resolve are the DNS layer's business.
 */
import { finding } from '../findings/finding.js';
import type { EndpointReport, Finding } from '../report/types.js';
import type { Severity, UpstreamProtocol } from '../report/vocabulary.js';
import { statusOf } from '../findings/order.js';
import type { Earlier, LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';

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
  const target = { host: e.host, port: e.port };
  const severity = portSeverity(e, upstream);
  const code = e.error?.code ?? 'unknown';
  switch (e.outcome) {
    case 'blocked':
      return finding('FW_PORT_BLOCKED', subject, { ...target, ms: timeoutMs }, severity);
    case 'rejected':
      return finding('FW_PORT_REJECTED', subject, { ...target, code }, severity);
    case 'unreachable':
      return finding('FW_HOST_UNREACHABLE', subject, { ...target, code }, severity);
    case 'tls-failed':
      return finding('FW_TLS_FAILED', subject, { ...target, detail: e.error?.message ?? code }, severity);
    case 'tls-untrusted': {
      const issuer = e.tls?.rootIssuer ?? e.tls?.issuer ?? 'an unknown issuer';
      return finding('FW_TLS_UNTRUSTED', subject, {
        ...target,
        issuer,
        error: e.tls?.authorizationError ?? 'not trusted',
      });
    }
    case 'open':
    case 'skipped':
    case 'unresolved': // judged by the DNS layer
      return null;
  }
}

/** `upstreamBlocked`: DNS is broken, so only endpoints that resolved anyway (hosts file, IP literal) can be judged. */
export function diagnoseFirewall(obs: Observations, upstreamBlocked: boolean): LayerVerdict {
  const fw = obs.firewall;
  if (!fw) return { findings: [], blocking: false };
  const judgeable = fw.endpoints.filter((e) => e.outcome !== 'unresolved' && e.outcome !== 'skipped');
  if (upstreamBlocked && !judgeable.some((e) => e.address !== null)) return { findings: [], blocking: false };
  const { upstreamProtocol, timeoutMs } = obs.config;
  const findings: Finding[] = fw.trustProblems.map((problem) => finding('FW_CA_FILE_INVALID', 'ca-file', { problem }));
  for (const e of judgeable) {
    const f = endpointFinding(e, upstreamProtocol, timeoutMs);
    if (f) findings.push(f);
  }

  // The upstream protocol's own port is closed but WebSockets over 443 work on the same host.
  const primary = PRIMARY_PORT[upstreamProtocol];
  for (const e of fw.endpoints) {
    if (primary === null || e.port !== primary || !CLOSED.has(e.outcome)) continue;
    const ws = fw.endpoints.find((o) => o.host === e.host && o.port === 443 && o.outcome === 'open');
    if (ws) {
      const args = { host: e.host, closedPort: e.port, protocol: upstreamProtocol };
      findings.push(finding('FW_PROTOCOL_FALLBACK', `${e.host}:${e.port}`, args));
    }
  }
  return { findings, blocking: false };
}

/**
 * The firewall layer in the pipeline. With DNS broken, only a real failure on an endpoint that did
 * resolve (hosts file, IP literal) counts; otherwise the layer is inconclusive because of DNS.
 */
export function judgeFirewall(obs: Observations, earlier: Earlier): LayerVerdict {
  const dnsBroken = earlier.dns?.blocking ?? false;
  const verdict = diagnoseFirewall(obs, dnsBroken);
  if (dnsBroken && statusOf(verdict.findings) !== 'unhealthy') {
    return { findings: verdict.findings.filter((f) => f.severity === 'info'), blocking: false, inconclusive: 'dns' };
  }
  return verdict;
}
