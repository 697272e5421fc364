/**
 * The table of check options: one row per option, shared by the CLI, the environment
 * (NETDIAG_<FLAG_IN_UPPER_SNAKE>), the module's desired properties and defaults.
 */
import type { CheckConfig } from './types.js';
import * as v from './values.js';

export interface OptionSpec {
  /** Field of CheckConfig, and the name used in desired properties. */
  key: keyof CheckConfig;
  /** CLI flag without the leading dashes. */
  flag: string;
  repeatable: boolean;
  /** Value name shown in --help. */
  arg: string;
  help: string;
  parse(option: string, value: unknown): CheckConfig[keyof CheckConfig];
}

export const DEFAULT_DPS_HOST = 'global.azure-devices-provisioning.net';

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
  timeoutMs: 3000,
  deadlineMs: 15000,
  components: ['ip', 'dns', 'firewall'],
};

/** Limits chosen so one check always fits inside IoT Hub's default 30 s method timeout window. */
export const TIMEOUT_RANGE = { min: 100, max: 60_000 } as const;
export const DEADLINE_RANGE = { min: 500, max: 300_000 } as const;

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'interfaces', flag: 'interface', repeatable: true, arg: 'NAME', help: 'interface to examine; repeatable (default eth0)',
    parse: (o, x) => v.list(o, x, v.interfaceName, 8, 1) },
  { key: 'hub', flag: 'hub', repeatable: false, arg: 'HOST', help: 'IoT Hub hostname (default IOTEDGE_IOTHUBHOSTNAME, else /etc/aziot/config.toml)',
    parse: v.hostname },
  { key: 'endpoints', flag: 'endpoint', repeatable: true, arg: 'HOST:PORT', help: 'extra TLS endpoint to test (DPS, a registry...); repeatable',
    parse: (o, x) => v.list(o, x, v.endpoint, 16) },
  { key: 'dnsNames', flag: 'dns-name', repeatable: true, arg: 'NAME', help: 'name every DNS server is asked for; repeatable (default the hub, else DPS)',
    parse: (o, x) => v.list(o, x, v.hostname, 8) },
  { key: 'upstreamProtocol', flag: 'upstream-protocol', repeatable: false, arg: 'P', help: 'Amqp, AmqpWs, Mqtt or MqttWs: which ports matter most (default Amqp)',
    parse: (o, x) => v.oneOf(o, x, v.UPSTREAM_PROTOCOLS) },
  { key: 'expectedIp', flag: 'expected-ip', repeatable: false, arg: 'ADDR', help: 'the VM address the host reports (Get-EflowVmAddr)',
    parse: v.ipAddress },
  { key: 'switchType', flag: 'switch-type', repeatable: false, arg: 'T', help: 'Hyper-V switch: external, internal or default (tunes guidance)',
    parse: (o, x) => v.oneOf(o, x, v.SWITCH_TYPES) },
  { key: 'resolvConf', flag: 'resolv-conf', repeatable: false, arg: 'PATH', help: 'resolver configuration (default /etc/resolv.conf)',
    parse: v.filePath },
  { key: 'resolvedConf', flag: 'resolved-conf', repeatable: false, arg: 'PATH', help: "systemd-resolved's upstream list (default /run/systemd/resolve/resolv.conf)",
    parse: v.filePath },
  { key: 'networkdDir', flag: 'networkd-dir', repeatable: false, arg: 'PATH', help: 'systemd-networkd .network files (default /etc/systemd/network)',
    parse: v.filePath },
  { key: 'leasesDir', flag: 'leases-dir', repeatable: false, arg: 'PATH', help: 'systemd-networkd DHCP leases (default /run/systemd/netif/leases)',
    parse: v.filePath },
  { key: 'aziotConfig', flag: 'aziot-config', repeatable: false, arg: 'PATH', help: 'IoT Edge config read for the hub name (default /etc/aziot/config.toml)',
    parse: v.filePath },
  { key: 'caFile', flag: 'ca-file', repeatable: false, arg: 'PATH', help: 'extra trusted root CA(s), PEM, added to the system roots',
    parse: v.filePath },
  { key: 'timeoutMs', flag: 'timeout', repeatable: false, arg: 'MS', help: "one probe's timeout (default 3000)",
    parse: (o, x) => v.integer(o, x, TIMEOUT_RANGE.min, TIMEOUT_RANGE.max) },
  { key: 'deadlineMs', flag: 'deadline', repeatable: false, arg: 'MS', help: "the whole check's budget (default 15000)",
    parse: (o, x) => v.integer(o, x, DEADLINE_RANGE.min, DEADLINE_RANGE.max) },
];

export function envName(spec: OptionSpec): string {
  return `NETDIAG_${spec.flag.toUpperCase().replace(/-/g, '_')}`;
}
