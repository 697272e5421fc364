/**
 * The IoT Edge module around the same runCheck() the CLI uses: it decides when to check
 * (start, schedule with jitter, desired change, direct method, link change) and publishes each
 * result as a twin patch and a telemetry message, surviving edgeHub being away.
 */
import type { CheckDeps } from '../check.js';
import { runCheck } from '../check.js';
import { environmentProblems, resolveSync } from '../config/resolve.js';
import type { CheckConfig } from '../config/types.js';
import { MODULE_SETTINGS, type ModuleSettingKey } from '../config/options.js';
import type { Logger } from '../log.js';
import { mergeSkipped } from './merge-skipped.js';
import { fitsOneMessage, stateFingerprint, telemetrySummary, type TelemetrySummary } from '../report/telemetry.js';
import { popUntil } from '../util/fit.js';
import {
  REPORT_BUDGET_BYTES,
  REPORT_KEYS,
  applyPatch,
  reportToTwin,
  reportedPatch,
  reportedSize,
  type JsonObject,
  type JsonValue,
} from '../report/twin.js';
import type { Report, Trigger } from '../report/types.js';
import { DESIRED_KEYS, applyDesired, moduleSettings, type AppliedDesired, type ModuleSettings } from './desired.js';
import { TwinRefusedError, type EdgeHandlers, type MethodResult, type OutputMessage } from './edge.js';
import { LinkWatcher } from './link-watch.js';
import { PayloadError, configForRequest, parseRunDiagnostics, requestKey } from './method-payload.js';
import { fitAcks, reportBudget } from './twin-budget.js';

function isModuleSetting(key: string): key is ModuleSettingKey {
  return key in MODULE_SETTINGS;
}

export const OUTPUT_NAME = 'diagnostics';
export const TELEMETRY_QUEUE_MAX = 50;
const METHOD_RESPONSE_MAX_BYTES = 120 * 1024;
const STARTUP_DESIRED_WAIT_MS = 3000;

/** What the agent needs from the edgeHub connection (EdgeLink in production). */
export interface Link {
  readonly connected: boolean;
  start(): void;
  updateReported(patch: JsonObject): Promise<void>;
  sendOutput(output: string, msg: OutputMessage): Promise<void>;
  close(): Promise<void>;
}

export interface AgentOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  checkDeps: CheckDeps;
  /** Hub name from /etc/aziot/config.toml when the environment has none. */
  fileHub?: string | null;
  random?: () => number;
  /** How often examined interfaces are polled for link/address changes. */
  linkPollMs?: number;
}

export class NetdiagAgent implements EdgeHandlers {
  private link: Link | null = null;
  private applied: AppliedDesired = {};
  private desiredVersion = -1;
  private acks: JsonObject = {};
  private ignoredDesired: string[] = [];
  private lastReport: Report | null = null;
  private lastStatusChangeAt: string | null = null;
  /** The verdict the twin held from before this process started; undefined until the twin is read. */
  private priorRun: (Verdict & { lastStatusChangeAt: string }) | null | undefined = undefined;
  private verdictChangedHere = false;
  private twinHeld: JsonObject = {};
  private twinKnown = false;
  private publishing: Promise<void> = Promise.resolve();
  private readonly queue: OutputMessage[] = [];
  private droppedTelemetry = 0;
  private flushing = false;
  private lastSentFingerprint: string | null = null;
  private readonly running = new Map<string, Promise<Report>>();
  private readonly aborter = new AbortController();
  private scheduleTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly env: NodeJS.ProcessEnv;
  private readonly watcher: LinkWatcher;
  private gotDesired: () => void = () => undefined;
  private readonly firstDesired = new Promise<void>((resolve) => {
    this.gotDesired = resolve;
  });

  constructor(private readonly opts: AgentOptions) {
    this.env = sanitizeEnvironment(opts.env, opts.log);
    this.watcher = new LinkWatcher(
      () => this.config().interfaces,
      () => void this.check('linkChange').catch(() => undefined),
      opts.linkPollMs,
    );
  }

  /** The check configuration in effect: desired properties over environment over defaults. */
  config(): CheckConfig {
    const desired = Object.fromEntries(Object.entries(this.applied).filter(([k]) => !isModuleSetting(k)));
    const config = resolveSync({ desired, env: this.env });
    if (config.hub === null && this.opts.fileHub) config.hub = this.opts.fileHub;
    return config;
  }

  settings(): ModuleSettings {
    return moduleSettings(this.applied, this.env);
  }

  get report(): Report | null {
    return this.lastReport;
  }

