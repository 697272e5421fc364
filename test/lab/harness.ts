/**
 * The namespace lab of LAB.md: a `vm` namespace whose `eth0` is one end of a veth pair, and a `net`
 * namespace on the other end holding the gateway, the DNS servers and the "IoT Hub" TLS listeners.
 * Faults are injected with nft, `ip link`/`ip addr`/`ip route`, and server modes; the real CLI runs
 * inside the vm namespace and every report it prints is validated against the published schema.
 *
 * Safety (LAB.md): the veth is created directly inside the lab namespaces (nothing in the host
 * namespace), forwarding is off in both, no route leads out, and every address is in 198.18.0.0/15.
 * The vm namespace also gets its own nsswitch.conf and hosts file, so name lookups made by the check
 * can only reach the lab's DNS servers (never the host's resolver through nss plugins).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCa, issueServerCert, removeCa } from '../support/pki.js';
import type { Ca } from '../support/pki.js';
import type { DnsServerMode } from '../support/dns-server.js';
import { assertValidReport } from '../support/report-schema.js';
import type { Report } from '../../src/report/types.js';
import {
  extraNetnsName,
  ISOLATED_NSSWITCH_CONF,
  NETNS_DIR,
  newLabNames,
  removeNetnsSync,
  sweepLeftovers,
} from './lab-names.js';
import type { LabNames } from './lab-names.js';
import { exec, ipPath, run, startInNetns } from './lab-process.js';
import type { LabServer, StartOptions } from './lab-process.js';
import type { NsProbe, NsProbeResult } from './ns-probe.js';
import type { PortMode as TlsHubPortMode } from './tls-hub-server.js';
import { findTool } from './require-lab.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = join(REPO_ROOT, 'dist', 'main.js');
export const DNS_SERVER_SCRIPT = join(REPO_ROOT, 'test', 'support', 'dns-server.ts');
const TLS_HUB_SCRIPT = fileURLToPath(new URL('./tls-hub-server.ts', import.meta.url));
const NS_PROBE_SCRIPT = fileURLToPath(new URL('./ns-probe.ts', import.meta.url));

export const HUB_NAME = 'lab-hub.azure-devices.net';
export const HUB_PORTS = [8883, 5671, 443] as const;
export const LAB_CA_NAME = 'eflow-netdiag Lab Root CA';
/** The CA a simulated TLS-inspecting proxy signs with; scenarios look for this name in findings. */
export const INSPECTION_CA_NAME = 'Contoso TLS Inspection CA';

/** Every address the lab uses; all inside 198.18.0.0/15. */
export const LAB_ADDR = {
  vm: '198.18.0.10',
  gateway: '198.18.0.1',
  prefixLength: 24,
  hub: '198.18.1.10',
  dns: '198.18.1.53',
  dns2: '198.18.1.54',
  dns3: '198.18.1.55',
  /** An address nobody holds: traffic to it goes nowhere. */
  nowhere: '198.18.1.99',
} as const;

/** How each hub port behaves: the modes of tls-hub-server.ts, which the harness runs. */
export type PortMode = TlsHubPortMode;
/** The canned behaviours of test/support/dns-server.ts, which the harness runs for scriptedDns. */
export type ScriptedDnsMode = DnsServerMode;
export type LabSide = 'vm' | 'net';
/**
 * Namespaces a lab may add beside vm and net (test/lab/field-lab.ts): a container on a bridge in the
 * vm (ctr), a host holding the vm's address on its segment (dup), the far end of a second interface
 * (alt). The value is the letter that ends the namespace name.
 */
export const EXTRA_NAMESPACES = { ctr: 'c', dup: 'd', alt: 'a' } as const;
export type ExtraNamespace = keyof typeof EXTRA_NAMESPACES;
export type LabNamespace = LabSide | ExtraNamespace;

export interface DnsmasqOptions {
  /** The address it listens on (port 53). Added to the namespace's loopback if not already there. */
  address: string;
  /** Where it runs; 'vm' is for a local stub such as systemd-resolved's 127.0.0.53, 'ctr' for
   *  Docker's embedded resolver 127.0.0.11. Default 'net'. */
  ns?: LabNamespace;
  /** Names it answers with an A record; AAAA gets NODATA. Default: the hub name → the hub address. */
  hosts?: Record<string, string>;
  /** Domains answered from local data only (unknown names NXDOMAIN); '#' is every domain.
   *  Default ['#'] without an upstream, [] with one. */
  localDomains?: string[];
  /** Forward everything it does not know to this server (makes it a stub). */
  upstream?: string;
}

export interface ScriptedDnsOptions {
  address: string;
  mode: ScriptedDnsMode;
  /** name → IPv4 for the modes that answer. Default: the hub name → the hub address. */
  records?: Record<string, string>;
}

