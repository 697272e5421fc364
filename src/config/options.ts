/**
 * The table of check options: one row per option, shared by the CLI, the environment
 * (NETDIAG_<FLAG_IN_UPPER_SNAKE>), the module's desired properties and defaults.
 */
import { COMPONENTS, VANTAGES, type Vantage } from '../report/vocabulary.js';
import type { CheckConfig } from './types.js';
import * as v from './values.js';

export interface OptionSpec {
  /** Field of CheckConfig, and the name used in desired properties. */
  key: keyof CheckConfig;
  /** CLI flag without the leading dashes. */
  flag: string;
  repeatable: boolean;
  /** A switch: the CLI takes `--<flag>` and `--no-<flag>`, without a value. */
  boolean?: true;
  /** Value name shown in --help. */
  arg: string;
  help: string;
  parse(option: string, value: unknown): CheckConfig[keyof CheckConfig];
}

export const DEFAULT_DPS_HOST = 'global.azure-devices-provisioning.net';
export const DEFAULT_REGISTRY = 'mcr.microsoft.com';

export const DEFAULTS: Omit<CheckConfig, 'hub'> = {
  interfaces: ['eth0'],
  endpoints: [],
  dnsNames: [],
  upstreamProtocol: 'Amqp',
  expectedIp: null,
  switchType: null,
  resolvConf: '/etc/resolv.conf',
  resolvedConf: '/run/systemd/resolve/resolv.conf',
  networkdDir: '/etc/systemd/network',
  leasesDir: '/run/systemd/netif/leases',
  aziotConfig: '/etc/aziot/config.toml',
  caFile: null,
  dockerConfig: '/etc/docker/daemon.json',
  timeoutMs: 3000,
  deadlineMs: 15000,
  components: [...COMPONENTS],
  proxy: null,
  proxySource: null,
  dps: null,
  registries: [DEFAULT_REGISTRY],
  exchanges: true,
  systemdDir: '/etc/systemd/system',
  parent: null,
  provisioningSource: null,
};

/** Limits chosen so one check always fits inside IoT Hub's default 30 s method timeout window. */
export const TIMEOUT_RANGE = { min: 100, max: 60_000 } as const;
export const DEADLINE_RANGE = { min: 500, max: 300_000 } as const;