  start(link: Link): void {
    this.link = link;
    link.start();
    this.watcher.start();
    // Give edgeHub a moment to hand over the desired configuration, but never wait for it:
    // a device whose edgeHub is unreachable is exactly the one that needs a check now.
    const settle = new Promise<void>((resolve) => setTimeout(resolve, STARTUP_DESIRED_WAIT_MS).unref());
    void Promise.race([this.firstDesired, settle])
      .then(() => (this.stopped ? undefined : this.check('startup')))
      .catch(() => undefined)
      .finally(() => this.scheduleNext());
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer);
    const base = this.settings().intervalSeconds * 1000;
    const jitter = ((this.opts.random ?? Math.random)() * 2 - 1) * 0.1 * base; // ±10 %, so a fleet does not check in lockstep
    this.scheduleTimer = setTimeout(
      () => {
        // A check already running (method, link change) stands in for this one.
        const run = this.running.size ? Promise.resolve() : this.check('schedule').then(() => undefined);
        void run.catch(() => undefined).finally(() => this.scheduleNext());
      },
      Math.max(1000, Math.round(base + jitter)),
    );
    this.scheduleTimer.unref?.();
  }

  /** Runs one check (sharing one already running with the same parameters) and publishes it. */
  check(trigger: Trigger, config: CheckConfig = this.config()): Promise<Report> {
    const key = requestKey(config);
    const running = this.running.get(key);
    if (running) return running;
    this.opts.log.debug({ trigger }, 'check started');
    const work = (async () => {
      const report = await runCheck(config, this.opts.checkDeps, { trigger, signal: this.aborter.signal });
      if (!this.stopped) this.publish(report);
      return report;
    })();
    this.running.set(key, work);
    void work
      .finally(() => this.running.delete(key))
      .catch((err: unknown) => this.opts.log.error({ err, trigger }, 'check failed'));
    return work;
  }

  private publish(checked: Report): void {
    const prev = this.lastReport;
    // The twin describes the device: layers a partial runDiagnostics skipped keep their last result.
    const report = mergeSkipped(checked, prev);
    if (!prev && this.priorRun && sameVerdict(this.priorRun, report)) {
      this.lastStatusChangeAt = this.priorRun.lastStatusChangeAt; // the verdict from before the restart holds on
    } else if (!prev || !sameVerdict(prev, report) || !this.lastStatusChangeAt) {
      this.lastStatusChangeAt = report.startedAt;
      if (prev) this.verdictChangedHere = true;
    }
    this.lastReport = report;
    this.opts.log.info(
      {
        checkId: report.checkId,
        trigger: report.trigger,
        status: report.status,
        failingComponent: report.failingComponent,
        codes: report.findings.map((f) => f.code),
        durationMs: report.durationMs,
      },
      'check complete',
    );
    this.enqueueTelemetry(report);
    this.publishTwin();
  }

  private enqueueTelemetry(report: Report): void {
    const mode = this.settings().telemetry;
    if (mode === 'off') return;
    const fingerprint = stateFingerprint(report);
    if (mode === 'onChange' && fingerprint === this.lastSentFingerprint) return;
    this.lastSentFingerprint = fingerprint;
    const body = JSON.stringify(telemetrySummary(report));
    this.queue.push({
      body,
      messageId: report.checkId,
      properties: {
        status: report.status,
        failingComponent: report.failingComponent ?? 'none',
        trigger: report.trigger,
      },
    });
    while (this.queue.length > TELEMETRY_QUEUE_MAX) {
      this.queue.shift();
      this.droppedTelemetry++;
    }
    void this.flushTelemetry();
  }

  /** Sends queued telemetry in order while connected; stops at the first failure (retried on reconnect). */
  private async flushTelemetry(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length && this.link?.connected && !this.stopped) {
        const head = this.queue[0]!;
        // The first message delivered after losses says how many: the cloud side sees the gap.
        const dropped = this.droppedTelemetry;
        try {
          await this.link.sendOutput(
            OUTPUT_NAME,
            dropped ? { ...head, body: withDroppedCount(head.body, dropped) } : head,
          );
          if (this.queue[0] === head) this.queue.shift();
          if (dropped) {
            this.opts.log.warn({ dropped }, 'telemetry messages were dropped while offline (queue full)');
            this.droppedTelemetry -= dropped;
          }
        } catch (err) {
          this.opts.log.warn({ err, queued: this.queue.length }, 'telemetry not delivered; kept for after reconnect');
          break;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The reported document this module wants the twin to hold now, inside IoT Hub's 32 KB. */
  private reportedDocument(): JsonObject {
    const doc: JsonObject = { ...fitAcks(this.acks) }; // a copy: the report is merged into it
    if (this.ignoredDesired.length) doc['ignoredDesired'] = this.ignoredDesired;
    if (this.lastReport) {
      const budget = reportBudget(reportedSize(doc), REPORT_BUDGET_BYTES);
      Object.assign(doc, reportToTwin(this.lastReport, this.lastStatusChangeAt ?? this.lastReport.startedAt, budget));
    }
    return doc;
  }

  /** Publishes the minimal patch from what the twin holds to what it should hold; serialized. */
  private publishTwin(): void {
    this.publishing = this.publishing.then(async () => {
      const link = this.link;
      if (!link?.connected || !this.twinKnown || this.stopped) return;
      const next = this.reportedDocument();
      // Until this process has a report of its own, the previous run's report stays: it is the
      // last known state, better than a twin with no status at all while the first check runs.
      const owned = [...new Set([...Object.keys(this.twinHeld), ...Object.keys(next)])].filter(
        (k) => this.lastReport || !(REPORT_KEYS as readonly string[]).includes(k),
      );
      const patch = reportedPatch(this.twinHeld, next, owned);
      if (!patch) return;
      try {
        await link.updateReported(patch);
        this.twinHeld = applyPatch(this.twinHeld, patch);
      } catch (err) {
        if (err instanceof TwinRefusedError) {
          // Retrying the same patch would be refused again; the next report or desired change tries anew.
          this.opts.log.error(
            { err, patchBytes: Buffer.byteLength(JSON.stringify(patch)) },
            'edgeHub refused the reported properties',
          );
        } else {
          this.opts.log.warn({ err }, 'reported properties not updated; will retry after reconnect');
        }
      }
    });
  }

  // --- EdgeHandlers -------------------------------------------------------------------------

  onConnected(reported: JsonObject): void {
    const held = { ...reported };
    delete held['$version'];
    this.twinHeld = held;
    this.twinKnown = true;
    if (this.priorRun === undefined) {
      // The first twin read tells what the previous run (before a restart) last reported, so
      // lastStatusChangeAt survives restarts when the verdict did not change.
      this.priorRun =
        typeof held['status'] === 'string' && typeof held['lastStatusChangeAt'] === 'string'
          ? {
              status: held['status'],
              failingComponent: held['failingComponent'] ?? null,
              lastStatusChangeAt: held['lastStatusChangeAt'],
            }
          : null;
      // Checks made before the twin could be read (edgeHub late) may continue that verdict too.
      if (this.lastReport && this.priorRun && !this.verdictChangedHere && sameVerdict(this.priorRun, this.lastReport)) {
        this.lastStatusChangeAt = this.priorRun.lastStatusChangeAt;
      }
    }
    this.publishTwin();
    void this.flushTelemetry();
  }

  onDesired(desired: Record<string, unknown>, version: number, full: boolean): void {
    if (!full && version <= this.desiredVersion) return; // already seen (the full read after a reconnect covers it)
    if (full && version < this.desiredVersion) return;
    this.desiredVersion = Math.max(this.desiredVersion, version);
    if (full) this.gotDesired();
    const before = { config: JSON.stringify(this.safeConfig()), interval: this.settings().intervalSeconds };
    const clipName = (k: string): string => (k.length > 64 ? `${k.slice(0, 61)}...` : k); // key names may be 1 KB long
    if (full) {
      // The whole desired document (after a (re)connect): keys deleted meanwhile no longer get an
      // acknowledgement or a mention, or the twin would keep saying something no longer true.
      for (const k of Object.keys(this.acks)) if (!(k in desired)) delete this.acks[k];
      this.ignoredDesired = [];
    } else {
      this.ignoredDesired = this.ignoredDesired.filter(
        (k) => !Object.entries(desired).some(([d, v]) => v === null && clipName(d) === k),
      );
    }
    const unknownAcked = Object.keys(this.acks).filter((k) => !DESIRED_KEYS.includes(k) && !(k in desired)).length;
    const update = applyDesired(
      this.applied,
      desired,
      version,
      full,
      (key, applied) => this.effectiveValue(key, applied),
      unknownAcked,
    );
    this.applied = update.applied;
    Object.assign(this.acks, update.acks);
    for (const [k, val] of Object.entries(update.acks)) if (val === null) delete this.acks[k];
    if (update.ignored.length) {
      this.ignoredDesired = [...new Set([...this.ignoredDesired, ...update.ignored.map(clipName)])].slice(0, 16);
      this.opts.log.warn({ keys: update.ignored }, 'desired properties ignored: their names are reserved or invalid');
    }
    this.opts.log.info(
      {
        version,
        full,
        acks: Object.fromEntries(
          Object.entries(update.acks).map(([k, a]) => [k, (a as JsonObject | null)?.['ac'] ?? null]),
        ),
      },
      'desired properties received',
    );
    this.publishTwin();
    if (!update.changed) return;
    if (this.settings().intervalSeconds !== before.interval) this.scheduleNext();
    // Only a change to what a check examines warrants a new check (not e.g. the telemetry mode).
    if (JSON.stringify(this.safeConfig()) !== before.config && this.lastReport)
      void this.check('configChange').catch(() => undefined);
  }

  private safeConfig(): CheckConfig | null {
    try {
      return this.config();
    } catch {
      return null;
    }
  }

  private effectiveValue(key: string, applied: AppliedDesired): JsonValue {
    if (isModuleSetting(key)) return moduleSettings(applied, this.env)[key];
    const config = resolveSync({
      desired: Object.fromEntries(Object.entries(applied).filter(([k]) => !isModuleSetting(k))),
      env: this.env,
    });
    const value = (config as unknown as Record<string, unknown>)[key];
    return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
  }

  async onMethod(name: string, payload: unknown): Promise<MethodResult> {
    this.opts.log.debug({ method: name }, 'direct method called');
    if (name === 'getLastReport') {
      return this.lastReport
        ? { status: 200, payload: fitResponse(this.lastReport) }
        : {
            status: 404,
            payload: {
              error: { code: 'NoReport', message: 'no check has completed yet; call runDiagnostics or retry shortly' },
            },
          };
    }
    if (name !== 'runDiagnostics')
      return { status: 404, payload: { error: { code: 'UnknownMethod', message: `unknown method ${name}` } } };
    let config: CheckConfig;
    try {
      config = configForRequest(this.config(), parseRunDiagnostics(payload));
    } catch (err) {
      if (err instanceof PayloadError)
        return { status: 400, payload: { error: { code: err.code, message: err.message } } };
      throw err;
    }
    const report = await this.check('method', config);
    return { status: 200, payload: fitResponse(report) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer);
    this.watcher.stop();
    this.aborter.abort(); // running checks return at once with what they have
    await Promise.allSettled([...this.running.values()]);
    await this.link?.close();
  }
}

interface Verdict {
  status: unknown;
  failingComponent: unknown;
}

function sameVerdict(a: Verdict, b: Verdict): boolean {
  return a.status === b.status && (a.failingComponent ?? null) === (b.failingComponent ?? null);
}

/** Adds `droppedWhileOffline` to a telemetry summary, still inside one 4 KB block (least severe findings go first). */
export function withDroppedCount(body: string, dropped: number): string {
  const summary = JSON.parse(body) as TelemetrySummary & { droppedWhileOffline?: number };
  summary.droppedWhileOffline = dropped;
  const before = summary.findingsOmitted;
  popUntil(
    summary.findings,
    () => fitsOneMessage(summary),
    (n) => (summary.findingsOmitted = before + n),
  );
  return JSON.stringify(summary);
}

/** A direct-method response must stay under 128 KB: drop bulky evidence before the verdict. */
export function fitResponse(report: Report): Report | JsonObject {
  if (Buffer.byteLength(JSON.stringify(report)) <= METHOD_RESPONSE_MAX_BYTES) return report;
  const slim = JSON.parse(JSON.stringify(report)) as Report & { truncated?: boolean };
  slim.components.ip.interfaces.forEach((i) => (i.ipv6 = []));
  slim.components.dns.servers.forEach((s) => s.queries.forEach((q) => (q.answers = q.answers.slice(0, 4))));
  slim.truncated = true;
  if (Buffer.byteLength(JSON.stringify(slim)) <= METHOD_RESPONSE_MAX_BYTES) return slim;
  return { ...reportToTwin(report, report.startedAt), truncated: true };
}

/** Drops NETDIAG_* variables with invalid values (each logged once) so a typo cannot stop the module. */
export function sanitizeEnvironment(env: NodeJS.ProcessEnv, log: Logger): NodeJS.ProcessEnv {
  const clean = { ...env };
  for (const problem of environmentProblems(env)) {
    log.error({ option: problem.option }, `${problem.message}; ignoring it`);
    delete clean[problem.option];
  }
  return clean;
}
