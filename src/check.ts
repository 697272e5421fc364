/**
 * runCheck(): one full check. Every probe starts as soon as its own input is known (the
 * three layers run side by side: diagnosis, not scheduling, decides what an earlier failure
 * means), under one deadline. When the deadline fires, whatever is still pending is recorded
 * as timed out and the report is returned anyway.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { SecureContext } from 'node:tls';
import type { CheckConfig, Endpoint } from './config/types.js';
import { DEFAULT_DPS_HOST } from './config/options.js';
import { diagnose } from './diagnosis/diagnose.js';
import type { Observations } from './diagnosis/observations.js';
import { assignmentOf, matchNetworkFile } from './probes/networkd.js';
import { isPublicResolver } from './probes/public-resolvers.js';
import type { DefaultRoute, InterfaceObservation, NetworkdFile, ProbeContext, ResolverConfig } from './probes/types.js';
import type {
  DhcpLease,
  DnsQueryReport,
  HostInfo,
  DnsServerReport,
  EndpointProtocol,
  EndpointReport,
  GatewayReport,
  InterfaceReport,
  PingOutcome,
  Report,
  Trigger,
} from './report/types.js';
import { VERSION } from './version.js';

/** The probes, passed in so tests and the bench can swap any of them. */
export interface CheckDeps {
  observeInterfaces(names: string[]): Promise<InterfaceObservation[]>;
  readDefaultRoutes(): Promise<DefaultRoute[]>;
  readNetworkd(dir: string): Promise<{ files: NetworkdFile[]; problems: string[] }>;
  readLease(dir: string, ifindex: number): Promise<DhcpLease | null>;
  readResolvers(resolvConf: string, resolvedConf: string): Promise<ResolverConfig>;
  ping(host: string, opts: { count: number; timeoutMs: number; signal: AbortSignal }): Promise<PingOutcome>;
  queryDns(server: string, name: string, type: 'A' | 'AAAA', ctx: ProbeContext): Promise<DnsQueryReport>;
  loadTrust(caFile: string | null): Promise<{ secureContext: SecureContext; problems: string[] }>;
  hostInfo(): Promise<HostInfo | null>;
  probeEndpoint(
    target: { host: string; port: number; protocol: EndpointProtocol },
    ctx: ProbeContext & {
      secureContext: SecureContext;
      lookup?: (host: string, signal: AbortSignal) => Promise<string>;
    },
  ): Promise<EndpointReport>;
  /** A system-resolver lookup for one check (shared per host); default: the probe's own. */
  newLookup?(timeoutMs: number): (host: string, signal: AbortSignal) => Promise<string>;
}

export interface CheckOptions {
  trigger: Trigger;
  /** Aborts the check from outside (SIGTERM): pending probes are reported as timed out. */
  signal?: AbortSignal;
}

const HUB_PORTS: ReadonlyArray<{ port: number; protocol: EndpointProtocol }> = [
  { port: 8883, protocol: 'mqtt' },
  { port: 5671, protocol: 'amqp' },
  { port: 443, protocol: 'https' },
];
const MAX_DNS_SERVERS = 8;
const PING_COUNT = 3;
/** Time kept back from the deadline for diagnosis and output. */
const RESERVE_MS = 100;
/** After the deadline, probes get this long to report their own aborted state before being replaced. */
const GRACE_MS = 40;

export function protocolForPort(port: number): EndpointProtocol {
  return HUB_PORTS.find((p) => p.port === port)?.protocol ?? 'custom';
}

/** The endpoints a check tests: the hub's (or DPS's) three ports, then every extra one. */
export function endpointTargets(
  config: Pick<CheckConfig, 'hub' | 'endpoints'>,
): Array<Endpoint & { protocol: EndpointProtocol; role: 'hub' | 'dps' | 'extra' }> {
  const host = config.hub ?? DEFAULT_DPS_HOST;
  const role = config.hub ? 'hub' : 'dps';
  const targets = HUB_PORTS.map((p) => ({ host, port: p.port, protocol: p.protocol, role }) as const);
  const seen = new Set(targets.map((t) => `${t.host}:${t.port}`));
  const extras = config.endpoints
    .filter((e) => !seen.has(`${e.host}:${e.port}`) && seen.add(`${e.host}:${e.port}`))
    .map((e) => ({ ...e, protocol: protocolForPort(e.port), role: 'extra' as const }));
  return [...targets, ...extras];
}

export function dnsNamesFor(config: Pick<CheckConfig, 'hub' | 'dnsNames'>): string[] {
  return config.dnsNames.length ? config.dnsNames : [config.hub ?? DEFAULT_DPS_HOST];
}