export interface LeaseOptions {
  address: string;
  prefixLength: number;
  router: string | null;
  server: string;
  dns: string[];
  lifetimeSeconds: number;
}

export interface LabOptions {
  /** Shown in failure messages. */
  label?: string;
  /** eth0's IPv4 address in CIDR form; null leaves eth0 without one. Default 198.18.0.10/24. */
  vmAddress?: string | null;
  /** Add `default via 198.18.0.1` in the vm. Default true. */
  defaultRoute?: boolean;
  /** The hub's TLS listeners: port → mode. false: no hub at all. Default all three ports trusted. */
  hub?: false | { ports?: Partial<Record<number, PortMode>> };
  /** dnsmasq instances. Default one on 198.18.1.53 that knows the hub. */
  dnsmasq?: DnsmasqOptions[];
  /** Scriptable DNS servers (test/support/dns-server.ts) for faults dnsmasq cannot make. */
  scriptedDns?: ScriptedDnsOptions[];
  /** Extra addresses held by the net namespace without any server behind them. */
  serverAddresses?: string[];
  /** resolv.conf content for the vm. Default `nameserver 198.18.1.53`. */
  resolvConf?: string;
  /** /etc/hosts inside the vm. Default: localhost and the machine's own hostname. */
  hostsFile?: string;
  /** systemd-resolved's upstream file; null: the file does not exist. Default null. */
  resolvedConf?: string | null;
  /** `.network` files by file name. Default one DHCP file for eth0. */
  networkFiles?: Record<string, string>;
  /** The DHCP lease (named by eth0's ifindex); null: no lease file. Default a lease for vmAddress. */
  lease?: Partial<LeaseOptions> | null;
}

export interface RunCheckOptions {
  /** Pass the lab's resolv.conf, resolved file, networkd and leases dirs. Default true. */
  labPaths?: boolean;
  /** SIGKILL the CLI after this long. Default: the --deadline given (or 15000) + 10000. */
  killAfterMs?: number;
  /** Replaces the lab path arguments (e.g. a container's own resolv.conf); ignores labPaths. */
  pathArgs?: string[];
  /** Added to the CLI's (cleaned) environment, e.g. NETDIAG_VANTAGE. */
  env?: Record<string, string>;
}

export interface CheckRun {
  /** null when the process was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** true when runCheck had to kill it. */
  killed: boolean;
  /** The parsed Report, or null when stdout was not JSON (see parseError). */
  report: Report | null;
  parseError: string | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, node start-up included. */
  durationMs: number;
  /** Violations of schema/report.schema.json; empty when the report is valid. */
  schemaErrors: string[];
  /** The full command line, for failure messages. */
  command: string;
}

export interface FaultRule {
  action: 'drop' | 'reject';
  /** `dns` means both udp and tcp port 53; `all` is every protocol. */
  protocol: 'tcp' | 'udp' | 'dns' | 'icmp' | 'all';
  /** Destination address; any when omitted. */
  address?: string;
  /** Destination port for tcp/udp. */
  port?: number;
  /** Which side filters: 'net' filters what arrives from the vm (default), 'vm' what it sends. */
  ns?: LabSide;
}

export interface LabPaths {
  dir: string;
  resolvConf: string;
  resolvedConf: string;
  networkdDir: string;
  leasesDir: string;
  caFile: string;
  /** Never created: keeps the machine's /etc/aziot/config.toml out of the lab. */
  aziotConfig: string;
  /** Never created: keeps the machine's systemd drop-ins (proxy settings) out of the lab. */
  systemdDir: string;
}

