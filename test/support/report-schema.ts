/**
 * Validates a Report against schema/report.schema.json. Every test that produces a report
 * (unit, lab, module) runs it through here, so the published schema cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const schema: unknown = JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
addFormats(ajv);
const validate = ajv.compile(schema as object);

/** Throws an Error listing every schema violation. */
export function assertValidReport(report: unknown): void {
  if (!validate(report)) {
    const problems = (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
    throw new Error(`report does not match schema/report.schema.json:\n  ${problems.join('\n  ')}`);
  }
}
