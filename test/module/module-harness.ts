/**
 * Runs the real module (`node dist/main.js module`) the way edgeAgent does — as a child process
 * with only the IoT Edge environment — against the edgeHub emulator, on the namespace lab.
 *
 * Why a namespace even for the "healthy" scenarios: the check pings the default gateway and asks
 * the configured resolvers. In the host namespace that would be this machine's real gateway and
 * resolver, which LAB.md forbids. Inside the lab's vm namespace the gateway, the DNS servers and
 * the "IoT Hub" are all lab processes on 198.18.0.0/15.
 *
 * The emulator listens on 127.0.0.1 of the host namespace. edgeHub is made reachable inside the vm
 * namespace by a forwarder (ns-forward.ts) on localhost:<broker port> there, which hands each
 * connection over a unix socket to a bridge in this process, which connects to the broker. The
 * workload API already is a unix socket, so IOTEDGE_* is used exactly as the emulator gives it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEdgeHubEmulator } from '../hub/emulator.js';
import type {
  EdgeHubEmulator,
  EdgeHubEmulatorOptions,
  InvokeMethodOptions,
  MethodResult,
  TelemetryEvent,
} from '../hub/emulator.js';
import type { JsonObject } from '../hub/twin-rules.js';
import { CLI_PATH, REPO_ROOT, createLab } from '../lab/harness.js';
import type { Lab, LabOptions } from '../lab/harness.js';
import { createFieldLab } from '../lab/field-lab.js';
import type { FieldLab, FieldLabOptions } from '../lab/field-lab.js';
import { ipPath, startInNetns } from '../lab/lab-process.js';
import type { LabServer } from '../lab/lab-process.js';
import { parseIotEdgeLine } from '../support/iotedge-log.js';
import { splice } from './splice.js';

const FORWARD_SCRIPT = fileURLToPath(new URL('./ns-forward.ts', import.meta.url));

/** A TCP port the lab drops (nft) when asked (`slowPort`): a probe of it lasts its whole timeout. */
export const SLOW_PORT = 9;

/** The contract's SIGTERM budget (CONTRACT.md 5.5); a module still running after it is killed. */
export const STOP_BUDGET_MS = 5000;

/**
 * One line of the module's stderr in its default format, the IoT Edge line, read back: the pino
 * level its label stands for, the message and the fields.
 */
