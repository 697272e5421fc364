/**
 * The firewall layer's measurements: resolve → TCP → TLS to every endpoint of the check, in
 * parallel, against the trusted roots loaded once for the check.
 */
import { createSecureContext } from 'node:tls';
import { endpointTargets } from '../config/targets.js';
import type { CheckConfig } from '../config/types.js';
import type { Deadline } from '../deadline.js';
import type { Observations } from '../diagnosis/observations.js';
import type { CheckDeps } from '../probes/types.js';
import type { EndpointReport } from '../report/types.js';
import { timedOutEndpoint } from './timed-out.js';

export async function examineFirewall(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
): Promise<NonNullable<Observations['firewall']>> {
  const trust = await deadline.guard('trust store', deps.loadTrust(config.caFile), () => ({
    secureContext: createSecureContext(),
    problems: ['the CA files could not be read before the deadline; the TLS checks used the built-in roots'],
  }));
  const lookup = deps.newLookup?.(config.timeoutMs);
  const endpoints = await Promise.all(
    endpointTargets(config).map(async (t): Promise<EndpointReport> => {
      const context = {
        signal: deadline.signal,
        timeoutMs: config.timeoutMs,
        secureContext: trust.secureContext,
        ...(lookup ? { lookup } : {}),
      };
      const report = await deadline.guard(`connect ${t.host}:${t.port}`, deps.probeEndpoint(t, context), () =>
        timedOutEndpoint(t),
      );
      return { ...report, role: t.role };
    }),
  );
  return { endpoints, trustProblems: trust.problems };
}
