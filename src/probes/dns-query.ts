/**
 * Asks one DNS server one question with a packet of our own, instead of going through the system
 * resolver: the resolver hides which server answered, the RCODE, truncation and retries across
 * servers, and those are exactly what a diagnosis needs.
 *
 * dns-packet only encodes and decodes, so the transaction bookkeeping is ours: a connected socket
 * (the kernel drops datagrams from any other source), a random id, and a reply is accepted only when
 * it is a response to this id and this question. Anything else is ignored and we keep waiting, the
 * way a stub resolver does, so a stray or forged datagram cannot decide the outcome.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { RECURSION_DESIRED, decode, encode, streamEncode } from 'dns-packet';
import type { Answer, Question } from 'dns-packet';
import type { DnsOutcome, DnsQueryReport } from '../report/types.js';
import { errorCode, errorMessage } from '../util/errors.js';
import type { ProbeContext } from './types.js';

export interface DnsQueryContext extends ProbeContext {
  /** Server port; 53 unless a test points us at a loopback server. */
  port?: number;
}

type QueryType = DnsQueryReport['type'];

/**
 * A TCP reply is at most 2 + 65535 bytes; a few of them (ignored mismatches) are tolerated, a server
 * that streams more than this is broken and must not make us buffer without bound.
 */
const MAX_TCP_BYTES = 4 * 65537;

/**
 * The decoded fields we rely on, typed. @types/dns-packet leaves `rcode` and `opcode` off the decoded
 * packet although dns-packet sets them, so they are read here, once, with runtime checks.
 */
interface DnsReply {
  id: number;
  isResponse: boolean;
  opcode: string | null;
  rcode: string;
  truncated: boolean;
  questions: Question[];
  answers: Answer[];
}

/** Decodes a DNS message; throws what dns-packet throws for garbage, short headers or bad pointers. */
function readReply(message: Buffer): DnsReply {
  const packet = decode(message);
  const rcode =
    'rcode' in packet && typeof packet.rcode === 'string' ? packet.rcode : `RCODE_${(packet.flags ?? 0) & 0xf}`;
  const opcode = 'opcode' in packet && typeof packet.opcode === 'string' ? packet.opcode : null;
  return {
    id: packet.id ?? 0,
    isResponse: packet.type === 'response',
    opcode,
    rcode,
    truncated: packet.flag_tc,
    questions: packet.questions ?? [],
    answers: packet.answers ?? [],
  };
}

interface Expected {
  id: number;
  name: string;
  type: QueryType;
}

/** Names compare case-insensitively (RFC 4343) and with or without the root dot. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Why a decoded reply is not the answer to our query, or null when it is. */
function mismatch(reply: DnsReply, expected: Expected): string | null {
  if (!reply.isResponse) return 'a query, not a response';
  if (reply.id !== expected.id) return `transaction id ${reply.id} instead of ${expected.id}`;
  if (reply.opcode !== null && reply.opcode !== 'QUERY') return `opcode ${reply.opcode}`;
  // Some servers leave the question out of an error reply (FORMERR, REFUSED…). Such a reply carries
  // no data to accept by mistake, and glibc takes it too, so only the id must match there.
  if (reply.questions.length === 0 && reply.rcode !== 'NOERROR') return null;
  const q = reply.questions;
  const first = q[0];
  if (q.length !== 1 || first === undefined) return `${q.length} questions in the reply`;
  const klass = first.class ?? 'IN';
  if (normalizeName(first.name) !== normalizeName(expected.name) || first.type !== expected.type || klass !== 'IN') {
    return `question ${first.name} ${klass} ${first.type} instead of ${expected.name} IN ${expected.type}`;
  }
  return null;
}

/** What one transport brought back. */
type Exchange =
  | { kind: 'reply'; reply: DnsReply; rttMs: number }
  | { kind: 'timeout'; detail: string }
  | { kind: 'malformed'; detail: string; rttMs: number }
  | { kind: 'error'; detail: string };

/**
 * What arrived that was not accepted. At the timeout it decides between `malformed` (the server
 * answers, but with something we cannot read) and `timeout`, and says what was ignored.
 */
class Rejects {
  private undecodable: { reason: string; atMs: number } | null = null;
  private readonly ignored: string[] = [];

  undecodableReply(err: unknown, atMs: number): void {
    this.undecodable ??= { reason: errorMessage(err), atMs };
  }

  ignoredReply(reason: string): void {
    this.ignored.push(reason);
  }

  /** The outcome when the wait ends without an accepted reply. */
  conclude(waited: string): Exchange {
    const ignoredNote =
      this.ignored.length === 0
        ? ''
        : `; ignored ${this.ignored.length} non-matching repl${this.ignored.length === 1 ? 'y' : 'ies'} ` +
          `(${[...new Set(this.ignored)].join('; ')})`;
    if (this.undecodable !== null) {
      return {
        kind: 'malformed',
        detail: `undecodable reply: ${this.undecodable.reason}${ignoredNote}`,
        rttMs: this.undecodable.atMs,
      };
    }
    return { kind: 'timeout', detail: `${waited}${ignoredNote}` };
  }
}

