/**
 * The field lab (LAB.md "The field matrix", CONTRACT 7 and 8.4): the namespace lab of harness.ts
 * plus the parts real devices break on, each started and removed by the lab itself:
 *   - endpoints (hub, DPS, registry, nested-edge parent) on their own lab addresses and names,
 *     served by field-hub-server.ts (protocol first exchanges, middleboxes, certificate modes, a
 *     skewed `Date`) or, for 8883, by a real mosquitto;
 *   - a real forward proxy (tinyproxy) with the direct path to the endpoints dropped;
 *   - the VM's plumbing (field-plumbing.ts): eth0 MTU, a path-MTU black hole, container bridges,
 *     a daemon.json fixture, a second default route, a duplicate address, any default route;
 *   - the container vantage (field-container.ts): a `ctr` namespace behind a bridge and NAT in the
 *     vm, resolving through 127.0.0.11.
 * Everything is registered with the base lab, so `destroy()` (and the exit hook) removes it all.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, HUB_NAME, LAB_ADDR, LabSetupError, REPO_ROOT, resolvConf } from './harness.js';
import type { CheckRun, Lab, LabNamespace, LabOptions, RunCheckOptions } from './harness.js';
import { ISOLATED_NSSWITCH_CONF, NETNS_DIR } from './lab-names.js';
import type { LabServer } from './lab-process.js';
import { CERT_MODES, fieldCerts } from './field-certs.js';
import type { CertMode, FieldCerts } from './field-certs.js';
import { addContainer, breakContainerPath } from './field-container.js';
import type { ContainerBreak, ContainerOptions, LabContainer } from './field-container.js';
import { MIDDLEBOX_MODES } from './field-hub-types.js';
import type { FieldApp, FieldHubConfig, FieldListenerConfig, MiddleboxMode } from './field-hub-types.js';
import { startMosquitto } from './field-mosquitto.js';
import type { MosquittoListener } from './field-mosquitto.js';
import {
  addBridge,
  addDuplicateAddress,
  addSecondDefaultRoute,
  arpingDuplicate,
  dfPing,
  newPlumbingState,
  pathMtuBlackhole,
  setDefaultRoute,
  setEth0Mtu,
  writeDockerConfig,
} from './field-plumbing.js';
import type { BridgeOptions, SecondDefaultRouteOptions } from './field-plumbing.js';
import type { FieldProbe, FieldProbeResult } from './field-probe-kinds.js';
import { PROXY_ADDRESS, PROXY_NAME, startProxy } from './field-proxy.js';
import type { LabProxy, ProxyOptions } from './field-proxy.js';

export type { CertMode } from './field-certs.js';
export type { MiddleboxMode } from './field-hub-types.js';
export type { ProxyOptions, LabProxy } from './field-proxy.js';
export type { BridgeOptions, SecondDefaultRouteOptions } from './field-plumbing.js';
export type { ContainerBreak, ContainerOptions, LabContainer } from './field-container.js';

const FIELD_HUB_SCRIPT = fileURLToPath(new URL('./field-hub-server.ts', import.meta.url));

export type FieldRole = 'hub' | 'dps' | 'registry' | 'parent';
export const FIELD_ROLES: readonly FieldRole[] = ['hub', 'dps', 'registry', 'parent'];

/** Each endpoint's name (in the lab DNS), address (on the net namespace's loopback) and ports. */
export const FIELD_HOSTS: Record<FieldRole, { name: string; address: string; ports: readonly number[] }> = {
  hub: { name: HUB_NAME, address: LAB_ADDR.hub, ports: [8883, 5671, 443] },
  // DPS is provisioned over HTTPS only (CONTRACT 7.3); a registry answers on 443.
  dps: { name: 'lab-dps.azure-devices-provisioning.net', address: '198.18.1.20', ports: [443] },
  registry: { name: 'lab-registry.azurecr.io', address: '198.18.1.21', ports: [443] },
  parent: { name: 'lab-parent.local', address: '198.18.1.22', ports: [8883, 5671, 443] },
};

/** The lab DNS's records in a field lab: every endpoint and the proxy. */
export const FIELD_DNS_RECORDS: Record<string, string> = {
  ...Object.fromEntries(FIELD_ROLES.map((r) => [FIELD_HOSTS[r].name, FIELD_HOSTS[r].address])),
  [PROXY_NAME]: PROXY_ADDRESS,
};

