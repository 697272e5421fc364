/**
 * The human rendering of a Report, read top-down: the verdict, then the failing layer's
 * findings with their next step, then the remaining findings, then each layer's evidence.
 */
import type {
  ClockComponent,
  DnsServerReport,
  EndpointReport,
  Finding,
  InterfaceReport,
  PingOutcome,
  ProxyConnect,
  ProxySource,
  Report,
} from './types.js';
import { containerLines, plumbingLines } from './text-plumbing.js';
import type { ComponentName } from './vocabulary.js';

export const LABEL: Record<Finding['severity'], string> = { error: 'ERROR', warning: 'WARN ', info: 'INFO ' };
export const LAYER_NAME: Record<ComponentName, string> = {
  ip: 'IP',
  dns: 'DNS',
  proxy: 'Proxy',
  firewall: 'Firewall',
  clock: 'Clock',
};

export function findingLines(f: Pick<Finding, 'severity' | 'code' | 'subject' | 'message' | 'guidance'>): string[] {
  return [
    `  [${LABEL[f.severity]}] ${f.code}  (${f.subject})`,
    `          ${f.message}`,
    `          Next step: ${f.guidance}`,
  ];
}

function pingText(p: PingOutcome | undefined): string {
  if (!p) return 'not pinged';
  if ('error' in p) return `ping ${p.error}`;
  return `ping ${p.received}/${p.sent}${p.rttAvgMs !== null ? ` ${p.rttAvgMs} ms` : ''}`;
}

function interfaceLine(i: InterfaceReport): string {
  if (!i.present) return `    ${i.name}: missing`;
  const v4 = i.ipv4.map((a) => `${a.address}/${a.prefixLength}`).join(', ') || 'no IPv4 address';
  const lease = i.lease
    ? `, lease from ${i.lease.server ?? '?'}${i.lease.expiry ? ` until ${i.lease.expiry}` : ''}`
    : '';
  const file = i.configFile ? ` by ${i.configFile}` : '';
  return (
    `    ${i.name}: ${i.operState ?? '?'}${i.adminUp === false ? ' (admin down)' : ''}, ${v4}, mtu ` +
    `${i.mtu ?? '?'}, mac ${i.mac ?? '?'}, ${i.assignment}${file}${lease}`
  );
}

function serverLine(s: DnsServerReport): string {
  const q = s.queries
    .map(
      (x) =>
        `${x.name} ` +
        `${x.outcome}${x.answers.length ? ` ${x.answers.join(' ')}` : ''}${x.rttMs !== null ? ` ${x.rttMs} ms` : ''}${x.transport === 'tcp' ? ' (tcp)' : ''}`,
    )
    .join('; ');
  return `    ${s.address}${s.public ? ' (public)' : ''}: ${pingText(s.ping)}; ${q}`;
}

function endpointLine(e: EndpointReport): string {
  const where = `${e.host}:${e.port}`;
  const role = e.role && e.role !== 'hub' ? ` ${e.role}` : '';
  const parts = [`${where}${role}`.padEnd(48), e.protocol.padEnd(6), e.outcome.padEnd(16)];
  if (e.via === 'proxy') parts.push('via proxy');
  else if (e.address) parts.push(e.address);
  if (e.tcpConnectMs !== null)
    parts.push(
      `${e.via !== 'proxy' ? 'tcp' : e.outcome === 'proxy-failed' ? 'tcp to the proxy' : 'tunnel'} ` +
        `${e.tcpConnectMs} ms`,
    );
  if (e.tls?.handshakeMs !== null && e.tls?.handshakeMs !== undefined)
    parts.push(`tls ${e.tls.handshakeMs} ms ${e.tls.protocol ?? ''}`.trim());
  // An issuer is evidence only when a chain was shown: a stalled or cut handshake has none.
  if (e.tls && !e.tls.authorized && e.tls.handshakeMs !== null) {
    parts.push(`issuer "${e.tls.rootIssuer ?? e.tls.issuer ?? '?'}"`);
  }
  if (e.application) parts.push(`${e.application.exchange} ${e.application.outcome}`);
  if (e.error && e.outcome !== 'open') parts.push(`(${e.error.phase}: ${e.error.code})`);
  return `    ${parts.join(' ')}`;
}

function connectLine(c: ProxyConnect): string {
  const status = c.httpStatus !== null ? ` HTTP ${c.httpStatus}` : '';
  return `    CONNECT ${`${c.host}:${c.port}`.padEnd(36)} ${c.outcome}${status}${c.ms !== null ? ` ${c.ms} ms` : ''}`;
}

function sourceLine(s: ProxySource): string {
  const state =
    s.state === 'unknown'
      ? `unknown (${s.unknownReason === 'unreadable' ? 'unreadable' : 'absent'})`
      : s.url === null
        ? 'none'
        : `${s.url}${s.valid === false ? ' (not usable)' : ''}`;
  return `    ${s.component.padEnd(16)} ${state}`;
}

