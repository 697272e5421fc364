/**
 * What the VM's time service says about the clock (CONTRACT 7.4): `synchronized` is `false` only
 * when a running time service says it is not synchronised, `true` when one says it is, `null`
 * when nothing can be read. Two services are asked, each the way that needs no D-Bus:
 *
 * - systemd-timesyncd (CBL-Mariner's default): its unit declares `RuntimeDirectory=systemd/timesync`,
 *   so /run/systemd/timesync exists exactly while the service runs (systemd removes a runtime
 *   directory when its unit stops). Inside it, `synchronized` "is touched on each successful
 *   synchronization" (systemd-timesyncd.service(8), since systemd 239). So: directory absent →
 *   timesyncd is not running (no word from it); directory without the file → running and not
 *   synchronised yet (false); file present → synchronised (true), its mtime the last sync. The
 *   file is not removed when the servers later become unreachable, so `true` means "synchronised
 *   since the service started", and `lastSyncAt` is worth reporting beside it. The server's name
 *   comes from `timedatectl show-timesync` when that works (it needs D-Bus; the module has none).
 * - chrony: `chronyc -n tracking` (no shell, no DNS); "Leap status : Not synchronised" is false,
 *   any other leap status true; the reference in parentheses is the source. chronyc failing
 *   (not installed, "506 Cannot talk to daemon") is no word from chrony.
 *
 * If both answer (a misconfigured VM), a synchronised one wins: the clock is being disciplined.
 * Every path is under `root`, so tests run it on fixture trees.
 */
import { errorCode } from '../util/errors.js';
import { readDirNames, statFile, type ReadDir, type StatFile } from './fs-seams.js';
import { spawnPingWith } from './ping.js';
import type { PingExec } from './ping.js';
import type { ProbeContext } from './types.js';

export interface TimeSyncState {
  synchronized: boolean | null;
  /** The server or reference the service follows, or null. */
  syncSource: string | null;
  /** The service whose word decided `synchronized`, or null. */
  service: 'systemd-timesyncd' | 'chronyd' | null;
  /** The last successful synchronisation known (timesyncd's file mtime), ISO 8601, or null. */
  lastSyncAt: string | null;
  /** What was read from each service, as one sentence. */
  detail: string;
}

/** Runs a program without a shell (the ping runner's shape: capped output, killed on abort). */
export type RunCommand = PingExec;

export interface TimeSyncDeps {
  readDir?: ReadDir;
  stat?: StatFile;
  run?: RunCommand;
  /** Prefix of every path. @default '' (the real root) */
  root?: string;
}

export const TIMESYNC_DIR = '/run/systemd/timesync';

interface Word {
  synchronized: boolean;
  syncSource: string | null;
  lastSyncAt: string | null;
  detail: string;
}

