/**
 * Turns observations into findings and statuses, root cause first: a layer that cannot work
 * because an earlier one failed is `inconclusive` and contributes no findings of its own.
 */
import type { ComponentName, ComponentStatus, Finding, OverallStatus, Severity } from '../report/types.js';
import { COMPONENTS } from '../report/types.js';
import { diagnoseDns } from './dns.js';
import { diagnoseFirewall } from './firewall.js';
import { diagnoseIp } from './ip.js';
import type { Observations } from './observations.js';

export interface Diagnosis {
  status: OverallStatus;
  failingComponent: ComponentName | null;
  components: Record<ComponentName, ComponentStatus>;
  findings: Finding[];
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function statusOf(findings: Finding[]): OverallStatus {
  if (findings.some((f) => f.severity === 'error')) return 'unhealthy';
  if (findings.some((f) => f.severity === 'warning')) return 'degraded';
  return 'healthy';
}

export function diagnose(obs: Observations): Diagnosis {
  const ip = diagnoseIp(obs);
  const dns = diagnoseDns(obs);
  const ipStatus: ComponentStatus = obs.ip ? (ip.inconclusive ? 'inconclusive' : statusOf(ip.findings)) : 'skipped';

  let dnsStatus: ComponentStatus = 'skipped';
  let dnsFindings: Finding[] = [];
  if (obs.dns) {
    if (ip.blocking) dnsStatus = 'inconclusive';
    else {
      dnsFindings = dns.findings;
      dnsStatus = statusOf(dnsFindings);
    }
  }

  let fwStatus: ComponentStatus = 'skipped';
  let fwFindings: Finding[] = [];
  if (obs.firewall) {
    if (ip.blocking) fwStatus = 'inconclusive';
    else {
      const dnsBroken = obs.dns !== null && dns.blocking;
      const fw = diagnoseFirewall(obs, dnsBroken);
      fwFindings = fw.findings;
      const judgedStatus = statusOf(fwFindings);
      // With DNS broken, only a real failure on an endpoint that did resolve (hosts file, IP literal) counts.
      fwStatus = dnsBroken && judgedStatus !== 'unhealthy' ? 'inconclusive' : judgedStatus;
      if (fwStatus === 'inconclusive') fwFindings = fwFindings.filter((f) => f.severity === 'info');
    }
  }

  const components: Record<ComponentName, ComponentStatus> = { ip: ipStatus, dns: dnsStatus, firewall: fwStatus };
  const findings = [...ip.findings, ...dnsFindings, ...fwFindings].sort(
    (a, b) =>
      COMPONENTS.indexOf(a.component) - COMPONENTS.indexOf(b.component) ||
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
  return {
    status: statusOf(findings),
    failingComponent: COMPONENTS.find((c) => components[c] === 'unhealthy') ?? null,
    components,
    findings,
  };
}