export interface ListenerOptions {
  /** Default 'trusted'. */
  cert?: CertMode;
  /** A middlebox in front of the application (see field-hub-server.ts). Default none. */
  middlebox?: MiddleboxMode;
  /** Default by port: 8883 mqtt, 5671 amqp, 443 https, any other tls-only. */
  app?: FieldApp;
  /** 8883 only: a real mosquitto (TLS, refuses every client with CONNACK 5) instead of the script. */
  broker?: 'scripted' | 'mosquitto';
  /** The HTTP `Date` is the server clock plus this. Default FieldLabOptions.serverClockOffsetSeconds. */
  dateOffsetSeconds?: number;
  /** The scripted broker's CONNACK return code. Default 5 ("not authorized", as IoT Hub for a bad SAS). */
  connackCode?: number;
}

/** A listener: options, or a certificate mode or middlebox mode alone; false: nothing listens (refused). */
export type ListenerSpec = ListenerOptions | CertMode | MiddleboxMode | false;

export interface FieldHostOptions {
  /** Port → listener, over the role's default ports (all 'trusted'); other ports are added. */
  ports?: Partial<Record<number, ListenerSpec>>;
}

export interface FieldLabOptions extends Omit<LabOptions, 'hub'> {
  /** Which endpoints are served. A role set to false has no address at all (its packets vanish:
   *  a timeout). Default every role with its default ports, all trusted. */
  hosts?: Partial<Record<FieldRole, FieldHostOptions | false>>;
  /** Every HTTPS listener's `Date` offset (a skewed server clock is the same as a skewed vm clock). */
  serverClockOffsetSeconds?: number;
  /** A tinyproxy; `blockDirect` (default true) drops the vm's direct path to every endpoint. */
  proxy?: ProxyOptions & { blockDirect?: boolean };
  /** Endpoints the vm cannot reach at all (every packet to their address dropped). */
  unreachable?: FieldRole[];
  eth0Mtu?: number;
  /** Drop packets over this size between the vm and the net side, and every "fragmentation needed". */
  pathMtuBlackhole?: { maxPacketBytes: number };
  bridges?: BridgeOptions[];
  /** A daemon.json fixture (object → JSON); its path is `dockerConfigPath`. */
  dockerConfig?: string | object;
  secondDefaultRoute?: SecondDefaultRouteOptions | true;
  /** A host on eth0's segment holding the vm's address (true) or the address given. */
  duplicateAddress?: boolean | string;
  container?: ContainerOptions | true;
}

export interface FieldLab extends Lab {
  readonly certs: FieldCerts;
  /** The field endpoint server, or null when no role is served by it. */
  readonly fieldHub: LabServer | null;
  readonly mosquitto: LabServer | null;
  readonly proxy: LabProxy | null;
  readonly container: LabContainer | null;
  /** Where writeDockerConfig writes (absent until written). */
  readonly dockerConfigPath: string;
  /** `CONN`/`EXCHANGE`/`MIDDLEBOX` lines the field hub server logged so far. */
  hubLog(): string[];
  /** Drops every packet from the vm to these endpoints (the proxy still reaches them). */
  makeUnreachable(...roles: FieldRole[]): Promise<void>;
  setEth0Mtu(mtu: number): Promise<void>;
  pathMtuBlackhole(maxPacketBytes: number): Promise<void>;
  addBridge(opts: BridgeOptions): Promise<string>;
  writeDockerConfig(content: string | object): string;
  addSecondDefaultRoute(opts?: SecondDefaultRouteOptions): Promise<void>;
  addDuplicateAddress(address?: string): Promise<void>;
  setDefaultRoute(gateway: string, opts?: { onlink?: boolean; metric?: number }): Promise<void>;
  breakContainerPath(how: ContainerBreak): Promise<void>;
  /** runCheckIn('ctr', …) with the container's own resolv.conf and empty networkd/leases dirs. */
  runCheckInContainer(args: string[], opts?: RunCheckOptions): Promise<CheckRun>;
  /** ns-probe's field kinds, typed. */
  fieldProbe(ns: LabNamespace, probes: FieldProbe[]): Promise<FieldProbeResult[]>;
  dfPing(
    ns: LabNamespace,
    target: string,
    payloadBytes: number,
    opts?: { iface?: string },
  ): Promise<{ answered: boolean; output: string }>;
  arpingDuplicate(ns?: LabNamespace, iface?: string, address?: string): Promise<{ duplicate: boolean; output: string }>;
}

function defaultApp(port: number): FieldApp {
  if (port === 8883) return 'mqtt';
  if (port === 5671) return 'amqp';
  if (port === 443) return 'https';
  return 'tls-only';
}