/** Races one probe against the deadline; a late probe is replaced by its timed-out form and named. */
class Deadline {
  readonly timedOut: string[] = [];
  private readonly controller = new AbortController();
  private readonly expired: Promise<void>;
  private readonly timer: NodeJS.Timeout;

  private readonly detach: () => void;

  constructor(ms: number, outer?: AbortSignal) {
    // Every probe of a check listens on this one signal: more than Node's default of 10.
    setMaxListeners(0, this.controller.signal);
    this.timer = setTimeout(() => this.controller.abort(), ms);
    const onOuter = () => this.controller.abort();
    outer?.addEventListener('abort', onOuter, { once: true });
    // The module's signal lives as long as the process: a listener left on it per check would leak.
    this.detach = () => outer?.removeEventListener('abort', onOuter);
    if (outer?.aborted) this.controller.abort();
    this.expired = new Promise((resolve) =>
      this.controller.signal.addEventListener('abort', () => setTimeout(resolve, GRACE_MS), { once: true }),
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  guard<T>(name: string, work: Promise<T>, late: () => T): Promise<T> {
    let counted = false;
    const cutShort = () => {
      if (!counted && this.controller.signal.aborted && !this.disposed) this.timedOut.push(name);
      counted = true;
    };
    return Promise.race([
      // A probe that finished only because the deadline aborted it was cut short too.
      work.then((r) => (cutShort(), r)),
      this.expired.then(() => (cutShort(), late())),
    ]);
  }

  private disposed = false;

  dispose(): void {
    this.disposed = true;
    this.detach();
    clearTimeout(this.timer);
    this.controller.abort(); // releases every probe still listening
  }
}

function timedOutQuery(name: string, type: 'A' | 'AAAA'): DnsQueryReport {
  return {
    name,
    type,
    outcome: 'timeout',
    rcode: null,
    answers: [],
    rttMs: null,
    transport: 'udp',
    detail: 'check deadline reached',
  };
}

function timedOutPing(): PingOutcome {
  return { sent: PING_COUNT, received: 0, lossPercent: 100, rttAvgMs: null };
}

export async function runCheck(config: CheckConfig, deps: CheckDeps, options: CheckOptions): Promise<Report> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const deadline = new Deadline(Math.max(config.deadlineMs - RESERVE_MS, 50), options.signal);
  const timings: Record<string, number> = {};
  const wants = new Set(config.components);
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };

  try {
    const host = deadline.guard('host info', deps.hostInfo(), () => null);
    const [ip, dns, firewall] = await Promise.all([
      wants.has('ip') ? timed('ip', () => examineIp(config, deps, deadline)) : null,
      wants.has('dns') ? timed('dns', () => examineDns(config, deps, deadline)) : null,
      wants.has('firewall') ? timed('firewall', () => examineFirewall(config, deps, deadline)) : null,
    ]);
    const observations: Observations = { config, ip, dns, firewall };
    const d = diagnose(observations);
    return {
      schemaVersion: 1,
      agent: { name: 'eflow-netdiag', version: VERSION },
      host: await host,
      checkId: randomUUID(),
      trigger: options.trigger,
      startedAt,
      durationMs: Math.round(performance.now() - started),
      status: d.status,
      failingComponent: d.failingComponent,
      components: {
        ip: { status: d.components.ip, interfaces: ip?.interfaces ?? [], defaultGateway: ip?.defaultGateway ?? null },
        dns: {
          status: d.components.dns,
          source: dns?.resolvers.source ?? 'resolv.conf',
          files: dns?.resolvers.files ?? [],
          servers: dns?.servers ?? [],
        },
        firewall: {
          status: d.components.firewall,
          upstreamProtocol: config.upstreamProtocol,
          endpoints: firewall?.endpoints ?? [],
        },
      },
      findings: d.findings,
      timings,
      timedOut: deadline.timedOut,
    };
  } finally {
    deadline.dispose();
  }
}

