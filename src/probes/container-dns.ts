/**
 * The DNS servers a container will really use, worked out by Docker's own rules, so the check can
 * test them like the VM's (CONTRACT 7.5 `components.dns.containers`). Read from moby's source
 * (github.com/moby/moby; paths as on master, `libnetwork/` at the top level before v28, vendored
 * `github.com/docker/libnetwork` before v23):
 *
 * 1. Servers set for the container win: HostConfig.Dns (a module's createOptions, not visible
 *    here), else daemon.json `dns` (`daemon/container_operations.go`, `buildSandboxOptions`:
 *    `OptionDNS(cfg.DNS)`). They are used as given: no loopback filter, no fallback
 *    (`TransformForLegacyNw` returns early on `NSOverride`; for the embedded resolver they are
 *    external servers reached from the container's namespace, `HostLoopback: false`).
 * 2. Otherwise the host's resolv.conf, and which one depends on the network
 *    (`daemon/container_operations_unix.go`, `buildSandboxPlatformOptions`):
 *    - a **user-defined network** (azure-iot-edge), since v20.10: always `/etc/resolv.conf`, with
 *      no systemd-resolved detection. The embedded resolver (127.0.0.11) takes its nameservers as
 *      upstreams and dials the host's loopback ones (127.0.0.53…) from the host's namespace
 *      (`libnetwork/sandbox_dns_unix.go` `rebuildDNS` → `resolvconf.TransformForIntNS`, which marks
 *      them `HostLoopback`; `resolver.go` `dialExtDNS`). So a stub-only resolv.conf means
 *      containers ask systemd-resolved, i.e. its upstreams in /run/systemd/resolve/resolv.conf:
 *      reported as source `systemd-resolved` with those upstreams.
 *      - v26+ (`beb97f7fdf`, "Refactor 'resolv.conf' generation"): every nameserver, IPv4 and
 *        IPv6, loopback included, becomes an upstream; with none there is **no** fallback
 *        ("DNS resolver has no external nameservers", `setExternalResolvers`): external names fail.
 *      - v20.10–v25 (`setupDNS` + `rebuildDNS`): the IPv4 nameservers are the upstreams (loopback
 *        ones via the host); IPv6 ones stay in the container's resolv.conf after 127.0.0.11
 *        (`::1` removed). When the host file has no IPv4 nameserver at all, the upstreams come
 *        from the container's filtered file, which `FilterResolvDNS` filled with **8.8.8.8 and
 *        8.8.4.4** (and 2001:4860:4860::8888/8844) if no non-loopback server was left: the
 *        public fallback applies then (empty or missing resolv.conf, or only `::1`).
 *      - before v20.10: the daemon's systemd-aware path (below) and the v20.10 rules.
 *    - the **default bridge** (docker0, "legacy" networking, no embedded resolver): the daemon's
 *      `resolv-conf` path, which `resolvconf.Path()` sets to /run/systemd/resolve/resolv.conf when
 *      /etc/resolv.conf's only nameserver is 127.0.0.53; then `TransformForLegacyNw` (v26+) /
 *      `FilterResolvDNS` (before): loopback servers removed (127.0.0.0/8, ::1), IPv6 ones too
 *      unless IPv6 is enabled, and **8.8.8.8/8.8.4.4** (+ Google's IPv6 pair with IPv6) when none
 *      is left.
 * 3. At most 3 are used: the embedded resolver keeps 3 upstreams (`resolver.go`, `maxExtDNS = 3`)
 *    and glibc reads 3 nameserver lines (MAXNS) in a container's resolv.conf.
 * Nameserver lines are read as moby does (`resolvconf.go` `processLine`): '#' or ';' in the first
 * column is a comment, the second field must be an address, other lines are ignored.
 */
import type { ReadText } from '../util/files.js';
import { readTextOrNull, readUtf8 } from '../util/files.js';
import { canonicalIp, inSubnet, parseIp } from '../util/address.js';
import type { DockerDaemonConfig, ReadBytes } from './docker-config.js';
import { DEFAULT_DAEMON_JSON, parseEngineVersion, readDaemonConfig } from './docker-config.js';

/** Docker's public fallback (`resolvconf.go` defaultIPv4NSs / defaultIPv6NSs). */
export const DOCKER_FALLBACK_IPV4: readonly string[] = ['8.8.8.8', '8.8.4.4'];
export const DOCKER_FALLBACK_IPV6: readonly string[] = ['2001:4860:4860::8888', '2001:4860:4860::8844'];
/** systemd-resolved's stub, the one address `resolvconf.Path()` recognises. */
const RESOLVED_STUB = '127.0.0.53';
/** The embedded resolver's upstream slots and glibc's MAXNS: both 3. */
export const MAX_CONTAINER_SERVERS = 3;

