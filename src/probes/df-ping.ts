/**
 * Path MTU by don't-fragment pings (CONTRACT 7.5 `components.ip.pathMtu`): one echo request per
 * size, with DF set, from the interface MTU down to 576 bytes, so a black hole (big packets
 * vanish, small ones pass, no "fragmentation needed" comes back) can be told from a path that
 * reports its MTU and from one that simply drops ping.
 *
 * Only iputils can do this (`-M do`); BusyBox ping has no DF option and says so ("invalid option
 * -- 'M'"), which is reported as unavailable, as is a missing binary; a refused raw socket is
 * not-permitted (the same wordings as src/probes/ping.ts, whose runner is reused: no shell, C
 * locale, output capped, SIGINT then SIGKILL at the timeout). Real outputs of every case are in
 * test/fixtures/df-ping (capture.sh there builds the lab). Sizes are whole IP packets, as an MTU
 * is: the ICMP payload is the size minus 28 (IPv4: 20 + 8) or 48 (IPv6: 40 + 8).
 *
 * The kernel remembers a "fragmentation needed" for about ten minutes: the next DF ping of that
 * size to that destination fails locally ("local error: message too long, mtu=1400"), which is
 * reported as `too-big-local` with the MTU: the same fact, learned earlier.
 */
import { isIP } from 'node:net';
import { parsePingOutput, spawnPingWith } from './ping.js';
import type { PingExec, PingExecResult } from './ping.js';
import {
  MAX_DETAIL_CHARS,
  capturedOutput,
  detailOf,
  isInterfaceName,
  runBounded,
  spawnFailure,
} from './spawn-capture.js';

/**
 * What one DF ping saw:
 * - `reply`: an echo reply came back, a packet of this size passes unfragmented;
 * - `frag-needed`: a hop answered "Frag needed and DF set" / "Packet too big" with its MTU;
 * - `too-big-local`: the VM's own stack refused to send it: the interface MTU, or a path MTU it
 *   learned from an earlier "frag needed", is smaller (`mtu` says which value);
 * - `no-reply`: nothing came back (lost, or dropped together with its ICMP error: a black hole
 *   when smaller sizes get replies);
 * - `unreachable`: no route, or a hop said net/host unreachable;
 * - `error`: the probe could not run (`error` says why).
 */
export type DfOutcome = 'reply' | 'frag-needed' | 'too-big-local' | 'no-reply' | 'unreachable' | 'error';

export interface DfProbe {
  /** The whole IP packet, bytes. */
  size: number;
  outcome: DfOutcome;
  /** The MTU a hop or the local stack named, when it did. */
  mtu: number | null;
  /** Who sent the ICMP error (frag-needed, unreachable), when printed. */
  from: string | null;
  rttMs: number | null;
  error?: 'not-permitted' | 'unavailable';
  /** What ping printed, shortened, for `error` and `unreachable`. */
  detail?: string;
}

export interface PathMtuResult {
  target: string;
  /** The MTU the sizes started from (the interface's, else 1500). */
  interfaceMtu: number;
  /** The largest size that got a reply, null when none did. */
  largestPassingDf: number | null;
  /** The smallest size that failed (frag-needed, too-big-local or no-reply), null when none did. */
  smallestFailingDf: number | null;
  /** The smallest MTU named by a hop or the local stack, null when none was. */
  reportedMtu: number | null;
  /** Largest size first. */
  probed: DfProbe[];
  /** Set when no probe could run at all (then every probe carries the same error). */
  error?: 'not-permitted' | 'unavailable';
  detail?: string;
}

export interface DfPingOptions {
  /** The interface's MTU (the first size); null or absent: 1500. */
  interfaceMtu?: number | null;
  /** Packet sizes below the MTU to try. @default DEFAULT_DF_SIZES */
  sizes?: readonly number[];
  /** Per probe: ping waits at most this long for its reply and is stopped then. @default 1500 */
  timeoutMs?: number;
  /** How many pings run at once. @default 3 */
  concurrency?: number;
  /** Send from this interface (`ping -I`), e.g. to test the route of one NIC. */
  interface?: string | null;
  /** The ping binary (iputils). @default 'ping' */
  binary?: string;
  exec?: PingExec;
  signal?: AbortSignal;
}

/** Below the MTU: a common tunnel/VPN MTU, IPv6's minimum, a clearly small one, IPv4's minimum datagram. */
export const DEFAULT_DF_SIZES: readonly number[] = [1400, 1280, 1000, 576];
/** The sweep is bounded whatever the caller passes. */
export const MAX_DF_PROBES = 8;
const MIN_SIZE = 68;
const MAX_SIZE = 65_535;

function headerBytes(family: 4 | 6): number {
  return family === 6 ? 48 : 28;
}

