/**
 * A small scriptable DNS server for tests, for the faults a real server (dnsmasq) will not make:
 * silence, REFUSED, SERVFAIL, truncation, a wrong transaction id, garbage. UDP and TCP share a port.
 *
 * In-process:  const dns = await startDnsServer({ host: '127.0.0.1', mode: 'refused' });
 * Standalone (the namespace lab runs it inside a namespace):
 *   node --import tsx test/support/dns-server.ts --listen 198.18.1.53:53 --mode answer \
 *     --record lab-hub.azure-devices.net=198.18.1.10 [--log-queries]
 * prints `READY <port>` once both sockets listen, and exits 0 on SIGTERM or SIGINT.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RECURSION_AVAILABLE, RECURSION_DESIRED, TRUNCATED_RESPONSE, decode, encode } from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';

export const DNS_SERVER_MODES = [
  'answer', // A/AAAA from `records`, NOERROR/NODATA for a known name without that type, NXDOMAIN otherwise
  'silent', // never answers
  'refused',
  'servfail',
  'nxdomain',
  'truncate', // UDP: TC set and no answers; TCP: the full answer
  'wrong-id', // only replies with another transaction id
  'garbage', // replies with random bytes that are not DNS
  'wrong-id-then-answer', // a wrong-id reply, then the right one
] as const;
export type DnsServerMode = (typeof DNS_SERVER_MODES)[number];

export type Transport = 'udp' | 'tcp';

export interface ReceivedQuery {
  transport: Transport;
  id: number;
  name: string;
  type: string;
  remoteAddress: string;
  remotePort: number;
}

/** A packet to encode, or raw bytes sent as they are (over TCP they still get the length prefix). */
export type DnsServerReply = Packet | Buffer;

/** Decides the replies to one decoded query; an empty list means silence. */
export type DnsHandler = (query: DecodedPacket, transport: Transport) => DnsServerReply[];

/** name → addresses; IPv4 ones answer A, IPv6 ones AAAA. */
export type DnsRecords = Record<string, string | string[]>;

export interface DnsServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port, the same for UDP and TCP. */
  port?: number;
  /** Default `answer`. Ignored when `handler` is given. */
  mode?: DnsServerMode;
  handler?: DnsHandler;
  records?: DnsRecords;
  /** Called for each query as it arrives, before the reply is sent. */
  onQuery?: (query: ReceivedQuery) => void;
}

export interface DnsServer {
  port: number;
  address: string;
  /** Every decodable query received, in order of arrival. */
  queries: ReceivedQuery[];
  close(): Promise<void>;
}

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';
const RCODE_VALUES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

/**
 * A response to `query`: same id, its question echoed, RD copied, RA set. The RCODE goes in the low
 * four bits of the flags, since dns-packet's encoder has no field for it.
 */
export function replyTo(query: DecodedPacket, rcode: Rcode = 'NOERROR', fields: Partial<Packet> = {}): Packet {
  const extraFlags = fields.flags ?? 0;
  return {
    type: 'response',
    id: query.id ?? 0,
    questions: query.questions ?? [],
    answers: [],
    ...fields,
    flags: (query.flag_rd ? RECURSION_DESIRED : 0) | RECURSION_AVAILABLE | extraFlags | RCODE_VALUES[rcode],
  };
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The `answer` reply: NXDOMAIN for an unknown name, the matching records (maybe none) otherwise. */
export function answerFromRecords(query: DecodedPacket, records: DnsRecords): Packet {
  const question = query.questions?.[0];
  if (question === undefined) return replyTo(query, 'FORMERR');
  const wanted = normalizeName(question.name);
  const entry = Object.entries(records).find(([name]) => normalizeName(name) === wanted);
  if (entry === undefined) return replyTo(query, 'NXDOMAIN');
  const addresses = typeof entry[1] === 'string' ? [entry[1]] : entry[1];
  const answers: Answer[] = [];
  for (const address of addresses) {
    const family = net.isIP(address);
    if (question.type === 'A' && family === 4) answers.push({ type: 'A', name: question.name, ttl: 60, data: address });
    if (question.type === 'AAAA' && family === 6)
      answers.push({ type: 'AAAA', name: question.name, ttl: 60, data: address });
  }
  return replyTo(query, 'NOERROR', { answers });
}

/** The canned behaviour of each mode. */
export function modeHandler(mode: DnsServerMode, records: DnsRecords = {}): DnsHandler {
  return (query, transport) => {
    const answer = (): Packet => answerFromRecords(query, records);
    const wrongId = (): Packet => ({ ...answer(), id: ((query.id ?? 0) + 1) % 65536 });
    switch (mode) {
      case 'answer':
        return [answer()];
      case 'silent':
        return [];
      case 'refused':
        return [replyTo(query, 'REFUSED')];
      case 'servfail':
        return [replyTo(query, 'SERVFAIL')];
      case 'nxdomain':
        return [replyTo(query, 'NXDOMAIN')];
      case 'truncate':
        return transport === 'udp' ? [replyTo(query, 'NOERROR', { flags: TRUNCATED_RESPONSE })] : [answer()];
      case 'wrong-id':
        return [wrongId()];
      case 'garbage':
        // Shorter than the 12-byte header, so every decoder rejects it, whatever the random bytes.
        return [randomBytes(randomInt(1, 12))];
      case 'wrong-id-then-answer':
        return [wrongId(), answer()];
    }
  };
}

function toBytes(reply: DnsServerReply): Buffer {
  return Buffer.isBuffer(reply) ? reply : encode(reply);
}

function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}

