/**
 * A real forward proxy for the field lab (CONTRACT 7.1): tinyproxy in the net namespace, on its own
 * lab address, with optional Basic authentication (407 without credentials) and a CONNECT port
 * allow-list (403 for the others). tinyproxy resolves CONNECT targets itself, through the net
 * namespace's resolv.conf, which the field lab points at the lab DNS.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './harness.js';
import type { LabServer } from './lab-process.js';
import { findTool } from './require-lab.js';

export const PROXY_ADDRESS = '198.18.1.30';
export const PROXY_PORT = 3128;
export const PROXY_NAME = 'lab-proxy.contoso.local';

export interface ProxyOptions {
  /** BasicAuth: a CONNECT without these credentials gets 407. Default none (open proxy). */
  auth?: { user: string; password: string };
  /** ConnectPort allow-list: CONNECT to any other port gets 403. Default every port allowed. */
  connectPorts?: number[];
  /** Default PROXY_PORT. */
  port?: number;
}

export interface LabProxy {
  address: string;
  port: number;
  server: LabServer;
  /** `http://[user:password@]address:port`; credentials only when asked for and configured. */
  url(opts?: { credentials?: boolean; host?: string }): string;
}

export function tinyproxyConfig(opts: ProxyOptions & { address: string; port: number }): string {
  const lines = [
    `Port ${opts.port}`,
    `Listen ${opts.address}`,
    'Timeout 30',
    'MaxClients 50',
    'LogLevel Info',
    'DisableViaHeader Yes',
    // No User/Group: it keeps the user starting it (root in the lab), as the lab's files are in a
    // root-only temp dir.
  ];
  if (opts.auth !== undefined) lines.push(`BasicAuth ${opts.auth.user} ${opts.auth.password}`);
  for (const port of opts.connectPorts ?? []) lines.push(`ConnectPort ${port}`);
  return `${lines.join('\n')}\n`;
}

export async function startProxy(lab: Lab, opts: ProxyOptions): Promise<LabProxy> {
  const port = opts.port ?? PROXY_PORT;
  await lab.addServerAddress(PROXY_ADDRESS);
  const configFile = join(lab.paths.dir, 'tinyproxy.conf');
  writeFileSync(configFile, tinyproxyConfig({ ...opts, address: PROXY_ADDRESS, port }));
  const { server } = await lab.startServer('net', {
    name: `tinyproxy ${PROXY_ADDRESS}:${port}`,
    cmd: findTool('tinyproxy') ?? 'tinyproxy',
    // -d: stay in the foreground and log to stderr.
    args: ['-d', '-c', configFile],
    // Logged after the listening socket is bound (tinyproxy exits when it cannot bind).
    ready: /Starting main loop\. Accepting connections\./,
  });
  return {
    address: PROXY_ADDRESS,
    port,
    server,
    url(o = {}) {
      const host = o.host ?? PROXY_ADDRESS;
      const creds =
        o.credentials === true && opts.auth !== undefined
          ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.password)}@`
          : '';
      return `http://${creds}${host}:${port}`;
    },
  };
}
