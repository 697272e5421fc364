/**
 * The module-twin projection of a Report (CONTRACT.md 5.2): compact, inside IoT Hub's twin
 * rules (keys without . $ space or control characters, depth <= 10, strings <= 4 KB, the
 * reported section <= 32 KB), with variable collections as arrays. `reportedPatch` turns the
 * new document into a minimal patch against what the twin holds, with null for what is gone,
 * because a patch merges: a cleared fault must be removed, not left behind.
 */
import { mostSevereFirst } from '../findings/order.js';
import { popUntil } from '../util/fit.js';
import { isJsonObject as isObject, type JsonObject, type JsonValue } from '../util/json.js';
import { clip as clipText } from '../util/text.js';
import type { Finding, Report } from './types.js';

export type { JsonObject, JsonValue };
export { isObject };

/** IoT Hub's limit is 32 KB for the whole reported section; keep room for the acknowledgements. */
export const REPORT_BUDGET_BYTES = 24 * 1024;
const MAX_STRING = 1024;

/** The top-level reported keys this module owns (besides the configuration acknowledgements). */
export const REPORT_KEYS = [
  'schemaVersion',
  'agent',
  'host',
  'status',
  'failingComponent',
  'lastCheck',
  'lastStatusChangeAt',
  'ip',
  'dns',
  'proxy',
  'firewall',
  'clock',
  'findings',
  'findingsOmitted',
] as const;

export function clip(text: string, max = MAX_STRING): string {
  return clipText(text, max);
}

function compactFinding(f: Finding): JsonObject {
  return {
    code: f.code,
    severity: f.severity,
    component: f.component,
    subject: clip(f.subject, 256),
    message: clip(f.message),
    guidance: clip(f.guidance),
  };
}

/** IoT Hub's size rule: the sum of key and value lengths, numbers 8 bytes, booleans 4. */
export function twinSize(value: JsonValue): number {
  if (value === null) return 4;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 4;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + twinSize(v), 0);
  return Object.entries(value).reduce((n, [k, v]) => n + Buffer.byteLength(k) + twinSize(v), 0);
}

/** IoT Hub cannot store null (a null in a patch deletes the key): an unknown value is an absent key. */
function withoutNulls(o: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}

export function reportToTwin(report: Report, lastStatusChangeAt: string, budget = REPORT_BUDGET_BYTES): JsonObject {
  const { ip, dns, proxy, firewall, clock } = report.components;
  const doc: JsonObject = {
    schemaVersion: report.schemaVersion,
    agent: { name: report.agent.name, version: report.agent.version },
    ...(report.host
      ? {
          host: {
            distro: clip(report.host.distro, 128),
            release: clip(report.host.release, 64),
            kernel: clip(report.host.kernel, 128),
          },
        }
      : {}),
    status: report.status,
    failingComponent: report.failingComponent,
    lastCheck: {
      checkId: report.checkId,
      trigger: report.trigger,
      startedAt: report.startedAt,
      durationMs: report.durationMs,
    },
    lastStatusChangeAt,
    ip: {
      status: ip.status,
      interfaces: ip.interfaces.slice(0, 8).map((i) => ({
        name: i.name,
        present: i.present,
        operState: i.operState,
        mac: i.mac,
        mtu: i.mtu,
        ipv4: i.ipv4.slice(0, 8).map((a) => `${a.address}/${a.prefixLength}`),
        assignment: i.assignment,
        configFile: i.configFile,
        leaseServer: i.lease?.server ?? null,
        leaseExpiry: i.lease?.expiry ?? null,
      })),
      defaultGateway: ip.defaultGateway
        ? {
            address: ip.defaultGateway.address,
            interface: ip.defaultGateway.interface,
            reachable: ip.defaultGateway.reachable,
            rttMs: ip.defaultGateway.rttMs,
          }
        : null,
    },
    dns: {
      status: dns.status,
      source: dns.source,
      servers: dns.servers.slice(0, 8).map((s) => ({
        address: s.address,
        public: s.public,
        pingLossPercent: 'error' in s.ping ? null : s.ping.lossPercent,
        outcomes: s.queries.map((q) => `${q.name}:${q.outcome}`).join(' '),
        rttMs: s.queries.find((q) => q.rttMs !== null)?.rttMs ?? null,
      })),
    },
    firewall: {
      status: firewall.status,
      upstreamProtocol: firewall.upstreamProtocol,
      endpoints: firewall.endpoints.slice(0, 24).map((e) => ({
        host: clip(e.host, 253),
        port: e.port,
        protocol: e.protocol,
        outcome: e.outcome,
        address: e.address,
        tcpConnectMs: e.tcpConnectMs,
        tlsIssuer: e.tls && !e.tls.authorized ? (e.tls.rootIssuer ?? e.tls.issuer) : null,
        // Stable facts of the path (CONTRACT 7.1-7.3): absent rather than null when unknown.
        ...(e.role ? { role: e.role } : {}),
        ...(e.via ? { via: e.via } : {}),
        ...(e.application ? { application: e.application.outcome } : {}),
      })),
    },
    proxy: withoutNulls({
      status: proxy.status,
      url: proxy.url === null ? null : clip(proxy.url, 512),
      source: proxy.source,
      sources: proxy.sources
        .slice(0, 8)
        .map((x) => withoutNulls({ component: x.component, url: x.url && clip(x.url, 512), state: x.state ?? null })),
      connect: proxy.connect
        .slice(0, 24)
        .map((c) =>
          withoutNulls({ host: clip(c.host, 253), port: c.port, outcome: c.outcome, httpStatus: c.httpStatus }),
        ),
    }),
    // The offset moves every check: it goes to telemetry and getLastReport, not to the twin (CONTRACT.md 8.1).
    clock: withoutNulls({
      status: clock.status,
      reference: clock.reference,
      synchronized: clock.synchronized,
      syncSource: clock.syncSource,
      service: clock.service ?? null,
    }),
    findings: [],
    findingsOmitted: 0,
  };
  // The findings matter more than the per-endpoint evidence: when the evidence alone would take
  // more than half the budget, keep only the endpoints that are not open (and count the rest).
  const fw = doc['firewall'] as JsonObject;
  const eps = fw['endpoints'] as JsonObject[];
  if (reportedSize(doc) > budget / 2) {
    fw['endpoints'] = eps.filter((e) => e['outcome'] !== 'open');
    fw['endpointsOpen'] = eps.length - (fw['endpoints'] as JsonObject[]).length;
  }
  // Most severe first, so fitting to the budget leaves out the least severe.
  doc['findings'] = mostSevereFirst(report.findings).map(compactFinding);
  return fitReport(doc, budget);
}