function tryDecode(message: Buffer): DecodedPacket | null {
  try {
    return decode(message);
  } catch {
    return null; // a server ignores what it cannot read
  }
}

function bindUdp(socket: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Starts the server; UDP binds first, then TCP takes the same port (retried if it is taken). */
export async function startDnsServer(options: DnsServerOptions = {}): Promise<DnsServer> {
  const host = options.host ?? '127.0.0.1';
  const handler = options.handler ?? modeHandler(options.mode ?? 'answer', options.records ?? {});
  const queries: ReceivedQuery[] = [];
  const connections = new Set<net.Socket>();
  const record = (query: DecodedPacket, transport: Transport, remoteAddress: string, remotePort: number): void => {
    const q = query.questions?.[0];
    const received = {
      transport,
      id: query.id ?? 0,
      name: q?.name ?? '',
      type: q?.type ?? '',
      remoteAddress,
      remotePort,
    };
    queries.push(received);
    options.onQuery?.(received);
  };

  const udpType = net.isIPv6(host) ? 'udp6' : 'udp4';
  let udp: dgram.Socket | undefined;
  let tcp: net.Server | undefined;
  for (let attempt = 0; tcp === undefined; attempt++) {
    const u = dgram.createSocket(udpType);
    try {
      await bindUdp(u, options.port ?? 0, host);
    } catch (err) {
      u.close(); // a socket that failed to bind still holds a handle
      throw err;
    }
    const t = net.createServer();
    try {
      await listenTcp(t, u.address().port, host);
      udp = u;
      tcp = t;
    } catch (err) {
      u.close();
      const inUse = err instanceof Error && 'code' in err && err.code === 'EADDRINUSE';
      if (!inUse || (options.port ?? 0) !== 0 || attempt >= 20) throw err;
    }
  }
  const udpSocket = udp;
  if (udpSocket === undefined) throw new Error('unreachable: UDP socket not bound');

  udpSocket.on('message', (message, remote) => {
    const query = tryDecode(message);
    if (query === null || query.type !== 'query') return;
    record(query, 'udp', remote.address, remote.port);
    for (const reply of handler(query, 'udp')) {
      udpSocket.send(toBytes(reply), remote.port, remote.address);
    }
  });
  // A client that went away makes the kernel report ICMP errors here; a test server shrugs them off.
  udpSocket.on('error', () => {});

  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < length + 2) break;
        const query = tryDecode(buffered.subarray(2, length + 2));
        buffered = buffered.subarray(length + 2);
        if (query === null || query.type !== 'query') continue;
        record(query, 'tcp', socket.remoteAddress ?? '', socket.remotePort ?? 0);
        for (const reply of handler(query, 'tcp')) socket.write(frame(toBytes(reply)));
      }
    });
  });

  const tcpServer = tcp;
  return {
    port: udpSocket.address().port,
    address: host,
    queries,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udpSocket.close(() => resolve())),
        new Promise<void>((resolve) => tcpServer.close(() => resolve())),
      ]);
    },
  };
}

/** "198.18.1.53:53" or "[fd00::53]:53". */
function parseListen(value: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  const host = match?.[1];
  const port = Number(match?.[2]);
  if (host === undefined || net.isIP(host) === 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--listen wants ADDRESS:PORT, got "${value}"`);
  }
  return { host, port };
}

/** "name=198.18.1.10" (repeat the option, or separate addresses with commas, for several). */
function parseRecords(values: string[]): DnsRecords {
  const records: Record<string, string[]> = {};
  for (const value of values) {
    const [name, addresses] = value.split('=', 2);
    const list = (addresses ?? '').split(',').filter((a) => a !== '');
    if (!name || list.length === 0 || list.some((a) => net.isIP(a) === 0))
      throw new Error(`--record wants NAME=ADDRESS[,ADDRESS], got "${value}"`);
    records[name] = [...(records[name] ?? []), ...list];
  }
  return records;
}

function isDnsServerMode(value: string): value is DnsServerMode {
  return (DNS_SERVER_MODES as readonly string[]).includes(value);
}

async function main(): Promise<void> {
  let options: DnsServerOptions;
  let logQueries: boolean;
  try {
    const { values } = parseArgs({
      options: {
        listen: { type: 'string', default: '127.0.0.1:0' },
        mode: { type: 'string', default: 'answer' },
        record: { type: 'string', multiple: true, default: [] },
        'log-queries': { type: 'boolean', default: false },
      },
    });
    const mode = values.mode;
    if (!isDnsServerMode(mode)) throw new Error(`--mode must be one of ${DNS_SERVER_MODES.join(', ')}`);
    options = { ...parseListen(values.listen), mode, records: parseRecords(values.record) };
    logQueries = values['log-queries'];
  } catch (err) {
    process.stderr.write(`dns-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }

  const server = await startDnsServer({
    ...options,
    ...(logQueries
      ? { onQuery: (q: ReceivedQuery) => process.stdout.write(`QUERY ${q.transport} ${q.name} ${q.type}\n`) }
      : {}),
  });
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`READY ${server.port}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`dns-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
