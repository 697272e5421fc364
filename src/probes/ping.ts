/**
 * Ping through the system `ping` binary: iputils (Debian, CBL-Mariner) or BusyBox (Alpine images).
 * Node cannot open ICMP sockets itself, and the binary already carries the capability or uses the
 * kernel's unprivileged ICMP socket where `net.ipv4.ping_group_range` allows it. The output is
 * parsed as text (forced to the C locale); test/fixtures/ping holds real captures of both.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { isIP } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { PingOutcome } from '../report/types.js';
import { isUsageError, parsePingOutput, type PingExecResult } from './ping-output.js';
import { isInterfaceName } from './spawn-capture.js';
import type { PingOptions } from './types.js';

export type { PingExecResult, PingOptions };
export { isUsageError, parsePingOutput };

/** Runs `binary args…`, stopping it when `signal` fires; swapped out by tests to feed fixtures. */
export type PingExec = (binary: string, args: readonly string[], signal: AbortSignal) => Promise<PingExecResult>;

/** Seconds between echo requests: 3 probes answer in ~0.4 s. iputils lets users go down to 0.2. */
export const PING_INTERVAL_SECONDS = 0.2;
/** Per stream: a ping of a few packets prints well under 1 KB, so more is a misbehaving binary. */
export const MAX_CAPTURE_BYTES = 64 * 1024;
/** After SIGINT (which makes both pings print their statistics), how long before SIGKILL. */
const KILL_GRACE_MS = 250;
const MAX_DETAIL_CHARS = 300;

/**
 * The default PingExec: spawn without a shell, C locale, output capped, SIGINT then SIGKILL on
 * abort. The child gets only `path` (to find the binary) and the C locale: ping needs nothing else
 * of ours, and the module's environment holds connection strings.
 */
export const spawnPingWith =
  (path = '/usr/sbin:/usr/bin:/sbin:/bin'): PingExec =>
  (binary, args, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) {
        resolve({ stdout: '', stderr: '', exitCode: null });
        return;
      }
      const env = { PATH: path, LANG: 'C', LC_ALL: 'C' };
      let child: ChildProcessByStdio<null, Readable, Readable>;
      try {
        child = spawn(binary, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
      } catch (err) {
        // Invalid arguments (a NUL in NETDIAG_PING…) throw instead of emitting 'error'.
        resolve({ stdout: '', stderr: '', exitCode: null, spawnError: { code: 'EINVAL', message: String(err) } });
        return;
      }
      const out = { stdout: '', stderr: '' };
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;

      const capture = (key: 'stdout' | 'stderr') => (chunk: Buffer) => {
        if (out[key].length < MAX_CAPTURE_BYTES)
          out[key] += chunk.toString('utf8').slice(0, MAX_CAPTURE_BYTES - out[key].length);
      };
      child.stdout.on('data', capture('stdout'));
      child.stderr.on('data', capture('stderr'));

      const onAbort = () => {
        // SIGINT makes iputils and BusyBox print their statistics, so the number actually sent is
        // known (after SIGKILL only the reply lines remain); SIGKILL follows if it lingers.
        child.kill('SIGINT');
        killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        killTimer.unref();
      };
      signal.addEventListener('abort', onAbort, { once: true });

      const finish = (result: PingExecResult) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        resolve(result);
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (child.pid === undefined) {
          finish({ ...out, exitCode: null, spawnError: { code: err.code ?? 'ERROR', message: err.message } });
        }
      });
      child.on('close', (code) => finish({ ...out, exitCode: code }));
    });

interface Attempt {
  binary: string;
  args: string[];
}

/** The sibling `ping6` of a ping binary (`ping` → `ping6`, `/bin/ping` → `/bin/ping6`), or null. */
function ping6Of(binary: string): string | null {
  if (basename(binary) !== 'ping') return null;
  return binary === 'ping' ? 'ping6' : join(dirname(binary), 'ping6');
}

/**
 * The argument lists to try, best first. Both iputils and BusyBox 1.35 take the first. Smaller
 * BusyBox builds lack -i (or -n), and old iputils lacks -6 (ping6 instead), so each later list
 * drops what an older build may refuse. `-w` is never used: with iputils it turns `-c N` into
 * "until N replies" and keeps sending until the deadline (fixture iputils-loss-all-deadline);
 * the kill at timeoutMs bounds the run instead. The host is always last (BusyBox needs it).
 */
