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
  timeoutMs: number;
  deadlineMs: number;
  /** Layers to examine (a runDiagnostics call may ask for fewer). */
  components: ComponentName[];
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