function listenerOptions(spec: ListenerSpec | undefined): ListenerOptions | false {
  if (spec === undefined) return {};
  if (spec === false) return false;
  if (typeof spec === 'string') {
    if ((CERT_MODES as readonly string[]).includes(spec)) return { cert: spec as CertMode };
    if ((MIDDLEBOX_MODES as readonly string[]).includes(spec)) return { middlebox: spec as MiddleboxMode };
    throw new Error(`unknown listener mode ${spec}`);
  }
  return spec;
}

const NO_TLS: ReadonlySet<MiddleboxMode> = new Set(['tls-silent', 'reset', 'close']);

/** The field hub's listeners and mosquitto's, from the options. */
function plan(
  options: FieldLabOptions,
  certs: FieldCerts,
): { listeners: FieldListenerConfig[]; mosquitto: MosquittoListener[]; served: FieldRole[] } {
  const listeners: FieldListenerConfig[] = [];
  const mosquitto: MosquittoListener[] = [];
  const served: FieldRole[] = [];
  for (const role of FIELD_ROLES) {
    const host = options.hosts?.[role];
    if (host === false) continue;
    served.push(role);
    const { name, address, ports: defaults } = FIELD_HOSTS[role];
    const specs = new Map<number, ListenerSpec | undefined>(defaults.map((p) => [p, undefined]));
    for (const [port, spec] of Object.entries(host?.ports ?? {})) specs.set(Number(port), spec);
    for (const [port, spec] of specs) {
      const o = listenerOptions(spec);
      if (o === false) continue;
      const middlebox = o.middlebox ?? null;
      const files = middlebox !== null && NO_TLS.has(middlebox) ? null : certs.files(o.cert ?? 'trusted', name);
      if (o.broker === 'mosquitto') {
        if (port !== 8883 || middlebox !== null || files === null) {
          throw new Error(`${role}:${port}: mosquitto serves 8883 only, without a middlebox`);
        }
        mosquitto.push({ address, port, ...files });
        continue;
      }
      listeners.push({
        name: `${role}:${port}`,
        address,
        port,
        app: o.app ?? defaultApp(port),
        middlebox,
        certFile: files?.certFile ?? null,
        keyFile: files?.keyFile ?? null,
        dateOffsetSeconds: o.dateOffsetSeconds ?? options.serverClockOffsetSeconds ?? 0,
        connackCode: o.connackCode ?? 5,
      });
    }
  }
  return { listeners, mosquitto, served };
}

/** tinyproxy (and any other net-side program) resolves names through the lab DNS only. */
function isolateNetLookups(lab: Lab): void {
  const dir = join(NETNS_DIR, lab.netNs);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'nsswitch.conf'), ISOLATED_NSSWITCH_CONF);
  writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  writeFileSync(join(dir, 'resolv.conf'), resolvConf(LAB_ADDR.dns));
}

export async function createFieldLab(options: FieldLabOptions = {}): Promise<FieldLab> {
  const base = await createLab({
    ...options,
    hub: false,
    dnsmasq: options.dnsmasq ?? [{ address: LAB_ADDR.dns, hosts: FIELD_DNS_RECORDS }],
  });
  try {
    return await extend(base, options);
  } catch (err) {
    await base.destroy();
    throw new LabSetupError(base, err);
  }
}

