/**
 * The module-twin projection of a Report (CONTRACT.md 5.2, 8.1, 8.2): compact, inside IoT Hub's
 * twin rules (keys without . $ space or control characters, depth <= 10, strings <= 4 KB, the
 * reported section <= 32 KB), with variable collections as arrays, holding only what is stable
 * while nothing is wrong (one projection function per layer below), with statusSince and each
 * finding's since. `reportedPatch` turns the new document into a minimal patch against what the
 * twin holds, with null for what is gone, because a patch merges: a cleared fault must be removed,
 * not left behind. `stableView` says what counts as a change (module/twin-mirror.ts).
 */
import { mostSevereFirst } from '../findings/order.js';
import { popUntil } from '../util/fit.js';
import { isJsonObject as isObject, type JsonObject, type JsonValue } from '../util/json.js';
import { clip as clipText } from '../util/text.js';
import type {
  ClockComponent,
  DnsComponent,
  DnsServerReport,
  EndpointReport,
  Finding,
  FirewallComponent,
  HostInfo,
  InterfaceReport,
  IpComponent,
  PingOutcome,
  ProxyComponent,
  Report,
} from './types.js';

export type { JsonObject, JsonValue };
export { isObject };

/** IoT Hub's limit is 32 KB for the whole reported section; keep room for the acknowledgements. */
export const REPORT_BUDGET_BYTES = 24 * 1024;
const MAX_STRING = 1024;

/** The top-level reported keys this module owns (besides the configuration acknowledgements). */
export const REPORT_KEYS = [
  'schemaVersion',
  'agent',
  'vantage',
  'host',
  'status',
  'failingComponent',
  'statusSince',
  'lastStatusChangeAt',
  'lastCheck',
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

/**
 * When things began (CONTRACT.md 8.2): `statusSince` for the current status, and per finding (by
 * findingKey) the start of the unbroken run of checks that has shown it. A finding not in `since`
 * is new in this report.
 */
export interface TwinHistory {
  statusSince: string;
  since: ReadonlyMap<string, string>;
}

/** A finding's identity across checks: the same code on the same subject. */
export function findingKey(f: { code: string; subject: string }): string {
  return `${f.code}\u0000${f.subject}`;
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

/**
 * IoT Hub cannot store null (a null in a patch deletes the key, and edgeHub refuses one inside an
 * array): an unknown value is an absent key, everywhere in the document. reportedPatch still
 * writes null to delete what the twin holds and the new document lacks.
 */
function withoutNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map(withoutNulls);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
    return out;
  }
  return value;
}

// --- The projection, one function per layer -------------------------------------------------
// CONTRACT.md 8.1: the twin holds only what is stable while nothing is wrong, so a scheduled check
// that finds the device as it was changes nothing in it. Round-trip times, durations, counters,
// ping loss, the clock offset and the lease expiry (it moves with every DHCP renewal) go to
// telemetry and getLastReport only. A new report field that is stable gets one line in its
// layer's function; a moving one gets none.

type Component = Report['components'][keyof Report['components']];

/** status, and why it is inconclusive when it is. */
function statusOf(c: Component): JsonObject {
  return { status: c.status, ...(c.inconclusiveBecause ? { inconclusiveBecause: c.inconclusiveBecause } : {}) };
}

function interfaceToTwin(i: InterfaceReport): JsonObject {
  return {
    name: i.name,
    present: i.present,
    operState: i.operState,
    mac: i.mac,
    mtu: i.mtu,
    ipv4: i.ipv4.slice(0, 8).map((a) => `${a.address}/${a.prefixLength}`),
    assignment: i.assignment,
    configFile: i.configFile,
    leaseServer: i.lease?.server ?? null,
  };
}

export function ipToTwin(ip: IpComponent): JsonObject {
  const gw = ip.defaultGateway;
  return {
    ...statusOf(ip),
    interfaces: ip.interfaces.slice(0, 8).map(interfaceToTwin),
    defaultGateway: gw ? { address: gw.address, interface: gw.interface, reachable: gw.reachable } : null,
    // CONTRACT 7.5, stable facts only; absent from reports that did not look.
    ...(ip.defaultRoutes
      ? {
          defaultRoutes: ip.defaultRoutes
            .slice(0, 4)
            .map((r) => ({ gateway: r.gateway, interface: r.interface, metric: r.metric, inUse: r.inUse })),
        }
      : {}),
    ...(ip.bridges
      ? {
          bridges: ip.bridges.slice(0, 8).map((b) => ({
            name: b.name,
            subnets: b.ipv4.map((a) => `${a.subnet}/${a.prefixLength}`),
            mtu: b.mtu,
          })),
        }
      : {}),
    pathMtu: ip.pathMtu?.largestPassingDf ?? null,
  };
}

/** answered / no answer / not-permitted / unavailable: the ping verdict, without the loss figure that moves. */
function pingWord(p: PingOutcome): string {
  if ('error' in p) return p.error;
  return p.received > 0 ? 'answered' : 'no answer';
}

function serverToTwin(s: DnsServerReport): JsonObject {
  return {
    address: s.address,
    public: s.public,
    ping: pingWord(s.ping),
    outcomes: s.queries.map((q) => `${q.name}:${q.outcome}`).join(' '),
  };
}

export function dnsToTwin(dns: DnsComponent): JsonObject {
  return {
    ...statusOf(dns),
    source: dns.source,
    servers: dns.servers.slice(0, 8).map(serverToTwin),
    containers: dns.containers
      ? { source: dns.containers.source, servers: dns.containers.addresses.slice(0, 3) }
      : null,
  };
}