export interface Lab {
  readonly label: string;
  readonly id: string;
  readonly vmNs: string;
  readonly netNs: string;
  readonly paths: LabPaths;
  readonly ca: Ca;
  readonly inspectionCa: Ca;
  /** eth0's ifindex inside the vm namespace (the lease file's name). */
  readonly vmIfindex: number;
  readonly servers: readonly LabServer[];
  /**
   * `--hub lab-hub… --ca-file <lab CA>`, and DPS and the registry set to the hub itself, so the
   * check tests exactly the hub's three ports and never falls back to a public default
   * (global.azure-devices-provisioning.net, mcr.microsoft.com): what most scenarios pass.
   */
  hubArgs(): string[];
  ip(side: LabNamespace, args: string[]): Promise<string>;
  /** Runs a command inside a lab namespace. */
  exec(
    side: LabNamespace,
    cmd: string,
    args: string[],
    timeoutMs?: number,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Adds a filtering rule (see FaultRule). */
  fault(rule: FaultRule): Promise<void>;
  drop(rule: Omit<FaultRule, 'action'>): Promise<void>;
  reject(rule: Omit<FaultRule, 'action'>): Promise<void>;
  /** `ip link set eth0 down` in the vm. */
  linkDown(): Promise<void>;
  /** Deletes eth0 (and so the veth pair). */
  deleteInterface(): Promise<void>;
  /** Removes every IPv4 address of eth0 (and with them the routes through it). */
  flushAddresses(): Promise<void>;
  deleteDefaultRoute(): Promise<void>;
  startDnsmasq(opts: DnsmasqOptions): Promise<LabServer>;
  startScriptedDns(opts: ScriptedDnsOptions): Promise<LabServer>;
  writeResolvConf(text: string): void;
  writeResolvedConf(text: string | null): void;
  writeNetworkFile(name: string, text: string): void;
  writeLease(lease: Partial<LeaseOptions> | null): void;
  /** Independent probes from inside a namespace (see ns-probe.ts), to check the lab itself. */
  probe(side: LabNamespace, probes: NsProbe[]): Promise<NsProbeResult[]>;
  runCheck(args: string[], opts?: RunCheckOptions): Promise<CheckRun>;
  /** The CLI's arguments for a lab check (runCheck's), for callers that start the CLI themselves (the bench). */
  checkArgv(args: string[], opts?: Pick<RunCheckOptions, 'pathArgs' | 'labPaths'>): string[];

  // --- Hooks for the field lab (test/lab/field-lab.ts); nothing above depends on them. ---
  /** The real name of a lab namespace; throws for an extra namespace not added. */
  nsName(ns: LabNamespace): string;
  /** Creates an extra namespace (lo up, forwarding off, isolated lookups, `resolvConf`, default the
   *  lab DNS), removed with the lab; returns its name. */
  addNamespace(ns: ExtraNamespace, opts?: { resolvConf?: string }): Promise<string>;
  /** Holds `address` on the net namespace's loopback (idempotent), for a server to bind. */
  addServerAddress(address: string): Promise<void>;
  /** Starts a server inside a lab namespace (startInNetns); it is stopped with the lab. */
  startServer(
    ns: LabNamespace,
    opts: Omit<StartOptions, 'ns'>,
  ): Promise<{ server: LabServer; match: RegExpMatchArray }>;
  /** Runs an nft script (`nft -f -`) inside a lab namespace; throws with nft's message. */
  nftScript(ns: LabNamespace, script: string): Promise<void>;
  /** A synchronous cleanup run when the lab is destroyed (also from the exit hook). */
  onDestroy(cleanup: () => void): void;
  /** runCheck inside any lab namespace (the CLI, dist/main.js). */
  runCheckIn(ns: LabNamespace, args: string[], opts?: RunCheckOptions): Promise<CheckRun>;
  /** Everything the lab's servers wrote, for failure messages. */
  serverLogs(): string;
  destroy(): Promise<void>;
}

export const DHCP_NETWORK_FILE = '[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n';

export function staticNetworkFile(
  opts: { address?: string | null; gateway?: string | null; dns?: string[] } = {},
): string {
  const address = opts.address === undefined ? `${LAB_ADDR.vm}/${LAB_ADDR.prefixLength}` : opts.address;
  const gateway = opts.gateway === undefined ? LAB_ADDR.gateway : opts.gateway;
  const lines = ['[Match]', 'Name=eth0', '', '[Network]', 'DHCP=no'];
  if (address !== null) lines.push(`Address=${address}`);
  if (gateway !== null) lines.push(`Gateway=${gateway}`);
  for (const dns of opts.dns ?? [LAB_ADDR.dns]) lines.push(`DNS=${dns}`);
  return `${lines.join('\n')}\n`;
}

export function resolvConf(...servers: string[]): string {
  return `# written by the eflow-netdiag lab\n${servers.map((s) => `nameserver ${s}\n`).join('')}`;
}

function prefixToNetmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

function leaseText(lease: LeaseOptions): string {
  const lines = [
    '# This is private data. Do not parse.',
    `ADDRESS=${lease.address}`,
    `NETMASK=${prefixToNetmask(lease.prefixLength)}`,
  ];
  if (lease.router !== null) lines.push(`ROUTER=${lease.router}`);
  lines.push(
    `SERVER_ADDRESS=${lease.server}`,
    `T1=${Math.floor(lease.lifetimeSeconds / 2)}`,
    `T2=${Math.floor((lease.lifetimeSeconds * 7) / 8)}`,
    `LIFETIME=${lease.lifetimeSeconds}`,
  );
  if (lease.dns.length > 0) lines.push(`DNS=${lease.dns.join(' ')}`);
  lines.push('CLIENTID=ff00000000000100012c2d2e2f00155d010203');
  return `${lines.join('\n')}\n`;
}

/** Labs still alive in this process, for the exit hook. */
const liveLabs = new Map<string, () => void>();
let exitHookInstalled = false;
let swept = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that throws past its finally, or a runner that exits early, must still not leave
  // namespaces and servers behind: clean up synchronously on the way out.
  process.on('exit', () => {
    for (const cleanup of liveLabs.values()) cleanup();
  });
}

