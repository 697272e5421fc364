// Runs N checks in one process with the built engine (no tsx, as in production) and prints
// their durations and the process's peak RSS. Started by bench.ts inside the lab's vm namespace.
import { parseCheckArgs } from '../dist/cli.js';
import { runCheck } from '../dist/check.js';
import { resolveConfig } from '../dist/config/resolve.js';
import { depsFromEnv } from '../dist/deps.js';

const runs = Number(process.argv[2]);
const { flags } = parseCheckArgs(process.argv.slice(3));
const config = await resolveConfig({ flags, env: {} });
const deps = depsFromEnv(process.env);
const durations = [];
const statuses = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const report = await runCheck(config, deps, { trigger: 'cli' });
  durations.push(performance.now() - t0);
  statuses.push(report.status);
}
process.stdout.write(`${JSON.stringify({ durations, statuses, maxRssKb: process.resourceUsage().maxRSS })}\n`);
process.exit(0);
