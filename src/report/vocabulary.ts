/**
 * The Report's fixed vocabularies as runtime values, shared by the code and by the TypeBox schema
 * (src/report/schema/), which builds the published JSON Schema from them: one list per enum.
 */

/** The layers, in the order they are judged: a later layer may depend on an earlier one, never the reverse. */
export const COMPONENTS = ['ip', 'dns', 'proxy', 'firewall', 'clock'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export const OVERALL_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const;
export type OverallStatus = (typeof OVERALL_STATUSES)[number];

export const COMPONENT_STATUSES = [...OVERALL_STATUSES, 'inconclusive', 'skipped'] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const TRIGGERS = ['cli', 'startup', 'schedule', 'method', 'linkChange', 'configChange'] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const UPSTREAM_PROTOCOLS = ['Amqp', 'AmqpWs', 'Mqtt', 'MqttWs'] as const;
export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number];

export const SWITCH_TYPES = ['external', 'internal', 'default'] as const;
export type SwitchType = (typeof SWITCH_TYPES)[number];

export const DNS_OUTCOMES = ['answered', 'nxdomain', 'servfail', 'refused', 'timeout', 'malformed', 'error'] as const;
export type DnsOutcome = (typeof DNS_OUTCOMES)[number];

export const ENDPOINT_PROTOCOLS = ['amqp', 'mqtt', 'https', 'custom'] as const;
export type EndpointProtocol = (typeof ENDPOINT_PROTOCOLS)[number];

export const ENDPOINT_OUTCOMES = [
  'open',
  'blocked',
  'rejected',
  'unreachable',
  'unresolved',
  'tls-untrusted',
  'tls-failed',
  'protocol-blocked',
  'proxy-failed',
  'skipped',
] as const;
export type EndpointOutcome = (typeof ENDPOINT_OUTCOMES)[number];

/**
 * Why an endpoint is tested (CONTRACT 7.3). `extra` is what reports before the roles called a
 * custom endpoint: still accepted when a stored report is read (render, merge), never produced.
 */
export const ENDPOINT_ROLES = ['hub', 'dps', 'registry', 'parent', 'custom', 'extra'] as const;
export type EndpointRole = (typeof ENDPOINT_ROLES)[number];

/**
 * Where the check looks from (CONTRACT.md 8.4): the VM (host networking) or a container on the azure-iot-edge
 * network.
 */
export const VANTAGES = ['host', 'container'] as const;
export type Vantage = (typeof VANTAGES)[number];
/** The roles a check produces. */
export type TargetRole = Exclude<EndpointRole, 'extra'>;

export const ENDPOINT_VIAS = ['direct', 'proxy'] as const;
export type EndpointVia = (typeof ENDPOINT_VIAS)[number];

export const EXCHANGE_KINDS = ['mqtt', 'amqp', 'http', 'websocket'] as const;
export const EXCHANGE_OUTCOMES = ['ok', 'cut', 'unexpected', 'timeout'] as const;

export const PROXY_CONNECT_OUTCOMES = [
  'established',
  'auth-required',
  'denied',
  'unreachable',
  'timeout',
  'malformed',
  'invalid',
] as const;
export type ProxyConnectOutcome = (typeof PROXY_CONNECT_OUTCOMES)[number];

export const PROXY_SOURCE_STATES = ['set', 'unset', 'unknown'] as const;
