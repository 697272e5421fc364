/**
 * Duplicate address detection (CONTRACT 7.5 IP_ADDRESS_CONFLICT): an ARP probe for the VM's own
 * address, sent from 0.0.0.0 as RFC 5227 prescribes, which only another holder of the address
 * answers. Bounded at 500 ms: a neighbour on the segment answers within milliseconds, so silence
 * by then means no conflict (the binary is then interrupted and prints its statistics).
 *
 * Three arpings exist and are told apart by their `-V` output before probing (no network, a few
 * milliseconds), because their options and exit codes differ (real outputs in test/fixtures/arping):
 * - iputils (Debian iputils-arping, CBL-Mariner's iputils): `-D -I IF -c 2 -w 1 ADDR`; prints
 *   "Unicast reply from ADDR [MAC]" for an answer; exit 1 = a reply came (conflict), 0 = none.
 *   `-w` takes whole seconds only ("invalid argument: '0.5'"), hence the kill at 500 ms.
 * - BusyBox: the same options and wording (lower-case MAC), and it ignores `-w` with `-D`.
 * - Thomas Habets' arping (Debian `arping`): `-D` means "print ! and .", `-I` is not its option,
 *   so it gets `-0 -i IF -c 2 -w 1 ADDR`; prints "42 bytes from MAC (ADDR): index=0 …"; its exit
 *   code is the reverse (0 = a reply). Only the printed replies are trusted, never exit codes.
 * Not permitted (no CAP_NET_RAW: "socket: Operation not permitted", Habets' "CAP_NET_RAW
 * required") is `error: 'not-permitted'`, not "no answer"; a missing binary or interface is
 * `unavailable`. Run without a shell, C locale, output capped (src/probes/ping.ts's runner).
 */
import { isIPv4 } from 'node:net';
import { spawnPingWith } from './ping.js';
import type { PingExec, PingExecResult } from './ping.js';
import {
  MAX_DETAIL_CHARS,
  capturedOutput,
  detailOf,
  isInterfaceName,
  runBounded,
  spawnFailure,
} from './spawn-capture.js';

export type ArpingFlavour = 'iputils' | 'busybox' | 'habets';

export interface ArpingResult {
  address: string;
  interface: string;
  /** true: another host answered for the address; false: nobody did within the bound; null: not known. */
  conflict: boolean | null;
  /** The answering host's MAC (lower case), when there was a conflict. */
  conflictingMac: string | null;
  flavour: ArpingFlavour | null;
  error?: 'not-permitted' | 'unavailable';
  detail?: string;
}

export interface ArpingOptions {
  /** @default 'arping' */
  binary?: string;
  /** Skip the `-V` detection when the caller knows. */
  flavour?: ArpingFlavour;
  /** How long to wait for an answer. @default 500 */
  timeoutMs?: number;
  exec?: PingExec;
  signal?: AbortSignal;
}

export const ARPING_TIMEOUT_MS = 500;
/** `-V` prints one line and exits: this is generous. */
const DETECT_TIMEOUT_MS = 1000;

const NOT_PERMITTED = [
  /\bsocket: (?:Operation not permitted|Permission denied)/i, // iputils, BusyBox
  /CAP_NET_RAW required|you may need to run as root/i, // Habets (libnet)
  /permission denied \(are you root\?\)/i,
];
const NO_INTERFACE = [
  /Device \S+ not available/i, // iputils
  /interface \S+ not found/i, // BusyBox
  /No such device/i, // Habets (libnet ioctl), and others
];
/** iputils and BusyBox: "Unicast reply from 198.18.30.10 [02:00:C6:12:1E:99]  0.525ms". */
const IPUTILS_REPLY = /^(?:Unicast|Broadcast) reply from (\S+) \[([0-9A-Fa-f:]{11,17})\]/m;
const IPUTILS_SUMMARY = /^Received (\d+) response/m;
const IPUTILS_START = /^ARPING \S+ from \S+ \S+/m;
/** Habets: "42 bytes from 02:00:c6:12:1e:99 (198.18.30.10): index=0 time=11.070 usec". */
const HABETS_REPLY = /^\d+ bytes from ([0-9A-Fa-f:]{11,17}) \((\S+)\): index=/m;
const HABETS_SUMMARY = /^\d+ packets transmitted, (\d+) packets received/m;
const HABETS_START = /^ARPING \S+\s*$/m;

/** Which arping printed this `-V` output; null when none of the three. */
export function arpingFlavourOf(stdout: string, stderr: string): ArpingFlavour | null {
  const all = `${typeof stdout === 'string' ? stdout : ''}\n${typeof stderr === 'string' ? stderr : ''}`;
  if (/Thomas Habets/i.test(all)) return 'habets';
  if (/BusyBox/.test(all)) return 'busybox';
  if (/\biputils\b/i.test(all)) return 'iputils';
  return null;
}

/** The argument list for a DAD probe, address last. */
export function arpingArgs(flavour: ArpingFlavour, iface: string, address: string): string[] {
  return flavour === 'habets'
    ? ['-0', '-i', iface, '-c', '2', '-w', '1', address]
    : ['-D', '-I', iface, '-c', '2', '-w', '1', address];
}

