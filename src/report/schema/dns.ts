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
  provider: Nullable(
    Type.String(),
    'The operator of a well-known public resolver (Google Public DNS, Quad9…), else ' + 'null.',
  ),
  ping: PingOutcomeSchema,
  queries: Type.Array(DnsQueryReportSchema),
});

export const DaemonConfigReportSchema = Type.Object({
  path: Type.String(),
  state: StringEnum(
    ['absent', 'unreadable', 'ok', 'invalid'] as const,
    'absent: dockerd uses its defaults; invalid: dockerd refuses to start with it; unreadable: unknown.',
  ),
  dns: Nullable(Type.Array(Type.String())),
  mtu: Nullable(Type.Integer()),
  bip: Nullable(Type.String()),
  reason: Nullable(Type.String(), 'Why dockerd refuses it, or why it could not be read.'),
  problems: Type.Array(Type.String()),
});

export const ContainerDnsSchema = Type.Object(
  {
    source: StringEnum(
      ['daemon.json', 'resolv.conf', 'systemd-resolved', 'docker-default'] as const,
      "daemon.json dns; the VM's resolv.conf; systemd-resolved's upstreams (the stub followed); docker-default: " +
        "Docker's public fallback.",
    ),
    addresses: Type.Array(Type.String(), { description: 'The servers containers will ask, in order (at most 3).' }),
    servers: Type.Array(DnsServerReportSchema, {
      description: "Each of them tested like the VM's (a server the VM uses too has the VM's result).",
    }),
    untested: Type.Array(Type.String(), { description: 'Servers not tested, and `note` says why.' }),
    fallbackPublic: Type.Boolean({ description: "The servers are Docker's 8.8.8.8/8.8.4.4 fallback." }),
    network: StringEnum(['user-defined', 'default-bridge'] as const),
    rules: StringEnum(['v26+', 'v20.10-v25', 'before-v20.10'] as const, "Which of moby's rule sets was applied."),
    hostLoopback: Type.Array(Type.String()),
    ignored: Type.Array(Type.String()),
    note: Type.String(),
    daemonConfig: DaemonConfigReportSchema,
  },
  { description: 'The DNS servers containers on the azure-iot-edge network will use (CONTRACT 7.5).' },
);

export const DnsComponentSchema = Type.Object({
  ...componentStatusFields(),
  source: StringEnum(['resolv.conf', 'systemd-resolved'] as const),
  files: Type.Array(Type.String(), { description: 'The file(s) the servers were read from.' }),
  servers: Type.Array(DnsServerReportSchema),
  // Added with CONTRACT 7.5; optional so that reports of earlier versions stay valid (render).
  containers: Type.Optional(Nullable(ContainerDnsSchema, 'null when the layer was not examined.')),
});
