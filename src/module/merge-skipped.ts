/**
 * A runDiagnostics call may examine only some layers. The twin and getLastReport describe the
 * device, not the call, so layers the call skipped keep their last known result (with its
 * findings), and the merged report says where each carried-over layer came from. The verdict is
 * judged again by the one rule every report uses (findings/order.ts summarize).
 */
import { summarize } from '../findings/order.js';
import type { Report } from '../report/types.js';
import { COMPONENTS, type ComponentName, type ComponentStatus } from '../report/vocabulary.js';

export function mergeSkipped(partial: Report, previous: Report | null): Report {
  if (!previous) return partial;
  const carry = COMPONENTS.filter(
    (c) => partial.components[c].status === 'skipped' && previous.components[c].status !== 'skipped',
  );
  if (carry.length === 0) return partial;
  const components = { ...partial.components } as Record<ComponentName, unknown>;
  for (const c of carry) components[c] = previous.components[c];
  const merged = components as Report['components'];
  const statuses = Object.fromEntries(COMPONENTS.map((c) => [c, merged[c].status])) as Record<
    ComponentName,
    ComponentStatus
  >;
  const verdict = summarize(statuses, [
    ...partial.findings,
    ...previous.findings.filter((f) => carry.includes(f.component)),
  ]);
  const earlier = new Map((previous.carriedOver ?? []).map((o) => [o.component, o]));
  return {
    ...partial,
    components: merged,
    ...verdict,
    carriedOver: carry.map(
      (c) => earlier.get(c) ?? { component: c, checkId: previous.checkId, startedAt: previous.startedAt },
    ),
  };
}
