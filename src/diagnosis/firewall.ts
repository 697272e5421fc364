/**
 * Firewall-layer rules: endpoint outcomes to findings, with the severity of each endpoint's port
 * and role (endpoints.ts), the TLS failures split by cause (CONTRACT 7.3) and the application
 * exchanges (7.2). Endpoints that did not resolve are the DNS layer's business, a CONNECT the
 * proxy refused is the proxy layer's, and a certificate date error explained by the clock is the
 * clock layer's.
 */
import { finding } from '../findings/finding.js';
import { statusOf } from '../findings/order.js';
import type { EndpointReport, Finding } from '../report/types.js';
import { clockExplains, hasDateError } from './certificate-dates.js';
import { PRIMARY_PORT, endpointContext, endpointSeverity, proxyInUse, tlsSeverity } from './endpoints.js';
import { ipExplainsAddress, ipExplainsTlsStall } from './ip-explains.js';
import type { Earlier, LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';

export { PRIMARY_PORT };

/** Issuers of the chains Azure really serves (IoT Hub, DPS, MCR): a missing root, not an interception. */
const GENUINE_ISSUER = /\b(Microsoft|DigiCert|Baltimore)\b/i;

/** TLS handshake ends that say "reset" rather than "stalled" (A13). */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_SSL_WRONG_VERSION_NUMBER']);

const CLOSED = new Set<EndpointReport['outcome']>([
  'blocked',
  'rejected',
  'unreachable',
  'tls-failed',
  'protocol-blocked',
]);

function untrustedFinding(e: EndpointReport, obs: Observations): Finding | null {
  const subject = `${e.host}:${e.port}`;
  const target = { host: e.host, port: e.port };
  const tls = e.tls;
  const code = tls?.authorizationError ?? e.error?.code ?? 'UNKNOWN';
  const severity = tlsSeverity(e, obs);
  if (hasDateError(e)) {
    if (clockExplains(e, obs.clock)) return null; // the clock layer's
    const expiredAt = code === 'CERT_HAS_EXPIRED' ? (tls?.validTo ?? 'an unknown date') : null;
    const issuer = tls?.issuer ?? 'an unnamed issuer';
    const error = code === 'CERT_NOT_YET_VALID' ? `not valid before ${tls?.validFrom ?? '?'} (${code})` : code;
    return finding('FW_TLS_UNTRUSTED', subject, { ...target, issuer, error, expiredAt, parent: false }, severity);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return finding(
      'FW_TLS_NAME_MISMATCH',
      subject,
      { ...target, address: e.address, names: tls?.altNames ?? [] },
      severity,
    );
  }
  const root = tls?.rootIssuer ?? tls?.issuer ?? null;
  const genuine = tls?.publicRootsVerify === true || [root, tls?.issuer].some((n) => n && GENUINE_ISSUER.test(n));
  if (genuine && root !== null) {
    const args = {
      ...target,
      root,
      store: obs.firewall?.trustStore ?? null,
      publicRootsVerify: tls?.publicRootsVerify ?? null,
    };
    return finding('FW_TLS_ROOT_MISSING', subject, args, severity);
  }
  return finding(
    'FW_TLS_UNTRUSTED',
    subject,
    { ...target, issuer: root ?? 'an unknown issuer', error: code, expiredAt: null, parent: e.role === 'parent' },
    severity,
  );
}

function endpointFinding(e: EndpointReport, obs: Observations, earlier: Earlier): Finding | null {
  const subject = `${e.host}:${e.port}`;
  const target = { host: e.host, port: e.port };
  // Root cause first: an address the IP layer already explains (routed into a container bridge, or out
  // by a dead default route) adds no error of its own here.
  const severity = ipExplainsAddress(obs, earlier, e.address) ? 'info' : endpointSeverity(e, obs);
  const context = endpointContext(e, obs);
  const code = e.error?.code ?? 'unknown';
  switch (e.outcome) {
    case 'blocked':
      return finding('FW_PORT_BLOCKED', subject, { ...target, ms: obs.config.timeoutMs, context }, severity);
    case 'rejected':
      return finding('FW_PORT_REJECTED', subject, { ...target, code, context }, severity);
    case 'unreachable':
      return finding('FW_HOST_UNREACHABLE', subject, { ...target, code, context }, severity);
    case 'tls-failed': {
      // A handshake that stalls after TCP connected (ETIMEDOUT) is told apart from one reset (A13).
      const cause = code === 'ETIMEDOUT' ? 'timeout' : RESET_CODES.has(code) ? 'reset' : 'other';
      const explained = ipExplainsTlsStall(earlier, e) !== null;
      const args = { ...target, detail: e.error?.message ?? code, cause, explained } as const;
      return finding('FW_TLS_FAILED', subject, args, explained ? 'info' : severity);
    }
    case 'tls-untrusted':
      return untrustedFinding(e, obs);
    case 'protocol-blocked': {
      const app = e.application;
      const args = { ...target, exchange: app?.exchange ?? 'application', detail: app?.detail ?? 'no answer' };
      return finding('FW_PROTOCOL_BLOCKED', subject, args, severity);
    }
    case 'open':
    case 'skipped':
    case 'proxy-failed': // judged by the proxy layer
    case 'unresolved': // judged by the DNS layer
      return null;
  }
}

/** `upstreamBlocked`: DNS is broken, so only endpoints that resolved anyway (hosts file, IP literal) can be judged. */
export function diagnoseFirewall(obs: Observations, upstreamBlocked: boolean, earlier: Earlier = {}): LayerVerdict {
  const fw = obs.firewall;
  if (!fw) return { findings: [], blocking: false };
  const judgeable = fw.endpoints.filter((e) => e.outcome !== 'unresolved' && e.outcome !== 'skipped');
  if (upstreamBlocked && !judgeable.some((e) => e.address !== null)) return { findings: [], blocking: false };
  const { upstreamProtocol } = obs.config;
  const findings: Finding[] = fw.trustProblems.map((problem) => finding('FW_CA_FILE_INVALID', 'ca-file', { problem }));
  for (const e of judgeable) {
    const f = endpointFinding(e, obs, earlier);
    if (f) findings.push(f);
  }

  // The upstream protocol's own port is closed but WebSockets over 443 work on the same host: only
  // for the hub (or the parent), never DPS (provisioned over HTTPS alone), and not behind a proxy,
  // where PROXY_PROTOCOL_MISMATCH says it.
  const primary = PRIMARY_PORT[upstreamProtocol];
  if (primary !== null && !proxyInUse(obs)) {
    for (const e of fw.endpoints) {
      const upstream = (e.role ?? 'hub') === 'hub' || e.role === 'parent';
      if (!upstream || e.port !== primary || !CLOSED.has(e.outcome) || endpointSeverity(e, obs) === 'info') continue;
      const ws = fw.endpoints.find((o) => o.host === e.host && o.port === 443 && o.outcome === 'open');
      if (ws) {
        const args = { host: e.host, closedPort: e.port, protocol: upstreamProtocol };
        findings.push(finding('FW_PROTOCOL_FALLBACK', `${e.host}:${e.port}`, args));
      }
    }
  }
  return { findings, blocking: false };
}

/**
 * The firewall layer in the pipeline. With DNS broken, only a real failure on an endpoint that did
 * resolve (hosts file, IP literal) counts; otherwise the layer is inconclusive because of DNS. With
 * the proxy broken (unreachable, refusing credentials, an unusable URL), the path IoT Edge takes
 * cannot be judged at all: inconclusive because of the proxy (direct ports are only for the record).
 */
export function judgeFirewall(obs: Observations, earlier: Earlier): LayerVerdict {
  const dnsBroken = earlier.dns?.blocking ?? false;
  const verdict = diagnoseFirewall(obs, dnsBroken, earlier);
  const unhealthy = statusOf(verdict.findings) === 'unhealthy';
  const infoOnly = verdict.findings.filter((f) => f.severity === 'info');
  if (dnsBroken && !unhealthy) return { findings: infoOnly, blocking: false, inconclusive: 'dns' };
  if (earlier.proxy?.blocking ?? false) return { findings: infoOnly, blocking: false, inconclusive: 'proxy' };
  return verdict;
}
