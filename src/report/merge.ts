/**
 * A runDiagnostics call may examine only some layers. The twin and getLastReport describe the
 * device, not the call, so layers the call skipped keep their last known result (with its
 * findings), and the merged report says where each carried-over layer came from.
 */
import { statusOf } from '../diagnosis/diagnose.js';
import { COMPONENTS, type ComponentName, type Report } from './types.js';

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export function mergeSkipped(partial: Report, previous: Report | null): Report {
  if (!previous) return partial;
  const carry = COMPONENTS.filter(
    (c) => partial.components[c].status === 'skipped' && previous.components[c].status !== 'skipped',
  );
  if (carry.length === 0) return partial;
  const components = { ...partial.components } as Record<ComponentName, unknown>;
  for (const c of carry) components[c] = previous.components[c];
  const merged = components as Report['components'];
  const findings = [...partial.findings, ...previous.findings.filter((f) => carry.includes(f.component))].sort(
    (a, b) =>
      COMPONENTS.indexOf(a.component) - COMPONENTS.indexOf(b.component) ||
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
  const earlier = new Map((previous.carriedOver ?? []).map((o) => [o.component, o]));
  return {
    ...partial,
    components: merged,
    findings,
    status: statusOf(findings),
    failingComponent: COMPONENTS.find((c) => merged[c].status === 'unhealthy') ?? null,
    carriedOver: carry.map(
      (c) => earlier.get(c) ?? { component: c, checkId: previous.checkId, startedAt: previous.startedAt },
    ),
  };
}
