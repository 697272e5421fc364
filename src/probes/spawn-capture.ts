/**
 * What the probes that run a network tool (ping's don't-fragment sweep, arping) share beyond
 * ping.ts's runner: how a tool that could not be started is described, how its output is cut to a
 * one-line detail, which interface names may be passed to it, and a run bounded by its own timer
 * as well as the caller's signal. Pure helpers; none throws.
 */
import type { PingExec, PingExecResult } from './ping.js';

/** A detail sentence is kept short: it goes into the Report and the twin. */
export const MAX_DETAIL_CHARS = 300;

/** Output lines joined with " / ", trimmed and cut to MAX_DETAIL_CHARS. */
export function detailOf(text: string): string {
  const line = (typeof text === 'string' ? text : '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' / ');
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS - 1)}…` : line;
}

/** Why `tool` did not run, from the runner's spawn error: missing, or refused by the system. */
export function spawnFailure(tool: string, spawnError: NonNullable<PingExecResult['spawnError']>): string {
  return spawnError.code === 'ENOENT'
    ? `${tool} is not installed`
    : `${tool} could not be started: ${spawnError.message}`.slice(0, MAX_DETAIL_CHARS);
}

/** What a tool printed, each stream capped at 64 KB, and both joined (for patterns either may print). */
export function capturedOutput(result: PingExecResult): { stdout: string; stderr: string; all: string } {
  const stdout = typeof result.stdout === 'string' ? result.stdout.slice(0, 64 * 1024) : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr.slice(0, 64 * 1024) : '';
  return { stdout, stderr, all: `${stdout}\n${stderr}` };
}

/** A Linux interface name (1–15 characters) that a tool cannot mistake for an option. */
export function isInterfaceName(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_.:@-]{1,15}$/.test(name) && !name.startsWith('-');
}

/**
 * `binary args…` through `exec`, stopped after `ms` or when `outer` fires, whichever comes first.
 * The timer is a plain (ref'd) one, as in ping.ts: the bound itself keeps the process alive.
 */
export async function runBounded(
  exec: PingExec,
  binary: string,
  args: readonly string[],
  ms: number,
  outer?: AbortSignal,
): Promise<PingExecResult> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), ms);
  try {
    const signal = outer ? AbortSignal.any([outer, timeout.signal]) : timeout.signal;
    return await exec(binary, args, signal);
  } finally {
    clearTimeout(timer);
  }
}
