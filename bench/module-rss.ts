/**
 * The module's memory, measured in the lab (issue #3): idle RSS after start-up, and RSS growth
 * over 1,000 on-demand checks (runDiagnostics through the local edgeHub emulator, the module
 * running inside the lab's vm namespace). Targets: under 80 MB, growth under 5 MB.
 */
import { readFileSync } from 'node:fs';
import { runtimeEnv } from '../scripts/dockerfile.mjs';
import { startModuleLab } from '../test/module/module-harness.js';

const CHECKS = Number(process.env['BENCH_MODULE_CHECKS'] ?? 1000);
const WARM_UP = 50;

/** VmRSS, and RssAnon (RSS without the node binary's shared, file-backed pages). */
function rssKb(pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** The runtime stage's ENV (NODE_OPTIONS, MALLOC_ARENA_MAX…), so the module runs as deployed. */
function imageEnv(): Record<string, string> {
  return runtimeEnv(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'));
}

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export async function benchModule(): Promise<Array<[string, string, string]>> {
  const ml = await startModuleLab({ label: 'bench-mod' });
  try {
    // The module runs with the image's memory settings (the Dockerfile's ENV line), as deployed.
    const mod = await ml.startModule({
      moduleId: 'netdiag',
      env: { NETDIAG_LOG_LEVEL: 'warn', NETDIAG_DEADLINE: '5000', ...imageEnv() },
    });
    await ml.until(() => ml.reported('netdiag')['lastCheck'], 'the startup report in the twin', 60_000);
    await new Promise((r) => setTimeout(r, 3000)); // let start-up garbage settle
    const idle = rssKb(mod.pid);
    const idleAnon = rssKb(mod.pid, 'RssAnon');
    const rtt: number[] = [];
    let afterWarmUp = NaN;
    for (let i = 0; i < CHECKS; i++) {
      const t0 = performance.now();
      const res = await ml.invoke('netdiag', 'runDiagnostics', null, { responseTimeoutInSeconds: 30 });
      rtt.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`runDiagnostics answered ${res.status} on call ${i}`);
      if (i === WARM_UP - 1) afterWarmUp = rssKb(mod.pid);
    }
    const end = rssKb(mod.pid);
    const endAnon = rssKb(mod.pid, 'RssAnon');
    await mod.stop();
    return [
      ['module idle RSS (after the startup check)', `${mb(idle)} (anon ${mb(idleAnon)})`, '< 80 MB'],
      [`module RSS after ${CHECKS} runDiagnostics`, `${mb(end)} (anon ${mb(endAnon)})`, '< 80 MB'],
      [`module RSS growth, check ${WARM_UP} -> ${CHECKS}`, mb(end - afterWarmUp), '< 5 MB'],
      [`runDiagnostics round trip (median of ${CHECKS})`, `${Math.round(median(rtt))} ms`, ''],
    ];
  } finally {
    await ml.close();
  }
}
