/**
 * Throw-away named network namespaces for unit tests that need the real kernel (interfaces, routes,
 * dropped or reset connections). They are named like the lab's (test/lab/lab-names.ts), so a crashed
 * run's leftover is swept, and removed when the test ends. Unlike the packaging tests' anonymous
 * namespaces (test/packaging/netns.ts), these have a name, so `ip netns exec` bind-mounts the files
 * under /etc/netns/<name>/ (resolv.conf, nsswitch.conf) over /etc for what runs inside.
 *
 * As for the lab (LAB.md): without root or the tools a test skips with the reason, except under
 * CI=true, where the same condition fails, so CI cannot pass by skipping.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ISOLATED_NSSWITCH_CONF, NETNS_DIR, newLabNames, removeNetnsSync } from '../lab/lab-names.js';
import { ipPath } from '../lab/lab-process.js';
import { findTool, skipOrFail } from './prerequisites.js';

export { skipOrFail };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const INSTALL: Record<string, string> = {
  ip: 'the `ip` command (iproute2) is missing: apt-get install -y iproute2',
  nft: 'the `nft` command (nftables) is missing: apt-get install -y nftables',
};

/** Why a namespace test cannot run here (platform, root, `ip` and the other tools named), or null. */
export function netnsUnavailable(tools: ReadonlyArray<'nft'> = []): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (uid 0)';
  for (const tool of ['ip', ...tools]) if (findTool(tool) === null) return INSTALL[tool]!;
  return null;
}

/**
 * A new namespace, removed (with /etc/netns/<name>) when the test ends; null (after skip-or-fail)
 * when it cannot be created, e.g. root without CAP_SYS_ADMIN. Call netnsUnavailable first.
 */
export function createTestNetns(t: TestContext): string | null {
  const ns = newLabNames().vmNs;
  t.after(() => removeNetnsSync(ns));
  try {
    execFileSync(ipPath(), ['netns', 'add', ns], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    skipOrFail(
      t,
      `cannot create a network namespace (ip netns add: ${String((error as { stderr?: unknown }).stderr ?? error).trim()})`,
    );
    return null;
  }
  return ns;
}

/** `ip -n <ns> args…`; throws when it fails. */
export function ipIn(ns: string, ...args: string[]): void {
  execFileSync(ipPath(), ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Name lookups inside `ns` use only its own resolv.conf: glibc is told to read hosts from the
 * files and DNS alone (no nss plugin can leave the namespace), and `resolvConf` is that resolv.conf.
 */
export function isolateLookups(ns: string, resolvConf: string): void {
  mkdirSync(join(NETNS_DIR, ns), { recursive: true });
  writeFileSync(join(NETNS_DIR, ns, 'nsswitch.conf'), ISOLATED_NSSWITCH_CONF);
  writeFileSync(join(NETNS_DIR, ns, 'resolv.conf'), resolvConf);
}

/**
 * Runs an ES module snippet in a child node (with tsx, from the repository root) inside `ns`, and
 * returns what it wrote to stdout, parsed as JSON. Fails the test when the child fails.
 */
export function nodeInNetns<T>(ns: string, code: string, timeoutMs: number): T {
  const r = spawnSync(
    ipPath(),
    ['netns', 'exec', ns, process.execPath, '--import', 'tsx', '--input-type=module', '-e', code],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    },
  );
  assert.equal(r.status, 0, `child failed: ${r.error?.message ?? ''} ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
