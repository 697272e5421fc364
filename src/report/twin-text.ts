/**
 * The text of `check`, made from a module twin's reported properties (for `eflow-netdiag render`):
 * the same verdict, finding lines and layer sections as text.ts, from the compact form twin.ts
 * writes. A twin keeps only what is stable (CONTRACT.md 8.1), so the round-trip times, durations,
 * counters, DNS answers, TLS details and the clock offset are not there: the text says so rather
 * than showing placeholders, and names getLastReport for the full Report.
 */
import { isPlainObject, type JsonObject, type JsonValue } from '../util/json.js';
import { LAYER_NAME, findingLines, verdictLine } from './text.js';
import { COMPONENTS, OVERALL_STATUSES, SEVERITIES, type ComponentName } from './vocabulary.js';

const str = (v: JsonValue | undefined): string | null => (typeof v === 'string' ? v : null);
const num = (v: JsonValue | undefined): number | null => (typeof v === 'number' ? v : null);
const obj = (v: JsonValue | undefined): JsonObject => (isPlainObject(v) ? v : {});
const list = (v: JsonValue | undefined): JsonObject[] =>
  Array.isArray(v) ? v.filter((x): x is JsonObject => isPlainObject(x)) : [];

/** Whether reported properties look like this module's (a status and at least one layer). */
export function isModuleTwin(reported: JsonObject): boolean {
  return (
    (OVERALL_STATUSES as readonly string[]).includes(str(reported['status']) ?? '') &&
    COMPONENTS.some((c) => isPlainObject(reported[c]))
  );
}

function layerStatus(layer: JsonObject): string {
  const status = str(layer['status']) ?? 'not in the twin';
  if (status !== 'inconclusive') return status;
  const because = str(layer['inconclusiveBecause']);
  if (because === null) return status;
  return because === 'deadline'
    ? 'inconclusive (its evidence did not arrive before the deadline)'
    : `inconclusive (cannot be judged while ${LAYER_NAME[because as ComponentName] ?? because} is broken)`;
}

function interfaceLine(i: JsonObject): string {
  const name = str(i['name']) ?? '?';
  if (i['present'] === false) return `    ${name}: missing`;
  const v4 = (Array.isArray(i['ipv4']) ? i['ipv4'] : []).filter((a) => typeof a === 'string').join(', ');
  const file = str(i['configFile']);
  const lease = str(i['leaseServer']);
  return (
    `    ${name}: ${str(i['operState']) ?? '?'}, ${v4 || 'no IPv4 address'}, mtu ${num(i['mtu']) ?? '?'}, mac ` +
    `${str(i['mac']) ?? '?'}, ` +
    `${str(i['assignment']) ?? 'unknown'}${file ? ` by ${file}` : ''}${lease ? `, lease from ${lease}` : ''}`
  );
}

function serverLine(s: JsonObject): string {
  const queries = (str(s['outcomes']) ?? '')
    .split(' ')
    .filter(Boolean)
    .map((q) => {
      const at = q.lastIndexOf(':');
      return at > 0 ? `${q.slice(0, at)} ${q.slice(at + 1)}` : q;
    })
    .join('; ');
  const ping = str(s['ping']);
  return (
    `    ${str(s['address']) ?? '?'}${s['public'] === true ? ' (public)' : ''}: ` +
    `${ping ? `ping ${ping}` : 'not pinged'}${queries ? `; ${queries}` : ''}`
  );
}

function endpointLine(e: JsonObject): string {
  const parts = [
    `${str(e['host']) ?? '?'}:${num(e['port']) ?? '?'}`.padEnd(44),
    (str(e['protocol']) ?? '').padEnd(6),
    (str(e['outcome']) ?? '?').padEnd(13),
  ];
  const address = str(e['address']);
  if (address) parts.push(address);
  const issuer = str(e['tlsIssuer']);
  if (issuer) parts.push(`issuer "${issuer}"`);
  const error = str(e['error']);
  if (error) parts.push(`(${error})`);
  return `    ${parts.join(' ').trimEnd()}`;
}

function connectLine(c: JsonObject): string {
  const status = num(c['httpStatus']);
  return (
    `    CONNECT ${`${str(c['host']) ?? '?'}:${num(c['port']) ?? '?'}`.padEnd(36)} ` +
    `${str(c['outcome']) ?? '?'}${status !== null ? ` HTTP ${status}` : ''}`
  );
}

function findingOf(f: JsonObject): Parameters<typeof findingLines>[0] {
  const severity = str(f['severity']);
  return {
    severity: (SEVERITIES as readonly string[]).includes(severity ?? '') ? (severity as 'error') : 'info',
    code: (str(f['code']) ?? '?') as Parameters<typeof findingLines>[0]['code'],
    subject: str(f['subject']) ?? '?',
    message: str(f['message']) ?? '(no message in the twin)',
    guidance: str(f['guidance']) ?? '(no guidance in the twin)',
  };
}

