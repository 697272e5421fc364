/**
 * The captured runs of real programs under test/fixtures/<tool>/: each run is three files,
 * <name>.stdout, <name>.stderr and <name>.exit, written by that folder's capture.sh.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PingExecResult } from '../../src/probes/ping.js';

const folder = (tool: string) => fileURLToPath(new URL(`../fixtures/${tool}/`, import.meta.url));

/** The names of the tool's captured runs on disk, sorted. */
export function capturedRunNames(tool: string): string[] {
  return readdirSync(folder(tool))
    .filter((f) => f.endsWith('.exit'))
    .map((f) => f.slice(0, -'.exit'.length))
    .sort();
}

/** One captured run, as the spawner would have returned it. */
export function capturedRun(tool: string, name: string): PingExecResult {
  const part = (ext: string) => readFileSync(join(folder(tool), `${name}.${ext}`), 'utf8');
  const status = Number(part('exit').trim());
  // A shell reports death by signal N as 128+N; node's child_process reports exit code null.
  return { stdout: part('stdout'), stderr: part('stderr'), exitCode: status >= 128 ? null : status };
}
