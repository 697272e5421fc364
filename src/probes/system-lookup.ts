/**
 * Name resolution for the endpoint probes, the way the VM's own resolver is configured:
 * /etc/hosts first, then the servers of /etc/resolv.conf (c-ares, which reads that same file).
 *
 * Why not getaddrinfo (dns.lookup)? It runs on libuv's thread pool and cannot be cancelled: on a
 * network that drops DNS every call holds a thread for the resolver's full timeout (5 s x attempts
 * x servers), file reads queue behind it, and at exit Node waits for those threads, so a CLI that
 * printed its verdict in 1 s could not exit for 20 s (seen in lab scenario 18). c-ares queries
 * are plain sockets on the event loop and are cancelled when the probe gives up.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { errorCode, errorWithCode } from '../util/errors.js';
import { readUtf8, type ReadText } from '../util/files.js';
import type { Lookup } from './types.js';

export type { Lookup };

/** The first address /etc/hosts gives `host`, IPv4 before IPv6, or null. */
export function fromHostsFile(text: string, host: string): string | null {
  const name = host.toLowerCase();
  let v6: string | null = null;
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || !names.some((n) => n.toLowerCase() === name)) continue;
    if (isIP(address) === 4) return address;
    if (isIP(address) === 6) v6 ??= address;
  }
  return v6;
}

export interface SystemLookupOptions {
  hostsFile?: string;
  timeoutMs: number;
  readText?: ReadText;
  /** For tests: resolver servers instead of /etc/resolv.conf's. */
  servers?: string[];
}

export function systemLookup(opts: SystemLookupOptions): Lookup {
  const readText = opts.readText ?? readUtf8;
  return async (host, signal) => {
    if (isIP(host)) return host;
    const hosts = await readText(opts.hostsFile ?? '/etc/hosts').catch(() => '');
    const pinned = fromHostsFile(hosts, host);
    if (pinned) return pinned;
    // One try per server within the probe's timeout; c-ares walks the servers of resolv.conf in order.
    const resolver = new Resolver({ timeout: Math.max(100, Math.floor(opts.timeoutMs / 2)), tries: 1 });
    if (opts.servers) resolver.setServers(opts.servers);
    const cancel = () => resolver.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      if (signal.aborted) throw errorWithCode('aborted', 'ETIMEDOUT');
      try {
        const v4 = await resolver.resolve4(host);
        if (v4[0]) return v4[0];
      } catch (err) {
        if (errorCode(err) !== 'ENODATA') throw err;
      }
      const v6 = await resolver.resolve6(host);
      if (v6[0]) return v6[0];
      throw errorWithCode(`${host} has no address records`, 'ENODATA');
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ECANCELLED' || code === 'ECANCELED')
        throw errorWithCode(`resolving ${host} was stopped`, 'ETIMEDOUT');
      if (code === 'ETIMEOUT') throw errorWithCode(`no DNS server answered for ${host}`, 'EAI_AGAIN');
      throw err;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  };
}

/** A lookup for one check: each host is asked once, however many ports are probed on it. */
export function sharedLookup(lookup: Lookup): Lookup {
  const byHost = new Map<string, Promise<string>>();
  return (host, signal) => {
    let p = byHost.get(host);
    if (!p) {
      p = lookup(host, signal);
      byHost.set(host, p);
    }
    return p;
  };
}