function deadlineFrom(args: string[]): number | null {
  const i = args.lastIndexOf('--deadline');
  const value = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(value) ? value : null;
}

/** The child's environment without anything that would configure the check behind the test's back. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(NETDIAG_|IOTEDGE_|EdgeHub)/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

export async function createLab(options: LabOptions = {}): Promise<Lab> {
  if (!swept) {
    swept = true;
    const removed = sweepLeftovers();
    if (removed.length > 0) process.stderr.write(`lab: removed leftovers of crashed runs: ${removed.join(', ')}\n`);
  }
  installExitHook();
  const names = newLabNames();
  const dir = mkdtempSync(names.tmpPrefix);
  const paths: LabPaths = {
    dir,
    resolvConf: join(dir, 'resolv.conf'),
    resolvedConf: join(dir, 'resolved-resolv.conf'),
    networkdDir: join(dir, 'network'),
    leasesDir: join(dir, 'leases'),
    caFile: '',
    aziotConfig: join(dir, 'no-such-dir', 'config.toml'),
    systemdDir: join(dir, 'no-such-dir', 'systemd'),
  };
  const state = new LabState(options.label ?? names.id, names, paths);
  liveLabs.set(names.id, () => state.destroySync());
  try {
    await state.build(options);
    return state;
  } catch (err) {
    await state.destroy();
    throw new LabSetupError(state, err);
  }
}

/** createLab failed; everything it had made is already removed. Names what it was, for checks. */
export class LabSetupError extends Error {
  readonly vmNs: string;
  readonly netNs: string;
  readonly dir: string;
  constructor(lab: Lab, cause: unknown) {
    super(`lab ${lab.label} could not be set up: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'LabSetupError';
    this.vmNs = lab.vmNs;
    this.netNs = lab.netNs;
    this.dir = lab.paths.dir;
  }
}

class LabState implements Lab {
  readonly id: string;
  readonly vmNs: string;
  readonly netNs: string;
  ca!: Ca;
  inspectionCa!: Ca;
  vmIfindex = -1;
  readonly servers: LabServer[] = [];
  /** Address → its `ip addr add`, so servers sharing an address all wait for it to exist. */
  private readonly netAddresses = new Map<string, Promise<string>>();
  private readonly nftReady = new Set<LabSide>();
  private readonly extraNs = new Map<ExtraNamespace, string>();
  private readonly cleanups: Array<() => void> = [];
  private destroyed = false;

  constructor(
    readonly label: string,
    private readonly names: LabNames,
    readonly paths: LabPaths,
  ) {
    this.id = names.id;
    this.vmNs = names.vmNs;
    this.netNs = names.netNs;
  }

  nsName(side: LabNamespace): string {
    if (side === 'vm') return this.vmNs;
    if (side === 'net') return this.netNs;
    const name = this.extraNs.get(side);
    if (name === undefined) throw new Error(`lab ${this.label} has no ${side} namespace (addNamespace first)`);
    return name;
  }

  async build(options: LabOptions): Promise<void> {
    const ip = ipPath();
    await run(ip, ['netns', 'add', this.vmNs]);
    await run(ip, ['netns', 'add', this.netNs]);
    const vmAddress = options.vmAddress === undefined ? `${LAB_ADDR.vm}/${LAB_ADDR.prefixLength}` : options.vmAddress;
    // One `ip -batch` per namespace. The veth is created inside the net namespace with its peer
    // put straight into the vm namespace: the host namespace never sees either end.
    await this.ipBatch('net', [
      `link add gw0 type veth peer name eth0 netns ${this.vmNs}`,
      'link set lo up',
      `addr add ${LAB_ADDR.gateway}/${LAB_ADDR.prefixLength} dev gw0`,
      'link set gw0 up',
    ]);
    await this.ipBatch('vm', [
      'link set lo up',
      ...(vmAddress === null ? [] : [`addr add ${vmAddress} dev eth0`]),
      'link set eth0 up',
      ...(vmAddress !== null && options.defaultRoute !== false
        ? [`route add default via ${LAB_ADDR.gateway} dev eth0`]
        : []),
    ]);
    for (const side of ['vm', 'net'] as const) {
      // New namespaces start with forwarding off; say so explicitly so no host setting leaks in.
      const r = await this.exec(side, 'sh', [
        '-c',
        [
          'echo 0 > /proc/sys/net/ipv4/ip_forward',
          'echo 0 > /proc/sys/net/ipv4/conf/all/forwarding',
          '{ [ ! -e /proc/sys/net/ipv6/conf/all/forwarding ] || echo 0 > /proc/sys/net/ipv6/conf/all/forwarding; }',
        ].join(' && '),
      ]);
      if (r.code !== 0) throw new Error(`could not turn forwarding off in ${side}: ${r.stderr}`);
    }
    const link = JSON.parse(await this.ip('vm', ['-j', 'link', 'show', 'dev', 'eth0'])) as Array<{ ifindex: number }>;
    this.vmIfindex = link[0]?.ifindex ?? -1;
    if (this.vmIfindex < 0) throw new Error('could not read the ifindex of eth0 in the vm namespace');

    this.ca = createCa(LAB_CA_NAME);
    this.inspectionCa = createCa(INSPECTION_CA_NAME);
    this.paths.caFile = this.ca.certFile;

    mkdirSync(this.paths.networkdDir);
    mkdirSync(this.paths.leasesDir);
    mkdirSync(join(NETNS_DIR, this.vmNs), { recursive: true });
    // Bind-mounted over /etc by `ip netns exec`: only the lab's DNS can answer lookups in the vm.
    writeFileSync(join(NETNS_DIR, this.vmNs, 'nsswitch.conf'), ISOLATED_NSSWITCH_CONF);
    // The machine's own name resolves locally, as on any installed system: without it, tools that
    // look up the hostname (hostname -f) would query the lab DNS and skew DNS scenarios.
    writeFileSync(
      join(NETNS_DIR, this.vmNs, 'hosts'),
      options.hostsFile ?? `127.0.0.1 localhost\n127.0.1.1 ${hostname()}\n::1 localhost\n`,
    );
    this.writeResolvConf(options.resolvConf ?? resolvConf(LAB_ADDR.dns));
    this.writeResolvedConf(options.resolvedConf ?? null);
    for (const [name, text] of Object.entries(options.networkFiles ?? { '10-eth0.network': DHCP_NETWORK_FILE })) {
      this.writeNetworkFile(name, text);
    }
    if (options.lease !== null) {
      const [address = LAB_ADDR.vm, prefix = String(LAB_ADDR.prefixLength)] = (vmAddress ?? '').split('/');
      this.writeLease({ address: address || LAB_ADDR.vm, prefixLength: Number(prefix), ...options.lease });
    }

    for (const address of options.serverAddresses ?? []) await this.addNetAddress(address);
    const starts: Array<Promise<unknown>> = [];
    for (const d of options.dnsmasq ?? [{ address: LAB_ADDR.dns }]) starts.push(this.startDnsmasq(d));
    for (const s of options.scriptedDns ?? []) starts.push(this.startScriptedDns(s));
    if (options.hub !== false) starts.push(this.startHub(options.hub?.ports ?? {}));
    // Start in parallel but wait for all, so a failure never leaves a half-started server unseen.
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  hubArgs(): string[] {
    return ['--hub', HUB_NAME, '--ca-file', this.paths.caFile, '--dps', HUB_NAME, '--registry', HUB_NAME];
  }

  ip(side: LabNamespace, args: string[]): Promise<string> {
    return run(ipPath(), ['-n', this.nsName(side), ...args]);
  }

  private async ipBatch(side: LabSide, commands: string[]): Promise<void> {
    await run(ipPath(), ['-n', this.nsName(side), '-batch', '-'], { input: `${commands.join('\n')}\n` });
  }

  async exec(side: LabNamespace, cmd: string, args: string[], timeoutMs = 15_000) {
    const r = await exec(ipPath(), ['netns', 'exec', this.nsName(side), cmd, ...args], { timeoutMs, cwd: REPO_ROOT });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  private async addNetAddress(address: string): Promise<void> {
    let added = this.netAddresses.get(address);
    if (added === undefined) {
      // On loopback: the address is local to the net namespace, reached from the vm via the gateway.
      added = this.ip('net', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
      this.netAddresses.set(address, added);
    }
    await added;
  }

  private async nftTable(side: LabSide): Promise<void> {
    if (this.nftReady.has(side)) return;
    const hook = side === 'net' ? 'input' : 'output';
    await this.nft(
      side,
      `add table inet ndlab\nadd chain inet ndlab filter { type filter hook ${hook} priority 0; policy accept; }\n`,
    );
    this.nftReady.add(side);
  }

  private async nft(side: LabNamespace, script: string): Promise<void> {
    const nft = findTool('nft') ?? 'nft';
    const r = await exec(ipPath(), ['netns', 'exec', this.nsName(side), nft, '-f', '-'], { input: script });
    if (r.code !== 0) throw new Error(`nft in ${side} namespace failed: ${r.stderr.trim()}\n${script}`);
  }

  async fault(rule: FaultRule): Promise<void> {
    const side = rule.ns ?? 'net';
    await this.nftTable(side);
    // Only traffic crossing the veth: the harness's own loopback checks inside a namespace stay unfiltered.
    const where = side === 'net' ? 'iifname "gw0"' : 'oifname "eth0"';
    const dst = rule.address === undefined ? '' : ` ip daddr ${rule.address}`;
    const drop = rule.action === 'drop';
    const matches: Array<[string, string]> = [];
    const tcpMatch = rule.port === undefined ? 'meta l4proto tcp' : `tcp dport ${rule.port}`;
    const udpMatch = rule.port === undefined ? 'meta l4proto udp' : `udp dport ${rule.port}`;
    // reject answers the way a real firewall does: TCP with a reset (ECONNREFUSED), UDP with an
    // ICMP port unreachable, anything else with ICMP host unreachable.
    switch (rule.protocol) {
      case 'tcp':
        matches.push([tcpMatch, drop ? 'drop' : 'reject with tcp reset']);
        break;
      case 'udp':
        matches.push([udpMatch, drop ? 'drop' : 'reject with icmp type port-unreachable']);
        break;
      case 'dns':
        matches.push(['udp dport 53', drop ? 'drop' : 'reject with icmp type port-unreachable']);
        matches.push(['tcp dport 53', drop ? 'drop' : 'reject with tcp reset']);
        break;
      case 'icmp':
        matches.push(['ip protocol icmp', drop ? 'drop' : 'reject with icmp type host-unreachable']);
        break;
      case 'all':
        if (!drop) matches.push(['meta l4proto tcp', 'reject with tcp reset']);
        matches.push(['', drop ? 'drop' : 'reject with icmp type host-unreachable']);
        break;
    }
    const script = matches
      .map(
        ([match, verdict]) =>
          `add rule inet ndlab filter ${where}${dst}${match === '' ? '' : ` ${match}`} ${verdict}\n`,
      )
      .join('');
    await this.nft(side, script);
  }

  drop(rule: Omit<FaultRule, 'action'>): Promise<void> {
    return this.fault({ ...rule, action: 'drop' });
  }

  reject(rule: Omit<FaultRule, 'action'>): Promise<void> {
    return this.fault({ ...rule, action: 'reject' });
  }

  async linkDown(): Promise<void> {
    await this.ip('vm', ['link', 'set', 'eth0', 'down']);
  }

  async deleteInterface(): Promise<void> {
    await this.ip('vm', ['link', 'del', 'eth0']);
  }

  async flushAddresses(): Promise<void> {
    await this.ip('vm', ['-4', 'addr', 'flush', 'dev', 'eth0']);
  }

  async deleteDefaultRoute(): Promise<void> {
    await this.ip('vm', ['route', 'del', 'default']);
  }

  async startDnsmasq(opts: DnsmasqOptions): Promise<LabServer> {
    const side = opts.ns ?? 'net';
    if (side === 'net') await this.addNetAddress(opts.address);
    else if (!opts.address.startsWith('127.'))
      throw new Error(`a dnsmasq in the ${side} namespace must listen on loopback`);
    const tag = `dnsmasq-${side}-${opts.address}`;
    const args = [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--listen-address=${opts.address}`,
      '--bind-interfaces',
      '--port=53',
      '--user=root',
      '--group=root',
      `--pid-file=${join(this.paths.dir, `${tag}.pid`)}`,
      `--dhcp-leasefile=${join(this.paths.dir, `${tag}.leases`)}`,
      '--log-facility=-',
      '--log-queries',
    ];
    // --host-record rather than --address=/name/ip: it makes the name exist, so AAAA gets NODATA
    // (as from a real zone) instead of being forwarded nowhere and REFUSED.
    for (const [name, address] of Object.entries(opts.hosts ?? { [HUB_NAME]: LAB_ADDR.hub })) {
      args.push(`--host-record=${name},${address}`);
    }
    // With no upstream, dnsmasq REFUSEs names it does not know, which sends a stub resolver on to
    // the next server; a real recursive resolver says NXDOMAIN. '#' makes every domain local.
    for (const domain of opts.localDomains ?? (opts.upstream === undefined ? ['#'] : [])) {
      args.push(`--local=/${domain}/`);
    }
    if (opts.upstream !== undefined) args.push(`--server=${opts.upstream}`);
    const { server } = await startInNetns({
      name: `dnsmasq ${opts.address} (${side})`,
      ns: this.nsName(side),
      cmd: findTool('dnsmasq') ?? 'dnsmasq',
      args,
      // dnsmasq binds its sockets before it logs "started" (and exits if it cannot bind).
      ready: /dnsmasq\[\d+\]: started, version/,
    });
    this.servers.push(server);
    return server;
  }

