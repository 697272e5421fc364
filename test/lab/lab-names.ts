/**
 * Names of everything a lab creates on the host, and the sweep that removes what a crashed run left
 * behind. Every host-visible name carries the owning test process's pid, so a later run can tell a
 * leftover (pid dead) from a lab another test file is using right now (pid alive).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from './require-lab.js';

/**
 * `ndl<pid>-<3 chars><role letter>` (v the vm, n the net side, other letters the extra namespaces of
 * the field lab): at most 15 characters, like an interface name, to be safe everywhere.
 */
const NETNS_PATTERN = /^ndl(\d+)-[a-z0-9]{3}[a-z]$/;
const TMPDIR_PATTERN = /^ndl(\d+)-[a-z0-9]{3}-/;
export const NETNS_DIR = '/etc/netns';
/**
 * An nsswitch.conf for /etc/netns/<ns>/ (bind-mounted over /etc by `ip netns exec`): hosts come
 * from the files and DNS only, so no nss plugin (resolve, mdns, myhostname…) answers or leaves the
 * namespace, and a lookup reaches nothing but the namespace's own resolv.conf.
 */
export const ISOLATED_NSSWITCH_CONF =
  'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n';

export interface LabNames {
  id: string;
  vmNs: string;
  netNs: string;
  /** Prefix for the lab's temp dir (mkdtemp adds a suffix). */
  tmpPrefix: string;
}

export function newLabNames(): LabNames {
  const id = `${process.pid}-${Math.random().toString(36).slice(2, 5).padEnd(3, '0')}`;
  return {
    id,
    vmNs: `ndl${id}v`,
    netNs: `ndl${id}n`,
    tmpPrefix: join(tmpdir(), `ndl${id}-`),
  };
}

/** The name of a lab's extra namespace (the field lab's container, duplicate host…): one letter a-z. */
export function extraNetnsName(names: LabNames, letter: string): string {
  if (!/^[a-z]$/.test(letter) || letter === 'v' || letter === 'n') throw new Error(`bad namespace letter ${letter}`);
  return `ndl${names.id}${letter}`;
}

export function isLabNetns(name: string): boolean {
  return NETNS_PATTERN.test(name);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is someone else's; only ESRCH means it is gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerIsDead(name: string, pattern: RegExp): boolean {
  const pid = Number(pattern.exec(name)?.[1]);
  return Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid);
}

function ipTool(): string {
  return findTool('ip') ?? 'ip';
}

/** Names of the lab namespaces that exist right now (any owner). */
export function listLabNetns(): string[] {
  const out = execFileSync(ipTool(), ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(isLabNetns);
}

/** Kills every process still inside a namespace, then deletes it. Synchronous: also used at exit. */
export function removeNetnsSync(name: string): void {
  const ip = ipTool();
  try {
    const pids = execFileSync(ip, ['netns', 'pids', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const pid of pids
      .split('\n')
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // namespace already gone
  }
  try {
    execFileSync(ip, ['netns', 'delete', name], { stdio: ['ignore', 'ignore', 'ignore'] });
  } catch {
    // already gone
  }
  rmSync(join(NETNS_DIR, name), { recursive: true, force: true });
}

/**
 * Removes namespaces, /etc/netns entries and temp dirs of this suite whose owning process is dead.
 * Returns what it removed, for the test log.
 */
export function sweepLeftovers(): string[] {
  const removed: string[] = [];
  for (const name of listLabNetns()) {
    if (ownerIsDead(name, NETNS_PATTERN)) {
      removeNetnsSync(name);
      removed.push(`netns ${name}`);
    }
  }
  for (const name of safeReaddir(NETNS_DIR)) {
    if (isLabNetns(name) && ownerIsDead(name, NETNS_PATTERN)) {
      rmSync(join(NETNS_DIR, name), { recursive: true, force: true });
      removed.push(`${NETNS_DIR}/${name}`);
    }
  }
  for (const name of safeReaddir(tmpdir())) {
    if (TMPDIR_PATTERN.test(name) && ownerIsDead(name, TMPDIR_PATTERN)) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
      removed.push(`temp dir ${name}`);
    }
  }
  return removed;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