/** The sizes to probe, largest first: the MTU, then each smaller size, at most MAX_DF_PROBES. */
export function dfPingSizes(
  interfaceMtu: number | null | undefined,
  sizes: readonly number[] = DEFAULT_DF_SIZES,
): number[] {
  const mtu =
    typeof interfaceMtu === 'number' &&
    Number.isInteger(interfaceMtu) &&
    interfaceMtu >= MIN_SIZE &&
    interfaceMtu <= MAX_SIZE
      ? interfaceMtu
      : 1500;
  const below = sizes.filter((s) => Number.isInteger(s) && s >= MIN_SIZE && s < mtu);
  return [...new Set([mtu, ...below])].sort((a, b) => b - a).slice(0, MAX_DF_PROBES);
}

/** The argument list for one DF ping: iputils syntax, the target last. */
export function dfPingArgs(target: string, size: number, timeoutMs: number, iface?: string | null): string[] {
  const family = isIP(target.split('%')[0] ?? '') === 6 ? 6 : 4;
  const waitSeconds = String(Math.max(1, Math.min(60, Math.floor(timeoutMs / 1000))));
  const payload = String(Math.max(0, size - headerBytes(family)));
  return [
    '-n',
    ...(family === 6 ? ['-6'] : []),
    '-M',
    'do',
    '-s',
    payload,
    '-c',
    '1',
    '-W',
    waitSeconds,
    ...(iface ? ['-I', iface] : []),
    target,
  ];
}

const REPLY = /^\d+ bytes from \S+?:? .*?\btime[=<]\s*([\d.]+) ?ms/m;
const RECEIVED = /\d+ packets transmitted, (\d+) (?:packets )?received/;
/** iputils: "ping: local error: message too long, mtu=1400" (IPv4) / "mtu: 1400" (IPv6). */
const LOCAL_TOO_BIG = /local error: message too long,? (?:mtu[=:]\s*(\d+))?/i;
/** Older iputils printed the send error instead. */
const SEND_TOO_BIG = /\b(?:sendmsg|sendto): Message too long/i;
const FRAG_NEEDED = /^From (\S+?):? .*(?:Frag needed and DF set \(mtu = (\d+)\)|Packet too big: mtu=(\d+))/m;
const UNREACHABLE =
  /^From (\S+?):? .*(?:Destination (?:Net|Host|Protocol|Port) Unreachable|Destination unreachable|Network is unreachable|No route)|\bconnect: Network is unreachable|\bNetwork is unreachable/im;

function toMtu(text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n <= MAX_SIZE ? n : null;
}

/** One DF ping's outcome from what ping printed. Never throws. */
export function parseDfPingOutput(size: number, result: PingExecResult): DfProbe {
  const base = { size, mtu: null, from: null, rttMs: null };
  if (result.spawnError) {
    return {
      ...base,
      outcome: 'error',
      error: 'unavailable',
      detail: spawnFailure('ping', result.spawnError),
    };
  }
  const { stdout, stderr, all } = capturedOutput(result);

  const reply = REPLY.exec(stdout);
  const received = Number(RECEIVED.exec(stdout)?.[1] ?? '0');
  if (reply || received > 0) {
    const rtt = reply ? Number(reply[1]) : NaN;
    return { ...base, outcome: 'reply', rttMs: Number.isFinite(rtt) ? rtt : null };
  }
  const local = LOCAL_TOO_BIG.exec(all);
  if (local) return { ...base, outcome: 'too-big-local', mtu: toMtu(local[1]) };
  if (SEND_TOO_BIG.test(all)) return { ...base, outcome: 'too-big-local' };
  const frag = FRAG_NEEDED.exec(stdout);
  if (frag) return { ...base, outcome: 'frag-needed', from: frag[1] ?? null, mtu: toMtu(frag[2] ?? frag[3]) };
  const unreachable = UNREACHABLE.exec(all);
  if (unreachable) {
    return { ...base, outcome: 'unreachable', from: unreachable[1] ?? null, detail: detailOf(unreachable[0]) };
  }
  // Everything else (permission, refused option, killed, plain loss) reads as ping.ts reads it.
  const generic = parsePingOutput(stdout, stderr, result.exitCode, 1);
  if ('error' in generic) return { ...base, outcome: 'error', error: generic.error, detail: generic.detail ?? '' };
  return generic.received > 0 ? { ...base, outcome: 'reply' } : { ...base, outcome: 'no-reply' };
}

/** An IP literal (IPv6 with an optional %zone), never something ping could take for an option. */
function isTarget(target: string): boolean {
  const [ip = '', zone, ...more] = target.split('%');
  if (more.length > 0 || isIP(ip) === 0) return false;
  return zone === undefined || /^[A-Za-z0-9_.-]{1,64}$/.test(zone);
}

async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

function summarise(target: string, interfaceMtu: number, probed: DfProbe[]): PathMtuResult {
  const sizes = (outcomes: DfOutcome[]) => probed.filter((p) => outcomes.includes(p.outcome)).map((p) => p.size);
  const passing = sizes(['reply']);
  const failing = sizes(['frag-needed', 'too-big-local', 'no-reply']);
  const mtus = probed.map((p) => p.mtu).filter((m): m is number => m !== null);
  const result: PathMtuResult = {
    target,
    interfaceMtu,
    largestPassingDf: passing.length ? Math.max(...passing) : null,
    smallestFailingDf: failing.length ? Math.min(...failing) : null,
    reportedMtu: mtus.length ? Math.min(...mtus) : null,
    probed,
  };
  const first = probed[0];
  if (first?.error && probed.every((p) => p.error === first.error)) {
    result.error = first.error;
    result.detail = first.detail ?? '';
  }
  return result;
}

