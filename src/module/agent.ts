/**
 * The IoT Edge module around the same runCheck() the CLI uses. It wires the parts, each of which
 * stands alone and is tested alone:
 * - desired-state.ts: the configuration from desired properties, and its acknowledgements;
 * - scheduler.ts: a check every intervalSeconds (jittered), besides start, methods, desired and
 *   link changes (link-watch.ts);
 * - status-history.ts: statusSince and each finding's since, continued from the twin on restart;
 * - twin-mirror.ts: what the twin holds, and the cheapest patches that keep it true;
 * - telemetry-outbox.ts: one summary per check, queued while edgeHub is away;
 * - methods.ts: runDiagnostics and getLastReport.
 */
import type { CheckDeps } from '../check.js';
import { runCheck } from '../check.js';
import type { CheckConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { REPORT_BUDGET_BYTES, reportToTwin, reportedSize, type JsonObject } from '../report/twin.js';
import type { Report, Trigger, Vantage } from '../report/types.js';
import { DesiredState } from './desired-state.js';
import type { ModuleSettings } from './desired.js';
import type { EdgeHandlers, MethodResult } from './edge.js';
import { inventoryToTwin, type HostInventory } from './host-inventory.js';
import { LinkWatcher } from './link-watch.js';
import { mergeSkipped } from './merge-skipped.js';
import { requestKey } from './method-payload.js';
import { answerMethod } from './methods.js';
import { Scheduler } from './scheduler.js';
import { StatusHistory } from './status-history.js';
import { TelemetryOutbox, type TelemetrySink } from './telemetry-outbox.js';
import { reportBudget } from './twin-budget.js';
import { TwinMirror, type PublishOutcome, type PublishReason, type TwinLink, type Wanted } from './twin-mirror.js';

export { OUTPUT_NAME, TELEMETRY_QUEUE_MAX } from './telemetry-outbox.js';
export { fitResponse } from './methods.js';
export { sanitizeEnvironment } from './desired-state.js';

/** Give edgeHub a moment to hand over the desired configuration before the startup check. */
const STARTUP_DESIRED_WAIT_MS = 3000;
/** The shortest wait between two scheduled checks. */
const MIN_SCHEDULE_DELAY_MS = 1000;

/** What the agent needs from the edgeHub connection (EdgeLink in production). */
export interface Link extends TwinLink, TelemetrySink {
  start(): void;
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
  /** Where the checks look from (CONTRACT.md 8.4). */
  vantage?: Vantage;
  /** The host inventory, read once at start (host-inventory.ts); the twin's `host` once it settles. */
  inventory?: Promise<HostInventory | null>;
  /** Tests and the bench: the module's periods (interval, heartbeat, start-up wait) divided by this. */
  timeScale?: number;
  now?: () => number;
}

export class NetdiagAgent implements EdgeHandlers {
  private link: Link | null = null;
  private readonly desired: DesiredState;
  private readonly history = new StatusHistory();
  private readonly mirror: TwinMirror;
  private readonly outbox: TelemetryOutbox;
  private readonly scheduler: Scheduler;
  private readonly watcher: LinkWatcher;
  private lastReport: Report | null = null;
  private host: JsonObject | undefined;
  private readonly running = new Map<string, Promise<Report>>();
  private readonly aborter = new AbortController();
  private stopped = false;
  private readonly scale: number;

  constructor(private readonly opts: AgentOptions) {
    this.scale = Math.max(1, opts.timeScale ?? 1);
    this.desired = new DesiredState(opts.env, opts.log, opts.fileHub ?? null);
    const now = opts.now ?? Date.now;
    this.mirror = new TwinMirror({
      log: opts.log,
      heartbeatMs: () => (this.settings().heartbeatSeconds * 1000) / this.scale,
      now,
    });
    this.outbox = new TelemetryOutbox(opts.log);
    this.scheduler = new Scheduler(() => this.scheduledCheck(), {
      intervalMs: () => (this.settings().intervalSeconds * 1000) / this.scale,
      minDelayMs: MIN_SCHEDULE_DELAY_MS / this.scale,
      now,
      ...(opts.random ? { random: opts.random } : {}),
    });
    this.watcher = new LinkWatcher(
      () => this.config().interfaces,
      () => void this.check('linkChange').catch(() => undefined),
      opts.linkPollMs,
    );
  }

  /** The check configuration in effect: desired properties over environment over defaults. */
  config(): CheckConfig {
    return this.desired.config();
  }

  settings(): ModuleSettings {
    return this.desired.settings();
  }

  get report(): Report | null {
    return this.lastReport;
  }

  /** What the twin holds as far as the module knows, and what publishing it has cost so far. */
  get twin(): { reported: JsonObject; counts: TwinMirror['counts'] } {
    return { reported: this.mirror.reported, counts: { ...this.mirror.counts } };
  }

  start(link: Link): void {
    this.link = link;
    link.start();
    this.watcher.start();
    void this.opts.inventory?.then(
      (inventory) => {
        if (!inventory || this.stopped) return;
        this.host = inventoryToTwin(inventory);
        this.opts.log.info({ host: this.host }, 'host inventory read');
        void this.publishTwin('state');
      },
      (err: unknown) => this.opts.log.warn({ err }, 'host inventory could not be read'),
    );
    // Give edgeHub a moment to hand over the desired configuration, but never wait for it:
    // a device whose edgeHub is unreachable is exactly the one that needs a check now.
    const settle = new Promise<void>((resolve) => setTimeout(resolve, STARTUP_DESIRED_WAIT_MS / this.scale).unref());
    // The startup check begins the first cycle of the schedule.
    void Promise.race([this.desired.firstFull, settle])
      .then(() => {
        if (this.stopped) return undefined;
        this.scheduler.start();
        return this.check('startup');
      })
      .catch(() => undefined);
  }

  /** A check already running (method, link change) stands in for a scheduled one. */
  private async scheduledCheck(): Promise<void> {
    if (this.running.size || this.stopped) return;
    await this.check('schedule');
  }

  /** Runs one check (sharing one already running with the same parameters) and publishes it. */
  check(trigger: Trigger, config: CheckConfig = this.config()): Promise<Report> {
    const key = requestKey(config);
    const running = this.running.get(key);
    if (running) return running;
    this.opts.log.debug({ trigger }, 'check started');
    const work = (async () => {
      const report = await runCheck(config, this.opts.checkDeps, {
        trigger,
        signal: this.aborter.signal,
        ...(this.opts.vantage ? { vantage: this.opts.vantage } : {}),
      });
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
    // The twin describes the device: layers a partial runDiagnostics skipped keep their last result.
    const report = mergeSkipped(checked, this.lastReport);
    this.history.observe(report);
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
    if (this.outbox.add(report, this.settings().telemetry)) void this.flushTelemetry();
    void this.publishTwin(report.trigger === 'schedule' ? 'scheduledCheck' : 'check');
  }

  private flushTelemetry(): Promise<void> {
    const link = this.link;
    return link ? this.outbox.flush(link, () => this.stopped) : Promise.resolve();
  }

  /** The reported document this module wants the twin to hold now, inside IoT Hub's 32 KB. */
  private wanted(): Wanted {
    const doc: JsonObject = this.desired.reported();
    const report = this.lastReport;
    if (report) {
      const budget = reportBudget(reportedSize(doc), REPORT_BUDGET_BYTES);
      Object.assign(doc, reportToTwin(report, this.history.current(report.startedAt), budget, this.host));
    }
    return { doc, hasReport: report !== null };
  }

  private publishTwin(reason: PublishReason): Promise<PublishOutcome> {
    const link = this.link;
    if (!link || this.stopped) return Promise.resolve('offline');
    return this.mirror.publish(link, () => this.wanted(), reason);
  }

  // --- EdgeHandlers -------------------------------------------------------------------------

  onConnected(reported: JsonObject): void {
    // The first read tells what the previous run (before a restart) last reported: the history's
    // times continue from it where nothing changed.
    this.history.restore(reported);
    this.mirror.onConnected(reported);
    void this.publishTwin('state');
    void this.flushTelemetry();
  }

  onDesired(desired: Record<string, unknown>, version: number, full: boolean): void {
    const change = this.desired.apply(desired, version, full);
    if (!change.applied) return;
    void this.publishTwin('state');
    if (change.interval) this.scheduler.reschedule();
    if (change.checkConfig && this.lastReport) void this.check('configChange').catch(() => undefined);
  }

  async onMethod(name: string, payload: unknown): Promise<MethodResult> {
    this.opts.log.debug({ method: name }, 'direct method called');
    return answerMethod(
      {
        lastReport: () => this.lastReport,
        config: () => this.config(),
        check: (trigger, config) => this.check(trigger, config),
      },
      name,
      payload,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.stop();
    this.watcher.stop();
    this.mirror.stop();
    this.aborter.abort(); // running checks return at once with what they have
    await Promise.allSettled([...this.running.values()]);
    await this.link?.close();
  }
}
