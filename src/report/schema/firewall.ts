/** The firewall layer of the Report (CONTRACT.md 3.3). */
import { Type } from '@sinclair/typebox';
import {
  ENDPOINT_OUTCOMES,
  ENDPOINT_PROTOCOLS,
  ENDPOINT_ROLES,
  UPSTREAM_PROTOCOLS,
} from '../vocabulary.js';
import { Milliseconds, Nullable, StringEnum, componentStatusFields } from './helpers.js';

export const TlsReportSchema = Type.Object({
  handshakeMs: Milliseconds(),
  protocol: Nullable(Type.String()),
  authorized: Type.Boolean(),
  authorizationError: Nullable(Type.String()),
  subject: Nullable(Type.String()),
  issuer: Nullable(Type.String()),
  rootIssuer: Type.Optional(
    Nullable(Type.String(), 'The top of the chain the server presented: the CA a TLS-inspecting proxy signs with.'),
  ),
  validTo: Nullable(Type.String()),
});

export const EndpointErrorSchema = Type.Object(
  {
    phase: StringEnum(['resolve', 'connect', 'tls'] as const),
    code: Type.String({ description: 'errno-like (ECONNREFUSED, ETIMEDOUT, DEADLINE, …)' }),
    message: Type.String(),
  },
  { description: 'The phase that failed and the errno-like code, for the evidence.' },
);

export const EndpointReportSchema = Type.Object({
  host: Type.String(),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  protocol: StringEnum(ENDPOINT_PROTOCOLS),
  role: Type.Optional(
    StringEnum(ENDPOINT_ROLES, "Why it is tested: the hub's ports, DPS's (no hub known), or an extra --endpoint."),
  ),
  address: Nullable(Type.String()),
  outcome: StringEnum(ENDPOINT_OUTCOMES),
  resolveMs: Milliseconds(),
  tcpConnectMs: Milliseconds(),
  tls: Type.Optional(TlsReportSchema),
  error: Type.Optional(EndpointErrorSchema),
});

export const FirewallComponentSchema = Type.Object({
  ...componentStatusFields(),
  upstreamProtocol: StringEnum(UPSTREAM_PROTOCOLS),
  endpoints: Type.Array(EndpointReportSchema),
});