type ValidSweep = { ok: true; timeoutMs: number; exec: PingExec; binary: string } | { ok: false; detail: string };

function validate(target: string, opts: DfPingOptions): ValidSweep {
  if (typeof target !== 'string' || !isTarget(target)) {
    return { ok: false, detail: `not an IP address: ${JSON.stringify(String(target)).slice(0, 80)}` };
  }
  if (opts.interface !== undefined && opts.interface !== null && !isInterfaceName(opts.interface)) {
    return { ok: false, detail: `not an interface name: ${JSON.stringify(opts.interface).slice(0, 40)}` };
  }
  if (opts.signal?.aborted) return { ok: false, detail: 'not started: the check was already stopped' };
  return {
    ok: true,
    timeoutMs: Math.max(1, Number.isFinite(opts.timeoutMs) ? Number(opts.timeoutMs) : 1500),
    exec: opts.exec ?? spawnPingWith(),
    binary: opts.binary ?? 'ping',
  };
}

function failAll(target: string, interfaceMtu: number, sizes: readonly number[], detail: string): PathMtuResult {
  const probed = sizes.map((size): DfProbe => ({
    size,
    outcome: 'error',
    mtu: null,
    from: null,
    rttMs: null,
    error: 'unavailable',
    detail,
  }));
  return summarise(target, interfaceMtu, probed);
}

/** One DF ping per size, `concurrency` at a time; each bounded by its timeout and the signal. */
function probeSizes(
  target: string,
  sizes: readonly number[],
  run: Extract<ValidSweep, { ok: true }>,
  opts: DfPingOptions,
  concurrency: number,
): Promise<DfProbe[]> {
  return mapBounded(sizes, concurrency, async (size): Promise<DfProbe> => {
    const base = { size, mtu: null, from: null, rttMs: null };
    if (opts.signal?.aborted) {
      return { ...base, outcome: 'error', error: 'unavailable', detail: 'not run: the check was stopped' };
    }
    try {
      const args = dfPingArgs(target, size, run.timeoutMs, opts.interface);
      return parseDfPingOutput(size, await runBounded(run.exec, run.binary, args, run.timeoutMs, opts.signal));
    } catch (error) {
      const detail = `could not run ping: ${String(error)}`.slice(0, MAX_DETAIL_CHARS);
      return { ...base, outcome: 'error', error: 'unavailable', detail };
    }
  });
}

/**
 * DF pings to `target` (an IP literal) at the interface MTU and below, `concurrency` at a time,
 * each stopped at `timeoutMs` or when `signal` fires. Resolves, never rejects.
 */
export async function pingDfSweep(target: string, opts: DfPingOptions = {}): Promise<PathMtuResult> {
  const sizes = dfPingSizes(opts.interfaceMtu, opts.sizes);
  const interfaceMtu = sizes[0] ?? 1500;
  const run = validate(target, opts);
  if (!run.ok) return failAll(target, interfaceMtu, sizes, run.detail);
  const concurrency = Math.max(1, Math.min(MAX_DF_PROBES, Math.trunc(opts.concurrency ?? 3)));
  return summarise(target, interfaceMtu, await probeSizes(target, sizes, run, opts, concurrency));
}

/**
 * The same sweep in two rounds, so that a healthy path costs two pings and no wait: first the
 * interface MTU and the smallest size together; only when the MTU fails while the smallest passes
 * (the one case the sizes between can say more about: a black hole, or a smaller path MTU) are
 * those probed, all at once. Bounded by two probe timeouts. Resolves, never rejects.
 */
export async function pingDfStaged(target: string, opts: DfPingOptions = {}): Promise<PathMtuResult> {
  const sizes = dfPingSizes(opts.interfaceMtu, opts.sizes);
  const interfaceMtu = sizes[0] ?? 1500;
  const run = validate(target, opts);
  if (!run.ok) return failAll(target, interfaceMtu, sizes, run.detail);
  const ends = sizes.length > 1 ? [sizes[0] as number, sizes[sizes.length - 1] as number] : sizes;
  const first = await probeSizes(target, ends, run, opts, ends.length);
  const [top, bottom] = [first[0], first[first.length - 1]];
  const middle = sizes.slice(1, -1);
  if (middle.length === 0 || top?.outcome === 'reply' || bottom?.outcome !== 'reply') {
    return summarise(target, interfaceMtu, first);
  }
  const second = await probeSizes(target, middle, run, opts, middle.length);
  return summarise(
    target,
    interfaceMtu,
    [...first, ...second].sort((a, b) => b.size - a.size),
  );
}