export function pingAttempts(
  binary: string,
  host: string,
  count: number,
  timeoutMs: number,
  iface?: string | null,
): Attempt[] {
  const n = String(count);
  // `-I <interface>` (iputils and BusyBox alike): the echo leaves by that NIC whatever the routes say.
  const via = iface ? ['-I', iface] : [];
  const waitSeconds = Math.max(
    1,
    Math.min(60, Math.floor((timeoutMs - (count - 1) * PING_INTERVAL_SECONDS * 1000) / 1000)),
  );
  const full = ['-n', '-c', n, '-i', String(PING_INTERVAL_SECONDS), '-W', String(waitSeconds), ...via];
  const reduced = ['-c', n, '-W', String(waitSeconds), ...via];
  if (!isIpv6(host)) {
    return [
      { binary, args: [...full, host] },
      { binary, args: [...reduced, host] },
      { binary, args: [...via, host] },
    ];
  }
  const attempts = [
    { binary, args: [...full, '-6', host] },
    { binary, args: [...reduced, '-6', host] },
  ];
  const ping6 = ping6Of(binary);
  if (ping6) attempts.push({ binary: ping6, args: [...full, host] }, { binary: ping6, args: [...reduced, host] });
  return attempts;
}

function isIpv6(host: string): boolean {
  return isIP(host.split('%')[0] ?? '') === 6 || host.includes(':');
}

/** An address or a host name; never something ping could take for an option. */
const SAFE_HOST = /^[A-Za-z0-9:][A-Za-z0-9._:%-]{0,252}$/;

/** How ping is run: the binary, the way to run it, and which argument list worked last time. */
export interface PingRunner {
  binary: string;
  exec: PingExec;
  /** binary + family → the index of the attempt that worked, so older builds pay the retries once. */
  working: Map<string, number>;
}

/** One runner per process (src/deps.ts): the attempt cache lives as long as the binary does. */
export function pingRunner(binary = 'ping', exec: PingExec = spawnPingWith()): PingRunner {
  return { binary, exec, working: new Map() };
}

/**
 * Pings `host` `count` times at 0.2 s intervals. Resolves (never rejects) by `timeoutMs` or when
 * `signal` fires, with the statistics of what was sent so far.
 */
export async function pingHost(
  host: string,
  opts: PingOptions,
  runner: PingRunner | PingExec = pingRunner(),
): Promise<PingOutcome> {
  const run = typeof runner === 'function' ? pingRunner('ping', runner) : runner;
  if (typeof host !== 'string' || !SAFE_HOST.test(host)) {
    return { error: 'unavailable', detail: `not a pingable host: ${JSON.stringify(String(host)).slice(0, 80)}` };
  }
  const count = Math.max(1, Math.min(100, Math.trunc(Number.isFinite(opts.count) ? opts.count : 3)));
  const timeoutMs = Math.max(1, Number.isFinite(opts.timeoutMs) ? opts.timeoutMs : 3000);
  // Not run is not "no reply": reporting 100% loss here would blame the network for our deadline.
  if (opts.signal?.aborted) return { error: 'unavailable', detail: 'not started: the check was already stopped' };
  const iface = opts.interface ?? null;
  if (iface !== null && !isInterfaceName(iface)) {
    return { error: 'unavailable', detail: `not an interface name: ${JSON.stringify(String(iface)).slice(0, 40)}` };
  }
  // A plain (ref'd) timer rather than AbortSignal.timeout: whatever the exec is, the timeout
  // itself keeps the process alive until it fires or the ping is done.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`ping timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    return await runAttempts(host, count, timeoutMs, signal, run, iface);
  } finally {
    clearTimeout(timer);
  }
}

async function runAttempts(
  host: string,
  count: number,
  timeoutMs: number,
  signal: AbortSignal,
  { binary, exec, working: cache }: PingRunner,
  iface: string | null,
): Promise<PingOutcome> {
  const attempts = pingAttempts(binary, host, count, timeoutMs, iface);
  const cacheKey = `${binary}\u0000${isIpv6(host) ? 6 : 4}`;

  let last: PingExecResult | null = null;
  for (let i = cache.get(cacheKey) ?? 0; i < attempts.length; i++) {
    const attempt = attempts[i];
    if (!attempt) break;
    let result: PingExecResult;
    try {
      result = await exec(attempt.binary, attempt.args, signal);
    } catch (err) {
      return {
        error: 'unavailable',
        detail: `could not run ${attempt.binary}: ${String(err)}`.slice(0, MAX_DETAIL_CHARS),
      };
    }
    if (result.spawnError) {
      // A missing ping6 after a refused -6 leaves the refusal as the answer.
      if (last && attempt.binary !== binary) break;
      return {
        error: 'unavailable',
        detail:
          `${attempt.binary} could not be started: ` +
          `${result.spawnError.code === 'ENOENT' ? 'not installed' : result.spawnError.message}`,
      };
    }
    last = result;
    if (!isUsageError(result)) {
      cache.set(cacheKey, i);
      break;
    }
    if (signal.aborted) break;
  }
  if (!last) return { error: 'unavailable', detail: 'ping was not run' };
  return parsePingOutput(last.stdout, last.stderr, last.exitCode, count);
}