async function extend(lab: Lab, options: FieldLabOptions): Promise<FieldLab> {
  const certs = fieldCerts(lab.ca, lab.inspectionCa, lab.paths.dir);
  lab.onDestroy(() => certs.remove());
  isolateNetLookups(lab);
  const plumbing = newPlumbingState();
  const state: {
    fieldHub: LabServer | null;
    mosquitto: LabServer | null;
    proxy: LabProxy | null;
    container: LabContainer | null;
  } = { fieldHub: null, mosquitto: null, proxy: null, container: null };
  const dockerConfigPath = join(lab.paths.dir, 'docker', 'daemon.json');

  const makeUnreachable = async (...roles: FieldRole[]): Promise<void> => {
    for (const role of roles) await lab.drop({ protocol: 'all', address: FIELD_HOSTS[role].address });
  };
  const parts = {
    certs,
    get fieldHub() {
      return state.fieldHub;
    },
    get mosquitto() {
      return state.mosquitto;
    },
    get proxy() {
      return state.proxy;
    },
    get container() {
      return state.container;
    },
    dockerConfigPath,
    hubLog: () => (state.fieldHub?.output() ?? '').split('\n').filter((l) => /^(CONN|EXCHANGE|MIDDLEBOX) /.test(l)),
    makeUnreachable,
    setEth0Mtu: (mtu: number) => setEth0Mtu(lab, plumbing, mtu),
    pathMtuBlackhole: (maxPacketBytes: number) => pathMtuBlackhole(lab, maxPacketBytes),
    addBridge: (opts: BridgeOptions) => addBridge(lab, opts),
    writeDockerConfig: (content: string | object) => writeDockerConfig(lab, content),
    addSecondDefaultRoute: (opts?: SecondDefaultRouteOptions) => addSecondDefaultRoute(lab, opts),
    addDuplicateAddress: (address: string = LAB_ADDR.vm) => addDuplicateAddress(lab, plumbing, address),
    setDefaultRoute: (gateway: string, opts?: { onlink?: boolean; metric?: number }) =>
      setDefaultRoute(lab, gateway, opts),
    breakContainerPath: (how: ContainerBreak) => {
      if (state.container === null) throw new Error('the lab has no container (option `container`)');
      return breakContainerPath(lab, state.container, how);
    },
    runCheckInContainer: (args: string[], opts: RunCheckOptions = {}) => {
      if (state.container === null) throw new Error('the lab has no container (option `container`)');
      return lab.runCheckIn('ctr', args, { pathArgs: state.container.pathArgs(), ...opts });
    },
    fieldProbe: async (ns: LabNamespace, probes: FieldProbe[]) => (await lab.probe(ns, probes)) as FieldProbeResult[],
    dfPing: (ns: LabNamespace, target: string, payloadBytes: number, opts?: { iface?: string }) =>
      dfPing(lab, ns, target, payloadBytes, opts),
    arpingDuplicate: (ns: LabNamespace = 'vm', iface = 'eth0', address: string = LAB_ADDR.vm) =>
      arpingDuplicate(lab, ns, iface, address),
  };
  // defineProperties, not Object.assign: the getters must stay getters (the servers start below).
  const field = Object.defineProperties(lab, Object.getOwnPropertyDescriptors(parts)) as FieldLab;

  // The segment first (MTU before the bridge takes it over), then routes, bridges, the container.
  if (options.eth0Mtu !== undefined) await field.setEth0Mtu(options.eth0Mtu);
  if (options.duplicateAddress !== undefined && options.duplicateAddress !== false) {
    await field.addDuplicateAddress(options.duplicateAddress === true ? LAB_ADDR.vm : options.duplicateAddress);
  }
  if (options.secondDefaultRoute !== undefined) {
    await field.addSecondDefaultRoute(options.secondDefaultRoute === true ? {} : options.secondDefaultRoute);
  }
  for (const bridge of options.bridges ?? []) await field.addBridge(bridge);
  if (options.dockerConfig !== undefined) field.writeDockerConfig(options.dockerConfig);
  if (options.container !== undefined) {
    state.container = await addContainer(lab, options.container === true ? {} : options.container);
  }

  const { listeners, mosquitto, served } = plan(options, certs);
  for (const role of served) await lab.addServerAddress(FIELD_HOSTS[role].address);
  const starts: Array<Promise<void>> = [];
  if (listeners.length > 0) {
    const configFile = join(lab.paths.dir, 'field-hub.json');
    const config: FieldHubConfig = { listeners };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    starts.push(
      lab
        .startServer('net', {
          name: 'field-hub',
          cmd: process.execPath,
          args: ['--import', 'tsx', FIELD_HUB_SCRIPT, '--config', configFile],
          cwd: REPO_ROOT,
          ready: /^READY \d+$/,
        })
        .then(({ server }) => {
          state.fieldHub = server;
        }),
    );
  }
  if (mosquitto.length > 0) {
    starts.push(
      startMosquitto(lab, mosquitto).then((server) => {
        state.mosquitto = server;
      }),
    );
  }
  if (options.proxy !== undefined) {
    const proxyOptions = options.proxy;
    starts.push(
      startProxy(lab, proxyOptions).then((proxy) => {
        state.proxy = proxy;
      }),
    );
  }
  // Start in parallel but wait for all, so a failure never leaves a half-started server unseen.
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;

  if (options.proxy !== undefined && options.proxy.blockDirect !== false) await makeUnreachable(...served);
  if (options.unreachable !== undefined) await makeUnreachable(...options.unreachable);
  if (options.pathMtuBlackhole !== undefined) await field.pathMtuBlackhole(options.pathMtuBlackhole.maxPacketBytes);
  return field;
}
