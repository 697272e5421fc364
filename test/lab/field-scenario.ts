/**
 * The field matrix's scenarios (LAB.md "The field matrix", CONTRACT 7), each run against the real
 * CLI in its own field lab (field-lab.ts) and judged like the base matrix (expectations.ts). Every
 * scenario names the lab's hub, DPS and registry explicitly: the check never falls back to a
 * public default (global.azure-devices-provisioning.net, mcr.microsoft.com).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EndpointReport, Report } from '../../src/report/types.js';
import { check, summary, type Expectation } from './expectations.js';
import type { CheckRun, RunCheckOptions } from './harness.js';
import { createFieldLab, FIELD_HOSTS, type FieldLab, type FieldLabOptions, type FieldRole } from './field-lab.js';
import { requireFieldLab } from './require-lab.js';

export const TIMEOUT_MS = 1500;
export const DEADLINE_MS = 8000;

export interface FieldScenario {
  id: string;
  title: string;
  lab?: FieldLabOptions;
  /** Faults and files made after the lab is up. */
  setup?: (lab: FieldLab) => Promise<void> | void;
  /** CLI arguments after fieldArgs(); default none. */
  args?: (lab: FieldLab) => string[];
  /** Replaces fieldArgs() entirely (a scenario without a hub). */
  allArgs?: (lab: FieldLab) => string[];
  run?: RunCheckOptions;
  expect: Expectation;
}

/** The lab's endpoints by name, its CA and short timings: what every field scenario passes first. */
export function fieldArgs(lab: FieldLab): string[] {
  return [
    ...['--hub', FIELD_HOSTS.hub.name, '--dps', FIELD_HOSTS.dps.name, '--registry', FIELD_HOSTS.registry.name],
    ...['--ca-file', lab.paths.caFile, '--timeout', String(TIMEOUT_MS), '--deadline', String(DEADLINE_MS)],
  ];
}

export const subjectOf = (role: FieldRole, port: number): string => `${FIELD_HOSTS[role].name}:${port}`;

export function endpointOf(report: Report, role: FieldRole, port: number): EndpointReport | undefined {
  return report.components.firewall.endpoints.find((e) => e.host === FIELD_HOSTS[role].name && e.port === port);
}

/** Asserts the endpoint's outcome (and, when given, how it was reached). */
export function assertEndpoint(
  report: Report,
  role: FieldRole,
  port: number,
  outcome: EndpointReport['outcome'],
  via?: EndpointReport['via'],
): EndpointReport {
  const e = endpointOf(report, role, port);
  assert.ok(e, `no endpoint ${subjectOf(role, port)}`);
  assert.equal(e.outcome, outcome, `outcome of ${subjectOf(role, port)}`);
  if (via !== undefined) assert.equal(e.via, via, `via of ${subjectOf(role, port)}`);
  return e;
}

/** Runs each scenario in its own field lab, concurrently; skipped (or failed under CI) without the lab tools. */
export function runFieldScenarios(suite: string, scenarios: readonly FieldScenario[], concurrency = 4): void {
  const skip = requireFieldLab();
  describe(suite, { skip, concurrency }, () => {
    for (const scenario of scenarios) {
      test(`${scenario.id}. ${scenario.title}`, { timeout: 90_000 }, async () => {
        const lab = await createFieldLab({ label: `field ${scenario.id}`, ...scenario.lab });
        let run: CheckRun | undefined;
        try {
          await scenario.setup?.(lab);
          const args = scenario.allArgs ? scenario.allArgs(lab) : [...fieldArgs(lab), ...(scenario.args?.(lab) ?? [])];
          run = await lab.runCheck(args, scenario.run);
          assert.ok(run.report !== null, `no JSON report (exit ${run.exitCode}, ${run.parseError})`);
          check(run.report, run, scenario.expect);
          assert.deepEqual(run.schemaErrors, [], 'the report matches schema/report.schema.json');
        } catch (err) {
          if (err instanceof Error) {
            const r = run?.report;
            const details =
              `\n--- field scenario ${scenario.id}: exit ${run?.exitCode ?? '-'}${run?.killed ? ' (killed)' : ''} in ${run?.durationMs ?? '-'} ms` +
              `\n  status: ${r?.status ?? '-'}, failingComponent: ${r?.failingComponent ?? '-'}` +
              `\n  components: ${r ? JSON.stringify(Object.fromEntries(Object.entries(r.components).map(([k, v]) => [k, v.status]))) : '-'}` +
              `\n  findings: ${r ? summary(r.findings) : '-'}` +
              `\n  endpoints: ${r ? r.components.firewall.endpoints.map((e) => `${e.host}:${e.port} ${e.via ?? ''} ${e.outcome} ${e.application?.outcome ?? ''} ${e.error?.code ?? ''}`).join('; ') : '-'}` +
              `\n  stderr: ${run?.stderr.slice(-2000) ?? '-'}` +
              (r ? '' : `\n  stdout: ${run?.stdout.slice(0, 2000) ?? '-'}`) +
              `\n--- servers\n${lab.serverLogs().slice(-3000)}`;
            err.message += details;
            err.stack = `${err.stack ?? ''}${details}`;
          }
          throw err;
        } finally {
          await lab.destroy();
        }
      });
    }
  });
}

/** Only the hub is served: fewer servers, a faster lab (the VM-plumbing scenarios need no more). */
export const HUB_ONLY: NonNullable<FieldLabOptions['hosts']> = { dps: false, registry: false, parent: false };

/** The hub's name for every role (hubArgs names DPS and the registry as the hub), the lab CA, short timings. */
export const hubOnlyArgs = (lab: FieldLab): string[] => [
  ...lab.hubArgs(),
  ...['--timeout', String(TIMEOUT_MS), '--deadline', String(DEADLINE_MS)],
];

/** Scenarios that need the hub alone: each lab serves only the hub, and every check names only it. */
export function fieldScenarios(suite: string, scenarios: readonly FieldScenario[], concurrency = 4): void {
  const hubOnly = scenarios.map((s) => ({
    ...s,
    lab: { hosts: HUB_ONLY, ...s.lab },
    allArgs: s.allArgs ?? hubOnlyArgs,
  }));
  runFieldScenarios(suite, hubOnly, concurrency);
}