export interface LogLine {
  level: number;
  /** The syslog severity edgeAgent filters on. */
  severity: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopResult extends ExitInfo {
  /** From the signal to the process's exit. */
  ms: number;
  /** True when it had not exited within STOP_BUDGET_MS and was SIGKILLed. */
  killed: boolean;
}

export interface ModuleProcess {
  readonly moduleId: string;
  readonly pid: number;
  /** performance.now() when it was spawned. */
  readonly startedAt: number;
  /** True until the process has exited. */
  readonly running: boolean;
  readonly exit: Promise<ExitInfo>;
  readonly stderr: string;
  /** Every stderr line read as an IoT Edge log line; lines that are not one are in `strayLines`. */
  logs(): LogLine[];
  strayLines(): string[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, since?: number): Promise<LogLine>;
  /** Sends SIGTERM and waits for the exit, SIGKILLing after STOP_BUDGET_MS. */
  stop(signal?: NodeJS.Signals): Promise<StopResult>;
}

export interface StartModuleOptions {
  moduleId: string;
  /**
   * Where it runs: the lab's vm namespace (host networking, the default) or the field lab's ctr
   * namespace (a container on the azure-iot-edge network: its own eth0 and resolv.conf, paths from
   * lab.container.pathArgs(), NETDIAG_VANTAGE=container).
   */
  ns?: 'vm' | 'ctr';
  /** NETDIAG_* overrides (merged over the lab defaults). */
  env?: Record<string, string>;
  /** The deployment's desired properties, in the twin before the module starts. */
  desired?: JsonObject;
}

export interface ModuleLab {
  readonly emu: EdgeHubEmulator;
  readonly lab: Lab;
  /** The field lab, when the module lab was made with `fieldLab`. */
  readonly fieldLab: FieldLab | null;
  /** The NETDIAG_* variables pointing the check at the lab (files, CA, short timeouts). */
  readonly netdiagEnv: Record<string, string>;
  startModule(opts: StartModuleOptions): Promise<ModuleProcess>;
  invoke(moduleId: string, method: string, payload?: unknown, opts?: InvokeMethodOptions): Promise<MethodResult>;
  /** The module's reported properties as the emulator holds them (without $version). */
  reported(moduleId: string): JsonObject;
  /** waitUntil, with the module logs and lab server logs in the error when it times out. */
  until<T>(condition: () => T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
  /** The telemetry event carrying `checkId` (already sent, or sent within `timeoutMs`). */
  eventFor(moduleId: string, checkId: string, timeoutMs?: number): Promise<TelemetryEvent>;
  /** Everything the module processes wrote, for failure messages. */
  diagnostics(): string;
  close(): Promise<void>;
}

/** Polls `condition` until it returns a value (bounded), for states reached asynchronously. */
export async function waitUntil<T>(
  condition: () => T | undefined | null | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The body of a telemetry event as the summary object the module sent. */
export function summaryOf(event: TelemetryEvent): JsonObject {
  return JSON.parse(event.bodyText) as JsonObject;
}

/**
 * Secret material in log text: a SAS token, a signature, a key or a connection string, and any of
 * the given module keys verbatim or URL-encoded. Masked forms (`sig=<redacted>`) are not leaks.
 */
export function secretLeaks(text: string, keys: string[]): string[] {
  const leaks: string[] = [];
  const patterns: Array<[string, RegExp]> = [
    ['a SAS token', /SharedAccessSignature\s+sr=/i],
    ['a SAS signature', /\bsig=(?!<redacted>)[A-Za-z0-9%+/=]/i],
    ['a shared access key', /SharedAccessKey=(?!<redacted>)\S/i],
    ['a connection string', /HostName=[^;\s"]+;\s*DeviceId=/i],
  ];
  for (const [what, re] of patterns) if (re.test(text)) leaks.push(what);
  for (const key of keys) {
    if (text.includes(key) || text.includes(encodeURIComponent(key))) leaks.push('a module key');
  }
  return leaks;
}

/** Only what a module container gets: a PATH, the IoT Edge variables and our own settings. */
function moduleEnvironment(iotedge: Record<string, string>, netdiag: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...iotedge, ...netdiag };
}

function spawnModule(ns: string, moduleId: string, env: NodeJS.ProcessEnv): ModuleProcess {
  const startedAt = performance.now();
  // `ip netns exec` execs the command, so the pid (and the signals sent to it) are node's own.
  const child: ChildProcess = spawn(ipPath(), ['netns', 'exec', ns, process.execPath, CLI_PATH, 'module'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let pending = '';
  const lines: LogLine[] = [];
  const stray: string[] = [];
  const waiters = new Set<{ predicate: (l: LogLine) => boolean; since: number; resolve: (l: LogLine) => void }>();
  let running = true;
  const exit = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr += text;
    pending += text;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const raw of parts) {
      if (raw.trim() === '') continue;
      const parsed = parseIotEdgeLine(raw);
      if (!parsed) {
        stray.push(raw);
        continue;
      }
      const line: LogLine = { ...parsed.fields, level: parsed.level, severity: parsed.severity, msg: parsed.msg };
      lines.push(line);
      for (const w of [...waiters]) {
        if (lines.length > w.since && w.predicate(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  const proc: ModuleProcess = {
    moduleId,
    pid: child.pid ?? -1,
    startedAt,
    get running() {
      return running;
    },
    exit,
    get stderr() {
      return stderr;
    },
    logs: () => lines,
    strayLines: () => stray,
    waitForLog(predicate, timeoutMs, since = 0) {
      const hit = lines.slice(since).find(predicate);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { predicate, since, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `module ${moduleId}: no matching log line within ${timeoutMs} ms; stderr tail:\n${stderr.slice(-3000)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(w);
      });
    },
    async stop(signal = 'SIGTERM') {
      if (!running) return { ...(await exit), ms: 0, killed: false };
      const t0 = performance.now();
      child.kill(signal);
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, STOP_BUDGET_MS);
      const info = await exit;
      clearTimeout(timer);
      return { ...info, ms: Math.round(performance.now() - t0), killed };
    },
  };
  return proc;
}

/** Connects each connection the in-namespace forwarder hands over to the emulator's broker. */
async function startBridge(socketPath: string, brokerPort: () => number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((fromLab) => {
    const toBroker = net.connect({ host: '127.0.0.1', port: brokerPort() });
    for (const s of [fromLab, toBroker]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    // Broker stopped: the connect fails and the module's connection ends, as a refused connect would.
    splice(fromLab, toBroker);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ModuleLabOptions {
  label: string;
  lab?: LabOptions;
  emulator?: EdgeHubEmulatorOptions;
  /** Drop TCP to SLOW_PORT in the lab, for checks that must still be running a while later. */
  slowPort?: boolean;
  /** A field lab (createFieldLab) instead of the base lab, e.g. `{ container: true }`. */
  fieldLab?: FieldLabOptions;
}

/** The NETDIAG_* variables of a `check` path argument list (--resolv-conf X → NETDIAG_RESOLV_CONF=X). */
function envOfPathArgs(args: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i + 1 < args.length; i += 2) {
    const flag = args[i]!.replace(/^--/, '');
    env[`NETDIAG_${flag.toUpperCase().replace(/-/g, '_')}`] = args[i + 1]!;
  }
  return env;
}

export async function startModuleLab(opts: ModuleLabOptions): Promise<ModuleLab> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} does not exist: run \`npm run build\` first`);
  const emu = await startEdgeHubEmulator(opts.emulator);
  let lab: Lab | undefined;
  let fieldLab: FieldLab | null = null;
  let bridge: { close(): Promise<void> } | undefined;
  const forwarders = new Map<'vm' | 'ctr', LabServer>();
  const modules: ModuleProcess[] = [];
  const close = async (): Promise<void> => {
    // Anything still running is killed: a test that wanted a clean stop has done it already.
    await Promise.all(modules.filter((m) => m.running).map((m) => m.stop('SIGKILL')));
    await Promise.all([...forwarders.values()].map((f) => f.stop()));
    await bridge?.close();
    await lab?.destroy();
    await emu.close();
  };
  let socketPath = '';
  /** edgeHub on localhost:<port> inside a namespace: a forwarder there, to the bridge, to the broker. */
  const forwardIn = async (ns: 'vm' | 'ctr'): Promise<void> => {
    if (forwarders.has(ns) || !lab) return;
    const { server } = await startInNetns({
      name: `edgeHub forwarder :${emu.port} in ${ns}`,
      ns: lab.nsName(ns),
      cmd: process.execPath,
      args: ['--import', 'tsx', FORWARD_SCRIPT, '--port', String(emu.port), '--socket', socketPath],
      cwd: REPO_ROOT,
      ready: /^READY \d+/,
    });
    forwarders.set(ns, server);
  };
  try {
    if (opts.fieldLab) {
      fieldLab = await createFieldLab({ label: opts.label, ...opts.fieldLab });
      lab = fieldLab;
    } else {
      lab = await createLab({ label: opts.label, ...opts.lab });
    }
    socketPath = join(lab.paths.dir, 'edgehub.sock');
    bridge = await startBridge(socketPath, () => emu.port);
    await forwardIn('vm');
    if (opts.slowPort) await lab.drop({ protocol: 'tcp', port: SLOW_PORT });
  } catch (err) {
    await close();
    throw err;
  }
  const theLab = lab;
  const netdiagEnv: Record<string, string> = {
    NETDIAG_RESOLV_CONF: theLab.paths.resolvConf,
    NETDIAG_RESOLVED_CONF: theLab.paths.resolvedConf,
    NETDIAG_NETWORKD_DIR: theLab.paths.networkdDir,
    NETDIAG_LEASES_DIR: theLab.paths.leasesDir,
    NETDIAG_CA_FILE: theLab.paths.caFile,
    NETDIAG_AZIOT_CONFIG: theLab.paths.aziotConfig,
    // DPS and the registry are the lab hub itself (tested once, as the hub): no public default is
    // ever looked up, and the machine's own proxy drop-ins stay out.
    NETDIAG_DPS: emu.hubHostName,
    NETDIAG_REGISTRY: emu.hubHostName,
    NETDIAG_SYSTEMD_DIR: theLab.paths.systemdDir,
    // Short enough for a fast suite, long enough that a loaded CI machine does not turn a
    // slow answer into a finding.
    NETDIAG_TIMEOUT: '2500',
    NETDIAG_DEADLINE: '6000',
    // The most talkative level: more chances for a secret to slip into a line.
    NETDIAG_LOG_LEVEL: 'debug',
  };
  const diagnostics = (): string =>
    modules.map((m) => `--- module ${m.moduleId} (pid ${m.pid})\n${m.stderr.slice(-4000)}`).join('\n') +
    `\n${theLab.serverLogs()}`;
  return {
    emu,
    lab: theLab,
    fieldLab,
    netdiagEnv,
    async startModule(o) {
      emu.registerModule(o.moduleId);
      if (o.desired) emu.setDesired(o.desired, o.moduleId);
      const ns = o.ns ?? 'vm';
      let env = { ...netdiagEnv, ...o.env };
      if (ns === 'ctr') {
        const container = fieldLab?.container;
        if (!container)
          throw new Error('a module in ctr needs a field lab with a container (fieldLab: {container: true})');
        await forwardIn('ctr');
        env = { ...netdiagEnv, ...envOfPathArgs(container.pathArgs()), NETDIAG_VANTAGE: 'container', ...o.env };
      }
      const proc = spawnModule(theLab.nsName(ns), o.moduleId, moduleEnvironment(emu.env(o.moduleId), env));
      modules.push(proc);
      return proc;
    },
    invoke: (moduleId, method, payload, o) => emu.invokeMethod(emu.deviceId, moduleId, method, payload ?? null, o),
    reported(moduleId) {
      const { reported } = emu.twin(moduleId);
      const copy = { ...reported };
      delete copy['$version'];
      return copy;
    },
    async until(condition, what, timeoutMs = 10_000) {
      try {
        return await waitUntil(condition, what, timeoutMs);
      } catch (err) {
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${diagnostics()}`, { cause: err });
      }
    },
    eventFor(moduleId, checkId, timeoutMs = 10_000) {
      return emu.waitForEvent((e) => e.moduleId === moduleId && summaryOf(e)['checkId'] === checkId, timeoutMs);
    },
    diagnostics,
    close,
  };
}
