/** Clock-layer rules (CONTRACT.md 7.4). */
import type { Earlier, LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';

export function diagnoseClock(obs: Observations, _earlier: Earlier): LayerVerdict {
  if (!obs.clock) return { findings: [], blocking: false };
  return { findings: [], blocking: false };
}
