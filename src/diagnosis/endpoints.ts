/**
 * How much a failing endpoint matters, by its port, its role and the path IoT Edge takes
 * (CONTRACT 4.3, 7.1, 7.3), shared by every layer that judges an endpoint (DNS for a name that
 * does not resolve, the proxy for a refused CONNECT, the firewall for the rest):
 *
 * - hub (or, on a nested device, its parent): 443 always, the upstream protocol's port, else a warning;
 * - dps: 443 only, an error (identityd provisions at every start), unless config.toml says the
 *   device is provisioned by hand (then it is not used: info);
 * - registry: a warning (running modules keep working; pulls and updates fail);
 * - custom (`--endpoint`): an error, the operator asked for it;
 * - a nested device's hub, DPS and registry: info (a lower layer must not reach them);
 * - with a proxy in use, a direct port other than 443: info (traffic goes through the proxy).
 */
import type { EndpointContext } from '../findings/firewall.js';
import type { EndpointReport } from '../report/types.js';
import type { Severity, UpstreamProtocol } from '../report/vocabulary.js';
import type { Observations } from './observations.js';

/** The port each upstream protocol needs besides 443. */
export const PRIMARY_PORT: Record<UpstreamProtocol, number | null> = {
  Amqp: 5671,
  Mqtt: 8883,
  AmqpWs: null,
  MqttWs: null,
};

/** Whether the check went through a proxy (one is configured, whatever its state). */
export function proxyInUse(obs: Pick<Observations, 'proxy'>): boolean {
  return (obs.proxy?.url ?? null) !== null;
}

export function isNested(obs: Pick<Observations, 'config'>): boolean {
  return (obs.config.parent ?? null) !== null;
}

/** The role of an endpoint report; reports from before the roles called `custom` `extra`. */
function roleOf(e: Pick<EndpointReport, 'role'>): NonNullable<EndpointReport['role']> {
  return e.role ?? 'hub';
}

/** The path's view of an endpoint: needed, or one of the reasons it is only for the record. */
export function endpointContext(
  e: Pick<EndpointReport, 'port' | 'role' | 'via'>,
  obs: Pick<Observations, 'config' | 'proxy'>,
): EndpointContext {
  const role = roleOf(e);
  if (role === 'custom' || role === 'extra') return 'needed';
  if (isNested(obs) && role !== 'parent') return 'nested';
  if (role === 'dps' && (obs.config.provisioningSource ?? null) !== null && obs.config.provisioningSource !== 'dps')
    return 'unused';
  if (proxyInUse(obs) && (e.via ?? 'direct') === 'direct' && e.port !== 443) return 'behind-proxy';
  return 'needed';
}

/** The severity of a failure of `e` (see the module comment). */
export function endpointSeverity(
  e: Pick<EndpointReport, 'port' | 'protocol' | 'role' | 'via'>,
  obs: Pick<Observations, 'config' | 'proxy'>,
): Severity {
  if (endpointContext(e, obs) !== 'needed') return 'info';
  const role = roleOf(e);
  if (role === 'custom' || role === 'extra' || e.protocol === 'custom') return 'error';
  if (role === 'registry') return 'warning';
  if (e.port === 443) return 'error';
  return PRIMARY_PORT[obs.config.upstreamProtocol] === e.port ? 'error' : 'warning';
}

/** A TLS-cause finding's severity: an error, lowered like every other failure of the endpoint by its role. */
export function tlsSeverity(
  e: Pick<EndpointReport, 'port' | 'protocol' | 'role' | 'via'>,
  obs: Pick<Observations, 'config' | 'proxy'>,
): Severity {
  const severity = endpointSeverity(e, obs);
  return severity === 'info' ? 'info' : roleOf(e) === 'registry' ? 'warning' : 'error';
}
