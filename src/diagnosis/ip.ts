/**
 * IP-layer rules: from what the interface, route, networkd and ping probes saw to findings.
 * `blocking` says whether the layers above cannot work because of this one (root cause first).
 */
import { finding } from '../findings/finding.js';
import type { Finding, InterfaceReport, PingOutcome } from '../report/types.js';
import { isLinkLocalIpv4 } from '../util/address.js';
import { gatewayUnreachable, invalidGateways, multipleDefaultRoutes } from './ip-gateway.js';
import { addressConflicts, mtuBlackhole, mtuMismatches, routeConflicts, subnetOverlaps } from './ip-plumbing.js';
import type { LayerVerdict } from './layer.js';
import type { Observations } from './observations.js';

/** Drops count as a symptom only above this share of traffic: a few drops are normal (unknown protocols, multicast). */
const DROP_SHARE = 0.01;
const DROP_MIN = 100;

function isDown(i: InterfaceReport): boolean {
  return (
    i.adminUp === false || i.operState === 'down' || i.operState === 'lowerlayerdown' || i.operState === 'notpresent'
  );
}

/** Address= values without a /prefix, and a missing Gateway=, make a static file incomplete. */
function staticGaps(i: InterfaceReport): string[] {
  if (i.assignment !== 'static' || !i.config) return [];
  const gaps: string[] = [];
  const v4 = i.config.addresses.filter((a) => !a.includes(':'));
  if (v4.length === 0) gaps.push('an Address=');
  else if (v4.some((a) => !/\/\d{1,2}$/.test(a)))
    gaps.push(`the prefix length on Address=${v4.find((a) => !/\/\d{1,2}$/.test(a))}`);
  if (i.config.gateways.length === 0) gaps.push('a Gateway=');
  return gaps;
}

function counterSymptoms(i: InterfaceReport): string | null {
  const c = i.counters;
  if (!c) return null;
  const parts: string[] = [];
  if (c.rxErrors > 0) parts.push(`${c.rxErrors} receive errors`);
  if (c.txErrors > 0) parts.push(`${c.txErrors} transmit errors`);
  const dropsNoteworthy = (drops: number, packets: number) => drops >= DROP_MIN && drops >= packets * DROP_SHARE;
  if (dropsNoteworthy(c.rxDropped, c.rxPackets))
    parts.push(`${c.rxDropped} of ${c.rxPackets} received packets dropped`);
  if (dropsNoteworthy(c.txDropped, c.txPackets)) parts.push(`${c.txDropped} of ${c.txPackets} sent packets dropped`);
  return parts.length ? parts.join(', ') : null;
}

