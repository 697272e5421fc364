/**
 * DNS-layer rules. A server "works" when at least one of our queries got a real DNS answer
 * (an address, NODATA or NXDOMAIN); a server failure is an error only when no server works,
 * because the resolver then falls back to the others.
 */
import type { NameKind } from '../findings/dns.js';
import { finding } from '../findings/finding.js';
import type { DnsServerReport, EndpointReport, Finding, InterfaceReport } from '../report/types.js';
import type { Severity } from '../report/vocabulary.js';
import { containerFindings } from './dns-containers.js';
import { failureOf, serverWorks } from './dns-servers.js';
import { PRIMARY_PORT, endpointSeverity, proxyInUse } from './endpoints.js';
import { ipExplainsAddress } from './ip-explains.js';
import type { Earlier, LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';

export { serverWorks };

/** The one failure finding that best describes a server whose queries all failed. */
export function serverFailure(s: DnsServerReport, severity: Severity, fallbackName: string): Finding {
  const server = s.address;
  const { kind, detail, names } = failureOf(s);
  const name = names[0] ?? fallbackName;
  switch (kind) {
    case 'refused':
      return finding('DNS_SERVER_REFUSED', server, { server, names: names.length ? names : [name] }, severity);
    case 'failure':
      return finding('DNS_SERVER_FAILURE', server, { server, detail, name }, severity);
    case 'not-answering':
      return finding('DNS_SERVER_NOT_ANSWERING', server, { server, detail, name }, severity);
    case 'unreachable':
      return finding('DNS_SERVER_UNREACHABLE', server, { server, ping: detail.replace(/^ping /, ''), name }, severity);
  }
}

function staticAddressing(interfaces: InterfaceReport[] | undefined): boolean {
  return interfaces?.[0]?.assignment === 'static';
}

/** Which advice fits a name that does not resolve: the configured hub, a public Azure name, or something else. */
function nameKind(name: string, hub: string | null): NameKind {
  if (hub && name === hub) return 'hub';
  return /(^|\.)(azure-devices-provisioning\.net|azurecr\.io|azure\.com|windows\.net|microsoft\.com)$/.test(name) ||
    name.endsWith('.azure-devices.net')
    ? 'azure'
    : 'other';
}

/**
 * Endpoints the system resolver could not resolve although DNS works: a name that does not
 * exist, or a resolver path (hosts, nsswitch, resolved) that differs from the servers asked.
 */
function endpointNameFindings(obs: Observations, endpoints: EndpointReport[], askedNames: Set<string>): Finding[] {
  const hub = obs.config.hub;
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const e of endpoints) {
    if (e.outcome !== 'unresolved' || seen.has(e.host) || askedNames.has(e.host)) continue;
    seen.add(e.host);
    // As much as the endpoint matters (endpoints.ts): a registry's name a warning, a name a nested
    // layer or a proxied path does not need only for the record.
    const severity = endpointSeverity(e, obs) === 'info' ? 'info' : e.role === 'registry' ? 'warning' : 'error';
    const code = e.error?.code ?? 'unknown';
    out.push(
      code === 'ENOTFOUND' || code === 'ENODATA'
        ? finding(
            'DNS_NAME_NOT_FOUND',
            e.host,
            { name: e.host, servers: ['the system resolver'], kind: nameKind(e.host, hub) },
            severity,
          )
        : finding('DNS_SYSTEM_RESOLVER_FAILED', e.host, { host: e.host, code }, severity),
    );
  }
  return out;
}

export function diagnoseDns(obs: Observations, earlier: Earlier = {}): LayerVerdict {
  const dns = obs.dns;
  if (!dns) return { findings: [], blocking: false };
  const findings: Finding[] = [];
  const { resolvers, servers } = dns;
  const firstName = dns.names[0] ?? obs.config.hub ?? '<name>';

  if (servers.length === 0) {
    const staticIp = staticAddressing(obs.ip?.interfaces);
    const subject = resolvers.files[0] ?? 'resolv.conf';
    const args = { stub: resolvers.stub, files: resolvers.files, staticIp, switchType: obs.config.switchType };
    findings.push(finding('DNS_NO_SERVERS', subject, args));
    return { findings: [...findings, ...containerFindings(obs, false)], blocking: true };
  }

  const working = servers.filter(serverWorks);
  const severity = working.length === 0 ? 'error' : 'warning';
  // A server the IP layer already explains (routed into a container bridge, behind a dead default
  // route) gets no finding of its own here: root cause first.
  const explained = servers.filter((s) => !serverWorks(s) && ipExplainsAddress(obs, earlier, s.address) !== null);
  if (working.length === 0 && explained.length === servers.length) {
    return { findings: [], blocking: true, inconclusive: 'ip' };
  }
  for (const s of servers) {
    const works = serverWorks(s);
    if (!works && !explained.includes(s)) findings.push(serverFailure(s, severity, firstName));
    if (s.public) {
      const args = { server: s.address, provider: s.provider ?? 'well known', failing: !works, name: firstName };
      findings.push(finding('DNS_PUBLIC_SERVER', s.address, args, works ? 'info' : 'warning'));
    }
  }

  // A name that must resolve but that a working server says does not exist. Behind a proxy with a
  // WebSocket protocol the VM need not resolve Azure's names (the proxy does): only for the record.
  const proxied = proxyInUse(obs) && PRIMARY_PORT[obs.config.upstreamProtocol] === null;
  for (const name of dns.names) {
    const saidNx = working.filter((s) => s.queries.some((q) => q.name === name && q.outcome === 'nxdomain'));
    const answered = working.some((s) => s.queries.some((q) => q.name === name && q.outcome === 'answered'));
    if (saidNx.length > 0) {
      // When another server does know the name, the resolver may still get lucky: a warning.
      const args = { name, servers: saidNx.map((s) => s.address), kind: nameKind(name, obs.config.hub) };
      findings.push(finding('DNS_NAME_NOT_FOUND', name, args, proxied ? 'info' : answered ? 'warning' : 'error'));
    }
  }

  if (working.length > 0 && obs.firewall) {
    findings.push(...endpointNameFindings(obs, obs.firewall.endpoints, new Set(dns.names)));
  }
  findings.push(...containerFindings(obs, working.length > 0));

  const hubUnknownEverywhere = findings.some((f) => f.code === 'DNS_NAME_NOT_FOUND' && f.severity === 'error');
  return { findings, blocking: working.length === 0 || hubUnknownEverywhere };
}
