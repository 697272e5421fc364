/**
 * What the system `ping` printed, as an outcome: iputils (Debian, Azure Linux) and BusyBox (Alpine
 * images) wordings, forced to the C locale by the runner. test/fixtures/ping holds real captures
 * of both. Pure functions; never throw.
 */
import type { PingOutcome } from '../report/types.js';

/** What one run of the binary left behind. `exitCode` is null when a signal ended it. */
export interface PingExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** Set when the binary could not be started at all (ENOENT, EACCES…). */
  spawnError?: { code: string; message: string };
}

/** Only this much of an output is examined, so a huge one costs bounded time. */
const MAX_PARSE_CHARS = 256 * 1024;
const MAX_LINE_CHARS = 2000;
const MAX_DETAIL_CHARS = 300;

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
