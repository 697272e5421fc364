/** The DNS layer of the Report (CONTRACT.md 3.2). */
import { Type } from '@sinclair/typebox';
import { DNS_OUTCOMES } from '../vocabulary.js';
import { Milliseconds, Nullable, StringEnum, componentStatusFields } from './helpers.js';
import { PingOutcomeSchema } from './ip.js';

export const DnsQueryReportSchema = Type.Object({
  name: Type.String(),
  type: StringEnum(['A', 'AAAA'] as const),
  outcome: StringEnum(DNS_OUTCOMES),
  rcode: Nullable(
    Type.String(),
    'The RCODE string from the answer (NOERROR, NXDOMAIN…), null when there was no usable answer.',
  ),
  answers: Type.Array(Type.String()),
  rttMs: Milliseconds(),
  transport: StringEnum(['udp', 'tcp'] as const),
  detail: Type.Optional(
    Type.String({ description: 'Why it was classified so (malformed answer, socket error), for the evidence.' }),
  ),
});

export const DnsServerReportSchema = Type.Object({
  address: Type.String(),
  public: Type.Boolean(),
  provider: Nullable(Type.String(), 'The operator of a well-known public resolver (Google Public DNS, Quad9…), else null.'),
  ping: PingOutcomeSchema,
  queries: Type.Array(DnsQueryReportSchema),
});

export const DnsComponentSchema = Type.Object({
  ...componentStatusFields(),
  source: StringEnum(['resolv.conf', 'systemd-resolved'] as const),
  files: Type.Array(Type.String(), { description: 'The file(s) the servers were read from.' }),
  servers: Type.Array(DnsServerReportSchema),
});
