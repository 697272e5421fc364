import type { Finding } from '../report/types.js';
import type { ComponentName, ComponentStatus } from '../report/vocabulary.js';
import type { Observations } from './observations.js';

/**
 * Why a layer is inconclusive: an earlier layer is broken, its evidence did not arrive in time
 * (`deadline`), or there was nothing it could measure (`unmeasured`: the clock with no HTTPS answer
 * and no word from a time service).
 */
export type InconclusiveReason = ComponentName | 'deadline' | 'unmeasured';

/** What one layer's rules concluded. */
export interface LayerVerdict {
  findings: Finding[];
  /** The layers after this one cannot work because of it: they become inconclusive. */
  blocking: boolean;
  /** The layer could not be judged, and why; its findings are then only informational. */
  inconclusive?: InconclusiveReason;
  /** The layer has nothing to judge (no proxy configured): `skipped`, its findings only informational. */
  skipped?: boolean;
}

/** What the earlier layers concluded, for a rule that depends on them (root cause first). */
export type Earlier = Partial<
  Record<ComponentName, { status: ComponentStatus; blocking: boolean; findings: readonly Finding[] }>
>;

/** One layer's rules: judged in COMPONENTS order, looking only at earlier layers. */
export interface LayerRule {
  component: ComponentName;
  /** Earlier layers without which this one cannot be judged at all (it is then inconclusive, silent). */
  needs: readonly ComponentName[];
  /** Whether the check examined this layer (else it is `skipped`). */
  examined(obs: Observations): boolean;
  judge(obs: Observations, earlier: Earlier): LayerVerdict;
}
