/**
 * The gateway rules of the IP layer: a gateway that cannot be one (CONTRACT 7.5
 * IP_GATEWAY_INVALID), several default routes of which the kernel may pick the dead one
 * (IP_MULTIPLE_DEFAULT_ROUTES), and a gateway that does not answer ping, judged by what works
 * beyond it (7.6: info when DNS or an endpoint beyond it works, since Windows hosts drop ICMP).
 */
import { finding } from '../findings/finding.js';
import type { GatewayFault } from '../findings/ip.js';
import { describePing } from '../findings/phrases.js';
import type { DefaultRouteReport, Finding, InterfaceReport } from '../report/types.js';
import { ipv4Broadcast, inSubnet, networkOf, parseCidr } from '../util/address.js';
import { serverWorks } from './dns-servers.js';
import type { Observations } from './observations.js';

type IpObservations = NonNullable<Observations['ip']>;

interface Prefix {
  address: string;
  prefixLength: number;
}

/**
 * What is wrong with `gateway` for an interface holding `prefixes`, or null. Prefixes of /31 and
 * /32 have no room for a gateway inside, so point-to-point setups (an on-link gateway outside a
 * /32) are not judged; neither is an interface with no IPv4 prefix (IP_NO_ADDRESS says that).
 */
export function gatewayFault(gateway: string, prefixes: readonly Prefix[]): GatewayFault | null {
  const v4 = prefixes.filter((p) => !p.address.includes(':'));
  if (gateway.includes(':') || v4.length === 0) return null;
  if (v4.some((p) => p.address === gateway)) return 'own-address';
  const inside = v4.filter((p) => inSubnet(gateway, p.address, p.prefixLength));
  if (inside.length === 0) return v4.every((p) => p.prefixLength >= 31) ? null : 'outside';
  for (const p of inside) {
    if (p.prefixLength > 30) continue;
    if (gateway === networkOf(p.address, p.prefixLength)) return 'network-address';
    if (gateway === ipv4Broadcast(p.address, p.prefixLength)) return 'broadcast-address';
  }
  return null;
}

function prefixText(prefixes: readonly Prefix[]): string[] {
  return prefixes.map((p) => `${networkOf(p.address, p.prefixLength) ?? p.address}/${p.prefixLength}`);
}

/**
 * IP_GATEWAY_INVALID for each gateway a static file configures and each default route of an
 * examined interface, judged against that interface's prefixes (configured ones for the file,
 * the addresses it holds for the kernel's route); one finding per gateway.
 */
export function invalidGateways(ip: IpObservations, examined: readonly InterfaceReport[]): Finding[] {
  const out = new Map<string, Finding>();
  for (const i of examined) {
    if (i.assignment === 'static' && i.config) {
      const configured = i.config.addresses
        .filter((a) => a.includes('/'))
        .map(parseCidr)
        .filter((c): c is Prefix => c !== null);
      for (const gateway of i.config.gateways.filter((g) => !g.includes(':'))) {
        const fault = gatewayFault(gateway, configured);
        if (fault && !out.has(gateway)) {
          const args = { gateway, iface: i.name, fault, prefixes: prefixText(configured), configFile: i.configFile };
          out.set(gateway, finding('IP_GATEWAY_INVALID', gateway, { ...args, assignment: 'static' }));
        }
      }
    }
    for (const r of ip.defaultRoutes) {
      if (r.family !== 4 || r.gateway === null || r.interface !== i.name || out.has(r.gateway)) continue;
      const fault = gatewayFault(r.gateway, i.ipv4);
      if (!fault) continue;
      const args = { gateway: r.gateway, iface: i.name, fault, prefixes: prefixText(i.ipv4), configFile: i.configFile };
      out.set(r.gateway, finding('IP_GATEWAY_INVALID', r.gateway, { ...args, assignment: i.assignment }));
    }
  }
  return [...out.values()];
}

/**
 * IP_MULTIPLE_DEFAULT_ROUTES when there are several IPv4 default routes and one of them leaves by
 * an examined interface: a warning naming the one in use, an error when its gateway answers
 * neither ARP nor ping while another default route's gateway does.
 */
export function multipleDefaultRoutes(ip: IpObservations, interfaces: readonly string[]): Finding | null {
  const v4 = ip.defaultRoutes.filter((r) => r.family === 4);
  if (v4.length < 2 || !v4.some((r) => r.interface !== null && interfaces.includes(r.interface))) return null;
  const inUse = v4.find((r) => r.inUse) ?? v4[0];
  if (inUse === undefined) return null;
  const describe = (r: DefaultRouteReport) => ({
    gateway: r.gateway ?? 'on-link',
    iface: r.interface ?? '?',
    metric: r.metric,
    answers: r.reachable,
  });
  const others = v4.filter((r) => r !== inUse);
  const dead = inUse.reachable === false && others.some((o) => o.reachable === true);
  const args = { inUse: describe(inUse), others: others.map(describe) };
  return finding('IP_MULTIPLE_DEFAULT_ROUTES', inUse.interface ?? 'default', args, dead ? 'error' : 'warning');
}

/**
 * What works beyond `gateway`: a DNS server that answered or an endpoint that TCP-connected,
 * whose route goes through that gateway (or that is the gateway itself); when no route was looked
 * up, anything that worked counts. A label for the message, or null.
 */
export function workingBeyond(obs: Observations, gateway: string): string | null {
  const routes = obs.ip?.routes ?? [];
  const via = (address: string | null): boolean => {
    if (address === null) return false;
    if (address === gateway) return true;
    const r = routes.find((x) => x.destination === address);
    return r === undefined ? routes.length === 0 : r.kind === 'gateway' && r.gateway === gateway;
  };
  const server = obs.dns?.servers.find((s) => serverWorks(s) && via(s.address));
  if (server) return `DNS server ${server.address}`;
  const endpoint = obs.firewall?.endpoints.find((e) => e.tcpConnectMs !== null && via(e.address));
  return endpoint ? `${endpoint.host}:${endpoint.port}` : null;
}

/** IP_GATEWAY_UNREACHABLE for the gateway in use that did not answer ping: info when something beyond it works. */
export function gatewayUnreachable(obs: Observations): Finding | null {
  const gw = obs.ip?.defaultGateway;
  if (!gw || gw.reachable !== false) return null;
  const beyond = workingBeyond(obs, gw.address);
  const args = { gateway: gw.address, iface: gw.interface, detail: describePing(gw.ping), arp: gw.arp ?? null, beyond };
  return finding('IP_GATEWAY_UNREACHABLE', gw.address, args, beyond ? 'info' : 'warning');
}
