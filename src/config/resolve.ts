/**
 * Builds one CheckConfig from its sources. Precedence per option (CONTRACT.md section 2):
 * CLI flag > desired property > environment > default. Each value is validated where it
 * enters, so an error names the option as that source spells it (--timeout, timeoutMs,
 * NETDIAG_TIMEOUT).
 */
import { hubFromAziotConfig } from './aziot.js';
import { DEFAULTS, OPTIONS, envName } from './options.js';
import type { CheckConfig } from './types.js';
import { hostname } from './values.js';

export interface ConfigSources {
  /** Raw CLI values by option key (strings, or string arrays for repeatable flags). */
  flags?: Partial<Record<keyof CheckConfig, unknown>>;
  /** Desired properties (already validated by the module, or raw). */
  desired?: Partial<Record<keyof CheckConfig, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** Reads the aziot config; injectable for tests. */
  readAziotHub?: (path: string) => Promise<string | null>;
}

/** Resolves every option except the hub's file fallback; throws ConfigError on the first bad value. */
export function resolveSync(sources: ConfigSources): CheckConfig {
  const env = sources.env ?? {};
  const out: Record<string, unknown> = { ...structuredClone(DEFAULTS), hub: null };
  for (const spec of OPTIONS) {
    const flag = sources.flags?.[spec.key];
    const desired = sources.desired?.[spec.key];
    const fromEnv = env[envName(spec)];
    if (flag !== undefined) out[spec.key] = spec.parse(`--${spec.flag}`, flag);
    else if (desired !== undefined && desired !== null) out[spec.key] = spec.parse(spec.key, desired);
    else if (fromEnv !== undefined && fromEnv !== '') out[spec.key] = spec.parse(envName(spec), fromEnv);
  }
  const config = out as unknown as CheckConfig;
  // edgeAgent passes its UpstreamProtocol to every module: the protocol the runtime really uses
  // decides which ports matter, unless an operator said otherwise.
  const runtimeProtocol = env['UpstreamProtocol'];
  if (sources.flags?.upstreamProtocol === undefined && (sources.desired?.upstreamProtocol ?? null) === null
    && !env['NETDIAG_UPSTREAM_PROTOCOL'] && runtimeProtocol) {
    const spec = OPTIONS.find((s) => s.key === 'upstreamProtocol');
    try {
      config.upstreamProtocol = spec?.parse('UpstreamProtocol', runtimeProtocol) as CheckConfig['upstreamProtocol'];
    } catch {
      // The runtime's own variable is not ours to refuse: keep the default.
    }
  }
  if (config.hub === null && env['IOTEDGE_IOTHUBHOSTNAME']) {
    const hubSpec = OPTIONS.find((s) => s.key === 'hub');
    config.hub = hubSpec?.parse('IOTEDGE_IOTHUBHOSTNAME', env['IOTEDGE_IOTHUBHOSTNAME']) as string;
  }
  return config;
}

export async function resolveConfig(sources: ConfigSources): Promise<CheckConfig> {
  const config = resolveSync(sources);
  if (config.hub === null) {
    const read = sources.readAziotHub ?? hubFromAziotConfig;
    const fromFile = await read(config.aziotConfig);
    if (fromFile !== null) config.hub = hostname(`the hub name in ${config.aziotConfig}`, fromFile);
  }
  return config;
}
