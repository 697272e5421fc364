/**
 * The module's configuration as the twin's desired properties give it (CONTRACT.md 5.1): the
 * accepted values over the environment over the defaults, the acknowledgements the reported
 * properties must carry for them, and the desired version already seen. desired.ts validates one
 * patch; this keeps the state between patches and says what a patch changed.
 */
import { environmentProblems, resolveSync } from '../config/resolve.js';
import type { CheckConfig } from '../config/types.js';
import { MODULE_SETTINGS, type ModuleSettingKey } from '../config/options.js';
import type { Logger } from '../log.js';
import type { JsonObject, JsonValue } from '../report/twin.js';
import { DESIRED_KEYS, applyDesired, moduleSettings, type AppliedDesired, type ModuleSettings } from './desired.js';
import { fitAcks } from './twin-budget.js';

function isModuleSetting(key: string): key is ModuleSettingKey {
  return key in MODULE_SETTINGS;
}

/** Desired key names may be 1 KB long: the twin mentions them shortened. */
const clipName = (k: string): string => (k.length > 64 ? `${k.slice(0, 61)}...` : k);
const MAX_IGNORED = 16;

/** What one desired update changed. */
export interface DesiredChange {
  /** The update was newer than what had been seen (else nothing else here is true). */
  applied: boolean;
  /** What a check examines changed (a configChange check is due). */
  checkConfig: boolean;
  /** intervalSeconds changed (the schedule must follow). */
  interval: boolean;
}

const NOTHING: DesiredChange = { applied: false, checkConfig: false, interval: false };

export class DesiredState {
  private applied: AppliedDesired = {};
  private version = -1;
  private acks: JsonObject = {};
  private ignored: string[] = [];
  private gotFull: () => void = () => undefined;
  /** Settles with the first full desired document (the twin read after connecting). */
  readonly firstFull = new Promise<void>((resolve) => {
    this.gotFull = resolve;
  });
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    env: NodeJS.ProcessEnv,
    private readonly log: Logger,
    /** Hub name from /etc/aziot/config.toml when the environment has none. */
    private readonly fileHub: string | null = null,
  ) {
    this.env = sanitizeEnvironment(env, log);
  }

  /** The check configuration in effect: desired properties over environment over defaults. */
  config(): CheckConfig {
    return this.configFrom(this.applied);
  }

  /** The module's own settings in effect (interval, telemetry, heartbeat). */
  settings(): ModuleSettings {
    return moduleSettings(this.applied, this.env);
  }

  /** The members this state adds to reported properties: acknowledgements, and keys it had to ignore. */
  reported(): JsonObject {
    const doc: JsonObject = { ...fitAcks(this.acks) };
    if (this.ignored.length) doc['ignoredDesired'] = this.ignored;
    return doc;
  }

  /**
   * Applies a desired patch, or the whole desired document (`full`, after a (re)connect), unless
   * its version was already seen. Logs what was accepted and refused.
   */
  apply(desired: Record<string, unknown>, version: number, full: boolean): DesiredChange {
    if (!full && version <= this.version) return NOTHING; // the full read after a reconnect covers it
    if (full && version < this.version) return NOTHING;
    this.version = Math.max(this.version, version);
    if (full) this.gotFull();
    const before = { config: JSON.stringify(this.safeConfig()), interval: this.settings().intervalSeconds };
    if (full) {
      // The whole desired document: keys deleted meanwhile no longer get an acknowledgement or a
      // mention, or the twin would keep saying something no longer true.
      for (const k of Object.keys(this.acks)) if (!(k in desired)) delete this.acks[k];
      this.ignored = [];
    } else {
      this.ignored = this.ignored.filter(
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
      this.ignored = [...new Set([...this.ignored, ...update.ignored.map(clipName)])].slice(0, MAX_IGNORED);
      this.log.warn({ keys: update.ignored }, 'desired properties ignored: their names are reserved or invalid');
    }
    this.log.info(
      {
        version,
        full,
        acks: Object.fromEntries(
          Object.entries(update.acks).map(([k, a]) => [k, (a as JsonObject | null)?.['ac'] ?? null]),
        ),
      },
      'desired properties received',
    );
    if (!update.changed) return { applied: true, checkConfig: false, interval: false };
    return {
      applied: true,
      // Only a change to what a check examines warrants a new check (not e.g. the telemetry mode).
      checkConfig: JSON.stringify(this.safeConfig()) !== before.config,
      interval: this.settings().intervalSeconds !== before.interval,
    };
  }

  private configFrom(applied: AppliedDesired): CheckConfig {
    const desired = Object.fromEntries(Object.entries(applied).filter(([k]) => !isModuleSetting(k)));
    const config = resolveSync({ desired, env: this.env });
    if (config.hub === null && this.fileHub) config.hub = this.fileHub;
    return config;
  }

  private safeConfig(): CheckConfig | null {
    try {
      return this.config();
    } catch {
      return null;
    }
  }

  /** The value in effect for a key, for acknowledging reverts and refusals. */
  private effectiveValue(key: string, applied: AppliedDesired): JsonValue {
    if (isModuleSetting(key)) return moduleSettings(applied, this.env)[key];
    const value = (this.configFrom(applied) as unknown as Record<string, unknown>)[key];
    return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
  }
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