export function diagnoseIp(obs: Observations): LayerVerdict {
  const ip = obs.ip;
  if (!ip) return { findings: [], blocking: false };
  const findings: Finding[] = [];
  const { switchType, expectedIp } = obs.config;
  const presentNames = ip.interfaces.filter((i) => i.present).map((i) => i.name);
  let anyUsable = false;

  const observed = ip.interfaces.filter((i) => i.observed !== false);
  // Unread is not missing: never blame an interface the deadline kept us from seeing.
  if (observed.length === 0) return { findings: [], blocking: false, inconclusive: 'deadline' };
  for (const i of observed) {
    if (!i.present) {
      findings.push(finding('IP_INTERFACE_MISSING', i.name, { name: i.name, present: presentNames }));
      continue;
    }
    const gaps = staticGaps(i);
    if (gaps.length && i.configFile) {
      findings.push(finding('IP_STATIC_CONFIG_INCOMPLETE', i.name, { file: i.configFile, missing: gaps }));
    }
    if (isDown(i)) {
      findings.push(finding('IP_INTERFACE_DOWN', i.name, { name: i.name, operState: i.operState, adminUp: i.adminUp }));
      continue;
    }
    const routable = i.ipv4.filter((a) => !isLinkLocalIpv4(a.address));
    const linkLocal = i.ipv4.find((a) => isLinkLocalIpv4(a.address));
    let usable = routable;
    if (routable.length === 0) {
      if (linkLocal && i.assignment === 'static') {
        // Set on purpose (an old internal-switch recipe): it reaches the host, so the layers above
        // are still judged; what they find shows how far it gets (CONTRACT 7.5).
        const args = { name: i.name, address: linkLocal.address, configFile: i.configFile };
        findings.push(finding('IP_LINK_LOCAL_STATIC', i.name, args));
        usable = i.ipv4;
      } else {
        findings.push(
          linkLocal
            ? finding('IP_LINK_LOCAL_ONLY', i.name, { name: i.name, address: linkLocal.address, switchType })
            : finding('IP_NO_ADDRESS', i.name, {
                name: i.name,
                assignment: i.assignment,
                switchType,
                configFile: i.configFile,
              }),
        );
        continue;
      }
    }
    anyUsable = true;
    // The expected address belongs to the VM, so it is compared on the first examined interface (eth0) only.
    const hasExpected = i.ipv4.some((a) => a.address === expectedIp) || i.ipv6.some((a) => a.address === expectedIp);
    if (expectedIp && i === ip.interfaces[0] && !hasExpected) {
      const actual = usable.map((a) => `${a.address}/${a.prefixLength}`);
      findings.push(finding('IP_ADDRESS_MISMATCH', i.name, { name: i.name, actual, expected: expectedIp }));
    }
    const symptoms = counterSymptoms(i);
    if (symptoms)
      findings.push(finding('IP_INTERFACE_ERRORS', i.name, { name: i.name, summary: symptoms, mtu: i.mtu }));
  }

  const examined = observed.filter((i) => i.present);
  const invalid = invalidGateways(ip, examined);
  findings.push(...invalid);
  const hasV4Default = ip.routesObserved === false || ip.defaultRoutes.some((r) => r.family === 4);
  // Without a usable address the missing route is a consequence, not a second cause; so it is of a
  // static Gateway= that networkd could not install because it is outside the prefix.
  const explainedNoRoute = invalid.length > 0;
  if (anyUsable && !hasV4Default && !explainedNoRoute) {
    const interfaces = obs.config.interfaces;
    findings.push(finding('IP_NO_DEFAULT_ROUTE', interfaces.join(','), { interfaces }));
  }
  const multiple = multipleDefaultRoutes(ip, obs.config.interfaces);
  if (multiple) findings.push(multiple);
  const deadRoute = multiple?.severity === 'error';
  const gw = ip.defaultGateway;
  const gatewayInvalid = gw !== null && invalid.some((f) => f.subject === gw.address);
  if (anyUsable && !deadRoute && !gatewayInvalid) {
    const unreachable = gatewayUnreachable(obs);
    if (unreachable) findings.push(unreachable);
  }

  // The plumbing: only once there is a way out to judge.
  let routeBlocking = false;
  if (anyUsable && hasV4Default) {
    const routes = routeConflicts(obs);
    findings.push(...routes.findings);
    routeBlocking = routes.blocking;
    const hole = mtuBlackhole(obs);
    if (hole) findings.push(hole);
  }
  findings.push(...subnetOverlaps(ip, examined), ...mtuMismatches(ip, examined), ...addressConflicts(ip));

  const denied = deniedProbes(obs);
  if (denied.length) findings.push(finding('IP_PING_NOT_PERMITTED', 'ping', { targets: denied }));
  // With several examined NICs, one working NIC with a default route is enough for the layers above to be judged.
  return {
    findings,
    blocking: !anyUsable || !hasV4Default || invalid.length > 0 || deadRoute || routeBlocking,
  };
}

/** Ping or arping that is not permitted weakens every "unreachable" and "no duplicate" verdict: said once. */
function deniedProbes(obs: Observations): string[] {
  const ip = obs.ip;
  const notPermitted = (p: PingOutcome | undefined): boolean =>
    p !== undefined && 'error' in p && p.error === 'not-permitted';
  const gateways = new Set<string>();
  if (ip?.defaultGateway && notPermitted(ip.defaultGateway.ping)) gateways.add(ip.defaultGateway.address);
  for (const r of ip?.defaultRoutes ?? []) if (r.gateway && notPermitted(r.ping)) gateways.add(r.gateway);
  return [
    ...[...gateways].map((g) => `gateway ${g}`),
    ...(obs.dns?.servers ?? []).filter((s) => notPermitted(s.ping)).map((s) => `DNS ${s.address}`),
    ...(ip?.duplicateAddress ?? []).filter((d) => d.error === 'not-permitted').map((d) => `arping ${d.address}`),
  ];
}