export type ContainerNetwork = 'user-defined' | 'default-bridge';

/** Which of moby's rule sets was applied (by engine version; unknown = the v20.10–v25 ones, see below). */
export type MobyRules = 'v26+' | 'v20.10-v25' | 'before-v20.10';

export interface ContainerDns {
  /**
   * Where the servers come from: daemon.json `dns`; the host's resolv.conf; systemd-resolved's
   * upstream file (the stub followed); `docker-default`: Docker's public fallback.
   */
  source: 'daemon.json' | 'resolv.conf' | 'systemd-resolved' | 'docker-default';
  /** The servers containers will ask, in order, at most 3 (empty: none, names will not resolve). */
  servers: string[];
  /** True when the servers are Docker's 8.8.8.8/8.8.4.4 fallback. */
  fallbackPublic: boolean;
  network: ContainerNetwork;
  rules: MobyRules;
  /** Servers on the host's loopback that the embedded resolver reaches from the host's namespace. */
  hostLoopback: string[];
  /** Servers listed but not used (loopback on the default bridge, beyond the third…). */
  ignored: string[];
  /** One or two sentences on how the list was derived, for the report. */
  note: string;
}

export interface ContainerDnsInputs {
  /** The judged daemon.json (docker-config.ts), or null when not read. */
  daemon: Pick<DockerDaemonConfig, 'state' | 'dns'> | null;
  /** /etc/resolv.conf's text, null when missing or unreadable. */
  resolvConf: string | null;
  /** /run/systemd/resolve/resolv.conf's text, null when missing or unreadable. */
  resolvedConf: string | null;
  /** @default 'user-defined' (azure-iot-edge, where edgeHub runs) */
  network?: ContainerNetwork;
  /** dockerd's version ("24.0.9"); null when unknown. */
  engineVersion?: string | null;
  /** The default bridge only: IPv6 enabled on it (daemon.json `ipv6`). @default false */
  ipv6?: boolean;
}

/** Nameserver addresses in file order, read as moby's `processLine` does. */
export function mobyNameservers(text: string | null): string[] {
  if (typeof text !== 'string') return [];
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'nameserver' || fields[1] === undefined) continue;
    if (parseIp(fields[1]) !== null) out.push(fields[1]);
  }
  return out;
}

function isLoopback(address: string): boolean {
  const text = canonicalIp(address, { unmap: true, dropZone: true });
  if (text === null) return false;
  return text === '::1' || inSubnet(text, '127.0.0.0', 8);
}

function isIpv6(address: string): boolean {
  return parseIp(address)?.family === 6;
}

function rulesFor(version: string | null | undefined): MobyRules {
  const v = parseEngineVersion(version);
  if (v === null) return 'v20.10-v25';
  if (v[0] >= 26) return 'v26+';
  if (v[0] > 20 || (v[0] === 20 && v[1] >= 10)) return 'v20.10-v25';
  return 'before-v20.10';
}

function limit(list: readonly string[]): { used: string[]; beyond: string[] } {
  return { used: list.slice(0, MAX_CONTAINER_SERVERS), beyond: list.slice(MAX_CONTAINER_SERVERS) };
}

/**
 * `resolvconf.Path()`: /run/systemd/resolve/resolv.conf when /etc/resolv.conf's one and only
 * nameserver is 127.0.0.53, else /etc/resolv.conf.
 */
function systemdAwareHostFile(inputs: ContainerDnsInputs): { text: string | null; resolved: boolean } {
  const ns = mobyNameservers(inputs.resolvConf);
  if (ns.length === 1 && ns[0] === RESOLVED_STUB) return { text: inputs.resolvedConf, resolved: true };
  return { text: inputs.resolvConf, resolved: false };
}

/**
 * The servers containers on `inputs.network` use, by the rules above. Pure; never throws. With
 * the engine version unknown, the v20.10–v25 rules are applied (every EFLOW release ships a moby
 * in that range or later); they differ from v26+ only when the host's resolv.conf has no IPv4
 * nameserver (the public fallback) and for `::1`.
 */
