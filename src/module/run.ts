/**
 * `eflow-netdiag module`: wires the agent to edgeHub and the process. Never exits on its own;
 * SIGTERM (docker stop, edgeAgent) stops scheduling, aborts a running check, closes the client
 * and exits 0 well within Docker's 10 s grace period.
 */
import { hubFromAziotConfig } from '../config/aziot.js';
import { DEFAULTS, OPTIONS, PROCESS_SETTINGS, RUNTIME_ENV, envName, processSettings } from '../config/options.js';
import { createLogger } from '../log.js';
import { depsFromEnv } from '../deps.js';
import { VERSION } from '../version.js';
import { vantageFor } from '../probes/vantage.js';
import { NetdiagAgent } from './agent.js';
import { EdgeLink } from './edge.js';
import { inventorySources, readHostInventory } from './host-inventory.js';
import { maskProcessOutput } from './mask-output.js';

/** A path option in effect at start: its NETDIAG_* variable, else the default. */
function pathFromEnv(env: NodeJS.ProcessEnv, key: 'aziotConfig' | 'resolvConf'): string {
  const spec = OPTIONS.find((o) => o.key === key);
  return (spec && env[envName(spec)]) || DEFAULTS[key];
}

/** SIGTERM must end the process within 5 s (CONTRACT.md 5.5); whatever is not done by then is dropped. */
const STOP_BUDGET_MS = 4000;

export async function runModule(env: NodeJS.ProcessEnv): Promise<number> {
  maskProcessOutput();
  // RuntimeLogLevel is the variable IoT Edge's own modules read; NETDIAG_LOG_LEVEL wins over it.
  const settings = processSettings(env);
  const log = createLogger({ level: settings.logLevel, format: settings.logFormat });
  // A crash would take the device's diagnostics down with it: log and carry on.
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception (ignored)'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection (ignored)'));
  // Node prints process warnings (e.g. MaxListenersExceededWarning) as plain text on stderr, which
  // breaks the one-event-per-line log that edgeAgent and log shippers parse: log them instead.
  process.removeAllListeners('warning');
  process.on('warning', (warning) =>
    log.warn({ warning: { name: warning.name, message: warning.message } }, 'node process warning'),
  );

  // edgeAgent always gives the hub; the file is a fallback for a module started by hand with it bound.
  const fileHub = env[RUNTIME_ENV.hub] ? null : await hubFromAziotConfig(pathFromEnv(env, 'aziotConfig'));
  // Read once, in the background: never on a check's path (host-inventory.ts says which calls and why).
  const inventory = readHostInventory(inventorySources()).catch((err: unknown) => {
    log.warn({ err }, 'host inventory could not be read');
    return null;
  });
  // NETDIAG_VANTAGE, else what this process sees: its own container interface and Docker's embedded DNS.
  const vantage = await vantageFor(settings.vantage, pathFromEnv(env, 'resolvConf'));
  if (settings.timeScale !== 1)
    log.warn(
      { timeScale: settings.timeScale },
      `${envName(PROCESS_SETTINGS.timeScale)} is set: every module period is shortened (tests only)`,
    );
  const agent = new NetdiagAgent({
    env,
    log,
    checkDeps: depsFromEnv(env),
    fileHub,
    inventory,
    vantage,
    timeScale: settings.timeScale,
  });
  const link = new EdgeLink(log, agent);
  log.info(
    { version: VERSION, module: env[RUNTIME_ENV.moduleId], device: env[RUNTIME_ENV.deviceId], vantage },
    'eflow-netdiag module starting',
  );
  agent.start(link);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      const hard = setTimeout(() => resolve(0), STOP_BUDGET_MS);
      hard.unref();
      void agent.stop().finally(() => {
        clearTimeout(hard);
        log.info('stopped');
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