function clockLine(c: ClockComponent): string {
  const offset =
    c.offsetMs === null
      ? 'offset not measured'
      : `offset ${(c.offsetMs / 1000).toFixed(1)} s against ${c.reference ?? '?'}`;
  const sync =
    c.synchronized === null
      ? 'time service state unknown'
      : `${c.service ?? 'time service'}: ${c.synchronized ? 'synchronised' : 'not synchronised'}`;
  return `    ${offset}; ${sync}${c.syncSource ? ` (${c.syncSource})` : ''}`;
}

/** The first line: the verdict and, when something is broken, the first broken layer. */
export function verdictLine(status: Report['status'], failingComponent: ComponentName | null): string {
  return status === 'healthy'
    ? 'HEALTHY: this VM can reach Azure IoT on every tested port'
    : failingComponent
      ? `${status.toUpperCase()}: the first broken layer is ${LAYER_NAME[failingComponent]}`
      : `${status.toUpperCase()}: nothing is broken, but there are warnings`;
}

export function renderText(r: Report): string {
  const out: string[] = [];
  const verdict = verdictLine(r.status, r.failingComponent);
  out.push(verdict, `  eflow-netdiag ${r.agent.version}, check ${r.checkId}, ${r.startedAt}, ${r.durationMs} ms`, '');

  const first = r.findings.filter((f) => f.component === r.failingComponent && f.severity === 'error');
  const rest = r.findings.filter((f) => !first.includes(f));
  if (first.length) {
    out.push(`What is wrong (${LAYER_NAME[first[0]!.component]}):`);
    first.forEach((f) => out.push(...findingLines(f)));
    out.push('');
  }
  if (rest.length) {
    out.push(first.length ? 'Also found:' : 'Findings:');
    rest.forEach((f) => out.push(...findingLines(f)));
    out.push('');
  }

  const { ip, dns, firewall } = r.components;
  // Say why a layer was not judged: an unexplained "skipped" is what iotedge check users complain about.
  const why = (layer: ComponentName, status: string): string => {
    if (status !== 'inconclusive') return status;
    const because = r.components[layer].inconclusiveBecause;
    if (because === undefined) return status;
    if (because === 'deadline') return 'inconclusive (its evidence did not arrive before the deadline)';
    if (because === 'unmeasured') return 'inconclusive (nothing could be measured)';
    return `inconclusive (cannot be judged while ${LAYER_NAME[because]} is broken)`;
  };
  out.push(`IP        ${why('ip', ip.status)}`);
  ip.interfaces.forEach((i) => out.push(interfaceLine(i)));
  if (ip.status !== 'skipped') {
    const gw = ip.defaultGateway;
    out.push(
      gw
        ? `    default gateway ${gw.address} via ${gw.interface}: ` +
            `${gw.reachable === null ? 'not tested' : gw.reachable ? 'answers' : 'no answer'}${gw.rttMs !== null ? ` (${gw.rttMs} ms)` : ''}`
        : '    no default route',
    );
    out.push(...plumbingLines(ip));
  }
  out.push(
    `DNS       ` +
      `${why('dns', dns.status)}${dns.status !== 'skipped' ? `  (from ${dns.source}: ${dns.files.join(', ')})` : ''}`,
  );
  dns.servers.forEach((s) => out.push(serverLine(s)));
  if (dns.status !== 'skipped' && dns.servers.length === 0) out.push('    no servers configured');
  out.push(...containerLines(dns.containers, dns.servers, serverLine));
  const { proxy, clock } = r.components;
  out.push(`Proxy     ${proxy.status === 'skipped' ? 'skipped (no proxy configured)' : why('proxy', proxy.status)}`);
  if (proxy.url) out.push(`    ${proxy.url}${proxy.source ? ` (from ${proxy.source})` : ''}`);
  if (proxy.testedAs) out.push(`    tested as ${proxy.testedAs}`);
  if (proxy.bypassed?.length) out.push(`    no_proxy sends direct: ${proxy.bypassed.join(', ')}`);
  // The host settings matter when there is a proxy (and say why there is none when they name one).
  if (proxy.status !== 'skipped' || proxy.sources.some((x) => x.state === 'set'))
    proxy.sources.forEach((x) => out.push(sourceLine(x)));
  proxy.connect.forEach((c) => out.push(connectLine(c)));
  const exchanges = firewall.exchanges === false ? ', no exchanges' : '';
  out.push(
    `Firewall  ${why('firewall', firewall.status)}  (upstream protocol ` +
      `${firewall.upstreamProtocol}${exchanges}${firewall.trustStore ? `, CA store ${firewall.trustStore}` : ''})`,
  );
  firewall.endpoints.forEach((e) => out.push(endpointLine(e)));
  out.push(`Clock     ${why('clock', clock.status)}`);
  if (clock.status !== 'skipped') out.push(clockLine(clock));
  if (r.timedOut.length) out.push('', `Cut short by the deadline: ${r.timedOut.join(', ')}`);
  return `${out.join('\n')}\n`;
}
