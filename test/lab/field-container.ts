/**
 * The container vantage (CONTRACT 8.4): a `ctr` namespace standing in for a container on the
 * azure-iot-edge network. Its eth0 is a port of a bridge in the vm namespace (`br-<12 hex>`,
 * 198.18.8.1/24 by default), its default route points at the bridge, the vm masquerades it towards
 * eth0 (nft), and its resolv.conf names Docker's embedded resolver 127.0.0.11, played by a dnsmasq
 * inside ctr that forwards to the lab DNS.
 *
 * Safety (LAB.md): forwarding is turned on in the vm namespace only, and its forward chain accepts
 * nothing but the bridge → eth0 direction and the answers to it; eth0 leads only to the lab's net
 * namespace, so nothing can leave the lab.
 *
 * breakContainerPath() breaks only the container's path while the vm's own stays healthy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_ADDR } from './harness.js';
import type { Lab } from './harness.js';
import type { LabServer } from './lab-process.js';
import { dockerBridgeName, untilAnswered } from './field-plumbing.js';

export const EMBEDDED_DNS = '127.0.0.11';
export const CONTAINER_ADDR = { bridge: '198.18.8.1', ctr: '198.18.8.2', prefixLength: 24 } as const;
/** What Docker writes into a container's resolv.conf on a user-defined network. */
export const CONTAINER_RESOLV_CONF = `nameserver ${EMBEDDED_DNS}\noptions ndots:0\n`;

export interface ContainerOptions {
  /** The bridge's name in the vm. Default `br-<12 hex>`. */
  bridge?: string;
  /** MTU of the bridge and the container's eth0. Default 1500. */
  mtu?: number;
  /** Where the embedded resolver forwards. Default the lab DNS; null: no resolver at 127.0.0.11. */
  resolverUpstream?: string | null;
}

/** How breakContainerPath breaks the container's path (and only it). */
export type ContainerBreak =
  /** ip_forward off in the vm: the container's packets go nowhere (TCP and DNS time out). */
  | 'forwarding'
  /** no masquerade: packets leave with the container's address, which nothing routes back. */
  | 'nat'
  /** the 127.0.0.11 resolver stops: lookups in the container fail, TCP by address still works. */
  | 'resolver'
  /** packets over `maxPacketBytes` towards the container are dropped, with every ICMP
   *  "fragmentation needed": large TLS first flights stall in the container only. */
  | { mtuBlackhole: number };

export interface LabContainer {
  bridge: string;
  address: string;
  /** The 127.0.0.11 dnsmasq, or null when there is none. */
  resolver: LabServer | null;
  /** The check's path arguments for a run inside ctr: its own resolv.conf, empty networkd/leases dirs. */
  pathArgs(): string[];
}

export async function addContainer(lab: Lab, opts: ContainerOptions = {}): Promise<LabContainer> {
  const bridge = opts.bridge ?? dockerBridgeName();
  const mtu = String(opts.mtu ?? 1500);
  const ctr = await lab.addNamespace('ctr', { resolvConf: CONTAINER_RESOLV_CONF });
  const subnet = `${CONTAINER_ADDR.bridge.replace(/\.\d+$/, '.0')}/${CONTAINER_ADDR.prefixLength}`;
  for (const args of [
    ['link', 'add', 'name', bridge, 'type', 'bridge'],
    ['link', 'set', 'dev', bridge, 'mtu', mtu],
    ['link', 'add', 'vethctr0', 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', mtu, 'netns', ctr],
    ['link', 'set', 'dev', 'vethctr0', 'master', bridge],
    ['link', 'set', 'dev', 'vethctr0', 'up'],
    ['addr', 'add', `${CONTAINER_ADDR.bridge}/${CONTAINER_ADDR.prefixLength}`, 'dev', bridge],
    ['link', 'set', 'dev', bridge, 'up'],
  ]) {
    await lab.ip('vm', args);
  }
  for (const args of [
    ['addr', 'add', `${CONTAINER_ADDR.ctr}/${CONTAINER_ADDR.prefixLength}`, 'dev', 'eth0'],
    ['link', 'set', 'dev', 'eth0', 'up'],
    ['route', 'add', 'default', 'via', CONTAINER_ADDR.bridge, 'dev', 'eth0'],
  ]) {
    await lab.ip('ctr', args);
  }
  await lab.nftScript(
    'vm',
    [
      'add table ip ndctr',
      'add chain ip ndctr ctrfwd { type filter hook forward priority 0; policy drop; }',
      `add rule ip ndctr ctrfwd iifname "${bridge}" oifname "eth0" ip saddr ${subnet} accept`,
      `add rule ip ndctr ctrfwd iifname "eth0" oifname "${bridge}" ct state established,related accept`,
      'add chain ip ndctr ctrnat { type nat hook postrouting priority 100; policy accept; }',
      `add rule ip ndctr ctrnat oifname "eth0" ip saddr ${subnet} masquerade`,
      '',
    ].join('\n'),
  );
  // Only now, with the forward chain in place, does the vm forward (and only in its namespace).
  await setForwarding(lab, true);
  await untilAnswered(lab, 'ctr', CONTAINER_ADDR.bridge);

  let resolver: LabServer | null = null;
  const upstream = opts.resolverUpstream === undefined ? LAB_ADDR.dns : opts.resolverUpstream;
  if (upstream !== null) {
    resolver = await lab.startDnsmasq({ ns: 'ctr', address: EMBEDDED_DNS, upstream, hosts: {} });
  }

  const dir = join(lab.paths.dir, 'ctr');
  mkdirSync(join(dir, 'network'), { recursive: true });
  mkdirSync(join(dir, 'leases'), { recursive: true });
  writeFileSync(join(dir, 'resolv.conf'), CONTAINER_RESOLV_CONF);
  return {
    bridge,
    address: CONTAINER_ADDR.ctr,
    resolver,
    pathArgs: () => [
      '--resolv-conf',
      join(dir, 'resolv.conf'),
      '--resolved-conf',
      join(dir, 'no-resolved.conf'),
      '--networkd-dir',
      join(dir, 'network'),
      '--leases-dir',
      join(dir, 'leases'),
    ],
  };
}

async function setForwarding(lab: Lab, on: boolean): Promise<void> {
  const value = on ? '1' : '0';
  const r = await lab.exec('vm', 'sh', ['-c', `echo ${value} > /proc/sys/net/ipv4/ip_forward`]);
  if (r.code !== 0) throw new Error(`could not set forwarding in the vm: ${r.stderr}`);
}

export async function breakContainerPath(lab: Lab, container: LabContainer, how: ContainerBreak): Promise<void> {
  if (how === 'forwarding') {
    await setForwarding(lab, false);
  } else if (how === 'nat') {
    await lab.nftScript('vm', 'flush chain ip ndctr ctrnat\n');
  } else if (how === 'resolver') {
    if (container.resolver === null) throw new Error('the container has no 127.0.0.11 resolver to stop');
    await container.resolver.stop();
  } else {
    await lab.nftScript(
      'vm',
      [
        'add table inet ndctrmtu',
        'add chain inet ndctrmtu mtufwd { type filter hook forward priority -10; policy accept; }',
        `add rule inet ndctrmtu mtufwd oifname "${container.bridge}" meta length > ${how.mtuBlackhole} drop`,
        'add rule inet ndctrmtu mtufwd icmp type destination-unreachable icmp code frag-needed drop',
        'add chain inet ndctrmtu mtuout { type filter hook output priority -10; policy accept; }',
        'add rule inet ndctrmtu mtuout icmp type destination-unreachable icmp code frag-needed drop',
        '',
      ].join('\n'),
    );
  }
}
