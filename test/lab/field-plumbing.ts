/**
 * The VM's own plumbing for the field lab (CONTRACT 7.5), each part a change to a running lab:
 * eth0's MTU, a path-MTU black hole beyond the gateway, container bridges in the vm, a second
 * default route through eth1 whose gateway is silent, a host on eth0's segment holding the vm's own
 * address, a default route to any gateway (also outside the prefix), and the plain-tool checks
 * (don't-fragment ping, duplicate address detection) the self-tests use to prove them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_ADDR } from './harness.js';
import type { Lab, LabNamespace } from './harness.js';
import { findTool } from './require-lab.js';

/** eth1's side of the second default route; nothing there forwards anywhere. */
export const ETH1_ADDR = { vm: '198.18.2.10', gateway: '198.18.2.1', prefixLength: 24 } as const;

/** State the plumbing parts share: the name of the net side's veth end changes with a bridge. */
export interface PlumbingState {
  /** The net namespace's end of eth0's veth: gw0, or gwp0 once gw0 became a bridge. */
  netVeth: string;
  eth0Mtu: number | null;
}

export function newPlumbingState(): PlumbingState {
  return { netVeth: 'gw0', eth0Mtu: null };
}

async function ipBatch(lab: Lab, ns: LabNamespace, commands: string[]): Promise<void> {
  for (const c of commands) await lab.ip(ns, c.split(' '));
}

/** Sets eth0's MTU and the same on the net side of the segment. */
export async function setEth0Mtu(lab: Lab, state: PlumbingState, mtu: number): Promise<void> {
  await lab.ip('vm', ['link', 'set', 'dev', 'eth0', 'mtu', String(mtu)]);
  await lab.ip('net', ['link', 'set', 'dev', state.netVeth, 'mtu', String(mtu)]);
  if (state.netVeth !== 'gw0') {
    await lab.ip('net', ['link', 'set', 'dev', 'dup0', 'mtu', String(mtu)]);
    await lab.ip('net', ['link', 'set', 'dev', 'gw0', 'mtu', String(mtu)]);
    await lab.ip('dup', ['link', 'set', 'dev', 'eth0', 'mtu', String(mtu)]);
  }
  state.eth0Mtu = mtu;
}

const FRAG_NEEDED = 'icmp type destination-unreachable icmp code frag-needed drop';

/**
 * A path-MTU black hole beyond the gateway: the net side drops every IP packet longer than
 * `maxPacketBytes` to and from the vm, and every ICMP "fragmentation needed" (in both namespaces),
 * so path MTU discovery cannot work: large don't-fragment pings vanish, small ones pass, and a TLS
 * server whose first flight needs full-size segments (the large-chain certificate) stalls.
 */
export async function pathMtuBlackhole(lab: Lab, maxPacketBytes: number): Promise<void> {
  // MTU probing would let TCP find its way around the hole; it is off by default, say so.
  for (const ns of ['vm', 'net'] as const) {
    const r = await lab.exec(ns, 'sh', ['-c', 'echo 0 > /proc/sys/net/ipv4/tcp_mtu_probing']);
    if (r.code !== 0) throw new Error(`tcp_mtu_probing in ${ns}: ${r.stderr}`);
  }
  await lab.nftScript(
    'net',
    [
      'add table inet ndmtu',
      'add chain inet ndmtu mtuin { type filter hook input priority -10; policy accept; }',
      'add chain inet ndmtu mtuout { type filter hook output priority -10; policy accept; }',
      `add rule inet ndmtu mtuin iifname "gw0" meta length > ${maxPacketBytes} drop`,
      `add rule inet ndmtu mtuout oifname "gw0" meta length > ${maxPacketBytes} drop`,
      `add rule inet ndmtu mtuin ${FRAG_NEEDED}`,
      `add rule inet ndmtu mtuout ${FRAG_NEEDED}`,
      '',
    ].join('\n'),
  );
  await lab.nftScript(
    'vm',
    [
      'add table inet ndmtu',
      'add chain inet ndmtu mtuin { type filter hook input priority -10; policy accept; }',
      `add rule inet ndmtu mtuin ${FRAG_NEEDED}`,
      '',
    ].join('\n'),
  );
}

export interface BridgeOptions {
  /** Default `br-<12 hex>`, as Docker names a user-defined network's bridge; `docker0` is fine. */
  name?: string;
  /** The bridge's own address and prefix, e.g. `198.18.1.49/28`: the vm routes that subnet into it. */
  cidr: string;
  /** Default 1500 (Docker's default, above an eth0 of 1400). */
  mtu?: number;
  /** A veth port attached and up, as when a container runs, so the bridge has carrier. Default true. */
  carrier?: boolean;
}

