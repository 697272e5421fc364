/**
 * The one rule for tests that need something this machine may lack (root, namespaces, a tool):
 * without it they skip and say exactly what is missing; under CI=true the same condition FAILS,
 * so CI can never pass by skipping (LAB.md).
 */
import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test, type TestContext } from 'node:test';

export function underCi(): boolean {
  return process.env['CI'] === 'true';
}

/**
 * For a file or a `describe`: the skip reason when `missing` says something is missing (else
 * undefined). Under CI=true it also registers a failing test naming what is missing, so the
 * skipped suite cannot go unnoticed.
 */
export function skipUnless(missing: string | null | undefined, what = 'prerequisites'): string | undefined {
  if (!missing) return undefined;
  if (underCi()) {
    test(`${what} (required under CI=true)`, () => {
      throw new Error(missing);
    });
  }
  return missing;
}

/** Inside a running test: skips it with `reason`, or fails it under CI=true. */
export function skipOrFail(t: TestContext, reason: string): void {
  if (underCi()) assert.fail(`cannot run under CI=true: ${reason}`);
  t.skip(reason);
}

/** sbin directories are often missing from a non-login PATH even for root. */
const EXTRA_PATH = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The full path of an executable on PATH (or in the sbin directories), or null. */
export function findTool(name: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...EXTRA_PATH];
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

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