async function examineIp(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
): Promise<NonNullable<Observations['ip']>> {
  const unread = (name: string): InterfaceObservation & { observed: false } => ({
    observed: false,
    name,
    present: false,
    ifindex: null,
    operState: null,
    adminUp: null,
    mac: null,
    mtu: null,
    ipv4: [],
    ipv6: [],
    counters: null,
  });
  const [observed, routes, networkd] = await Promise.all([
    deadline.guard('interfaces', deps.observeInterfaces(config.interfaces), () => config.interfaces.map(unread)),
    deadline.guard('routes', deps.readDefaultRoutes(), () => null),
    deadline.guard('networkd', deps.readNetworkd(config.networkdDir), () => ({
      files: [],
      problems: ['timed out reading'],
    })),
  ]);

  const routesObserved = routes !== null;
  const defaultRoutes = routes ?? [];
  // Only a gateway on an examined interface is pinged: with --interface lo on a workstation, the
  // machine's own gateway is none of this check's business.
  const gatewayRoute =
    defaultRoutes.find((r) => r.family === 4 && config.interfaces.includes(r.interface)) ??
    defaultRoutes.find((r) => r.family === 4);
  const pingGateway = gatewayRoute !== undefined && config.interfaces.includes(gatewayRoute.interface);
  const gatewayPing =
    gatewayRoute && pingGateway
      ? deadline.guard(
          `ping gateway ${gatewayRoute.gateway}`,
          deps.ping(gatewayRoute.gateway, { count: PING_COUNT, timeoutMs: config.timeoutMs, signal: deadline.signal }),
          timedOutPing,
        )
      : Promise.resolve(null);

  const interfaces = await Promise.all(
    observed.map(async (o): Promise<InterfaceReport> => {
      const file = matchNetworkFile(networkd.files, o.name, o.mac);
      const lease =
        o.ifindex === null
          ? null
          : await deadline.guard(`lease ${o.name}`, deps.readLease(config.leasesDir, o.ifindex), () => null);
      return {
        name: o.name,
        ...('observed' in o ? { observed: false } : {}),
        present: o.present,
        operState: o.operState,
        adminUp: o.adminUp,
        mac: o.mac,
        mtu: o.mtu,
        ipv4: o.ipv4,
        ipv6: o.ipv6,
        // A lease without a file still tells us DHCP is in use (networkd only writes leases for DHCP links).
        assignment: file ? assignmentOf(file) : lease ? 'dhcp' : 'unknown',
        configFile: file?.path ?? null,
        config: file
          ? {
              dhcp: file.dhcp,
              addresses: file.addresses,
              gateways: file.gateways,
              dns: file.dns,
              problems: file.problems,
            }
          : null,
        lease,
        counters: o.counters,
      };
    }),
  );

  const ping = await gatewayPing;
  let defaultGateway: GatewayReport | null = null;
  if (gatewayRoute) {
    const stats = ping && !('error' in ping) ? ping : null;
    defaultGateway = {
      address: gatewayRoute.gateway,
      interface: gatewayRoute.interface,
      reachable: stats ? stats.received > 0 : null,
      rttMs: stats?.rttAvgMs ?? null,
      ...(ping ? { ping } : {}),
    };
  }
  return { interfaces, defaultRoutes, routesObserved, defaultGateway };
}

async function examineDns(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
): Promise<NonNullable<Observations['dns']>> {
  const resolvers = await deadline.guard(
    'resolvers',
    deps.readResolvers(config.resolvConf, config.resolvedConf),
    () => ({
      source: 'resolv.conf' as const,
      files: [config.resolvConf],
      servers: [],
      stub: false,
      problems: ['timed out reading'],
    }),
  );
  const names = dnsNamesFor(config);
  const servers = await Promise.all(
    resolvers.servers.slice(0, MAX_DNS_SERVERS).map(async (address): Promise<DnsServerReport> => {
      const [ping, ...queries] = await Promise.all([
        deadline.guard(
          `ping dns ${address}`,
          deps.ping(address, { count: PING_COUNT, timeoutMs: config.timeoutMs, signal: deadline.signal }),
          timedOutPing,
        ),
        ...names.map((name) =>
          deadline.guard(
            `dns ${address} ${name}`,
            deps.queryDns(address, name, 'A', { signal: deadline.signal, timeoutMs: config.timeoutMs }),
            () => timedOutQuery(name, 'A'),
          ),
        ),
      ]);
      return {
        address,
        public: isPublicResolver(address),
        ping: ping as PingOutcome,
        queries: queries as DnsQueryReport[],
      };
    }),
  );
  return { resolvers, servers, names };
}

async function examineFirewall(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
): Promise<NonNullable<Observations['firewall']>> {
  const trust = await deps.loadTrust(config.caFile);
  const lookup = deps.newLookup?.(config.timeoutMs);
  const endpoints = await Promise.all(
    endpointTargets(config).map(async (t): Promise<EndpointReport> => {
      const report = await deadline.guard(
        `connect ${t.host}:${t.port}`,
        deps.probeEndpoint(t, {
          signal: deadline.signal,
          timeoutMs: config.timeoutMs,
          secureContext: trust.secureContext,
          ...(lookup ? { lookup } : {}),
        }),
        (): EndpointReport => ({
          host: t.host,
          port: t.port,
          protocol: t.protocol,
          address: null,
          outcome: 'blocked',
          resolveMs: null,
          tcpConnectMs: null,
          error: { phase: 'connect', code: 'DEADLINE', message: 'the check deadline was reached first' },
        }),
      );
      return { ...report, role: t.role };
    }),
  );
  return { endpoints, trustProblems: trust.problems };
}