export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'interfaces',
    flag: 'interface',
    repeatable: true,
    arg: 'NAME',
    help: 'interface to examine; repeatable (default eth0)',
    parse: (o, x) => v.list(o, x, v.interfaceName, 8, 1),
  },
  {
    key: 'hub',
    flag: 'hub',
    repeatable: false,
    arg: 'HOST',
    help: 'IoT Hub hostname (default IOTEDGE_IOTHUBHOSTNAME, else /etc/aziot/config.toml)',
    parse: v.hostname,
  },
  {
    key: 'endpoints',
    flag: 'endpoint',
    repeatable: true,
    arg: 'HOST:PORT',
    help: 'extra TLS endpoint to test (DPS, a registry...); repeatable',
    parse: (o, x) => v.list(o, x, v.endpoint, 16),
  },
  {
    key: 'dnsNames',
    flag: 'dns-name',
    repeatable: true,
    arg: 'NAME',
    help: 'name every DNS server is asked for; repeatable (default the hub, else DPS)',
    parse: (o, x) => v.list(o, x, v.hostname, 8),
  },
  {
    key: 'upstreamProtocol',
    flag: 'upstream-protocol',
    repeatable: false,
    arg: 'P',
    help: 'Amqp, AmqpWs, Mqtt or MqttWs: which ports matter most (default Amqp)',
    parse: (o, x) => v.oneOf(o, x, v.UPSTREAM_PROTOCOLS),
  },
  {
    key: 'expectedIp',
    flag: 'expected-ip',
    repeatable: false,
    arg: 'ADDR',
    help: 'the VM address the host reports (Get-EflowVmAddr)',
    parse: v.ipAddress,
  },
  {
    key: 'switchType',
    flag: 'switch-type',
    repeatable: false,
    arg: 'T',
    help: 'Hyper-V switch: external, internal or default (tunes guidance)',
    parse: (o, x) => v.oneOf(o, x, v.SWITCH_TYPES),
  },
  {
    key: 'resolvConf',
    flag: 'resolv-conf',
    repeatable: false,
    arg: 'PATH',
    help: 'resolver configuration (default /etc/resolv.conf)',
    parse: v.filePath,
  },
  {
    key: 'resolvedConf',
    flag: 'resolved-conf',
    repeatable: false,
    arg: 'PATH',
    help: "systemd-resolved's upstream list (default /run/systemd/resolve/resolv.conf)",
    parse: v.filePath,
  },
  {
    key: 'networkdDir',
    flag: 'networkd-dir',
    repeatable: false,
    arg: 'PATH',
    help: 'systemd-networkd .network files (default /etc/systemd/network)',
    parse: v.filePath,
  },
  {
    key: 'leasesDir',
    flag: 'leases-dir',
    repeatable: false,
    arg: 'PATH',
    help: 'systemd-networkd DHCP leases (default /run/systemd/netif/leases)',
    parse: v.filePath,
  },
  {
    key: 'aziotConfig',
    flag: 'aziot-config',
    repeatable: false,
    arg: 'PATH',
    help: 'IoT Edge config read for the hub, DPS, parent and edgeAgent proxy (default /etc/aziot/config.toml)',
    parse: v.filePath,
  },
  {
    key: 'caFile',
    flag: 'ca-file',
    repeatable: false,
    arg: 'PATH',
    help: "extra trusted root CA(s), PEM, added to the VM's CA store",
    parse: v.filePath,
  },
  {
    key: 'dockerConfig',
    flag: 'docker-config',
    repeatable: false,
    arg: 'PATH',
    help: "dockerd's daemon.json, for the containers' DNS (default /etc/docker/daemon.json)",
    parse: v.filePath,
  },
  {
    key: 'timeoutMs',
    flag: 'timeout',
    repeatable: false,
    arg: 'MS',
    help: "one probe's timeout (default 3000)",
    parse: (o, x) => v.integer(o, x, TIMEOUT_RANGE.min, TIMEOUT_RANGE.max),
  },
  {
    key: 'deadlineMs',
    flag: 'deadline',
    repeatable: false,
    arg: 'MS',
    help: "the whole check's budget (default 15000)",
    parse: (o, x) => v.integer(o, x, DEADLINE_RANGE.min, DEADLINE_RANGE.max),
  },
  {
    key: 'proxy',
    flag: 'proxy',
    repeatable: false,
    arg: 'URL',
    help: 'HTTP proxy the 443 endpoints are tested through (default https_proxy, else the IoT Edge host settings)',
    parse: v.proxyUrl,
  },
  {
    key: 'dps',
    flag: 'dps',
    repeatable: false,
    arg: 'HOST',
    help: `DPS endpoint, tested on 443 (default config.toml global_endpoint, else ${DEFAULT_DPS_HOST})`,
    parse: v.dpsHost,
  },
  {
    key: 'registries',
    flag: 'registry',
    repeatable: true,
    arg: 'HOST',
    help: `container registry tested on 443; repeatable (default ${DEFAULT_REGISTRY}; an empty list: none)`,
    parse: (o, x) => v.list(o, x, v.hostname, 8),
  },
  {
    key: 'exchanges',
    flag: 'exchange',
    repeatable: false,
    boolean: true,
    arg: '',
    help: 'no MQTT/AMQP/HTTP exchange after TLS: TLS alone decides',
    parse: v.onOff,
  },
  {
    key: 'systemdDir',
    flag: 'systemd-dir',
    repeatable: false,
    arg: 'PATH',
    help:
      'systemd units read for the proxy drop-ins of aziot-edged, aziot-identityd, docker (default ' +
      '/etc/systemd/system)',
    parse: v.filePath,
  },
];

/** NETDIAG_ and the flag in upper snake case: `--upstream-protocol` is NETDIAG_UPSTREAM_PROTOCOL. */
export function envName(spec: Pick<OptionSpec, 'flag'>): string {
  return `NETDIAG_${spec.flag.toUpperCase().replace(/-/g, '_')}`;
}

/** A setting only the environment (or, for the module, a desired property) gives: no CLI flag. */
export interface SettingSpec<T> {
  /** The name in desired properties. */
  key: string;
  /** Stem of the environment name (see envName). */
  flag: string;
  help: string;
  default: T;
  parse(option: string, value: unknown): T;
}

export type TelemetryMode = 'always' | 'onChange' | 'off';
export const TELEMETRY_MODES: readonly TelemetryMode[] = ['always', 'onChange', 'off'];

/** The module's own settings (CONTRACT.md 5.1): desired properties over NETDIAG_* variables over defaults. */
const MODULE_TELEMETRY: SettingSpec<TelemetryMode> = {
  key: 'telemetry',
  flag: 'telemetry',
  help: 'always, onChange or off',
  default: 'always',
  parse: (o, x) => v.oneOf(o, x, TELEMETRY_MODES),
};

export const MODULE_SETTINGS = {
  intervalSeconds: {
    key: 'intervalSeconds',
    flag: 'interval-seconds',
    help: 'seconds between scheduled checks',
    default: 300,
    parse: (o: string, x: unknown): number => v.integer(o, x, 30, 86_400),
  },
  telemetry: MODULE_TELEMETRY,
  // CONTRACT.md 8.1: lastCheck is patched with a change, or at most this often while nothing changes.
  heartbeatSeconds: {
    key: 'heartbeatSeconds',
    flag: 'heartbeat-seconds',
    help: 'seconds between twin heartbeats (lastCheck) while nothing changes',
    default: 3600,
    parse: (o: string, x: unknown): number => v.integer(o, x, 600, 86_400),
  },
} satisfies Record<string, SettingSpec<unknown>>;