export function proxyToTwin(proxy: ProxyComponent): JsonObject {
  return {
    ...statusOf(proxy),
    url: proxy.url === null ? null : clip(proxy.url, 512),
    source: proxy.source,
    sources: proxy.sources
      .slice(0, 8)
      .map((x) => ({ component: x.component, url: x.url && clip(x.url, 512), state: x.state ?? null })),
    connect: proxy.connect
      .slice(0, 24)
      .map((c) => ({ host: clip(c.host, 253), port: c.port, outcome: c.outcome, httpStatus: c.httpStatus })),
  };
}

function endpointToTwin(e: EndpointReport): JsonObject {
  const open = e.outcome === 'open';
  return {
    host: clip(e.host, 253),
    port: e.port,
    protocol: e.protocol,
    role: e.role ?? null,
    outcome: e.outcome,
    // The address a name resolves to moves with CDNs and DNS load balancing (mcr.microsoft.com):
    // it is evidence when the endpoint fails (a wrong address, a stale /etc/hosts), noise when it works.
    address: open ? null : e.address,
    error: open ? null : (e.error?.code ?? null),
    tlsIssuer: e.tls && !e.tls.authorized ? (e.tls.rootIssuer ?? e.tls.issuer) : null,
    // Stable facts of the path (CONTRACT 7.1-7.3), when the check recorded them.
    ...(e.via ? { via: e.via } : {}),
    ...(e.application ? { application: e.application.outcome } : {}),
  };
}

export function firewallToTwin(firewall: FirewallComponent): JsonObject {
  return {
    ...statusOf(firewall),
    upstreamProtocol: firewall.upstreamProtocol,
    endpoints: firewall.endpoints.slice(0, 24).map(endpointToTwin),
  };
}

export function clockToTwin(clock: ClockComponent): JsonObject {
  // The offset moves every check: it goes to telemetry and getLastReport, not to the twin.
  return {
    ...statusOf(clock),
    reference: clock.reference,
    synchronized: clock.synchronized,
    syncSource: clock.syncSource,
    service: clock.service ?? null,
  };
}

function hostToTwin(host: HostInfo): JsonObject {
  return { distro: clip(host.distro, 128), release: clip(host.release, 64), kernel: clip(host.kernel, 128) };
}

function findingToTwin(f: Finding, since: string): JsonObject {
  return {
    code: f.code,
    severity: f.severity,
    component: f.component,
    subject: clip(f.subject, 256),
    message: clip(f.message),
    guidance: clip(f.guidance),
    since,
  };
}

/** The check a twin's lastCheck names (patched only with a change or the heartbeat, CONTRACT.md 8.1). */
export function lastCheckOf(report: Report): JsonObject {
  return {
    checkId: report.checkId,
    trigger: report.trigger,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
  };
}

/**
 * The reported document of a report. `history` gives statusSince and each finding's since (a
 * string: statusSince, with every finding new); `host` replaces the report's own host facts (the
 * module's inventory). The result is inside `budget` and holds no null.
 */
export function reportToTwin(
  report: Report,
  history: TwinHistory | string,
  budget = REPORT_BUDGET_BYTES,
  host?: JsonObject,
): JsonObject {
  const { statusSince, since } =
    typeof history === 'string' ? { statusSince: history, since: new Map<string, string>() } : history;
  const { ip, dns, proxy, firewall, clock } = report.components;
  const doc = withoutNulls({
    schemaVersion: report.schemaVersion,
    agent: { name: report.agent.name, version: report.agent.version },
    vantage: report.vantage ?? null,
    host: host ?? (report.host ? hostToTwin(report.host) : null),
    status: report.status,
    failingComponent: report.failingComponent,
    statusSince,
    // CONTRACT.md 5.2's name, kept for the fleet queries written against it: the same instant.
    lastStatusChangeAt: statusSince,
    lastCheck: lastCheckOf(report),
    ip: ipToTwin(ip),
    dns: dnsToTwin(dns),
    proxy: proxyToTwin(proxy),
    firewall: firewallToTwin(firewall),
    clock: clockToTwin(clock),
    findings: [],
    findingsOmitted: 0,
  }) as JsonObject;
  // The findings matter more than the per-endpoint evidence: when the evidence alone would take
  // more than half the budget, keep only the endpoints that are not open (and count the rest).
  const fw = doc['firewall'] as JsonObject;
  const eps = fw['endpoints'] as JsonObject[];
  if (reportedSize(doc) > budget / 2) {
    fw['endpoints'] = eps.filter((e) => e['outcome'] !== 'open');
    fw['endpointsOpen'] = eps.length - (fw['endpoints'] as JsonObject[]).length;
  }
  // Most severe first, so fitting to the budget leaves out the least severe.
  doc['findings'] = mostSevereFirst(report.findings).map((f) =>
    findingToTwin(f, since.get(findingKey(f)) ?? report.startedAt),
  );
  return fitReport(doc, budget);
}

/**
 * What counts as "a change in what the twin holds" (CONTRACT.md 8.1): the document without
 * lastCheck, and with each finding's words left out (they may quote a figure, e.g. a growing
 * error counter, while the finding itself, its code on its subject since the same check, stays
 * the same). The words are refreshed with the next patch that is due anyway.
 */
export function stableView(doc: JsonObject): JsonObject {
  const out: JsonObject = { ...doc };
  delete out['lastCheck'];
  const findings = out['findings'];
  if (Array.isArray(findings)) {
    out['findings'] = findings.map((f) => {
      if (!isObject(f)) return f;
      const rest = { ...f };
      delete rest['message'];
      delete rest['guidance'];
      return rest;
    });
  }
  return out;
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
