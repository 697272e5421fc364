import type { Finding } from '../report/types.js';

/** What one layer's rules concluded. */
export interface LayerVerdict {
  findings: Finding[];
  /** The layers after this one cannot work because of it: they become inconclusive. */
  blocking: boolean;
  /** Nothing could be judged (the evidence never arrived). */
  inconclusive?: boolean;
}