/** A DAD run's outcome from what arping printed; `flavour` says whose wording to expect. Never throws. */
export function parseArpingOutput(
  address: string,
  iface: string,
  flavour: ArpingFlavour,
  result: PingExecResult,
): ArpingResult {
  const base = { address, interface: iface, flavour };
  if (result.spawnError) {
    return {
      ...base,
      conflict: null,
      conflictingMac: null,
      error: 'unavailable',
      detail: spawnFailure('arping', result.spawnError),
    };
  }
  const { stdout, stderr, all } = capturedOutput(result);

  // A printed answer is the evidence, whatever the exit code says (they differ between flavours).
  const iputils = IPUTILS_REPLY.exec(stdout);
  if (iputils) return { ...base, conflict: true, conflictingMac: (iputils[2] ?? '').toLowerCase() };
  const habets = HABETS_REPLY.exec(stdout);
  if (habets) return { ...base, conflict: true, conflictingMac: (habets[1] ?? '').toLowerCase() };

  if (NOT_PERMITTED.some((re) => re.test(all))) {
    return {
      ...base,
      conflict: null,
      conflictingMac: null,
      error: 'not-permitted',
      detail: detailOf(stderr || stdout),
    };
  }
  if (NO_INTERFACE.some((re) => re.test(all))) {
    return { ...base, conflict: null, conflictingMac: null, error: 'unavailable', detail: detailOf(stderr || stdout) };
  }
  // It ran and reported no answer: its own summary, or its start line and then our interruption.
  const summary = flavour === 'habets' ? HABETS_SUMMARY.exec(stdout) : IPUTILS_SUMMARY.exec(stdout);
  const started = flavour === 'habets' ? HABETS_START.test(stdout) : IPUTILS_START.test(stdout);
  if (summary && Number(summary[1]) === 0) return { ...base, conflict: false, conflictingMac: null };
  if (started && !summary && result.exitCode === null) return { ...base, conflict: false, conflictingMac: null };
  if (summary && Number(summary[1]) > 0) {
    // Counted an answer but printed none (a quiet build): a conflict without a MAC.
    return { ...base, conflict: true, conflictingMac: null };
  }
  const first = detailOf(stderr || stdout);
  return {
    ...base,
    conflict: null,
    conflictingMac: null,
    error: 'unavailable',
    detail: first ? `unrecognised arping output: ${first}` : `arping printed nothing (exit ${String(result.exitCode)})`,
  };
}

/**
 * Asks, on `iface`, whether another host holds `address` (IPv4). Resolves, never rejects: within
 * `timeoutMs` (500) of the probe's start, plus the `-V` detection unless `flavour` is given.
 */
export async function arpingDad(address: string, iface: string, opts: ArpingOptions = {}): Promise<ArpingResult> {
  const fail = (
    error: 'unavailable' | 'not-permitted',
    detail: string,
    flavour: ArpingFlavour | null = null,
  ): ArpingResult => ({
    address,
    interface: iface,
    conflict: null,
    conflictingMac: null,
    flavour,
    error,
    detail,
  });
  if (typeof address !== 'string' || !isIPv4(address))
    return fail('unavailable', 'duplicate address detection needs an IPv4 address');
  if (!isInterfaceName(iface))
    return fail('unavailable', `not an interface name: ${JSON.stringify(String(iface)).slice(0, 40)}`);
  if (opts.signal?.aborted) return fail('unavailable', 'not started: the check was already stopped');
  const exec = opts.exec ?? spawnPingWith();
  const binary = opts.binary ?? 'arping';
  const timeoutMs = Math.max(1, Number.isFinite(opts.timeoutMs) ? Number(opts.timeoutMs) : ARPING_TIMEOUT_MS);

  try {
    let flavour = opts.flavour ?? null;
    if (flavour === null) {
      const version = await runBounded(exec, binary, ['-V'], DETECT_TIMEOUT_MS, opts.signal);
      if (version.spawnError) return fail('unavailable', spawnFailure('arping', version.spawnError));
      flavour = arpingFlavourOf(version.stdout, version.stderr);
      if (flavour === null) {
        return fail(
          'unavailable',
          `unknown arping: ${detailOf(version.stdout || version.stderr) || 'it printed no version'}`,
        );
      }
    }
    if (opts.signal?.aborted) return fail('unavailable', 'not run: the check was stopped', flavour);
    const result = await runBounded(exec, binary, arpingArgs(flavour, iface, address), timeoutMs, opts.signal);
    const parsed = parseArpingOutput(address, iface, flavour, result);
    // Stopped by the check's deadline rather than our bound: silence so far proves nothing.
    if (parsed.conflict === false && opts.signal?.aborted)
      return fail('unavailable', 'stopped by the check before the wait was over', flavour);
    return parsed;
  } catch (error) {
    return fail('unavailable', `could not run arping: ${String(error)}`.slice(0, MAX_DETAIL_CHARS));
  }
}