export function containerDns(inputs: ContainerDnsInputs): ContainerDns {
  const network = inputs.network ?? 'user-defined';
  const rules = rulesFor(inputs.engineVersion);
  const base = { network, rules, hostLoopback: [] as string[], ignored: [] as string[] };

  // 1. daemon.json `dns`.
  const daemon = inputs.daemon;
  if (daemon?.state === 'invalid') {
    return {
      ...base,
      source: 'daemon.json',
      servers: [],
      fallbackPublic: false,
      note: 'daemon.json is invalid: dockerd refuses to start, so no container runs to use any server.',
    };
  }
  const configured = daemon?.state === 'ok' && daemon.dns !== null && daemon.dns.length > 0 ? daemon.dns : null;
  if (configured !== null) {
    const { used, beyond } = limit(configured);
    return {
      ...base,
      source: 'daemon.json',
      servers: used,
      fallbackPublic: false,
      ignored: beyond,
      note:
        'daemon.json "dns" is used as written' +
        (used.some(isLoopback) ? '; a loopback address there means the container itself, not the VM' : '') +
        (beyond.length ? `; only the first ${MAX_CONTAINER_SERVERS} are used` : '') +
        '.',
    };
  }

  if (network === 'default-bridge') return legacyBridge(inputs, base);
  return userDefined(inputs, base, rules);
}

type Base = Pick<ContainerDns, 'network' | 'rules' | 'hostLoopback' | 'ignored'>;

function legacyBridge(inputs: ContainerDnsInputs, base: Base): ContainerDns {
  const host = systemdAwareHostFile(inputs);
  const listed = mobyNameservers(host.text);
  const ipv6 = inputs.ipv6 === true;
  const kept = listed.filter((s) => !isLoopback(s) && (ipv6 || !isIpv6(s)));
  const dropped = listed.filter((s) => !kept.includes(s));
  const from = host.resolved ? 'systemd-resolved' : 'resolv.conf';
  if (kept.length === 0) {
    const fallback = [...DOCKER_FALLBACK_IPV4, ...(ipv6 ? DOCKER_FALLBACK_IPV6 : [])];
    const { used, beyond } = limit(fallback);
    return {
      ...base,
      source: 'docker-default',
      servers: used,
      fallbackPublic: true,
      ignored: [...dropped, ...beyond],
      note:
        `No usable nameserver is left in the ` +
        `${host.resolved ? 'systemd-resolved upstream file' : "host's resolv.conf"}` +
        (dropped.length ? ` (${dropped.join(', ')} removed: loopback or IPv6)` : '') +
        ", so Docker gives default-bridge containers Google's public DNS.",
    };
  }
  const { used, beyond } = limit(kept);
  return {
    ...base,
    source: from,
    servers: used,
    fallbackPublic: false,
    ignored: [...dropped, ...beyond],
    note:
      `Default-bridge containers get a copy of the ` +
      `${from === 'systemd-resolved' ? 'systemd-resolved upstream list (the stub cannot be reached from a container)' : "host's resolv.conf"}` +
      (dropped.length ? `, without ${dropped.join(', ')} (loopback or IPv6)` : '') +
      '.',
  };
}

