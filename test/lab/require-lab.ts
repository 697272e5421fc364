/**
 * Decides whether the namespace lab can run here. The lab needs root (namespaces, nft, binding
 * port 53) and a handful of tools; when they are missing the lab tests skip with a message naming
 * exactly what is missing, except under CI=true where the same condition fails, so CI can never
 * pass by skipping the lab (LAB.md).
 */
import { execFileSync } from 'node:child_process';
import { findTool, isRoot, skipUnless } from '../support/prerequisites.js';

export { findTool };

/** The tools the harness spawns, by the name it spawns them with. */
export const LAB_TOOLS = ['ip', 'nft', 'dnsmasq', 'ping', 'openssl'] as const;
export type LabTool = (typeof LAB_TOOLS)[number];
/** The real programs the field lab (field-lab.ts) starts besides the base lab's tools. */
export const FIELD_LAB_TOOLS = ['tinyproxy', 'mosquitto', 'arping'] as const;

/** What is missing, as short phrases; empty when the lab can run. */
export function missingLabPrerequisites(tools: readonly string[] = LAB_TOOLS): string[] {
  const missing: string[] = [];
  if (!isRoot()) missing.push('root (uid 0)');
  for (const tool of tools) {
    if (findTool(tool) === null) missing.push(`the \`${tool}\` command`);
  }
  // Root inside an unprivileged container may still lack CAP_SYS_ADMIN: try the real thing.
  const ip = findTool('ip');
  if (isRoot() && ip !== null) {
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
 * (`{ skip }`), or undefined when the lab can run; under CI=true a missing prerequisite fails.
 */
export function requireLab(): string | undefined {
  if (cached === undefined) {
    const missing = missingLabPrerequisites();
    cached = missing.length === 0 ? null : labMissingMessage(missing);
  }
  return skipUnless(cached, 'lab prerequisites');
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
  return skipUnless(fieldCached, 'field lab prerequisites');
}
