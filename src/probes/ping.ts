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

/** What one run of the binary left behind. `exitCode` is null when a signal ended it. */
export interface PingExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** Set when the binary could not be started at all (ENOENT, EACCES…). */
  spawnError?: { code: string; message: string };
}

/** Runs `binary args…`, stopping it when `signal` fires; swapped out by tests to feed fixtures. */
export type PingExec = (binary: string, args: readonly string[], signal: AbortSignal) => Promise<PingExecResult>;

export interface PingOptions {
  count: number;
  timeoutMs: number;
  signal: AbortSignal;
}

/** Seconds between echo requests: 3 probes answer in ~0.4 s. iputils lets users go down to 0.2. */
export const PING_INTERVAL_SECONDS = 0.2;
/** Per stream: a ping of a few packets prints well under 1 KB, so more is a misbehaving binary. */
export const MAX_CAPTURE_BYTES = 64 * 1024;
/** After SIGINT (which makes both pings print their statistics), how long before SIGKILL. */
const KILL_GRACE_MS = 250;
/** Only this much of an output is examined, so a huge one costs bounded time. */
const MAX_PARSE_CHARS = 256 * 1024;
const MAX_LINE_CHARS = 2000;
const MAX_DETAIL_CHARS = 300;

/** The ping binary: `NETDIAG_PING` when set (a path, for tests and images), else `ping` from PATH. */
export function pingBinary(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.NETDIAG_PING?.trim();
  return configured ? configured : 'ping';
}

// --- parsing -------------------------------------------------------------------------------------

/** The kernel refused the ICMP socket. Wordings of iputils (old and new), BusyBox and inetutils. */
const NOT_PERMITTED: readonly RegExp[] = [
  /permission denied\.? \(are you root\?\)/i, // BusyBox
  /\bsocket: (?:Operation not permitted|Permission denied)/i, // iputils ("icmp open socket:" before 2015)
  /missing cap_net_raw/i, // iputils >= 20190515, after "socktype: SOCK_RAW"
  /Lacking privilege for raw socket/i, // GNU inetutils
  /\bcreating a raw socket: (?:Operation not permitted|Permission denied)/i, // old BusyBox
];
/** The binary refused our arguments: an older or smaller build. */
const USAGE_ERROR = /(?:invalid|unrecognized|illegal|unknown) option|^usage\b/im;
/** The socket family itself is missing (IPv6 disabled in the kernel). */
const NO_FAMILY = /Address family not supported by protocol/i;
/** The target did not resolve: we pass literal addresses, so this means a broken argument. */
const UNRESOLVED =
  /Name or service not known|Temporary failure in name resolution|unknown host|bad address|No address associated|cannot resolve/i;
/** The network said no (or the local stack did): a real "no reply", not a tool problem. */
const NO_REPLY_EVIDENCE =
  /Network is unreachable|No route to host|Host is unreachable|Destination .*Unreachable|\b(?:sendmsg|sendto): /i;

const SUMMARY = /(\d+) packets transmitted, (\d+) (?:packets )?received/;
const RTT = /(?:rtt|round-trip) min\/avg\/max(?:\/[a-z-]+)? = ([\d.]+)\/([\d.]+)\/([\d.]+)/;
const REPLY_START = /^(?:\[[\d.]+\] )?\d+ bytes from /;
/** iputils numbers requests from 1 (`icmp_seq=`), BusyBox from 0 (`seq=`). */
const REPLY_SEQ = /\b(icmp_seq|seq)=(\d+)/;
const REPLY_TIME = /\btime[=<]\s*([\d.]+) ?ms\b/;

function clip(text: unknown): string {
  const s = typeof text === 'string' ? text : '';
  if (s.length <= MAX_PARSE_CHARS) return s;
  // The statistics are at the end and the header at the start: keep both ends.
  return `${s.slice(0, MAX_PARSE_CHARS / 2)}\n${s.slice(-MAX_PARSE_CHARS / 2)}`;
}

function linesOf(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.length > 0 && l.length <= MAX_LINE_CHARS);
}

