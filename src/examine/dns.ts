/**
 * The DNS layer's measurements: the resolver configuration, then, for each server (at most
 * MAX_DNS_SERVERS), a ping and our own query for every name, all in parallel under the deadline.
 */
import { dnsNamesFor } from '../config/targets.js';
import type { CheckConfig } from '../config/types.js';
import type { Deadline } from '../deadline.js';
import type { Observations } from '../diagnosis/observations.js';
import { publicResolverProvider } from '../probes/public-resolvers.js';
import type { CheckDeps } from '../probes/types.js';
import type { DnsServerReport } from '../report/types.js';
import { PING_COUNT, timedOutPing, timedOutQuery } from './timed-out.js';

const MAX_DNS_SERVERS = 8;

export async function examineDns(
  config: CheckConfig,
  deps: CheckDeps,
  deadline: Deadline,
): Promise<NonNullable<Observations['dns']>> {
  const resolvers = await deadline.guard(
    'resolvers',
    deps.readResolvers(config.resolvConf, config.resolvedConf),
    () => ({
      source: 'resolv.conf' as const,
      files: [config.resolvConf],
      servers: [],
      stub: false,
      problems: ['timed out reading'],
    }),
  );
  const names = dnsNamesFor(config);
  const probe = { signal: deadline.signal, timeoutMs: config.timeoutMs };
  const servers = await Promise.all(
    resolvers.servers.slice(0, MAX_DNS_SERVERS).map(async (address): Promise<DnsServerReport> => {
      const [ping, queries] = await Promise.all([
        deadline.guard(`ping dns ${address}`, deps.ping(address, { count: PING_COUNT, ...probe }), timedOutPing),
        Promise.all(
          names.map((name) =>
            deadline.guard(`dns ${address} ${name}`, deps.queryDns(address, name, 'A', probe), () =>
              timedOutQuery(name, 'A'),
            ),
          ),
        ),
      ]);
      const provider = publicResolverProvider(address);
      return { address, public: provider !== null, provider, ping, queries };
    }),
  );
  return { resolvers, servers, names };
}
