/**
 * The command line: `eflow-netdiag check [options]`, `eflow-netdiag module`, --help, --version.
 * Exit codes: 0 healthy, 1 degraded, 2 unhealthy, 64 usage error, 70 internal error.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runCheck, type CheckDeps } from './check.js';
import { OPTIONS, envName, processSettings } from './config/options.js';
import { resolveConfig } from './config/resolve.js';
import { ConfigError, type CheckConfig } from './config/types.js';
import { vantageFor } from './probes/vantage.js';
import { renderText } from './report/text.js';
import type { Report } from './report/types.js';
import { errorCode } from './util/errors.js';
import { VERSION } from './version.js';

export const EXIT = { healthy: 0, degraded: 1, unhealthy: 2, usage: 64, data: 65, internal: 70 } as const;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export function helpText(): string {
  const rows = OPTIONS.map((o) =>
    o.boolean
      ? `  --no-${o.flag}`.padEnd(32) + `${o.help}  [${envName(o)}=off]`
      : `  --${o.flag} ${o.arg}`.padEnd(32) + `${o.help}  [${envName(o)}]`,
  );
  return [
    `eflow-netdiag ${VERSION}: why can't this EFLOW VM reach Azure IoT, and what to do about it`,
    '',
    'Usage:',
    '  eflow-netdiag check [options]   one full check (IP, then DNS, then firewall); exit 0 healthy, 1 degraded, 2 ' +
      'unhealthy',
    '  eflow-netdiag module            run as the IoT Edge module (twin, direct methods, telemetry)',
    '  eflow-netdiag render [FILE|-]   print a Report, a runDiagnostics/getLastReport response or a module twin',
    '                                  (az iot hub module-twin show) as check prints it; FILE, or standard input',
    '  eflow-netdiag --help | --version',
    '',
    'Check options (each also from the environment variable in brackets):',
    '  --json'.padEnd(32) + 'print the Report as JSON on stdout',
    ...rows,
    '',
    'Exit codes: 0 healthy, 1 degraded, 2 unhealthy, 64 usage error, 65 data render cannot read, 70 internal error.',
  ].join('\n');
}

/** Parses `check` arguments into raw flag values; throws UsageError naming the option. */
export function parseCheckArgs(args: string[]): { json: boolean; flags: Partial<Record<keyof CheckConfig, unknown>> } {
  const spec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { json: { type: 'boolean' } };
  for (const o of OPTIONS) {
    if (o.boolean) {
      // A switch is --name or --no-name; the last one written wins.
      spec[o.flag] = { type: 'boolean' };
      spec[`no-${o.flag}`] = { type: 'boolean' };
    } else spec[o.flag] = { type: 'string', multiple: o.repeatable };
  }
  let values: Record<string, unknown>;
  let switches: Map<string, boolean>;
  try {
    const parsed = parseArgs({ args, options: spec, strict: true, allowPositionals: false, tokens: true });
    values = parsed.values;
    switches = new Map();
    for (const t of parsed.tokens) {
      if (t.kind !== 'option') continue;
      const o = OPTIONS.find((x) => x.boolean && (t.name === x.flag || t.name === `no-${x.flag}`));
      if (o) switches.set(o.flag, t.name === o.flag);
    }
  } catch (err) {
    throw new UsageError(
      err instanceof Error ? (err.message.split('\n')[0] ?? 'invalid arguments') : 'invalid arguments',
    );
  }
  const flags: Partial<Record<keyof CheckConfig, unknown>> = {};
  for (const o of OPTIONS) {
    if (o.boolean) {
      const on = switches.get(o.flag);
      if (on !== undefined) flags[o.key] = on;
    } else if (values[o.flag] !== undefined) flags[o.key] = values[o.flag];
  }
  return { json: values['json'] === true, flags };
}

/** A --ca-file that cannot be used is the caller's mistake: say so before spending a check on it. */
async function assertCaFile(path: string | null): Promise<void> {
  if (!path) return;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--ca-file', path, `a readable PEM file (${errorCode(err) ?? 'unreadable'})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError('--ca-file', path, 'a PEM file with at least one CERTIFICATE block');
}

export function exitCodeFor(report: Report): number {
  return EXIT[report.status];
}

export async function runCheckCommand(args: string[], io: CliIo, deps: CheckDeps): Promise<number> {
  const { json, flags } = parseCheckArgs(args);
  const config = await resolveConfig({ flags, env: io.env });
  await assertCaFile(config.caFile);
  const vantage = await vantageFor(processSettings(io.env).vantage, config.resolvConf);
  const report = await runCheck(config, deps, { trigger: 'cli', vantage });
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
  return exitCodeFor(report);
}