export function renderTwin(reported: JsonObject): string {
  const out: string[] = [];
  const status = str(reported['status']) as 'healthy' | 'degraded' | 'unhealthy';
  const failing = str(reported['failingComponent']) as ComponentName | null;
  const agent = obj(reported['agent']);
  const last = obj(reported['lastCheck']);
  out.push(
    verdictLine(status, failing),
    `  eflow-netdiag ${str(agent['version']) ?? '?'}, check ${str(last['checkId']) ?? '?'}, ` +
      `${str(last['startedAt']) ?? '?'}, ${num(last['durationMs']) ?? '?'} ms`,
    `  from the module twin: lastCheck is the last change or ` +
      `heartbeat${str(reported['statusSince']) ? `; ${status} since ${str(reported['statusSince'])}` : ''}${str(reported['vantage']) === 'container' ? '; seen from a container on the azure-iot-edge network' : ''}`,
    '',
  );
  const findings = list(reported['findings']);
  const since = (f: JsonObject) => (str(f['since']) ? `          Since: ${str(f['since'])}` : null);
  const withSince = (f: JsonObject) => [...findingLines(findingOf(f)), ...[since(f)].filter((l) => l !== null)];
  const first = findings.filter((f) => str(f['component']) === failing && str(f['severity']) === 'error');
  const rest = findings.filter((f) => !first.includes(f));
  if (first.length) {
    out.push(`What is wrong (${LAYER_NAME[failing as ComponentName] ?? failing}):`);
    first.forEach((f) => out.push(...withSince(f)));
    out.push('');
  }
  if (rest.length) {
    out.push(first.length ? 'Also found:' : 'Findings:');
    rest.forEach((f) => out.push(...withSince(f)));
    out.push('');
  }
  const omitted = num(reported['findingsOmitted']);
  if (omitted) out.push(`  (${omitted} less severe finding${omitted === 1 ? '' : 's'} left out of the twin)`, '');

  const ip = obj(reported['ip']);
  out.push(`IP        ${layerStatus(ip)}`);
  list(ip['interfaces']).forEach((i) => out.push(interfaceLine(i)));
  if (str(ip['status']) !== 'skipped') {
    const gw = isPlainObject(ip['defaultGateway']) ? obj(ip['defaultGateway']) : null;
    const reach = gw?.['reachable'];
    out.push(
      gw
        ? `    default gateway ${str(gw['address']) ?? '?'} via ${str(gw['interface']) ?? '?'}: ` +
            `${reach === true ? 'answers' : reach === false ? 'no answer' : 'not tested'}`
        : '    no default route',
    );
  }
  const dns = obj(reported['dns']);
  const source = str(dns['source']);
  out.push(`DNS       ${layerStatus(dns)}${str(dns['status']) !== 'skipped' && source ? `  (from ${source})` : ''}`);
  list(dns['servers']).forEach((s) => out.push(serverLine(s)));
  if (str(dns['status']) !== 'skipped' && list(dns['servers']).length === 0) out.push('    no servers configured');
  const proxy = obj(reported['proxy']);
  out.push(`Proxy     ${str(proxy['status']) === 'skipped' ? 'skipped (no proxy configured)' : layerStatus(proxy)}`);
  const url = str(proxy['url']);
  if (url) out.push(`    ${url}${str(proxy['source']) ? ` (from ${str(proxy['source'])})` : ''}`);
  list(proxy['connect']).forEach((c) => out.push(connectLine(c)));
  const fw = obj(reported['firewall']);
  out.push(
    `Firewall  ` +
      `${layerStatus(fw)}${str(fw['upstreamProtocol']) ? `  (upstream protocol ${str(fw['upstreamProtocol'])})` : ''}`,
  );
  list(fw['endpoints']).forEach((e) => out.push(endpointLine(e)));
  const open = num(fw['endpointsOpen']);
  if (open) out.push(`    and ${open} open endpoint${open === 1 ? '' : 's'} not listed in the twin`);
  const clock = obj(reported['clock']);
  out.push(`Clock     ${layerStatus(clock)}`);
  if (str(clock['status']) !== 'skipped' && isPlainObject(reported['clock'])) {
    const sync = clock['synchronized'];
    const syncText =
      sync === true ? 'synchronised' : sync === false ? 'not synchronised' : 'time service state unknown';
    const reference = str(clock['reference']);
    out.push(
      `    ` +
        `${reference ? `offset measured against ${reference} (the offset itself is not in the twin)` : 'offset not measured'}; ${syncText}${str(clock['syncSource']) ? ` (${str(clock['syncSource'])})` : ''}`,
    );
  }
  out.push(
    '',
    'Not in a twin: round-trip times, durations, counters, DNS answers, TLS details and the clock offset',
    "(the twin keeps only what is stable). For them, call the module's getLastReport method.",
  );
  return `${out.join('\n')}\n`;
}
