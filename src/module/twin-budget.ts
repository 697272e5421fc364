/**
 * Keeps the whole reported section inside IoT Hub's 32 KB (CONTRACT.md 5.2). The report's own
 * projection (reportToTwin) fits itself to a budget, but the section also holds the configuration
 * acknowledgements, and desired values may legally be long (a 4 KB path, 16 endpoints with
 * 253-character names): together they can pass the limit, and then IoT Hub refuses every patch
 * and the twin freezes. So the acknowledgements get a share of the budget and the report the rest.
 */
import { clip, isObject, reportedSize, type JsonObject } from '../report/twin.js';

/** IoT Hub's limit for the reported section. */
export const REPORTED_MAX_BYTES = 32 * 1024;
/** Room for what is not counted exactly: nulls that delete old members in a patch, rounding. */
const SLACK_BYTES = 2048;
/** The acknowledgements' share; beyond it their longest echoed values are shortened. */
export const ACKS_BUDGET_BYTES = 8 * 1024;
const ECHO_MAX = 128;

/**
 * Acknowledgements within `budget`: the largest echoed values become shortened JSON text (the
 * description says so). Normal configurations are far below the budget and are left exact.
 */
export function fitAcks(acks: JsonObject, budget = ACKS_BUDGET_BYTES): JsonObject {
  if (reportedSize(acks) <= budget) return acks;
  const out: JsonObject = { ...acks };
  const bySize = Object.keys(out).sort((a, b) => reportedSize(out[b] ?? null) - reportedSize(out[a] ?? null));
  for (const key of bySize) {
    if (reportedSize(out) <= budget) break;
    const ack = out[key];
    if (!isObject(ack)) continue;
    const value = ack['value'] ?? null;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    out[key] = {
      ...ack,
      value: clip(text, ECHO_MAX),
      ad: clip(`${typeof ack['ad'] === 'string' ? ack['ad'] : ''} (value shortened to fit the twin)`, ECHO_MAX * 2),
    };
  }
  return out;
}

/** What is left for the report once the other members are in. */
export function reportBudget(othersSize: number, preferred: number): number {
  return Math.max(4096, Math.min(preferred, REPORTED_MAX_BYTES - SLACK_BYTES - othersSize));
}