/** "ECONNREFUSED (recvmsg): …" — the errno first, since findings and tests match on it. */
function describeSocketError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = errorCode(err) ?? err.name;
  const syscall = 'syscall' in err && typeof err.syscall === 'string' ? ` (${err.syscall})` : '';
  const hint: Record<string, string> = {
    // On a connected UDP socket the kernel turns ICMP port unreachable into this error.
    ECONNREFUSED: 'nothing listens on that port (port unreachable)',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ECONNRESET: 'connection reset by the server',
  };
  return `${code}${syscall}: ${hint[code] ?? err.message}`;
}

interface Attempt {
  server: string;
  port: number;
  expected: Expected;
  query: Buffer;
  signal: AbortSignal;
  /** performance.now() of the first packet; every rttMs counts from here. */
  startedAt: number;
  /** performance.now() at which the whole query gives up. */
  deadline: number;
}

/**
 * Runs one wait: calls `start` with the means to end it, ends at the deadline or on abort, and
 * resolves only after `release` has freed the socket so no handle outlives the probe.
 */
function waitForReply(
  attempt: Attempt,
  start: (finish: (result: Exchange) => void, rejects: Rejects) => () => Promise<void>,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const rejects = new Rejects();
    let done = false;
    let release: () => Promise<void> = () => Promise.resolve();
    const timer = setTimeout(
      () => finish(rejects.conclude(`no valid reply within ${Math.round(attempt.deadline - attempt.startedAt)} ms`)),
      Math.max(0, attempt.deadline - performance.now()),
    );
    const onAbort = (): void => finish(rejects.conclude('aborted before a valid reply'));

    function finish(result: Exchange): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      attempt.signal.removeEventListener('abort', onAbort);
      // An abort ends the wait even if a malformed datagram came in: the caller stopped listening.
      const final =
        result.kind === 'malformed' && attempt.signal.aborted
          ? { kind: 'timeout' as const, detail: result.detail }
          : result;
      release().then(
        () => resolve(final),
        () => resolve(final),
      );
    }

    attempt.signal.addEventListener('abort', onAbort, { once: true });
    try {
      release = start(finish, rejects);
    } catch (err) {
      // Still through finish, so the timer and the abort listener go too.
      finish({ kind: 'error', detail: `could not open a socket: ${errorMessage(err)}` });
      return;
    }
    if (attempt.signal.aborted) onAbort();
  });
}

/** Classifies one received message: accepted (ends the wait), or noted and ignored. */
function onMessage(message: Buffer, attempt: Attempt, rejects: Rejects, finish: (result: Exchange) => void): void {
  let reply: DnsReply;
  try {
    reply = readReply(message);
  } catch (err) {
    rejects.undecodableReply(err, performance.now() - attempt.startedAt);
    return;
  }
  const why = mismatch(reply, attempt.expected);
  if (why !== null) {
    rejects.ignoredReply(why);
    return;
  }
  finish({ kind: 'reply', reply, rttMs: performance.now() - attempt.startedAt });
}

/** The UDP exchange: one send, one retransmit after a third of the time if nothing valid came. */
function exchangeUdp(attempt: Attempt): Promise<Exchange> {
  return waitForReply(attempt, (finish, rejects) => {
    const socket = dgram.createSocket(net.isIPv6(attempt.server) ? 'udp6' : 'udp4');
    let open = true;
    let retransmit: NodeJS.Timeout | undefined;
    const send = (): void => {
      if (!open) return;
      socket.send(attempt.query, (err) => {
        if (err) finish({ kind: 'error', detail: describeSocketError(err) });
      });
    };
    socket.on('error', (err) => finish({ kind: 'error', detail: describeSocketError(err) }));
    socket.on('message', (message) => onMessage(message, attempt, rejects, finish));
    socket.connect(attempt.port, attempt.server, (err?: Error) => {
      if (err) return finish({ kind: 'error', detail: describeSocketError(err) });
      if (!open) return;
      send();
      const third = (attempt.deadline - attempt.startedAt) / 3;
      retransmit = setTimeout(send, Math.max(0, attempt.startedAt + third - performance.now()));
    });
    return () =>
      new Promise<void>((closed) => {
        open = false;
        clearTimeout(retransmit);
        try {
          socket.close(() => closed());
        } catch {
          closed(); // already closed
        }
      });
  });
}

/** The TCP exchange after a truncated UDP reply: 2-byte length framing, one connection. */
function exchangeTcp(attempt: Attempt): Promise<Exchange> {
  return waitForReply(attempt, (finish, rejects) => {
    const socket = net.connect({ host: attempt.server, port: attempt.port });
    let closed = false;
    let received = 0;
    let buffered = Buffer.alloc(0);
    socket.on('close', () => {
      closed = true;
    });
    socket.on('connect', () => socket.write(attempt.query));
    socket.on('error', (err) => finish({ kind: 'error', detail: describeSocketError(err) }));
    socket.on('end', () => {
      const ended = rejects.conclude('connection closed by the server before a valid reply');
      finish(ended.kind === 'timeout' ? { kind: 'error', detail: ended.detail } : ended);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_TCP_BYTES) {
        finish({
          kind: 'malformed',
          detail: `more than ${MAX_TCP_BYTES} bytes over TCP without a valid reply`,
          rttMs: performance.now() - attempt.startedAt,
        });
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      // Wait for the whole message: the length prefix does not count itself.
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < length + 2) break;
        const message = buffered.subarray(2, length + 2);
        buffered = buffered.subarray(length + 2);
        onMessage(message, attempt, rejects, finish);
      }
    });
    return () =>
      new Promise<void>((released) => {
        if (closed) return released();
        socket.once('close', () => released());
        socket.destroy();
      });
  });
}

