/**
 * Runs a command the way the image runs the module — as uid 1000, the node image's `node` user —
 * inside a fresh, anonymous network namespace holding only loopback (and, when asked, a veth pair
 * with a default route into 198.18.0.0/15 that leads nowhere). A full check probes the default
 * gateway, the configured resolvers and the hub; here all of that stays inside the namespace, which
 * the kernel removes when its last process exits, so nothing needs a name or a cleanup step.
 */
import { execFileSync, spawn } from 'node:child_process';
import { findTool, isRoot, skipUnless } from '../support/prerequisites.js';

/** The `node` user of the official Node.js images, which the Dockerfile's `USER node` selects. */
export const IMAGE_UID = 1000;

/** The gateway address the optional default route points at; nothing answers there. */
export const LAB_GATEWAY = '198.18.0.1';

const TOOLS = ['unshare', 'ip', 'setpriv', 'sh'] as const;

function tool(name: (typeof TOOLS)[number] | 'setcap'): string {
  const path = findTool(name);
  if (!path) throw new Error(`the \`${name}\` command is not installed`);
  return path;
}

export function netnsPrerequisitesMissing(): string[] {
  const missing: string[] = [];
  if (!isRoot()) missing.push('root (uid 0)');
  for (const name of TOOLS) if (!findTool(name)) missing.push(`the \`${name}\` command`);
  if (missing.length === 0) {
    try {
      execFileSync(tool('unshare'), ['--net', '--', tool('ip'), 'link', 'set', 'dev', 'lo', 'up'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      missing.push(
        `permission to create a network namespace (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
      );
    }
  }
  return missing;
}

let cached: string | null | undefined;

/** A skip message when namespaces cannot be made here, else undefined; under CI=true the lack fails. */
export function requireNetns(): string | undefined {
  if (cached === undefined) {
    const missing = netnsPrerequisitesMissing();
    cached = missing.length === 0 ? null : `needs ${missing.join(', ')} (util-linux and iproute2, as root)`;
  }
  return skipUnless(cached, 'network namespace prerequisites');
}

/** `argv` run as uid/gid `uid` with no supplementary groups, killed if its parent dies. */
export function asUser(argv: string[], uid = IMAGE_UID): string[] {
  return [tool('setpriv'), `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--pdeathsig=SIGKILL', '--', ...argv];
}

// $1 = route|noroute, then the command. `set -e`: a failed `ip` stops before the command runs.
const PRELUDE = [
  'set -e',
  'ip=$1; shift',
  '"$ip" link set dev lo up',
  'if [ "$1" = route ]; then',
  '  "$ip" link add nd0 type veth peer name nd1',
  '  "$ip" addr add 198.18.0.2/24 dev nd0',
  '  "$ip" link set nd0 up',
  '  "$ip" link set nd1 up',
  `  "$ip" route add default via ${LAB_GATEWAY} dev nd0`,
  'fi',
  'shift',
  'exec "$@"',
].join('\n');

/** The command line for `argv` in a fresh network namespace. */
export function inFreshNetns(argv: string[], opts: { defaultRoute?: boolean } = {}): { cmd: string; args: string[] } {
  return {
    cmd: tool('unshare'),
    args: [
      '--net',
      '--',
      tool('sh'),
      '-c',
      PRELUDE,
      'sh',
      tool('ip'),
      opts.defaultRoute ? 'route' : 'noroute',
      ...argv,
    ],
  };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs to completion with exactly `env` (nothing inherited). The child leads its own process
 * group, and the whole group is killed at `timeoutMs` or when `signal` aborts, so nothing started
 * under it (the module under setpriv, ping) can outlive the test.
 */
export function runToEnd(
  cmd: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      killGroup();
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // anything the command left running in its group
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The minimal environment a container gets: a PATH and what the caller adds. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C',
    ...extra,
  };
}

export function setcapPath(): string | null {
  return findTool('setcap');
}
