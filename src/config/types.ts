import type { ComponentName, SwitchType, UpstreamProtocol } from '../report/types.js';

export interface Endpoint {
  host: string;
  port: number;
}

/** Everything one check needs to know, after flags, desired properties, environment and defaults. */
export interface CheckConfig {
  interfaces: string[];
  /** IoT Hub hostname; null when none is known (then DPS is tested instead). */
  hub: string | null;
  endpoints: Endpoint[];
  /** Names every DNS server is asked for; empty means "the hub, else DPS". */
  dnsNames: string[];
  upstreamProtocol: UpstreamProtocol;
  expectedIp: string | null;
  switchType: SwitchType | null;
  resolvConf: string;
  resolvedConf: string;
  networkdDir: string;
  leasesDir: string;
  aziotConfig: string;
  caFile: string | null;
  /** dockerd's daemon.json, for the DNS servers containers will use (CONTRACT 7.5). */
  dockerConfig: string;
  timeoutMs: number;
  deadlineMs: number;
  /** Layers to examine (a runDiagnostics call may ask for fewer). */
  components: ComponentName[];
  /**
   * The proxy URL given to the check (--proxy, desired `proxy`, NETDIAG_PROXY), as written: it may
   * hold a password, so it is never reported or logged unmasked. null: discovered (CONTRACT 7.1).
   */
  proxy: string | null;
  /** Where `proxy` came from (--proxy, desired proxy, NETDIAG_PROXY), or null. */
  proxySource: string | null;
  /** The DPS global endpoint host; null: the default (config.toml's global_endpoint, else DPS's global name). */
  dps: string | null;
  /** Container registries tested on 443. */
  registries: string[];
  /** Whether the application exchanges run after TLS (CONTRACT 7.2). */
  exchanges: boolean;
  /** Where the systemd drop-ins with the daemons' proxy settings are read. */
  systemdDir: string;
  /** The parent of a nested edge device (IOTEDGE_PARENTHOSTNAME, or config.toml parent_hostname), or null. */
  parent: string | null;
  /** config.toml's [provisioning] source (manual, dps…), when the CLI could read it; else null. */
  provisioningSource: string | null;
}

/** A refused value: names the option, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`invalid value ${describe(value)} for ${option}: ${allowed}`);
    this.name = 'ConfigError';
  }
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
