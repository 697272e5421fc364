/**
 * Writes schema/report.schema.json from the Report's one definition (src/report/schema/).
 * Run `npm run schema` after changing the report's shape; test/unit/report-schema.test.ts fails
 * while the committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { reportJsonSchema } from '../src/report/schema/report.js';

export const SCHEMA_FILE = new URL('../schema/report.schema.json', import.meta.url);

export function schemaText(): string {
  return `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  writeFileSync(SCHEMA_FILE, schemaText());
  process.stdout.write(`wrote ${SCHEMA_FILE.pathname}\n`);
}
