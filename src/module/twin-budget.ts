/**
 * Keeps the whole reported section inside IoT Hub's 32 KB (CONTRACT.md 5.2). The report's own
 * projection (reportToTwin) budgets its findings, but the section also holds the configuration
 * acknowledgements, and desired values may legally be long (a 4 KB path, 16 endpoints with
 * 253-character names): together they can pass the limit, and then IoT Hub refuses every patch
 * and the twin freezes. So the acknowledgements get a share of the budget, the report gets the
 * rest, and a last pass shortens whatever still does not fit — least important first.
 */
import { twinSize, type JsonObject, type JsonValue } from '../report/twin.js';

/** IoT Hub's limit for the reported section. */
export const REPORTED_MAX_BYTES = 32 * 1024;
/** Room for what is not counted exactly: nulls that delete old members in a patch, rounding. */
const SLACK_BYTES = 2048;
/** The acknowledgements' share; beyond it their longest echoed values are shortened. */
export const ACKS_BUDGET_BYTES = 8 * 1024;
const ECHO_MAX = 128;
const EVIDENCE_STRING_MAX = 256;

/**
 * The larger of IoT Hub's size formula and the JSON length: edgeHub measures the patch as JSON,
 * where quotes and braces count and a number can be shorter than the formula's 8 bytes.
 */
export function reportedSize(value: JsonValue): number {
  return Math.max(twinSize(value), Buffer.byteLength(JSON.stringify(value)));
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

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
      value: shorten(text, ECHO_MAX),
      ad: shorten(`${typeof ack['ad'] === 'string' ? ack['ad'] : ''} (value shortened to fit the twin)`, ECHO_MAX * 2),
    };
  }
  return out;
}

/** What is left for the report once the other members are in. */
export function reportBudget(othersSize: number, preferred: number): number {
  return Math.max(4096, Math.min(preferred, REPORTED_MAX_BYTES - SLACK_BYTES - othersSize));
}

function clipStrings(value: JsonValue, max: number): JsonValue {
  if (typeof value === 'string') return shorten(value, max);
  if (Array.isArray(value)) return value.map((v) => clipStrings(v, max));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clipStrings(v, max)]));
  return value;
}

/**
 * The report's twin form within `budget`, whatever it holds: long evidence strings (paths, the
 * per-server query outcomes) are shortened first, then findings are left out from the least
 * severe end (counted in findingsOmitted, as the contract asks), and only then evidence entries
 * (counted in `<list>Omitted` next to the list).
 */
export function fitReport(doc: JsonObject, budget: number): JsonObject {
  if (reportedSize(doc) <= budget) return doc;
  const out = structuredClone(doc);
  for (const section of ['ip', 'dns', 'firewall']) {
    const value = out[section];
    if (value !== undefined) out[section] = clipStrings(value, EVIDENCE_STRING_MAX);
  }
  const findings = out['findings'];
  if (Array.isArray(findings)) {
    // reportToTwin sorts findings most severe first.
    while (reportedSize(out) > budget && findings.length > 0) {
      findings.pop();
      out['findingsOmitted'] = (typeof out['findingsOmitted'] === 'number' ? out['findingsOmitted'] : 0) + 1;
    }
  }
  for (const [section, list] of [['dns', 'servers'], ['firewall', 'endpoints'], ['ip', 'interfaces']] as const) {
    const holder = out[section];
    const items = isObject(holder) ? holder[list] : undefined;
    if (!isObject(holder) || !Array.isArray(items)) continue;
    while (reportedSize(out) > budget && items.length > 0) {
      items.pop();
      holder[`${list}Omitted`] = (typeof holder[`${list}Omitted`] === 'number' ? (holder[`${list}Omitted`] as number) : 0) + 1;
    }
  }
  return out;
}
