/** The firewall layer of the Report (CONTRACT.md 3.3). */
import { Type } from '@sinclair/typebox';
import {
  ENDPOINT_OUTCOMES,
  ENDPOINT_PROTOCOLS,
  ENDPOINT_ROLES,
  ENDPOINT_VIAS,
  EXCHANGE_KINDS,
  EXCHANGE_OUTCOMES,
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
  validFrom: Type.Optional(Nullable(Type.String(), "The leaf's notBefore (ISO 8601).")),
  validTo: Nullable(Type.String()),
  altNames: Type.Optional(
    Type.Array(Type.String(), { description: "The names the leaf's subjectAltName lists (at most 8)." }),
  ),
  publicRootsVerify: Type.Optional(
    Nullable(
      Type.Boolean(),
      "Only for a chain whose root the VM's store lacks: whether Node's bundled public roots verify it (a genuine " +
        'public chain). Evidence only; those roots never make a chain trusted.',
    ),
  ),
});

export const ApplicationSchema = Type.Object(
  {
    exchange: StringEnum(EXCHANGE_KINDS),
    outcome: StringEnum(
      EXCHANGE_OUTCOMES,
      'ok: the protocol answered; cut: closed or reset after our bytes; unexpected: something else answered; ' +
        'timeout: no answer in time.',
    ),
    detail: Type.String(),
    ms: Type.Number({ minimum: 0 }),
    bytesReceived: Type.Integer({ minimum: 0 }),
    connackCode: Type.Optional(Nullable(Type.Integer(), 'mqtt: the CONNACK return code (IoT Hub answers 5).')),
    amqpHeader: Type.Optional(Nullable(Type.String())),
    httpStatus: Type.Optional(Nullable(Type.Integer())),
    httpDate: Type.Optional(Nullable(Type.String())),
    clock: Type.Optional(
      Nullable(
        Type.Object({ offsetMs: Type.Number(), uncertaintyMs: Type.Number({ minimum: 0 }) }),
        "Local clock minus the server's Date, corrected for half the round trip.",
      ),
    ),
    subprotocol: Type.Optional(
      Type.Object({ requested: StringEnum(['mqtt', 'AMQPWSB10'] as const), accepted: Nullable(Type.String()) }),
    ),
    acceptValid: Type.Optional(Nullable(Type.Boolean())),
  },
  { description: 'The one harmless protocol exchange after TLS that decided (CONTRACT 7.2).' },
);

export const EndpointErrorSchema = Type.Object(
  {
    phase: StringEnum(['resolve', 'connect', 'tls', 'proxy'] as const),
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
    StringEnum(
      ENDPOINT_ROLES,
      'Why it is tested: hub, dps (443 only), registry, parent (nested edge: the upstream instead of the hub) or ' +
        'custom (--endpoint). "extra" is the old name of custom, only in stored reports.',
    ),
  ),
  via: Type.Optional(
    StringEnum(ENDPOINT_VIAS, 'direct, or proxy: HTTP CONNECT through the proxy, then TLS inside the tunnel.'),
  ),
  address: Nullable(
    Type.String(),
    'What the system resolver returned; null when not resolved (or resolved by the ' + 'proxy).',
  ),
  outcome: StringEnum(ENDPOINT_OUTCOMES),
  resolveMs: Milliseconds('Through a proxy: resolving the proxy.'),
  tcpConnectMs: Milliseconds('Through a proxy: until the tunnel was established.'),
  tls: Type.Optional(TlsReportSchema),
  application: Type.Optional(ApplicationSchema),
  httpDate: Type.Optional(Nullable(Type.String(), 'The Date header of the HTTPS answer, as received.')),
  error: Type.Optional(EndpointErrorSchema),
});

export const FirewallComponentSchema = Type.Object({
  ...componentStatusFields(),
  upstreamProtocol: StringEnum(UPSTREAM_PROTOCOLS),
  trustStore: Type.Optional(
    Nullable(Type.String(), "The VM's CA bundle the chains were verified against (with --ca-file); null: none found."),
  ),
  exchanges: Type.Optional(
    Type.Boolean({ description: 'Whether the application exchanges ran (false: --no-exchange, TLS alone decides).' }),
  ),
  endpoints: Type.Array(EndpointReportSchema),
});
