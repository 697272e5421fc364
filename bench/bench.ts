/**
 * `npm run bench`: speed and memory of the engine, measured in the namespace lab (LAB.md), printed
 * as medians of repeated runs. Targets (issue #2): a healthy full check under 1 s, an
 * everything-dropped check under 2.5 x the probe timeout, peak RSS under 80 MB; and (issue #9) the
 * metered IoT Hub messages of a simulated day of scheduled checks (metering.ts).
 * Needs root and the lab tools, like the lab tests. Sends traffic only inside the lab namespaces.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createLab, type Lab } from '../test/lab/harness.js';
import { missingLabPrerequisites } from '../test/lab/require-lab.js';
import { benchMetering } from './metering.js';
import { benchModule } from './module-rss.js';

const HEALTHY_RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const DROPPED_RUNS = Number(process.env['BENCH_DROPPED_RUNS'] ?? 3);
const DEFAULT_TIMEOUT_MS = 3000;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const ms = (n: number) => `${Math.round(n)} ms`;
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

/** Runs a command in the vm namespace, sampling the process's VmHWM (peak RSS) until it exits. */
function runMeasured(
  lab: Lab,
  args: string[],
): Promise<{ wallMs: number; peakKb: number; stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // `ip netns exec` execs the command, so the child's pid is node's own.
    const child = spawn('ip', ['netns', 'exec', lab.vmNs, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    let peakKb = 0;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const sample = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited between samples
      }
    }, 5);
    child.once('error', reject);
    child.once('close', (code) => {
      clearInterval(sample);
      resolve({ wallMs: performance.now() - t0, peakKb, stdout, code });
    });
  });
}

function checkArgs(lab: Lab, extra: string[] = []): string[] {
  return [
    'check',
    '--json',
    '--aziot-config',
    lab.paths.aziotConfig,
    '--resolv-conf',
    lab.paths.resolvConf,
    '--networkd-dir',
    lab.paths.networkdDir,
    '--leases-dir',
    lab.paths.leasesDir,
    '--expected-ip',
    '198.18.0.10',
    ...lab.hubArgs(),
    ...extra,
  ];
}

async function main(): Promise<void> {
  const missing = missingLabPrerequisites();
  if (missing.length) throw new Error(`the bench runs in the namespace lab and needs: ${missing.join(', ')}`);
  const results: Array<[string, string, string]> = [];
  const lab = await createLab({ label: 'bench' });
  try {
    // 1. Healthy full check, in-process (warm: the first run is reported apart).
    const inproc = await runMeasured(lab, [
      process.execPath,
      'bench/inproc-check.mjs',
      String(HEALTHY_RUNS + 1),
      ...checkArgs(lab).slice(2),
    ]);
    const parsed = JSON.parse(inproc.stdout) as { durations: number[]; statuses: string[]; maxRssKb: number };
    if (parsed.statuses.some((s) => s !== 'healthy')) throw new Error(`lab not healthy: ${parsed.statuses.join(',')}`);
    results.push([
      'healthy check, in-process (median of ' + HEALTHY_RUNS + ', after 1 warm-up)',
      ms(median(parsed.durations.slice(1))),
      '< 1000 ms',
    ]);
    results.push(['healthy check, in-process, first run', ms(parsed.durations[0]!), '']);
    results.push([`peak RSS, in-process after ${HEALTHY_RUNS + 1} checks`, mb(parsed.maxRssKb), '< 80 MB']);

    // 2. Healthy full check as a CLI cold start (node start-up included).
    const cli: number[] = [];
    const cliPeak: number[] = [];
    for (let i = 0; i < HEALTHY_RUNS; i++) {
      const r = await runMeasured(lab, [process.execPath, 'dist/main.js', ...checkArgs(lab)]);
      if (r.code !== 0) throw new Error(`CLI exited ${r.code} on the healthy lab`);
      cli.push(r.wallMs);
      cliPeak.push(r.peakKb);
    }
    results.push([`healthy check, CLI cold start (median of ${HEALTHY_RUNS})`, ms(median(cli)), '< 1000 ms']);
    results.push(['peak RSS, CLI process (max)', mb(Math.max(...cliPeak)), '< 80 MB']);

    // 3. Everything dropped, default timeout and deadline.
    await lab.drop({ protocol: 'all' });
    const dropped: number[] = [];
    let droppedPeak = 0;
    for (let i = 0; i < DROPPED_RUNS; i++) {
      const r = await runMeasured(lab, [process.execPath, 'dist/main.js', ...checkArgs(lab)]);
      if (r.code !== 2) throw new Error(`CLI exited ${r.code} with everything dropped`);
      dropped.push(r.wallMs);
      droppedPeak = Math.max(droppedPeak, r.peakKb);
    }
    results.push([
      `everything dropped, default --timeout ${DEFAULT_TIMEOUT_MS} / --deadline 15000, CLI (median of ${DROPPED_RUNS})`,
      `${ms(median(dropped))} (${(median(dropped) / DEFAULT_TIMEOUT_MS).toFixed(2)} x timeout)`,
      `< ${2.5 * DEFAULT_TIMEOUT_MS} ms`,
    ]);
    results.push(['peak RSS, CLI process, everything dropped', mb(droppedPeak), '< 80 MB']);
  } finally {
    await lab.destroy();
  }
  if (process.env['BENCH_MODULE'] !== '0') results.push(...(await benchModule()));
  if (process.env['BENCH_METERING'] !== '0') results.push(...(await benchMetering()));

  const width = Math.max(...results.map((r) => r[0].length));
  console.log('\neflow-netdiag bench (namespace lab)\n');
  for (const [what, value, target] of results) console.log(`${what.padEnd(width)}  ${value.padEnd(28)} ${target}`);
}

await main();