function userDefined(inputs: ContainerDnsInputs, base: Base, rules: MobyRules): ContainerDns {
  // Before v20.10 the origin file was the systemd-aware one; since then always /etc/resolv.conf.
  const host = rules === 'before-v20.10' ? systemdAwareHostFile(inputs) : { text: inputs.resolvConf, resolved: false };
  const listed = mobyNameservers(host.text);

  let upstream: string[];
  let ignored: string[] = [];
  let fallbackPublic = false;
  if (rules === 'v26+') {
    upstream = listed;
  } else {
    const v4 = listed.filter((s) => !isIpv6(s));
    // IPv6 servers stay in the container's resolv.conf after 127.0.0.11 (FilterResolvDNS drops ::1).
    const v6 = listed.filter((s) => isIpv6(s) && !isLoopback(s));
    ignored = listed.filter((s) => isIpv6(s) && isLoopback(s));
    if (v4.length > 0) {
      upstream = [...v4.slice(0, MAX_CONTAINER_SERVERS), ...v6.slice(0, MAX_CONTAINER_SERVERS - 1)];
      ignored.push(...v4.slice(MAX_CONTAINER_SERVERS), ...v6.slice(MAX_CONTAINER_SERVERS - 1));
    } else if (v6.length > 0) {
      upstream = v6.slice(0, MAX_CONTAINER_SERVERS - 1);
      ignored.push(...v6.slice(MAX_CONTAINER_SERVERS - 1));
    } else {
      // The IPv6 pair is also written after 127.0.0.11; glibc asks it only when the embedded
      // resolver fails, and only a container with IPv6 reaches it: the note says so.
      upstream = [...DOCKER_FALLBACK_IPV4];
      fallbackPublic = true;
    }
  }
  if (fallbackPublic) {
    return {
      ...base,
      source: 'docker-default',
      servers: upstream,
      fallbackPublic: true,
      ignored,
      note:
        "The host's resolv.conf has no nameserver Docker can use, so the embedded resolver forwards to Google's " +
        'public DNS ' +
        '(8.8.8.8, 8.8.4.4; the IPv6 pair is listed after 127.0.0.11).',
    };
  }
  if (upstream.length === 0) {
    return {
      ...base,
      source: host.resolved ? 'systemd-resolved' : 'resolv.conf',
      servers: [],
      fallbackPublic: false,
      ignored,
      note:
        "The host's resolv.conf has no nameserver: the embedded resolver has no upstream, and names outside the " +
        'Docker network will not resolve.',
    };
  }
  const { used, beyond } = rules === 'v26+' ? limit(upstream) : { used: upstream, beyond: [] as string[] };
  ignored.push(...beyond);
  const hostLoopback = used.filter(isLoopback);

  // Only the systemd-resolved stub: containers end up asking resolved, which asks its upstreams.
  if (used.length === 1 && used[0] === RESOLVED_STUB && !host.resolved) {
    const upstreams = mobyNameservers(inputs.resolvedConf).filter((s) => s !== RESOLVED_STUB && s !== '127.0.0.54');
    return {
      ...base,
      source: 'systemd-resolved',
      servers: upstreams,
      fallbackPublic: false,
      hostLoopback: [RESOLVED_STUB],
      ignored,
      note:
        "The embedded resolver forwards to the host's systemd-resolved stub (127.0.0.53, reached from the VM's " +
        'namespace), ' +
        (upstreams.length
          ? 'which asks the upstream servers listed.'
          : 'which has no upstream server in /run/systemd/resolve/resolv.conf: names will not resolve unless ' +
            'resolved has a fallback.') +
        (rules === 'v20.10-v25'
          ? " Docker before v26 also writes Google's IPv6 servers after 127.0.0.11, asked only if the embedded " +
            'resolver fails.'
          : ''),
    };
  }
  return {
    ...base,
    source: host.resolved ? 'systemd-resolved' : 'resolv.conf',
    servers: used,
    fallbackPublic: false,
    hostLoopback,
    ignored,
    note:
      "The embedded resolver (127.0.0.11) forwards to the host's nameservers" +
      (hostLoopback.length
        ? `; ${hostLoopback.join(', ')} on the VM's loopback is reached from the VM's namespace`
        : '') +
      (ignored.length ? `; not used: ${ignored.join(', ')}` : '') +
      '.',
  };
}

export interface ContainerDnsReadOptions {
  /** @default /etc/docker/daemon.json */
  daemonConfigPath?: string;
  /** @default /etc/resolv.conf */
  resolvConfPath?: string;
  /** @default /run/systemd/resolve/resolv.conf */
  resolvedConfPath?: string;
  read?: ReadText;
  readBytes?: ReadBytes;
  network?: ContainerNetwork;
  engineVersion?: string | null;
  ipv6?: boolean;
}

/** Reads daemon.json and both resolv.conf files, then applies `containerDns`. Never throws. */
export async function readContainerDns(
  opts: ContainerDnsReadOptions = {},
): Promise<{ daemon: DockerDaemonConfig; containers: ContainerDns }> {
  const read = opts.read ?? readUtf8;
  const [daemon, resolvConf, resolvedConf] = await Promise.all([
    readDaemonConfig(opts.daemonConfigPath ?? DEFAULT_DAEMON_JSON, {
      ...(opts.readBytes ? { readBytes: opts.readBytes } : {}),
      engineVersion: opts.engineVersion ?? null,
    }),
    readTextOrNull(opts.resolvConfPath ?? '/etc/resolv.conf', read),
    readTextOrNull(opts.resolvedConfPath ?? '/run/systemd/resolve/resolv.conf', read),
  ]);
  const containers = containerDns({
    daemon,
    resolvConf,
    resolvedConf,
    network: opts.network ?? 'user-defined',
    engineVersion: opts.engineVersion ?? null,
    ipv6: opts.ipv6 ?? false,
  });
  return { daemon, containers };
}
