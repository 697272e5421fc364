/** The proxy layer of the Report (CONTRACT.md 7.1): `skipped` when no proxy is configured. */
import { Type } from '@sinclair/typebox';
import { Milliseconds, Nullable, componentStatusFields } from './helpers.js';

export const ProxySourceSchema = Type.Object({
  component: Type.String({ description: 'Who reads this setting: process, edgeAgent, aziot-edged, aziot-identityd, docker.' }),
  url: Nullable(Type.String(), 'The proxy URL it names, credentials masked; null when it names none or cannot be read.'),
});

export const ProxyConnectSchema = Type.Object({
  host: Type.String(),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  outcome: Type.String({ description: 'established, auth-required, denied, unreachable, timeout, malformed, invalid' }),
  httpStatus: Nullable(Type.Integer()),
  ms: Milliseconds(),
});

export const ProxyComponentSchema = Type.Object({
  ...componentStatusFields(),
  url: Nullable(Type.String(), 'The proxy the check used, credentials masked; null when none is configured.'),
  source: Nullable(Type.String(), 'Where that URL came from (--proxy, desired proxy, https_proxy, a host source).'),
  sources: Type.Array(ProxySourceSchema),
  connect: Type.Array(ProxyConnectSchema),
});