function detailOf(lines: readonly string[]): string {
  const text = lines
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' / ');
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text;
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function lossOf(sent: number, received: number): number {
  if (sent <= 0) return 100;
  const loss = ((sent - received) / sent) * 100;
  return Math.min(100, Math.max(0, Math.round(loss * 10) / 10));
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

interface Replies {
  received: number;
  /** At least this many requests went out: the highest sequence number answered, counted from the first. */
  sentAtLeast: number;
  times: number[];
}

/** Echo replies printed so far, duplicates left out: the only evidence when ping was killed. */
function countReplies(lines: readonly string[]): Replies {
  const seqs = new Set<number>();
  let unnumbered = 0;
  let sentAtLeast = 0;
  const times: number[] = [];
  for (const line of lines) {
    if (!REPLY_START.test(line) || line.includes('(DUP!)')) continue;
    const m = REPLY_SEQ.exec(line);
    if (m) {
      const seq = Number(m[2]);
      if (seqs.has(seq)) continue;
      seqs.add(seq);
      sentAtLeast = Math.max(sentAtLeast, m[1] === 'icmp_seq' ? seq : seq + 1);
    } else {
      unnumbered += 1;
    }
    const time = Number(REPLY_TIME.exec(line)?.[1]);
    if (Number.isFinite(time)) times.push(time);
  }
  const received = seqs.size + unnumbered;
  return { received, sentAtLeast: Math.max(received, Math.min(sentAtLeast, 1_000_000)), times };
}

function mean(values: readonly number[]): number | null {
  return values.length ? roundMs(values.reduce((a, b) => a + b, 0) / values.length) : null;
}

/** True when the binary printed its usage instead of pinging: worth a retry with fewer options. */
export function isUsageError(r: Pick<PingExecResult, 'stdout' | 'stderr' | 'exitCode'>): boolean {
  const out = clip(r.stdout);
  return r.exitCode !== 0 && !/^PING /m.test(out) && USAGE_ERROR.test(`${out}\n${clip(r.stderr)}`);
}

/**
 * Turns what ping printed into an outcome. `sent` is the number of echo requests asked for: it
 * stands in when ping printed neither statistics nor a reply (killed, or failed to send). Never throws.
 */
export function parsePingOutput(stdout: string, stderr: string, exitCode: number | null, sent: number): PingOutcome {
  try {
    return parse(clip(stdout), clip(stderr), exitCode, Number.isInteger(sent) && sent > 0 ? sent : 0);
  } catch (err) {
    return { error: 'unavailable', detail: `could not read ping output: ${String(err)}`.slice(0, MAX_DETAIL_CHARS) };
  }
}

function parse(stdout: string, stderr: string, exitCode: number | null, asked: number): PingOutcome {
  const outLines = linesOf(stdout);
  const errLines = linesOf(stderr);
  const all = [...outLines, ...errLines];
  const replies = countReplies(outLines);
  const summary = SUMMARY.exec(stdout);

  if (summary) {
    const sent = Number(summary[1]);
    const received = Number(summary[2]);
    const rtt = RTT.exec(stdout);
    const rttAvgMs = received > 0 ? (rtt ? finiteOrNull(roundMs(Number(rtt[2]))) : mean(replies.times)) : null;
    return { sent, received, lossPercent: lossOf(sent, received), rttAvgMs };
  }

  if (replies.received > 0) {
    // Killed before the statistics: the sequence numbers say how many went out at least. A
    // request still in flight at the kill is not counted lost: nothing says it would have been.
    const sent = replies.sentAtLeast;
    return {
      sent,
      received: replies.received,
      lossPercent: lossOf(sent, replies.received),
      rttAvgMs: mean(replies.times),
    };
  }

  const denied = all.some((l) => NOT_PERMITTED.some((re) => re.test(l)));
  if (denied) return { error: 'not-permitted', detail: detailOf(errLines.length ? errLines : all) };

  // BusyBox built without FEATURE_FANCY_PING sends one request and prints one line.
  if (all.some((l) => / is alive!$/.test(l))) return { sent: 1, received: 1, lossPercent: 0, rttAvgMs: null };
  if (all.some((l) => /^No response from /.test(l))) return { sent: 1, received: 0, lossPercent: 100, rttAvgMs: null };

  if (isUsageError({ stdout, stderr, exitCode })) {
    return {
      error: 'unavailable',
      detail: `ping refused its arguments: ${detailOf(all.filter((l) => USAGE_ERROR.test(l)).slice(0, 1))}`,
    };
  }
  if (all.some((l) => NO_FAMILY.test(l) || UNRESOLVED.test(l)))
    return { error: 'unavailable', detail: detailOf(errLines.length ? errLines : all) };

  const started = outLines.some((l) => l.startsWith('PING '));
  const killed = exitCode === null;
  if (started || killed || all.some((l) => NO_REPLY_EVIDENCE.test(l))) {
    return { sent: asked, received: 0, lossPercent: 100, rttAvgMs: null };
  }
  const first = detailOf(errLines.slice(0, 2));
  return {
    error: 'unavailable',
    detail: first ? `unrecognised ping output: ${first}` : `unrecognised ping output (exit ${String(exitCode)})`,
  };
}

// --- running -------------------------------------------------------------------------------------

/** The default PingExec: spawn without a shell, C locale, output capped, SIGINT then SIGKILL on abort. */
export const spawnPing: PingExec = (binary, args, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) {
      resolve({ stdout: '', stderr: '', exitCode: null });
      return;
    }
    // A minimal environment: ping needs none of ours, and the module's holds connection strings.
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' };
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
export function pingAttempts(binary: string, host: string, count: number, timeoutMs: number): Attempt[] {
  const n = String(count);
  const waitSeconds = Math.max(
    1,
    Math.min(60, Math.floor((timeoutMs - (count - 1) * PING_INTERVAL_SECONDS * 1000) / 1000)),
  );
  const full = ['-n', '-c', n, '-i', String(PING_INTERVAL_SECONDS), '-W', String(waitSeconds)];
  const reduced = ['-c', n, '-W', String(waitSeconds)];
  if (!isIpv6(host)) {
    return [
      { binary, args: [...full, host] },
      { binary, args: [...reduced, host] },
      { binary, args: [host] },
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

/** Which attempt worked last time, per exec function and binary, so older builds pay the retries once. */
const workingAttempt = new WeakMap<PingExec, Map<string, number>>();

/**
 * Pings `host` `count` times at 0.2 s intervals. Resolves (never rejects) by `timeoutMs` or when
 * `signal` fires, with the statistics of what was sent so far.
 */
export async function pingHost(host: string, opts: PingOptions, exec: PingExec = spawnPing): Promise<PingOutcome> {
  if (typeof host !== 'string' || !SAFE_HOST.test(host)) {
    return { error: 'unavailable', detail: `not a pingable host: ${JSON.stringify(String(host)).slice(0, 80)}` };
  }
  const count = Math.max(1, Math.min(100, Math.trunc(Number.isFinite(opts.count) ? opts.count : 3)));
  const timeoutMs = Math.max(1, Number.isFinite(opts.timeoutMs) ? opts.timeoutMs : 3000);
  // Not run is not "no reply": reporting 100% loss here would blame the network for our deadline.
  if (opts.signal?.aborted) return { error: 'unavailable', detail: 'not started: the check was already stopped' };
  // A plain (ref'd) timer rather than AbortSignal.timeout: whatever the exec is, the timeout
  // itself keeps the process alive until it fires or the ping is done.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`ping timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    return await runAttempts(host, count, timeoutMs, signal, exec);
  } finally {
    clearTimeout(timer);
  }
}

async function runAttempts(
  host: string,
  count: number,
  timeoutMs: number,
  signal: AbortSignal,
  exec: PingExec,
): Promise<PingOutcome> {
  const binary = pingBinary();
  const attempts = pingAttempts(binary, host, count, timeoutMs);
  const cacheKey = `${binary}\u0000${isIpv6(host) ? 6 : 4}`;
  let cache = workingAttempt.get(exec);
  if (!cache) workingAttempt.set(exec, (cache = new Map()));

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
        detail: `${attempt.binary} could not be started: ${result.spawnError.code === 'ENOENT' ? 'not installed' : result.spawnError.message}`,
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
