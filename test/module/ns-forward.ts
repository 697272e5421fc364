/**
 * Runs inside the lab's vm namespace and makes edgeHub reachable there: it listens on
 * localhost:PORT (what the emulator's IOTEDGE_GATEWAYHOSTNAME names) and hands every connection to
 * a unix socket, which the test process bridges to the emulator's broker in the host namespace.
 * A unix socket is a file, so it crosses network namespaces without any route out of the lab.
 *
 *   node --import tsx test/module/ns-forward.ts --port 40123 --socket /tmp/x/edgehub.sock
 *
 * prints `READY <port>` once listening, and exits 0 on SIGTERM.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { splice } from './splice.js';

function listen(server: net.Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host, port }, () => resolve(true));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, socket: { type: 'string' } } });
  const port = Number(values.port);
  const socketPath = values.socket;
  if (!Number.isInteger(port) || !socketPath) throw new Error('usage: ns-forward --port N --socket PATH');
  const servers: net.Server[] = [];
  // "localhost" resolves to both 127.0.0.1 and ::1 in the lab; the client may try either first.
  for (const host of ['127.0.0.1', '::1']) {
    const server = net.createServer((client) => splice(client, net.connect({ path: socketPath })));
    if (await listen(server, host, port)) servers.push(server);
    else if (host === '127.0.0.1') throw new Error(`cannot listen on ${host}:${port}`);
  }
  process.once('SIGTERM', () => {
    for (const s of servers) s.close();
    process.exit(0);
  });
  process.stdout.write(`READY ${port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`ns-forward: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
