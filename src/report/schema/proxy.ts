/** The proxy layer of the Report (CONTRACT.md 7.1): `skipped` when no proxy is configured. */
import { Type } from '@sinclair/typebox';
import { PROXY_CONNECT_OUTCOMES, PROXY_SOURCE_STATES } from '../vocabulary.js';
import { Milliseconds, Nullable, StringEnum, componentStatusFields } from './helpers.js';

export const ProxySourceSchema = Type.Object({
  component: Type.String({
    description: 'Who reads this setting: process, edgeAgent, aziot-edged, aziot-identityd, ' + 'docker.',
  }),
  url: Nullable(
    Type.String(),
    'The proxy URL it names, credentials masked; null when it names none or cannot be ' + 'read.',
  ),
  state: Type.Optional(
    StringEnum(
      PROXY_SOURCE_STATES,
      'set: names a proxy; unset: read, names none; unknown: its file or directory is absent or unreadable (no ' +
        'evidence of a difference).',
    ),
  ),
  unknownReason: Type.Optional(StringEnum(['absent', 'unreadable'] as const)),
  origin: Type.Optional(Type.Array(Type.String(), { description: 'The variables or files it was read from.' })),
  valid: Type.Optional(
    Nullable(Type.Boolean(), 'Whether its URL is a usable http://host:port proxy; null when unset.'),
  ),
  noProxy: Type.Optional(Nullable(Type.String(), 'Its no_proxy list.')),
  problems: Type.Optional(Type.Array(Type.String(), { description: 'What could not be read or was ignored.' })),
});

export const ProxyConnectSchema = Type.Object({
  host: Type.String(),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  outcome: StringEnum(PROXY_CONNECT_OUTCOMES),
  httpStatus: Nullable(Type.Integer()),
  reason: Type.Optional(Nullable(Type.String(), "The status line's reason phrase.")),
  ms: Milliseconds(),
  detail: Type.Optional(Nullable(Type.String(), 'What went wrong, as a sentence (never a credential).')),
  phase: Type.Optional(
    Nullable(StringEnum(['input', 'resolve', 'connect', 'answer'] as const), 'Where it went wrong.'),
  ),
  sentCredentials: Type.Optional(Type.Boolean({ description: 'Whether Proxy-Authorization was sent.' })),
  proxyAuthenticate: Type.Optional(
    Type.Array(Type.String(), { description: 'On 407: the authentication schemes the proxy offers.' }),
  ),
});

export const ProxyComponentSchema = Type.Object({
  ...componentStatusFields(),
  url: Nullable(Type.String(), 'The proxy the check used, credentials masked; null when none is configured.'),
  source: Nullable(Type.String(), 'Where that URL came from (--proxy, desired proxy, https_proxy, a host source).'),
  valid: Type.Optional(Nullable(Type.Boolean(), 'Whether the URL is a usable http://host:port proxy URL.')),
  problem: Type.Optional(Nullable(Type.String(), 'Why it is not.')),
  testedAs: Type.Optional(
    Nullable(Type.String(), 'An https:// proxy URL is also tried as http:// (what IoT Edge needs), masked.'),
  ),
  noProxy: Type.Optional(Nullable(Type.String(), 'The no_proxy list that applied.')),
  bypassed: Type.Optional(Type.Array(Type.String(), { description: 'Endpoints (host:port) no_proxy sends direct.' })),
  sources: Type.Array(ProxySourceSchema),
  connect: Type.Array(ProxyConnectSchema),
});
