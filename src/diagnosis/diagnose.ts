/**
 * Turns observations into findings and statuses, root cause first: a layer that cannot work
 * because an earlier one failed is `inconclusive` and contributes no findings of its own, and
 * it says why (`inconclusiveBecause`), so no renderer has to guess.
 */
import { statusOf, summarize } from '../findings/order.js';
import type { Finding } from '../report/types.js';
import type { ComponentName, ComponentStatus, OverallStatus } from '../report/vocabulary.js';
import { diagnoseDns } from './dns.js';
import { diagnoseFirewall } from './firewall.js';
import { diagnoseIp } from './ip.js';
import type { Observations } from './observations.js';

/** Why a layer is inconclusive: an earlier layer is broken, or its evidence did not arrive in time. */
export type InconclusiveReason = ComponentName | 'deadline';

export interface Diagnosis {
  status: OverallStatus;
  failingComponent: ComponentName | null;
  components: Record<ComponentName, ComponentStatus>;
  inconclusiveBecause: Partial<Record<ComponentName, InconclusiveReason>>;
  findings: Finding[];
}

export function diagnose(obs: Observations): Diagnosis {
  const because: Diagnosis['inconclusiveBecause'] = {};
  const ip = diagnoseIp(obs);
  const dns = diagnoseDns(obs);
  let ipStatus: ComponentStatus = 'skipped';
  if (obs.ip) {
    ipStatus = ip.inconclusive ? 'inconclusive' : statusOf(ip.findings);
    if (ip.inconclusive) because.ip = 'deadline';
  }

  let dnsStatus: ComponentStatus = 'skipped';
  let dnsFindings: Finding[] = [];
  if (obs.dns) {
    if (ip.blocking) {
      dnsStatus = 'inconclusive';
      because.dns = 'ip';
    } else {
      dnsFindings = dns.findings;
      dnsStatus = statusOf(dnsFindings);
    }
  }

  let fwStatus: ComponentStatus = 'skipped';
  let fwFindings: Finding[] = [];
  if (obs.firewall) {
    if (ip.blocking) {
      fwStatus = 'inconclusive';
      because.firewall = 'ip';
    } else {
      const dnsBroken = obs.dns !== null && dns.blocking;
      fwFindings = diagnoseFirewall(obs, dnsBroken).findings;
      const judgedStatus = statusOf(fwFindings);
      // With DNS broken, only a real failure on an endpoint that did resolve (hosts file, IP literal) counts.
      if (dnsBroken && judgedStatus !== 'unhealthy') {
        fwStatus = 'inconclusive';
        because.firewall = 'dns';
        fwFindings = fwFindings.filter((f) => f.severity === 'info');
      } else {
        fwStatus = judgedStatus;
      }
    }
  }

  const components: Record<ComponentName, ComponentStatus> = { ip: ipStatus, dns: dnsStatus, firewall: fwStatus };
  const verdict = summarize(components, [...ip.findings, ...dnsFindings, ...fwFindings]);
  return { ...verdict, components, inconclusiveBecause: because };
}
