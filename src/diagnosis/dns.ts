/**
 * DNS-layer rules. A server "works" when at least one of our queries got a real DNS answer
 * (an address, NODATA or NXDOMAIN); a server failure is an error only when no server works,
 * because the resolver then falls back to the others.
 */
import type { DnsQueryReport, DnsServerReport, EndpointReport, Finding, InterfaceReport } from '../report/types.js';
import { dnsWords, type Words } from './guidance.js';
import { publicResolverProvider } from '../probes/public-resolvers.js';
import type { LayerVerdict } from './ip.js';
import { describePing } from './ip.js';
import type { Observations } from './observations.js';

function finding(code: string, severity: Finding['severity'], subject: string, words: Words): Finding {
  return { code, severity, component: 'dns', subject, ...words };
}

const RESPONDED = new Set<DnsQueryReport['outcome']>(['answered', 'nxdomain']);

export function serverWorks(s: DnsServerReport): boolean {
  return s.queries.some((q) => RESPONDED.has(q.outcome));
}

function pingAnswered(s: DnsServerReport): boolean {
  return !('error' in s.ping) && s.ping.received > 0;
}

/** The one failure code that best describes a server whose queries all failed. */
function classify(s: DnsServerReport): { code: string; words: Words } {
  const outcomes = s.queries.map((q) => q.outcome);
  const failedNames = s.queries.map((q) => q.name);
  if (outcomes.includes('refused'))
    return { code: 'DNS_SERVER_REFUSED', words: dnsWords.refused(s.address, [...new Set(failedNames)]) };
  const broken = s.queries.find((q) => q.outcome === 'servfail' || q.outcome === 'malformed');
  if (broken) {
    const detail =
      broken.outcome === 'servfail'
        ? `SERVFAIL for ${broken.name}`
        : `malformed answer for ${broken.name}${broken.detail ? ` (${broken.detail})` : ''}`;
    return { code: 'DNS_SERVER_FAILURE', words: dnsWords.failure(s.address, detail) };
  }
  // Port 53 refused (ICMP port unreachable) means the host is up but serves no DNS: not answering.
  const portRefused = s.queries.find((q) => q.outcome === 'error' && /ECONNREFUSED/.test(q.detail ?? ''));
  if (pingAnswered(s) || portRefused) {
    const detail = portRefused
      ? 'port 53 refused'
      : `${s.queries.length} ${s.queries.length === 1 ? 'query' : 'queries'} timed out`;
    return { code: 'DNS_SERVER_NOT_ANSWERING', words: dnsWords.notAnswering(s.address, detail) };
  }
  return { code: 'DNS_SERVER_UNREACHABLE', words: dnsWords.unreachable(s.address, describePing(s.ping)) };
}

function staticAddressing(interfaces: InterfaceReport[] | undefined): boolean {
  return interfaces?.[0]?.assignment === 'static';
}

/**
 * Endpoints the system resolver could not resolve although DNS works: a name that does not
 * exist, or a resolver path (hosts, nsswitch, resolved) that differs from the servers asked.
 */
/** Which advice fits a name that does not resolve: the configured hub, a public Azure name, or something else. */
function nameKind(name: string, hub: string | null): 'hub' | 'azure' | 'other' {
  if (hub && name === hub) return 'hub';
  return /(^|\.)(azure-devices-provisioning\.net|azurecr\.io|azure\.com|windows\.net)$/.test(name) ||
    name.endsWith('.azure-devices.net')
    ? 'azure'
    : 'other';
}

function endpointNameFindings(endpoints: EndpointReport[], askedNames: Set<string>, hub: string | null): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const e of endpoints) {
    if (e.outcome !== 'unresolved' || seen.has(e.host) || askedNames.has(e.host)) continue;
    seen.add(e.host);
    const code = e.error?.code ?? 'unknown';
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      out.push(
        finding(
          'DNS_NAME_NOT_FOUND',
          'error',
          e.host,
          dnsWords.nameNotFound(e.host, ['the system resolver'], nameKind(e.host, hub)),
        ),
      );
    } else {
      out.push(finding('DNS_SYSTEM_RESOLVER_FAILED', 'error', e.host, dnsWords.systemResolverFailed(e.host, code)));
    }
  }
  return out;
}

export function diagnoseDns(obs: Observations): LayerVerdict {
  const dns = obs.dns;
  if (!dns) return { findings: [], blocking: false };
  const findings: Finding[] = [];
  const { resolvers, servers } = dns;

  if (servers.length === 0) {
    findings.push(
      finding(
        'DNS_NO_SERVERS',
        'error',
        resolvers.files[0] ?? 'resolv.conf',
        dnsWords.noServers(resolvers.stub, resolvers.files, staticAddressing(obs.ip?.interfaces)),
      ),
    );
    return { findings, blocking: true };
  }

  const working = servers.filter(serverWorks);
  const severity = working.length === 0 ? 'error' : 'warning';
  for (const s of servers) {
    const works = serverWorks(s);
    if (!works) {
      const { code, words } = classify(s);
      findings.push(finding(code, severity, s.address, words));
    }
    if (s.public)
      findings.push(
        finding(
          'DNS_PUBLIC_SERVER',
          works ? 'info' : 'warning',
          s.address,
          dnsWords.publicServer(s.address, publicResolverProvider(s.address) ?? 'well known', !works),
        ),
      );
  }

  // A name that must resolve but that a working server says does not exist.
  for (const name of dns.names) {
    const saidNx = working.filter((s) => s.queries.some((q) => q.name === name && q.outcome === 'nxdomain'));
    const answered = working.some((s) => s.queries.some((q) => q.name === name && q.outcome === 'answered'));
    if (saidNx.length > 0) {
      // When another server does know the name, the resolver may still get lucky: a warning.
      findings.push(
        finding(
          'DNS_NAME_NOT_FOUND',
          answered ? 'warning' : 'error',
          name,
          dnsWords.nameNotFound(
            name,
            saidNx.map((s) => s.address),
            nameKind(name, obs.config.hub),
          ),
        ),
      );
    }
  }

  if (working.length > 0 && obs.firewall) {
    findings.push(...endpointNameFindings(obs.firewall.endpoints, new Set(dns.names), obs.config.hub));
  }

  const hubUnknownEverywhere = findings.some((f) => f.code === 'DNS_NAME_NOT_FOUND' && f.severity === 'error');
  return { findings, blocking: working.length === 0 || hubUnknownEverywhere };
}