/**
 * The larger of IoT Hub's size formula and the JSON length: edgeHub measures the patch as JSON,
 * where quotes and braces count and a number can be shorter than the formula's 8 bytes.
 */
export function reportedSize(value: JsonValue): number {
  return Math.max(twinSize(value), Buffer.byteLength(JSON.stringify(value)));
}

function clipStrings(value: JsonValue, max: number): JsonValue {
  if (typeof value === 'string') return clip(value, max);
  if (Array.isArray(value)) return value.map((v) => clipStrings(v, max));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clipStrings(v, max)]));
  return value;
}

const EVIDENCE_STRING_MAX = 256;

/**
 * A twin document within `budget`, whatever it holds: long evidence strings (paths, the
 * per-server query outcomes) are shortened first, then findings are left out from the end
 * (the least severe; counted in findingsOmitted, as the contract asks), and only then evidence
 * entries (counted in `<list>Omitted` next to the list).
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
    const before = typeof out['findingsOmitted'] === 'number' ? out['findingsOmitted'] : 0;
    popUntil(
      findings,
      () => reportedSize(out) <= budget,
      (n) => (out['findingsOmitted'] = before + n),
    );
  }
  for (const [section, list] of [
    ['dns', 'servers'],
    ['firewall', 'endpoints'],
    ['ip', 'interfaces'],
  ] as const) {
    const holder = out[section];
    const items = isObject(holder) ? holder[list] : undefined;
    if (!isObject(holder) || !Array.isArray(items)) continue;
    const key = `${list}Omitted`;
    const before = typeof holder[key] === 'number' ? holder[key] : 0;
    popUntil(
      items,
      () => reportedSize(out) <= budget,
      (n) => (holder[key] = before + n),
    );
  }
  return out;
}

/**
 * The smallest patch that turns `current` (what the twin holds) into `next` for the keys in
 * `owned`: changed values replace, objects recurse, vanished keys become null. Returns null
 * when nothing changed.
 */
export function reportedPatch(
  current: JsonObject,
  next: JsonObject,
  owned: readonly string[] = Object.keys(next),
): JsonObject | null {
  const patch: JsonObject = {};
  for (const key of owned) {
    // IoT Hub deletes a key patched to null, so "absent" and null are the same state.
    const a = current[key] ?? null;
    const b = next[key] ?? null;
    if (b === null) {
      if (a !== null) patch[key] = null;
      continue;
    }
    if (isObject(a) && isObject(b)) {
      const sub = reportedPatch(a, b, [...new Set([...Object.keys(a), ...Object.keys(b)])]);
      if (sub) patch[key] = sub;
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      patch[key] = b;
    }
  }
  return Object.keys(patch).length ? patch : null;
}

/** Applies a patch with IoT Hub's merge semantics (null deletes, objects merge, arrays replace). */
export function applyPatch(doc: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...doc };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isObject(v))
      out[k] = applyPatch(isObject(out[k]) ? out[k] : {}, v); // nulls inside are deletions too
    else out[k] = v;
  }
  return out;
}
