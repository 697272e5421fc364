/**
 * Decides whether the namespace lab can run here. The lab needs root (namespaces, nft, binding
 * port 53) and a handful of tools; when they are missing the lab tests skip with a message naming
 * exactly what is missing, except under CI=true where the same condition fails, so CI can never
 * pass by skipping the lab (LAB.md).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';

/** The tools the harness spawns, by the name it spawns them with. */
export const LAB_TOOLS = ['ip', 'nft', 'dnsmasq', 'ping', 'openssl'] as const;
export type LabTool = (typeof LAB_TOOLS)[number];
/** The real programs the field lab (field-lab.ts) starts besides the base lab's tools. */
export const FIELD_LAB_TOOLS = ['tinyproxy', 'mosquitto', 'arping'] as const;

/** sbin directories are often missing from a non-login PATH even for root. */
const EXTRA_PATH = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_PATH];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/** What is missing, as short phrases; empty when the lab can run. */
export function missingLabPrerequisites(tools: readonly string[] = LAB_TOOLS): string[] {
  const missing: string[] = [];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) missing.push('root (uid 0)');
  for (const tool of tools) {
    if (findTool(tool) === null) missing.push(`the \`${tool}\` command`);
  }
  // Root inside an unprivileged container may still lack CAP_SYS_ADMIN: try the real thing.
  const ip = findTool('ip');
  if (isRoot && ip !== null) {
    const probe = `ndlab-${process.pid}-probe${Math.random().toString(36).slice(2, 6)}`;
    try {
      execFileSync(ip, ['netns', 'add', probe], { stdio: ['ignore', 'ignore', 'pipe'] });
      execFileSync(ip, ['netns', 'delete', probe], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
      missing.push(`permission to create network namespaces (ip netns add failed: ${detail})`);
    }
  }
  return missing;
}

export function labMissingMessage(missing: string[]): string {
  return (
    `namespace lab unavailable: missing ${missing.join(', ')}. ` +
    'Run as root with iproute2, nftables, iputils-ping, dnsmasq-base and openssl installed.'
  );
}

let cached: string | null | undefined;

/**
 * Call once at the top of a lab test file. Returns the skip message to pass to `describe`/`test`
 * (`{ skip }`), or undefined when the lab can run. Under CI=true a missing prerequisite registers a
 * failing test instead, and the rest is skipped so the failure is the one clear message.
 */
export function requireLab(): string | undefined {
  if (cached === undefined) {
    const missing = missingLabPrerequisites();
    cached = missing.length === 0 ? null : labMissingMessage(missing);
  }
  if (cached === null) return undefined;
  const message = cached;
  if (process.env.CI === 'true') {
    test('lab prerequisites (required under CI=true)', () => {
      throw new Error(message);
    });
  }
  return message;
}

let fieldCached: string | null | undefined;

/**
 * requireLab for the field lab: the base prerequisites plus tinyproxy, mosquitto and arping
 * (apt-get install -y tinyproxy mosquitto iputils-arping). Same contract: a skip message, or under
 * CI=true a failing test.
 */
export function requireFieldLab(): string | undefined {
  if (fieldCached === undefined) {
    const missing = missingLabPrerequisites([...LAB_TOOLS, ...FIELD_LAB_TOOLS]);
    fieldCached =
      missing.length === 0
        ? null
        : `${labMissingMessage(missing)} The field lab also needs tinyproxy, mosquitto and iputils-arping.`;
  }
  if (fieldCached === null) return undefined;
  const message = fieldCached;
  if (process.env.CI === 'true') {
    test('field lab prerequisites (required under CI=true)', () => {
      throw new Error(message);
    });
  }
  return message;
}
