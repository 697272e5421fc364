/**
 * Builds one CheckConfig from its sources. Precedence per option (CONTRACT.md section 2):
 * CLI flag > desired property > environment > default. Each value is validated where it
 * enters, so an error names the option as that source spells it (--timeout, timeoutMs,
 * NETDIAG_TIMEOUT).
 */
import { NO_AZIOT_SETTINGS, aziotSettings, type AziotSettings } from './aziot.js';
import { DEFAULTS, MODULE_SETTINGS, OPTIONS, PROCESS_SETTINGS, RUNTIME_ENV, envName } from './options.js';
import { ConfigError, type CheckConfig } from './types.js';
import { hostname } from './values.js';

export interface ConfigSources {
  /** Raw CLI values by option key (strings, or string arrays for repeatable flags). */
  flags?: Partial<Record<keyof CheckConfig, unknown>>;
  /** Desired properties (already validated by the module, or raw). */
  desired?: Partial<Record<keyof CheckConfig, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** Reads the aziot config; injectable for tests. */
  readAziot?: (path: string) => Promise<AziotSettings>;
  /** Reads only the hub from the aziot config (older tests); the other settings are then unknown. */
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
  const protocolSpec = specOf('upstreamProtocol');
  const runtimeProtocol = env[RUNTIME_ENV.upstreamProtocol];
  const protocolGiven =
    sources.flags?.upstreamProtocol !== undefined ||
    (sources.desired?.upstreamProtocol ?? null) !== null ||
    Boolean(env[envName(protocolSpec)]);
  if (!protocolGiven && runtimeProtocol) {
    try {
      config.upstreamProtocol = protocolSpec.parse(
        RUNTIME_ENV.upstreamProtocol,
        runtimeProtocol,
      ) as CheckConfig['upstreamProtocol'];
    } catch {
      // The runtime's own variable is not ours to refuse: keep the default.
    }
  }
  const runtimeHub = env[RUNTIME_ENV.hub];
  if (config.hub === null && runtimeHub) config.hub = specOf('hub').parse(RUNTIME_ENV.hub, runtimeHub) as string;
  // A nested edge device: edgeAgent names the parent; an invalid name is not ours to refuse (and is
  // named by environmentProblems).
  const runtimeParent = env[RUNTIME_ENV.parent];
  if (runtimeParent) {
    try {
      config.parent = hostname(RUNTIME_ENV.parent, runtimeParent);
    } catch {
      config.parent = null;
    }
  }
  const proxySpec = specOf('proxy');
  if (sources.flags?.proxy !== undefined) config.proxySource = `--${proxySpec.flag}`;
  else if ((sources.desired?.proxy ?? null) !== null) config.proxySource = 'desired proxy';
  else if (config.proxy !== null) config.proxySource = envName(proxySpec);
  return config;
}

function specOf(key: keyof CheckConfig) {
  const spec = OPTIONS.find((s) => s.key === key);
  if (!spec) throw new Error(`no option ${key}`);
  return spec;
}

/**
 * Every NETDIAG_* variable whose value would be refused, each as the ConfigError naming it: the
 * module logs these once and drops them, so a typo in a deployment cannot stop it.
 */
export function environmentProblems(env: NodeJS.ProcessEnv): ConfigError[] {
  const problems: ConfigError[] = [];
  const specs = [...OPTIONS, ...Object.values(MODULE_SETTINGS), ...Object.values(PROCESS_SETTINGS)];
  for (const spec of specs) {
    const name = envName(spec);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    try {
      spec.parse(name, raw);
    } catch (error) {
      problems.push(error instanceof ConfigError ? error : new ConfigError(name, raw, String(error)));
    }
  }
  for (const name of [RUNTIME_ENV.hub, RUNTIME_ENV.parent]) {
    const value = env[name];
    if (!value) continue;
    try {
      hostname(name, value);
    } catch (error) {
      if (error instanceof ConfigError) problems.push(error);
    }
  }
  return problems;
}

/**
 * resolveSync, then what only the CLI can read (sudo): config.toml for the hub, the DPS endpoint,
 * the parent of a nested device and the provisioning source, where no other source gave them.
 */
export async function resolveConfig(sources: ConfigSources): Promise<CheckConfig> {
  const config = resolveSync(sources);
  const path = config.aziotConfig;
  let file: AziotSettings = NO_AZIOT_SETTINGS;
  if (sources.readAziotHub) {
    // The hub-only reader can give nothing else: asked only when the hub is unknown.
    if (config.hub === null) file = { ...NO_AZIOT_SETTINGS, hub: await sources.readAziotHub(path) };
  } else if (config.hub === null || config.dps === null || config.parent === null) {
    file = await (sources.readAziot ?? aziotSettings)(path);
  }
  if (config.hub === null && file.hub !== null) config.hub = hostname(`the hub name in ${path}`, file.hub);
  if (config.dps === null && file.dps !== null)
    config.dps = hostname(`[provisioning] global_endpoint in ${path}`, file.dps);
  if (config.parent === null && file.parent !== null)
    config.parent = hostname(`parent_hostname in ${path}`, file.parent);
  config.provisioningSource = file.provisioningSource;
  return config;
}