export function dockerBridgeName(): string {
  return `br-${randomBytes(6).toString('hex')}`;
}

function vethName(): string {
  return `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
}

/** A container bridge in the vm namespace; returns its name. */
export async function addBridge(lab: Lab, opts: BridgeOptions): Promise<string> {
  const name = opts.name ?? dockerBridgeName();
  const mtu = String(opts.mtu ?? 1500);
  await ipBatch(lab, 'vm', [`link add name ${name} type bridge`, `link set dev ${name} mtu ${mtu}`]);
  if (opts.carrier !== false) {
    const port = vethName();
    // Both ends stay in the vm: the port only gives the bridge carrier, as a container would.
    await ipBatch(lab, 'vm', [
      `link add ${port} mtu ${mtu} type veth peer name ${port}c mtu ${mtu}`,
      `link set dev ${port} master ${name}`,
      `link set dev ${port} up`,
      `link set dev ${port}c up`,
    ]);
  }
  await ipBatch(lab, 'vm', [
    `link set dev ${name} mtu ${mtu}`,
    `addr add ${opts.cidr} dev ${name}`,
    `link set dev ${name} up`,
  ]);
  return name;
}

/** Writes a daemon.json fixture (an object is written as JSON, a string as it is); returns its path. */
export function writeDockerConfig(lab: Lab, content: string | object): string {
  const dir = join(lab.paths.dir, 'docker');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'daemon.json');
  writeFileSync(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  return file;
}

export interface SecondDefaultRouteOptions {
  /** eth1's default route metric; lower than eth0's, so the kernel uses it. Default 50. */
  metric?: number;
  /** eth0's default route is re-added with this metric. Default 100. */
  eth0Metric?: number;
  /** The gateway answers ARP and ping (but forwards nothing). Default false: it is silent. */
  gatewayAnswers?: boolean;
}

/**
 * eth1 in the vm: a veth to the `alt` namespace, 198.18.2.10/24, with a default route of lower
 * metric than eth0's via 198.18.2.1, which nobody holds (unless gatewayAnswers): the route the
 * kernel uses leads nowhere while eth0's gateway answers.
 */
export async function addSecondDefaultRoute(lab: Lab, opts: SecondDefaultRouteOptions = {}): Promise<void> {
  const alt = await lab.addNamespace('alt');
  const eth1 = `${ETH1_ADDR.vm}/${ETH1_ADDR.prefixLength}`;
  await ipBatch(lab, 'vm', [
    `link add eth1 type veth peer name gw1 netns ${alt}`,
    `addr add ${eth1} dev eth1`,
    'link set eth1 up',
  ]);
  await lab.ip('alt', ['link', 'set', 'gw1', 'up']);
  if (opts.gatewayAnswers === true) {
    await lab.ip('alt', ['addr', 'add', `${ETH1_ADDR.gateway}/${ETH1_ADDR.prefixLength}`, 'dev', 'gw1']);
    await untilAnswered(lab, 'vm', ETH1_ADDR.gateway, 'eth1');
  }
  await lab.exec('vm', findTool('ip') ?? 'ip', ['route', 'del', 'default', 'dev', 'eth0']);
  await lab.ip('vm', [
    'route',
    'add',
    'default',
    'via',
    LAB_ADDR.gateway,
    'dev',
    'eth0',
    'metric',
    String(opts.eth0Metric ?? 100),
  ]);
  await lab.ip('vm', [
    'route',
    'add',
    'default',
    'via',
    ETH1_ADDR.gateway,
    'dev',
    'eth1',
    'metric',
    String(opts.metric ?? 50),
  ]);
}

/** Replaces eth0's default route: any gateway (onlink for one outside eth0's prefix), any metric. */
export async function setDefaultRoute(
  lab: Lab,
  gateway: string,
  opts: { onlink?: boolean; metric?: number } = {},
): Promise<void> {
  await lab.exec('vm', findTool('ip') ?? 'ip', ['route', 'del', 'default', 'dev', 'eth0']);
  const args = ['route', 'add', 'default', 'via', gateway, 'dev', 'eth0'];
  if (opts.metric !== undefined) args.push('metric', String(opts.metric));
  if (opts.onlink === true) args.push('onlink');
  await lab.ip('vm', args);
}

/**
 * A third host on eth0's segment holding `address` (default the vm's own): the net side's end
 * becomes a port of a bridge named gw0 (so the gateway address and the lab's `iifname "gw0"` fault
 * rules keep working), and the `dup` namespace's eth0 is another port. The net side pins the vm's
 * MAC for the address, so only duplicate address detection (`arping -D`) sees the other host.
 */
export async function addDuplicateAddress(lab: Lab, state: PlumbingState, address: string): Promise<void> {
  if (state.netVeth !== 'gw0') throw new Error('the duplicate-address host is already there');
  const dup = await lab.addNamespace('dup');
  const gateway = `${LAB_ADDR.gateway}/${LAB_ADDR.prefixLength}`;
  const mtu = state.eth0Mtu === null ? [] : ['mtu', String(state.eth0Mtu)];
  await ipBatch(lab, 'net', [
    'link set dev gw0 down',
    'link set dev gw0 name gwp0',
    `addr del ${gateway} dev gwp0`,
    'link add name gw0 type bridge',
    'link set dev gwp0 master gw0',
    `link add dup0 type veth peer name eth0 netns ${dup}`,
    'link set dev dup0 master gw0',
  ]);
  if (mtu.length > 0) {
    await lab.ip('net', ['link', 'set', 'dev', 'gw0', ...mtu]);
    await lab.ip('net', ['link', 'set', 'dev', 'dup0', ...mtu]);
    await lab.ip('dup', ['link', 'set', 'dev', 'eth0', ...mtu]);
  }
  await ipBatch(lab, 'net', [
    `addr add ${gateway} dev gw0`,
    'link set dev gwp0 up',
    'link set dev dup0 up',
    'link set dev gw0 up',
  ]);
  state.netVeth = 'gwp0';
  await ipBatch(lab, 'dup', [`addr add ${address}/${LAB_ADDR.prefixLength} dev eth0`, 'link set eth0 up']);
  const vmLink = JSON.parse(await lab.ip('vm', ['-j', 'link', 'show', 'dev', 'eth0'])) as Array<{ address?: string }>;
  const mac = vmLink[0]?.address;
  if (mac === undefined) throw new Error('could not read the MAC address of eth0 in the vm');
  await lab.ip('net', ['neigh', 'replace', address, 'lladdr', mac, 'dev', 'gw0', 'nud', 'permanent']);
  // A link just set up drops what it sends until the kernel activates its queue (link watch, up to
  // a second later): the host is ready once the gateway answers its ARP (not ping: the gateway
  // sends IP answers for the address to the vm's MAC, pinned above).
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await lab.exec('dup', findTool('arping') ?? 'arping', [
      '-c',
      '1',
      '-w',
      '1',
      '-I',
      'eth0',
      LAB_ADDR.gateway,
    ]);
    if (r.code === 0) return;
    last = `${r.stdout}${r.stderr}`;
  }
  throw new Error(`the duplicate-address host gets no ARP answer from the gateway: ${last}`);
}

/** Pings `target` from `ns` until it answers (at most ~5 s): readiness of a new link, not a sleep. */
export async function untilAnswered(lab: Lab, ns: LabNamespace, target: string, iface?: string): Promise<void> {
  let last = '';
  const via = iface === undefined ? [] : ['-I', iface];
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await lab.exec(ns, findTool('ping') ?? 'ping', ['-n', '-c', '1', '-W', '0.5', ...via, target]);
    if (r.code === 0) return;
    last = `${r.stdout}${r.stderr}`;
  }
  throw new Error(`${ns} cannot reach ${target}: ${last}`);
}

/** One don't-fragment ping of `payloadBytes` (the IP packet is 28 bytes more); true when answered. */
export async function dfPing(
  lab: Lab,
  ns: LabNamespace,
  target: string,
  payloadBytes: number,
  opts: { iface?: string } = {},
): Promise<{ answered: boolean; output: string }> {
  const args = ['-n', '-M', 'do', '-s', String(payloadBytes), '-c', '1', '-W', '1'];
  if (opts.iface !== undefined) args.push('-I', opts.iface);
  const r = await lab.exec(ns, findTool('ping') ?? 'ping', [...args, target]);
  return { answered: r.code === 0, output: `${r.stdout}${r.stderr}` };
}

/** Duplicate address detection for `address` on `iface` (arping -D): true when someone answers. */
export async function arpingDuplicate(
  lab: Lab,
  ns: LabNamespace,
  iface: string,
  address: string,
): Promise<{ duplicate: boolean; output: string }> {
  const r = await lab.exec(ns, findTool('arping') ?? 'arping', ['-D', '-c', '1', '-w', '1', '-I', iface, address]);
  // iputils arping -D exits 0 when no reply came (the address is free), 1 when one did.
  if (r.code !== 0 && r.code !== 1) throw new Error(`arping failed (${r.code}): ${r.stdout}${r.stderr}`);
  return { duplicate: r.code === 1, output: `${r.stdout}${r.stderr}` };
}