/** chronyc tracking's text: the leap status and reference. Null when it is not that output. */
export function parseChronyTracking(
  stdout: string,
): { synchronized: boolean; syncSource: string | null; leap: string } | null {
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([A-Za-z][A-Za-z ()]*?)\s*:\s*(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  const leap = fields.get('leap status');
  if (leap === undefined) return null;
  const synchronized = !/^not synchroni[sz]ed$/i.test(leap);
  const ref = /^([0-9A-Fa-f]{8})\s*\((.*)\)$/.exec(fields.get('reference id') ?? '');
  let syncSource: string | null = null;
  if (synchronized && ref) {
    // 7F7F0101 is chrony's local reference ("local" directive): the clock follows itself.
    syncSource = ref[2] ? ref[2] : ref[1]!.toUpperCase() === '7F7F0101' ? 'local clock' : ref[1]!;
  }
  return { synchronized, syncSource, leap };
}

/** `timedatectl show-timesync -p ServerName -p ServerAddress` → the server, or null. */
export function parseTimesyncShow(stdout: string): string | null {
  const props = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const name = props.get('ServerName') || null;
  const address = props.get('ServerAddress') || null;
  if (name && address && name !== address) return `${name} (${address})`;
  return name ?? address;
}

async function askTimesyncd(
  root: string,
  readDir: ReadDir,
  statOf: StatFile,
  run: RunCommand,
  signal: AbortSignal,
): Promise<Word | string> {
  const dir = `${root}${TIMESYNC_DIR}`;
  let names: string[];
  try {
    names = await readDir(dir);
  } catch (error) {
    const code = errorCode(error);
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `systemd-timesyncd is not running (${TIMESYNC_DIR} does not exist)`
      : `${TIMESYNC_DIR} could not be read (${code ?? String(error)})`;
  }
  const shown = await run(
    'timedatectl',
    ['show-timesync', '--property=ServerName', '--property=ServerAddress'],
    signal,
  );
  const syncSource = shown.exitCode === 0 ? parseTimesyncShow(shown.stdout) : null;
  if (!names.includes('synchronized')) {
    return {
      synchronized: false,
      syncSource,
      lastSyncAt: null,
      detail:
        `systemd-timesyncd is running and has not synchronised since it started (no ` + `${TIMESYNC_DIR}/synchronized)`,
    };
  }
  let lastSyncAt: string | null = null;
  try {
    const s = await statOf(`${dir}/synchronized`);
    // Rounded to the millisecond as Node rounds fs.Stats#mtime (a Date would truncate the fraction).
    if (s !== null && Number.isFinite(s.mtimeMs)) lastSyncAt = new Date(Math.round(s.mtimeMs)).toISOString();
  } catch {
    // the mtime is a detail; the file's presence already answered
  }
  return {
    synchronized: true,
    syncSource,
    lastSyncAt,
    detail:
      `systemd-timesyncd has ` +
      `synchronised${lastSyncAt ? `, last at ${lastSyncAt}` : ''}${syncSource ? ` with ${syncSource}` : ''}`,
  };
}

async function askChrony(run: RunCommand, signal: AbortSignal): Promise<Word | string> {
  const out = await run('chronyc', ['-n', 'tracking'], signal);
  if (out.spawnError) {
    return out.spawnError.code === 'ENOENT'
      ? 'chrony is not installed'
      : `chronyc could not be started (${out.spawnError.code})`;
  }
  if (out.exitCode !== 0) {
    const why = (out.stdout + out.stderr).trim().split('\n')[0]?.slice(0, 100) || `exit code ${String(out.exitCode)}`;
    return `chronyd did not answer (${why})`;
  }
  const parsed = parseChronyTracking(out.stdout);
  if (parsed === null) return 'chronyc tracking printed no leap status';
  return {
    synchronized: parsed.synchronized,
    syncSource: parsed.syncSource,
    lastSyncAt: null,
    detail: parsed.synchronized
      ? `chronyd is synchronised${parsed.syncSource ? ` to ${parsed.syncSource}` : ''} (leap status ${parsed.leap})`
      : 'chronyd says "Not synchronised"',
  };
}

/** The time service's state; never throws. */
export async function readTimeSync(ctx: ProbeContext, deps: TimeSyncDeps = {}): Promise<TimeSyncState> {
  const root = (deps.root ?? '').replace(/\/+$/, '');
  const readDir = deps.readDir ?? readDirNames;
  const run = deps.run ?? spawnPingWith();
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(0, ctx.timeoutMs))]);
  const safe = (p: Promise<Word | string>): Promise<Word | string> =>
    p.catch((error: unknown) => `could not be asked (${errorCode(error) ?? String(error)})`);
  const [timesyncd, chrony] = await Promise.all([
    safe(askTimesyncd(root, readDir, deps.stat ?? statFile, run, signal)),
    safe(askChrony(run, signal)),
  ]);
  const words: Array<[TimeSyncState['service'], Word | string]> = [
    ['systemd-timesyncd', timesyncd],
    ['chronyd', chrony],
  ];
  const detail = words.map(([, w]) => (typeof w === 'string' ? w : w.detail)).join('; ');
  const pick = (want: boolean) =>
    words.find(
      (entry): entry is [TimeSyncState['service'], Word] =>
        typeof entry[1] !== 'string' && entry[1].synchronized === want,
    );
  const decided = pick(true) ?? pick(false);
  if (!decided) return { synchronized: null, syncSource: null, service: null, lastSyncAt: null, detail };
  const [service, word] = decided;
  return { synchronized: word.synchronized, syncSource: word.syncSource, service, lastSyncAt: word.lastSyncAt, detail };
}
