/**
 * The TLS listener in front of the MQTT broker. It can stop and start again on the same port, which
 * is how a test simulates edgeHub restarting: connections die, the port refuses for a while, then
 * comes back. The broker behind it (and so the session state) lives on.
 */
import { createServer as createNetServer } from 'node:net';
import type { Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';

export interface TlsListenerOptions {
  /** Loopback address to bind (edgeHub's stand-in never listens elsewhere). */
  host: string;
  /** 0 picks a free port on the first start. */
  port: number;
  key: string;
  /** Leaf + CA chain. */
  cert: string;
  onSecureConnection: (socket: TLSSocket) => void;
  /** TLS handshakes that failed (e.g. the client did not trust the certificate). */
  onTlsError?: (err: Error) => void;
}

export interface TlsListener {
  /** The bound port (fixed after the first start, or the reserved one). */
  readonly port: number;
  readonly listening: boolean;
  start(): Promise<void>;
  /** Stops accepting and destroys every open connection. */
  stop(): Promise<void>;
  /** Destroys every open connection but keeps listening. Returns how many there were. */
  dropConnections(): number;
}

/**
 * Finds a free loopback port by binding port 0 and releasing it, for a broker that must not listen
 * yet but whose address the module must already know. Another process could take the port in
 * between; on a test machine that is unlikely and start() would then fail loudly (EADDRINUSE).
 */
export function reservePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export function createTlsListener(opts: TlsListenerOptions): TlsListener {
  let port = opts.port;
  let server: TlsServer | undefined;
  const sockets = new Set<Socket>();

  const dropConnections = (): number => {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    sockets.clear();
    return n;
  };

  return {
    get port() {
      return port;
    },
    get listening() {
      return server !== undefined;
    },
    async start() {
      if (server) return;
      const s = createTlsServer({ key: opts.key, cert: opts.cert, minVersion: 'TLSv1.2' }, opts.onSecureConnection);
      // Track the raw TCP sockets, not only the TLS ones, so connections still in handshake die too.
      s.on('connection', (sock: Socket) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
      });
      s.on('tlsClientError', (err: Error) => opts.onTlsError?.(err));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, opts.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const address = s.address();
      if (typeof address === 'object' && address) port = address.port;
      server = s;
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      dropConnections();
      await closed;
    },
    dropConnections,
  };
}
