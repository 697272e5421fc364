/**
 * The proxy layer's measurements (CONTRACT 7.1): which proxy the check tests through, and where
 * the device's components take theirs from. The proxy used is, in order: the check's own option
 * (--proxy, desired `proxy`, NETDIAG_PROXY), this process's https_proxy/HTTPS_PROXY, else the
 * first IoT Edge host setting that names one (edgeAgent's [agent.env], aziot-identityd,
 * aziot-edged, docker): a CLI run with sudo has no https_proxy of its own, but the daemons it
 * diagnoses do. The CONNECT outcomes come from the endpoint probes (firewall.ts), which open the
 * tunnels through the proxy chosen here.
 *
 * Secrets: the URL as written (its password) lives in `ProxyChoice.raw` only, which is passed to
 * the probe that sends Proxy-Authorization and nowhere else; everything reported is masked.
 */
import type { CheckConfig } from '../config/types.js';
import type { Deadline } from '../deadline.js';
import type { Observations } from '../diagnosis/observations.js';
import { parseProxyUrl, type ProxyUrlInfo } from '../probes/proxy-url.js';
import type { ProxySource as ProbedSource, ProxySourceComponent } from '../probes/proxy-sources.js';
import type { CheckDeps } from '../probes/types.js';
import type { ProxyConnect, ProxySource } from '../report/types.js';

/** The order host settings are taken in when neither the check nor its process names a proxy. */
const HOST_ORDER: readonly ProxySourceComponent[] = ['edgeAgent', 'aziot-identityd', 'aziot-edged', 'docker'];

export interface ProxyChoice {
  /** The URL as written (may hold a password: never report it); null: no proxy. */
  raw: string | null;
  /**
   * What the tunnels go through: `raw`, or its http:// form when it was written https:// (or with no scheme); null:
   * nothing usable.
   */
  tunnelVia: string | null;
  /** `raw` parsed (masked, password-free); null without a proxy. */
  info: ProxyUrlInfo | null;
  /** Where `raw` came from. */
  source: string | null;
  /** The no_proxy list that applies to it. */
  noProxy: string | null;
  sources: ProbedSource[];
}

export const NO_PROXY_CHOICE: ProxyChoice = {
  raw: null,
  tunnelVia: null,
  info: null,
  source: null,
  noProxy: null,
  sources: [],
};

/**
 * The http:// form of a proxy URL IoT Edge cannot use as written but that names a host and port:
 * `https://p:3129` → `http://p:3129` (an https URL without a port keeps 443), `p:3128` → `http://p:3128`.
 */
export function plainHttpForm(raw: string, info: ProxyUrlInfo): string | null {
  if (info.host === null || info.port === null) return null;
  const text = raw.trim();
  if (info.problem === 'no-scheme') return `http://${text}`;
  if (info.problem !== 'scheme' || info.scheme !== 'https') return null;
  const rest = text.replace(/^https:\/\//i, '');
  if (!info.portDefaulted) return `http://${rest}`;
  // Keep the port the https:// URL meant (443): http:// alone would mean 80.
  const at = rest.lastIndexOf('@');
  const userinfo = at === -1 ? '' : rest.slice(0, at + 1);
  const after = at === -1 ? rest : rest.slice(at + 1);
  const end = after.search(/[/?#]/);
  const hostport = end === -1 ? after : after.slice(0, end);
  return `http://${userinfo}${hostport}:${info.port}${end === -1 ? '' : after.slice(end)}`;
}

function choice(raw: string, source: string, noProxy: string | null, sources: ProbedSource[]): ProxyChoice {
  const info = parseProxyUrl(raw);
  return { raw, tunnelVia: info.valid ? raw : plainHttpForm(raw, info), info, source, noProxy, sources };
}

/** Decides the proxy of this check (see the module comment); never throws. */
export async function chooseProxy(config: CheckConfig, deps: CheckDeps, deadline: Deadline): Promise<ProxyChoice> {
  const rawUrls = new Map<ProxySourceComponent, string>();
  const read = deps.proxySources?.({ configToml: config.aziotConfig, systemdDir: config.systemdDir, rawUrls });
  const sources = read
    ? await deadline.guard(
        'proxy sources',
        read.catch(() => []),
        () => [],
      )
    : [];
  const byComponent = new Map(sources.map((s) => [s.component, s]));
  const processSource = byComponent.get('process');
  if (config.proxy !== null)
    return choice(config.proxy, config.proxySource ?? 'configuration', processSource?.noProxy ?? null, sources);
  const processRaw = rawUrls.get('process');
  if (processRaw !== undefined && processSource?.state === 'set') {
    const name = processSource.origin[0] ?? 'https_proxy';
    return choice(processRaw, name, processSource.noProxy, sources);
  }
  for (const component of HOST_ORDER) {
    const s = byComponent.get(component);
    const raw = rawUrls.get(component);
    if (s?.state !== 'set' || raw === undefined) continue;
    return choice(raw, `${component} (${s.origin.join(', ')})`, s.noProxy, sources);
  }
  return { ...NO_PROXY_CHOICE, sources };
}

function reportedSource(s: ProbedSource): ProxySource {
  return {
    component: s.component,
    url: s.url,
    state: s.state,
    ...(s.unknownReason ? { unknownReason: s.unknownReason } : {}),
    origin: s.origin,
    valid: s.parsed === null ? null : s.parsed.valid,
    noProxy: s.noProxy,
    problems: s.problems,
  };
}

/** The proxy layer's observation: the choice, masked, and what the tunnels through it met. */
export function proxyObservation(
  chosen: ProxyChoice,
  connect: ProxyConnect[],
  bypassed: string[],
): NonNullable<Observations['proxy']> {
  const sources = chosen.sources.map(reportedSource);
  if (chosen.raw === null || chosen.info === null) return { url: null, source: null, sources, connect: [] };
  const testedAs = chosen.info.valid || chosen.tunnelVia === null ? null : parseProxyUrl(chosen.tunnelVia).url;
  return {
    url: chosen.info.url,
    source: chosen.source,
    valid: chosen.info.valid,
    problem: chosen.info.detail,
    testedAs,
    noProxy: chosen.noProxy,
    bypassed,
    sources,
    connect,
  };
}
