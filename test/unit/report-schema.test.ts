/**
 * The Report has one definition (src/report/schema/, TypeBox): the TypeScript types are derived
 * from it by the compiler, and the published schema/report.schema.json must be exactly what it
 * generates, so the two cannot drift apart.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FINDING_CODES } from '../../src/findings/catalogue.js';
import { COMPONENTS } from '../../src/report/vocabulary.js';
import { SCHEMA_FILE, schemaText } from '../../scripts/write-schema.js';
import { assertValidReport } from '../support/report-schema.js';
import { makeReport } from '../support/reports.js';

test('schema/report.schema.json is what src/report/schema generates (run `npm run schema` after a change)', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaText());
});

test('the schema enumerates every finding code of the catalogue, and the components in judging order', () => {
  const schema = JSON.parse(schemaText()) as {
    properties: { findings: { items: { properties: { code: { enum: string[] }; component: { enum: string[] } } } } };
  };
  const finding = schema.properties.findings.items.properties;
  assert.deepEqual(finding.code.enum, FINDING_CODES);
  assert.deepEqual(finding.component.enum, [...COMPONENTS]);
});

test('a report with an unknown finding code or a missing field is refused', () => {
  const report = makeReport();
  assertValidReport(report);
  const finding = { severity: 'info', component: 'ip', subject: 'eth0', message: 'm', guidance: 'g' };
  assertValidReport({ ...report, findings: [{ ...finding, code: 'IP_PING_NOT_PERMITTED' }] });
  const badCode = { ...report, findings: [{ ...finding, code: 'IP_MADE_UP' }] };
  assert.throws(() => assertValidReport(badCode), /code/);
  const noStatus = structuredClone(report) as unknown as Record<string, unknown>;
  delete noStatus['status'];
  assert.throws(() => assertValidReport(noStatus), /status/);
});