export type ModuleSettingKey = keyof typeof MODULE_SETTINGS;

/** Settings of the process itself, from the environment only (the image sets some of them). */
export const PROCESS_SETTINGS = {
  ping: {
    key: 'ping',
    flag: 'ping',
    help: 'the ping binary (a path, or a name looked up in PATH)',
    default: 'ping',
    parse: (o: string, x: unknown): string => v.filePath(o, typeof x === 'string' ? x.trim() : x),
  },
  arping: {
    key: 'arping',
    flag: 'arping',
    help: 'the arping binary for duplicate address detection (a path, or a name looked up in PATH)',
    default: 'arping',
    parse: (o: string, x: unknown): string => v.filePath(o, typeof x === 'string' ? x.trim() : x),
  },
  logLevel: {
    key: 'logLevel',
    flag: 'log-level',
    help:
      'pino or IoT Edge level names (fatal, error, warn/warning, info/information, debug, trace/verbose); else ' +
      "the runtime's RuntimeLogLevel",
    default: '',
    // Any spelling is accepted and normalised by the logger (unknown → info): a log level must never stop the module.
    parse: (o: string, x: unknown): string => v.nonEmptyText(o, x),
  },
  logFormat: {
    key: 'logFormat',
    flag: 'log-format',
    help: 'iotedge (the IoT Edge line format, default) or json (pino JSON lines)',
    default: 'iotedge',
    parse: (o: string, x: unknown): string => v.oneOf(o, x, ['iotedge', 'json'] as const),
  },
  vantage: {
    key: 'vantage',
    flag: 'vantage',
    help: 'host (the VM, host networking) or container (a container on the azure-iot-edge network); default detected',
    default: '',
    parse: (o: string, x: unknown): string => v.oneOf(o, x, VANTAGES),
  },
  timeScale: {
    key: 'timeScale',
    flag: 'time-scale',
    help: "tests and the bench only: divides the module's periods (interval, heartbeat) by this; 1 on a device",
    default: 1,
    parse: (o: string, x: unknown): number => v.integer(o, x, 1, 10_000),
  },
} satisfies Record<string, SettingSpec<unknown>>;

/** Variables the IoT Edge runtime (edgeAgent) gives every module: read, never set, by us. */
export const RUNTIME_ENV = {
  moduleId: 'IOTEDGE_MODULEID',
  deviceId: 'IOTEDGE_DEVICEID',
  hub: 'IOTEDGE_IOTHUBHOSTNAME',
  gateway: 'IOTEDGE_GATEWAYHOSTNAME',
  parent: 'IOTEDGE_PARENTHOSTNAME',
  edgeHubConnectionString: 'EdgeHubConnectionString',
  upstreamProtocol: 'UpstreamProtocol',
  logLevel: 'RuntimeLogLevel',
} as const;

/** A setting from the environment: its NETDIAG_* value when valid, else its default (`invalid` hears why). */
export function settingFromEnv<T>(spec: SettingSpec<T>, env: NodeJS.ProcessEnv, invalid?: (error: unknown) => void): T {
  const raw = env[envName(spec)];
  if (raw === undefined || raw === '') return spec.default;
  try {
    return spec.parse(envName(spec), raw);
  } catch (error) {
    invalid?.(error);
    return spec.default;
  }
}

/** The process settings in effect: NETDIAG_* values, the runtime's RuntimeLogLevel under NETDIAG_LOG_LEVEL. */
export function processSettings(env: NodeJS.ProcessEnv): {
  pingBinary: string;
  arpingBinary: string;
  logLevel: string;
  logFormat: string;
  /** null: not set, detect it (module/vantage.ts). */
  vantage: Vantage | null;
  timeScale: number;
} {
  const level = settingFromEnv(PROCESS_SETTINGS.logLevel, env);
  const vantage = settingFromEnv(PROCESS_SETTINGS.vantage, env);
  return {
    pingBinary: settingFromEnv(PROCESS_SETTINGS.ping, env),
    arpingBinary: settingFromEnv(PROCESS_SETTINGS.arping, env),
    logLevel: level || (env[RUNTIME_ENV.logLevel] ?? ''),
    logFormat: settingFromEnv(PROCESS_SETTINGS.logFormat, env),
    vantage: vantage === 'host' || vantage === 'container' ? vantage : null,
    timeScale: settingFromEnv(PROCESS_SETTINGS.timeScale, env),
  };
}