  async startScriptedDns(opts: ScriptedDnsOptions): Promise<LabServer> {
    if (!existsSync(DNS_SERVER_SCRIPT)) {
      throw new Error(
        `${DNS_SERVER_SCRIPT} does not exist yet: the scriptable DNS server is needed for mode ${opts.mode}`,
      );
    }
    await this.addNetAddress(opts.address);
    const args = ['--import', 'tsx', DNS_SERVER_SCRIPT, '--listen', `${opts.address}:53`, '--mode', opts.mode];
    for (const [name, address] of Object.entries(opts.records ?? { [HUB_NAME]: LAB_ADDR.hub })) {
      args.push('--record', `${name}=${address}`);
    }
    const { server } = await startInNetns({
      name: `dns-server ${opts.address} (${opts.mode})`,
      ns: this.netNs,
      cmd: process.execPath,
      args,
      cwd: REPO_ROOT,
      ready: /^READY \d+/,
    });
    this.servers.push(server);
    return server;
  }

  private async startHub(portModes: Partial<Record<number, PortMode>>): Promise<LabServer> {
    await this.addNetAddress(LAB_ADDR.hub);
    const ports: Record<number, PortMode> = { 8883: 'trusted', 5671: 'trusted', 443: 'trusted' };
    for (const [port, mode] of Object.entries(portModes)) if (mode !== undefined) ports[Number(port)] = mode;
    const hubCert = issueServerCert(this.ca, [HUB_NAME]);
    const proxyCert = issueServerCert(this.inspectionCa, [HUB_NAME]);
    const files = {
      cert: join(this.paths.dir, 'hub.crt'),
      key: join(this.paths.dir, 'hub.key'),
      otherCert: join(this.paths.dir, 'inspection.crt'),
      otherKey: join(this.paths.dir, 'inspection.key'),
    };
    writeFileSync(files.cert, hubCert.chain);
    writeFileSync(files.key, hubCert.key, { mode: 0o600 });
    writeFileSync(files.otherCert, proxyCert.chain);
    writeFileSync(files.otherKey, proxyCert.key, { mode: 0o600 });
    const args = [
      '--import',
      'tsx',
      TLS_HUB_SCRIPT,
      '--address',
      LAB_ADDR.hub,
      '--cert',
      files.cert,
      '--key',
      files.key,
      '--other-cert',
      files.otherCert,
      '--other-key',
      files.otherKey,
    ];
    for (const [port, mode] of Object.entries(ports)) args.push('--port', `${port}=${mode}`);
    const { server } = await startInNetns({
      name: `tls-hub ${LAB_ADDR.hub}`,
      ns: this.netNs,
      cmd: process.execPath,
      args,
      cwd: REPO_ROOT,
      ready: /^READY [\d,]+$/,
    });
    this.servers.push(server);
    return server;
  }

