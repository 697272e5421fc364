/**
 * The field scenarios' runner: each scenario gets its own field lab (field-lab.ts), its faults,
 * a run of the real CLI in the vm namespace with lab names only, and check() (expectation.ts)
 * on the Report; a failure prints the report's verdict, findings and the servers' logs. Scenarios
 * share no state, so a file's scenarios run concurrently.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Report } from '../../src/report/types.js';
import { check, summary, type Expectation } from './expectation.js';
import { createFieldLab } from './field-lab.js';
import type { FieldLab, FieldLabOptions } from './field-lab.js';
import type { CheckRun } from './harness.js';
import { requireFieldLab } from './require-lab.js';

/** Short probe timeout and deadline keep the files fast; the lab answers in microseconds. */
export const FIELD_TIMEOUT_MS = 1500;
export const FIELD_DEADLINE_MS = 8000;
export const FIELD_FAST = ['--timeout', String(FIELD_TIMEOUT_MS), '--deadline', String(FIELD_DEADLINE_MS)];

/** Only the hub is served unless a scenario says otherwise: fewer servers, a faster lab. */
export const HUB_ONLY: NonNullable<FieldLabOptions['hosts']> = { dps: false, registry: false, parent: false };

export interface FieldScenario {
  id: string;
  title: string;
  lab?: FieldLabOptions;
  /** Faults injected after the lab is up. */
  setup?: (lab: FieldLab) => Promise<void>;
  /** CLI arguments after the lab's own paths (which include --docker-config); default the hub, the lab CA, FIELD_FAST. */
  args?: (lab: FieldLab) => string[];
  expect: Expectation;
}

/**
 * The arguments every field check gets: lab names only, so no check ever falls back to a public
 * endpoint. This branch has no --dps or --registry yet (issue 7 adds them): with --hub given, the
 * check tests the hub's ports and nothing else.
 */
export const fieldArgs = (lab: FieldLab): string[] => [...lab.hubArgs(), ...FIELD_FAST];

function details(id: string, run: CheckRun | undefined, lab: FieldLab): string {
  const report: Report | null | undefined = run?.report;
  return (
    `\n--- scenario ${id}: exit ${run?.exitCode ?? '-'}${run?.killed ? ' (killed: no exit)' : ''} in ${run?.durationMs ?? '-'} ms` +
    `\n  status: ${report?.status ?? '-'}, failingComponent: ${report?.failingComponent ?? '-'}, report.durationMs: ${report?.durationMs ?? '-'}` +
    `\n  components: ${report ? JSON.stringify(Object.fromEntries(Object.entries(report.components).map(([k, v]) => [k, v.status]))) : '-'}` +
    `\n  findings: ${report ? summary(report.findings) : '-'}` +
    `\n  stderr: ${run?.stderr.slice(-2000) ?? '-'}` +
    (report ? '' : `\n  stdout: ${run?.stdout.slice(0, 2000) ?? '-'}`) +
    `\n--- servers\n${lab.serverLogs().slice(-3000)}`
  );
}

/** One describe() of scenarios, skipped (or failed under CI) when the field lab cannot run. */
export function fieldScenarios(title: string, scenarios: readonly FieldScenario[], concurrency = 4): void {
  const skip = requireFieldLab();
  describe(title, { skip, concurrency }, () => {
    for (const scenario of scenarios) {
      test(`${scenario.id}. ${scenario.title}`, { timeout: 90_000 }, async () => {
        const lab = await createFieldLab({ label: `field ${scenario.id}`, hosts: HUB_ONLY, ...scenario.lab });
        let run: CheckRun | undefined;
        try {
          await scenario.setup?.(lab);
          run = await lab.runCheck((scenario.args ?? fieldArgs)(lab));
          assert.ok(run.report !== null, `no JSON report (exit ${run.exitCode}, ${run.parseError})`);
          check(run.report, run, scenario.expect);
          assert.deepEqual(run.schemaErrors, [], 'the report matches schema/report.schema.json');
        } catch (err) {
          if (err instanceof Error) {
            const more = details(scenario.id, run, lab);
            err.message += more;
            err.stack = `${err.stack ?? ''}${more}`;
          }
          throw err;
        } finally {
          await lab.destroy();
        }
      });
    }
  });
}
