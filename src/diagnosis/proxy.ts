/** Proxy-layer rules (CONTRACT.md 7.1). */
import type { Earlier, LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';

export function diagnoseProxy(obs: Observations, _earlier: Earlier): LayerVerdict {
  if (!obs.proxy) return { findings: [], blocking: false };
  return { findings: [], blocking: false };
}