  writeResolvConf(text: string): void {
    writeFileSync(this.paths.resolvConf, text);
    // `ip netns exec` bind-mounts this over /etc/resolv.conf: the system resolver the check's
    // own name lookups (getaddrinfo) use sees the same servers as --resolv-conf names.
    writeFileSync(join(NETNS_DIR, this.vmNs, 'resolv.conf'), text);
  }

  writeResolvedConf(text: string | null): void {
    if (text === null) rmSync(this.paths.resolvedConf, { force: true });
    else writeFileSync(this.paths.resolvedConf, text);
  }

  writeNetworkFile(name: string, text: string): void {
    writeFileSync(join(this.paths.networkdDir, name), text);
  }

  writeLease(lease: Partial<LeaseOptions> | null): void {
    const file = join(this.paths.leasesDir, String(this.vmIfindex));
    if (lease === null) {
      rmSync(file, { force: true });
      return;
    }
    writeFileSync(
      file,
      leaseText({
        address: LAB_ADDR.vm,
        prefixLength: LAB_ADDR.prefixLength,
        router: LAB_ADDR.gateway,
        server: LAB_ADDR.gateway,
        dns: [LAB_ADDR.dns],
        lifetimeSeconds: 86400,
        ...lease,
      }),
    );
  }

  async probe(side: LabNamespace, probes: NsProbe[]): Promise<NsProbeResult[]> {
    const r = await this.exec(
      side,
      process.execPath,
      ['--import', 'tsx', NS_PROBE_SCRIPT, JSON.stringify(probes)],
      30_000,
    );
    if (r.code !== 0) throw new Error(`ns-probe failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as NsProbeResult[];
  }

  runCheck(args: string[], opts: RunCheckOptions = {}): Promise<CheckRun> {
    return this.runCheckIn('vm', args, opts);
  }

  /** The CLI's arguments for a lab check: `check --json`, the lab's own paths (never the machine's), then `args`. */
  checkArgv(args: string[], opts: Pick<RunCheckOptions, 'pathArgs' | 'labPaths'> = {}): string[] {
    // The machine's own IoT Edge settings (config.toml, the proxy drop-ins) stay out of the lab.
    const full = ['check', '--json', '--aziot-config', this.paths.aziotConfig, '--systemd-dir', this.paths.systemdDir];
    if (opts.pathArgs !== undefined) {
      full.push(...opts.pathArgs);
    } else if (opts.labPaths !== false) {
      full.push(
        '--resolv-conf',
        this.paths.resolvConf,
        '--resolved-conf',
        this.paths.resolvedConf,
        '--networkd-dir',
        this.paths.networkdDir,
        '--leases-dir',
        this.paths.leasesDir,
        // Never the machine's own /etc/docker/daemon.json: its servers are not the lab's. The field
        // lab writes its fixture here (absent unless written: dockerd's defaults).
        '--docker-config',
        join(this.paths.dir, 'docker', 'daemon.json'),
      );
    }
    full.push(...args);
    return full;
  }

  runCheckIn(ns: LabNamespace, args: string[], opts: RunCheckOptions = {}): Promise<CheckRun> {
    if (!existsSync(CLI_PATH)) {
      return Promise.reject(new Error(`${CLI_PATH} does not exist: run \`npm run build\` first`));
    }
    const full = this.checkArgv(args, opts);
    const killAfterMs = opts.killAfterMs ?? (deadlineFrom(args) ?? 15_000) + 10_000;
    const argv = ['netns', 'exec', this.nsName(ns), process.execPath, CLI_PATH, ...full];
    const command = `ip ${argv.join(' ')}`;
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const env = { ...cleanEnv(), ...opts.env };
      const child = spawn(ipPath(), argv, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let killed = false;
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, killAfterMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const durationMs = Math.round(performance.now() - started);
        let report: Report | null = null;
        let parseError: string | null = null;
        try {
          report = JSON.parse(stdout) as Report;
        } catch (err) {
          parseError = err instanceof Error ? err.message : String(err);
        }
        const schemaErrors: string[] = [];
        if (report !== null) {
          try {
            assertValidReport(report);
          } catch (err) {
            schemaErrors.push(err instanceof Error ? err.message : String(err));
          }
        }
        resolve({
          exitCode: code,
          signal,
          killed,
          report,
          parseError,
          stdout,
          stderr,
          durationMs,
          schemaErrors,
          command,
        });
      });
    });
  }

  async addNamespace(ns: ExtraNamespace, opts: { resolvConf?: string } = {}): Promise<string> {
    const existing = this.extraNs.get(ns);
    if (existing !== undefined) return existing;
    const name = extraNetnsName(this.names, EXTRA_NAMESPACES[ns]);
    // Registered before it exists, so a failure below still removes it with the lab.
    this.extraNs.set(ns, name);
    await run(ipPath(), ['netns', 'add', name]);
    await this.ip(ns, ['link', 'set', 'lo', 'up']);
    const r = await this.exec(ns, 'sh', [
      '-c',
      'echo 0 > /proc/sys/net/ipv4/ip_forward && echo 0 > /proc/sys/net/ipv4/conf/all/forwarding',
    ]);
    if (r.code !== 0) throw new Error(`could not turn forwarding off in ${ns}: ${r.stderr}`);
    mkdirSync(join(NETNS_DIR, name), { recursive: true });
    writeFileSync(join(NETNS_DIR, name, 'nsswitch.conf'), ISOLATED_NSSWITCH_CONF);
    writeFileSync(join(NETNS_DIR, name, 'hosts'), `127.0.0.1 localhost\n127.0.1.1 ${hostname()}\n::1 localhost\n`);
    writeFileSync(join(NETNS_DIR, name, 'resolv.conf'), opts.resolvConf ?? resolvConf(LAB_ADDR.dns));
    return name;
  }

  addServerAddress(address: string): Promise<void> {
    return this.addNetAddress(address);
  }

  async startServer(ns: LabNamespace, opts: Omit<StartOptions, 'ns'>) {
    const started = await startInNetns({ ...opts, ns: this.nsName(ns) });
    this.servers.push(started.server);
    return started;
  }

  nftScript(ns: LabNamespace, script: string): Promise<void> {
    return this.nft(ns, script);
  }

  onDestroy(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  serverLogs(): string {
    return this.servers.map((s) => `--- ${s.name} (pid ${s.pid})\n${s.output()}`).join('\n');
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.servers.map((s) => s.stop()));
    this.removeEverything();
  }

  /** The exit-hook path: no awaiting possible, so kill outright. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const s of this.servers) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.removeEverything();
  }

  private removeEverything(): void {
    // Deleting a namespace takes its veth end, addresses, routes and nft tables with it;
    // removeNetnsSync first kills anything still running inside.
    removeNetnsSync(this.vmNs);
    removeNetnsSync(this.netNs);
    for (const name of this.extraNs.values()) removeNetnsSync(name);
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // best effort: the rest must still go
      }
    }
    rmSync(this.paths.dir, { recursive: true, force: true });
    if (this.ca !== undefined) removeCa(this.ca);
    if (this.inspectionCa !== undefined) removeCa(this.inspectionCa);
    liveLabs.delete(this.names.id);
  }
}
