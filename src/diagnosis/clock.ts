/**
 * Clock-layer rules (CONTRACT.md 7.4): the offset from the Date of an HTTPS answer (30 s a
 * warning, 300 s an error: IoT Hub's skew tolerance), a certificate "not yet valid" or "expired"
 * by the VM's clock when the offset explains it or none was measured (an error: nothing
 * authenticates), and what the time service says (a warning when it says "not synchronised").
 * With neither an answer nor a word from a time service, the clock is inconclusive, naming the
 * earlier layer that kept the answers away when there is one.
 */
import { CLOCK_ERROR_MS, CLOCK_WARNING_MS } from '../findings/clock.js';
import { finding } from '../findings/finding.js';
import type { Finding } from '../report/types.js';
import type { Severity } from '../report/vocabulary.js';
import { clockExplains, describeDateError } from './certificate-dates.js';
import type { Earlier, InconclusiveReason, LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';

export function skewSeverity(offsetMs: number | null, certificateErrors: number): Severity | null {
  if (certificateErrors > 0) return 'error';
  if (offsetMs === null) return null;
  const size = Math.abs(offsetMs);
  if (size >= CLOCK_ERROR_MS) return 'error';
  if (size >= CLOCK_WARNING_MS) return 'warning';
  return null;
}

/** The earlier layer that kept every HTTPS answer away, root cause first, if one did. */
function blamed(earlier: Earlier): InconclusiveReason {
  if (earlier.dns?.blocking) return 'dns';
  if (earlier.proxy?.blocking || earlier.proxy?.status === 'unhealthy') return 'proxy';
  const fw = earlier.firewall?.status;
  if (fw === 'unhealthy' || fw === 'inconclusive') return 'firewall';
  return 'unmeasured';
}

export function diagnoseClock(obs: Observations, earlier: Earlier): LayerVerdict {
  const c = obs.clock;
  if (!c) return { findings: [], blocking: false };
  const findings: Finding[] = [];
  const dated = (obs.firewall?.endpoints ?? []).filter((e) => clockExplains(e, c));
  const severity = skewSeverity(c.offsetMs, dated.length);
  if (severity !== null) {
    const args = { offsetMs: c.offsetMs, reference: c.reference, certificates: dated.map(describeDateError) };
    findings.push(finding('CLOCK_SKEW', 'clock', args, severity));
  }
  if (c.synchronized === false) {
    const service = c.service ?? 'the time service';
    findings.push(finding('CLOCK_NOT_SYNCHRONIZED', service, { service, detail: c.detail ?? 'no detail' }));
  }
  if (c.offsetMs === null && c.synchronized === null && findings.length === 0)
    return { findings: [], blocking: false, inconclusive: blamed(earlier) };
  return { findings, blocking: false };
}
