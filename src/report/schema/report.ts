/**
 * The Report of CONTRACT.md section 3 (schemaVersion 1), defined once: the TypeScript types
 * (src/report/types.ts) are derived from these schemas and schema/report.schema.json is generated
 * from them (`npm run schema`; a test fails when the committed file differs). Add fields freely;
 * never rename or remove one without a schemaVersion bump.
 */
import { Type } from '@sinclair/typebox';
import { COMPONENTS, OVERALL_STATUSES, TRIGGERS, VANTAGES } from '../vocabulary.js';
import { ClockComponentSchema } from './clock.js';
import { DnsComponentSchema } from './dns.js';
import { FindingSchema } from './finding.js';
import { FirewallComponentSchema } from './firewall.js';
import { Nullable, StringEnum } from './helpers.js';
import { IpComponentSchema } from './ip.js';
import { ProxyComponentSchema } from './proxy.js';

export const HostInfoSchema = Type.Object(
  {
    hostname: Type.String(),
    distro: Type.String(),
    release: Type.String(),
    kernel: Type.String(),
    arch: Type.String(),
  },
  { description: 'The OS the check ran on.' },
);

export const CarriedOverSchema = Type.Object({
  component: StringEnum(COMPONENTS),
  checkId: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
});

export const ReportSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    agent: Type.Object({ name: Type.Literal('eflow-netdiag'), version: Type.String() }),
    host: Nullable(HostInfoSchema, 'The OS the check ran on; null when it could not be read in time.'),
    checkId: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
    trigger: StringEnum(TRIGGERS),
    vantage: Type.Optional(
      StringEnum(
        VANTAGES,
        'Where the check looked from: the VM itself (host networking) or a container on the azure-iot-edge network ' +
          "(its eth0, Docker's embedded DNS 127.0.0.11, the NAT). Absent in reports of earlier versions.",
      ),
    ),
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Type.Integer({ minimum: 0 }),
    status: StringEnum(OVERALL_STATUSES),
    failingComponent: Nullable(StringEnum(COMPONENTS), 'The first layer, in judging order, that is unhealthy.'),
    components: Type.Object({
      ip: IpComponentSchema,
      dns: DnsComponentSchema,
      proxy: ProxyComponentSchema,
      firewall: FirewallComponentSchema,
      clock: ClockComponentSchema,
    }),
    findings: Type.Array(FindingSchema),
    timings: Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
      description: 'Wall time of each probe family, for telemetry and the bench.',
    }),
    carriedOver: Type.Optional(
      Type.Array(CarriedOverSchema, {
        description:
          'Layers this check skipped, shown from an earlier check (module state after a partial runDiagnostics).',
      }),
    ),
    timedOut: Type.Array(Type.String(), {
      description: 'Probes still running when the deadline fired, by name (they are reported as timed out).',
    }),
  },
  {
    $id: 'https://github.com/eflow-netdiag/eflow-netdiag/schema/report.schema.json',
    title: 'eflow-netdiag Report (schemaVersion 1)',
    description:
      'One full network check of an EFLOW VM, layer by layer. Fields may be added; none is renamed or removed ' +
      'without a schemaVersion bump.',
  },
);

/** The published JSON Schema document (what schema/report.schema.json holds). */
export function reportJsonSchema(): object {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...(JSON.parse(JSON.stringify(ReportSchema)) as object),
  };
}
