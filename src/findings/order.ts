/**
 * The one ranking of findings and the one rule from findings and component statuses to the
 * verdict (CONTRACT.md 3): used by diagnosis, the module's merge of partial runs, the twin,
 * telemetry and the text output alike.
 */
import type { Finding } from '../report/types.js';
import {
  COMPONENTS,
  type ComponentName,
  type ComponentStatus,
  type OverallStatus,
  type Severity,
} from '../report/vocabulary.js';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

/** Most severe first. */
export function bySeverity(a: Pick<Finding, 'severity'>, b: Pick<Finding, 'severity'>): number {
  return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
}

/** Layer by layer in judging order, then most severe first: the order a report lists findings in. */
export function byComponentThenSeverity(a: Finding, b: Finding): number {
  return COMPONENTS.indexOf(a.component) - COMPONENTS.indexOf(b.component) || bySeverity(a, b);
}

/** A copy, most severe first (stable: equal severities keep their order). */
export function mostSevereFirst<T extends Pick<Finding, 'severity'>>(findings: readonly T[]): T[] {
  return [...findings].sort(bySeverity);
}

/** unhealthy if any error, degraded if any warning, else healthy. */
export function statusOf(findings: readonly Pick<Finding, 'severity'>[]): OverallStatus {
  if (findings.some((f) => f.severity === 'error')) return 'unhealthy';
  if (findings.some((f) => f.severity === 'warning')) return 'degraded';
  return 'healthy';
}

/** The first layer, in judging order, that is unhealthy. */
export function failingComponentOf(statuses: Readonly<Record<ComponentName, ComponentStatus>>): ComponentName | null {
  return COMPONENTS.find((c) => statuses[c] === 'unhealthy') ?? null;
}

export interface Verdict {
  status: OverallStatus;
  failingComponent: ComponentName | null;
  /** In report order (byComponentThenSeverity). */
  findings: Finding[];
}

/** The verdict of a set of findings and component statuses. */
export function summarize(
  statuses: Readonly<Record<ComponentName, ComponentStatus>>,
  findings: readonly Finding[],
): Verdict {
  const sorted = [...findings].sort(byComponentThenSeverity);
  return { status: statusOf(sorted), failingComponent: failingComponentOf(statuses), findings: sorted };
}