const OUTCOME_BY_RCODE: Record<string, DnsOutcome> = {
  NOERROR: 'answered',
  NXDOMAIN: 'nxdomain',
  SERVFAIL: 'servfail',
  REFUSED: 'refused',
};

/**
 * Queries `server` for `name` (A or AAAA), over UDP with a TCP retry when the reply is truncated.
 * Never throws: every network outcome comes back as data. `rttMs` runs from the first packet sent
 * to the accepted reply, retransmit and TCP retry included: the wait a client would see.
 */
export async function queryDns(
  server: string,
  name: string,
  type: QueryType,
  ctx: DnsQueryContext,
): Promise<DnsQueryReport> {
  const report = (outcome: DnsOutcome, fields: Partial<DnsQueryReport> = {}): DnsQueryReport => ({
    name,
    type,
    outcome,
    rcode: null,
    answers: [],
    rttMs: null,
    transport: 'udp',
    ...fields,
    // Sub-microsecond digits are noise from performance.now(), not information.
    ...(typeof fields.rttMs === 'number' ? { rttMs: Math.round(fields.rttMs * 100) / 100 } : {}),
  });
  try {
    if (net.isIP(server) === 0) return report('error', { detail: `not an IP address: ${server}` });
    if (ctx.signal.aborted) return report('timeout', { detail: 'aborted before the query was sent' });

    const id = randomInt(1, 65536);
    // No EDNS OPT record: the system resolver (glibc without `options edns0`) sends none either, so
    // a server or middlebox that chokes on EDNS shows up here as it does for the IoT Edge runtime.
    const packet = {
      type: 'query' as const,
      id,
      flags: RECURSION_DESIRED,
      questions: [{ type, name, class: 'IN' as const }],
    };
    const startedAt = performance.now();
    const base = {
      server,
      port: ctx.port ?? 53,
      expected: { id, name, type },
      signal: ctx.signal,
      startedAt,
      deadline: startedAt + ctx.timeoutMs,
    };

    const udp = await exchangeUdp({ ...base, query: encode(packet) });
    if (udp.kind !== 'reply') return fromFailure(udp, 'udp', report);
    if (!udp.reply.truncated) return fromReply(udp.reply, type, udp.rttMs, 'udp', report);

    const truncatedNote = 'UDP reply truncated (TC), retried over TCP';
    if (ctx.signal.aborted || performance.now() >= base.deadline) {
      return report('timeout', { transport: 'tcp', detail: `${truncatedNote}: no time left` });
    }
    const tcp = await exchangeTcp({ ...base, query: streamEncode(packet) });
    if (tcp.kind !== 'reply') {
      const failed = fromFailure(tcp, 'tcp', report);
      return { ...failed, detail: `${truncatedNote}: ${failed.detail ?? failed.outcome}` };
    }
    const answered = fromReply(tcp.reply, type, tcp.rttMs, 'tcp', report);
    return {
      ...answered,
      detail: tcp.reply.truncated ? `${truncatedNote}; the TCP reply is truncated too` : truncatedNote,
    };
  } catch (err) {
    // A bug or an unexpected throw from a library must not take the whole check down.
    return report('error', { detail: `query failed: ${errorMessage(err)}` });
  }
}

type MakeReport = (outcome: DnsOutcome, fields?: Partial<DnsQueryReport>) => DnsQueryReport;

function fromReply(
  reply: DnsReply,
  type: QueryType,
  rttMs: number,
  transport: 'udp' | 'tcp',
  report: MakeReport,
): DnsQueryReport {
  const outcome = OUTCOME_BY_RCODE[reply.rcode] ?? 'error';
  // Only the records asked for: a CNAME chain leading to them is not an address.
  const answers = reply.answers.flatMap((a) =>
    (a.type === 'A' || a.type === 'AAAA') && a.type === type ? [a.data] : [],
  );
  return report(outcome, {
    rcode: reply.rcode,
    answers: outcome === 'answered' ? answers : [],
    rttMs,
    transport,
    ...(outcome === 'error' ? { detail: `server answered ${reply.rcode}` } : {}),
  });
}

function fromFailure(
  result: Exclude<Exchange, { kind: 'reply' }>,
  transport: 'udp' | 'tcp',
  report: MakeReport,
): DnsQueryReport {
  switch (result.kind) {
    case 'malformed':
      return report('malformed', { transport, rttMs: result.rttMs, detail: result.detail });
    case 'timeout':
      return report('timeout', { transport, detail: result.detail });
    case 'error':
      return report('error', { transport, detail: result.detail });
  }
}
