/**
 * Turns observations into findings and statuses, root cause first: the layers are judged in
 * COMPONENTS order, each by its own rules (LAYERS), each looking only at earlier layers. A layer
 * that cannot work because an earlier one failed is `inconclusive`, contributes no findings of its
 * own but informational ones, and says why (`inconclusiveBecause`), so no renderer has to guess.
 */
import { statusOf, summarize } from '../findings/order.js';
import type { Finding } from '../report/types.js';
import { COMPONENTS, type ComponentName, type ComponentStatus, type OverallStatus } from '../report/vocabulary.js';
import { diagnoseClock } from './clock.js';
import { diagnoseDns } from './dns.js';
import { judgeFirewall } from './firewall.js';
import { diagnoseIp } from './ip.js';
import type { Earlier, InconclusiveReason, LayerRule, LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';
import { diagnoseProxy } from './proxy.js';

export type { InconclusiveReason };

export interface Diagnosis {
  status: OverallStatus;
  failingComponent: ComponentName | null;
  components: Record<ComponentName, ComponentStatus>;
  inconclusiveBecause: Partial<Record<ComponentName, InconclusiveReason>>;
  findings: Finding[];
}

/** Every layer's rules, in judging order. */
export const LAYERS: Record<ComponentName, LayerRule> = {
  ip: { component: 'ip', needs: [], examined: (o) => o.ip !== null, judge: (o) => diagnoseIp(o) },
  dns: { component: 'dns', needs: ['ip'], examined: (o) => o.dns !== null, judge: diagnoseDns },
  proxy: { component: 'proxy', needs: ['ip'], examined: (o) => o.proxy !== null, judge: diagnoseProxy },
  firewall: { component: 'firewall', needs: ['ip'], examined: (o) => o.firewall !== null, judge: judgeFirewall },
  clock: { component: 'clock', needs: ['ip'], examined: (o) => o.clock !== null, judge: diagnoseClock },
};

export function diagnose(obs: Observations): Diagnosis {
  const components = {} as Record<ComponentName, ComponentStatus>;
  const because: Diagnosis['inconclusiveBecause'] = {};
  const earlier: Earlier = {};
  const findings: Finding[] = [];
  for (const name of COMPONENTS) {
    const rule = LAYERS[name];
    if (!rule.examined(obs)) {
      components[name] = 'skipped';
      continue;
    }
    const blockedBy = rule.needs.find((n) => earlier[n]?.blocking);
    const verdict: LayerVerdict = blockedBy
      ? { findings: [], blocking: false, inconclusive: blockedBy }
      : rule.judge(obs, earlier);
    const status: ComponentStatus = verdict.inconclusive
      ? 'inconclusive'
      : verdict.skipped
        ? 'skipped'
        : statusOf(verdict.findings);
    if (verdict.inconclusive) because[name] = verdict.inconclusive;
    components[name] = status;
    const kept =
      status === 'inconclusive' || status === 'skipped'
        ? verdict.findings.filter((f) => f.severity === 'info')
        : verdict.findings;
    earlier[name] = { status, blocking: verdict.blocking, findings: kept };
    findings.push(...kept);
  }
  return { ...summarize(components, findings), components, inconclusiveBecause: because };
}
