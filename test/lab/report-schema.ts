/**
 * Validates a Report against the published JSON Schema (schema/report.schema.json) with ajv, so
 * every lab run also checks the public shape. ajv-formats is not a dependency, so the few string
 * formats a report schema may use are defined here rather than silently ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isIP } from 'node:net';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

export const REPORT_SCHEMA_PATH = fileURLToPath(new URL('../../schema/report.schema.json', import.meta.url));

export type SchemaCheck =
  | { validated: true; errors: string[] }
  | { validated: false; reason: string };

const FORMATS: Record<string, (value: string) => boolean> = {
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) && !Number.isNaN(Date.parse(v)),
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  ipv4: (v) => isIP(v) === 4,
  ipv6: (v) => isIP(v) === 6,
  hostname: (v) => /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(v),
  uri: (v) => /^[a-z][a-z0-9+.-]*:/i.test(v),
};

let compiled: ValidateFunction | string | undefined;

function compile(schemaPath: string): ValidateFunction | string {
  if (!existsSync(schemaPath)) return `${schemaPath} does not exist yet`;
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as { $schema?: string };
  const draft = schema.$schema ?? '';
  const options = { allErrors: true, strict: false };
  const ajv = draft.includes('2020-12') ? new Ajv2020(options) : draft.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate: check });
  return ajv.compile(schema);
}

/** Validates `report`; `schemaPath` is for tests of the validator itself. */
export function validateReport(report: unknown, schemaPath = REPORT_SCHEMA_PATH): SchemaCheck {
  const validate = schemaPath === REPORT_SCHEMA_PATH ? (compiled ??= compile(schemaPath)) : compile(schemaPath);
  if (typeof validate === 'string') return { validated: false, reason: validate };
  if (validate(report)) return { validated: true, errors: [] };
  const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`);
  return { validated: true, errors };
}
