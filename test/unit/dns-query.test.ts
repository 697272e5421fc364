/**
 * queryDns against the scriptable server on loopback: every outcome of the contract, the replies
 * that must be ignored, TCP after truncation, abort, and no socket left behind.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { setImmediate as nextLoopTurn, setTimeout as sleep } from 'node:timers/promises';
import type { DecodedPacket, Packet } from 'dns-packet';
import { queryDns } from '../../src/probes/dns-query.js';
import type { DnsQueryContext } from '../../src/probes/dns-query.js';
import { answerFromRecords, replyTo, startDnsServer } from '../support/dns-server.js';
import type { DnsServer, DnsServerOptions } from '../support/dns-server.js';
import { errorCode } from '../../src/util/errors.js';
import { skipOrFail } from '../support/prerequisites.js';

const HUB = 'lab-hub.azure-devices.net';
const RECORDS = { [HUB]: ['198.18.1.10', '198.18.1.11'], 'v6.lab.test': ['fd00::10'] };
/** For queries that must time out: short, so silence costs little. */
const SHORT_TIMEOUT_MS = 300;
/**
 * For queries that get an answer: generous, so even a loaded machine answers before the
 * retransmit (at a third of it) and the server's query count stays exact.
 */
const ANSWER_TIMEOUT_MS = 5000;
/** For queries that get replies yet must end unanswered: long enough for the replies to arrive first. */
const REJECTED_TIMEOUT_MS = 1000;

async function withServer<T>(options: DnsServerOptions, use: (server: DnsServer) => Promise<T>): Promise<T> {
  const server = await startDnsServer({ host: '127.0.0.1', records: RECORDS, ...options });
  try {
    return await use(server);
  } finally {
    await server.close();
  }
}

function ctxFor(
  server: DnsServer,
  timeoutMs = ANSWER_TIMEOUT_MS,
  signal = new AbortController().signal,
): DnsQueryContext {
  return { signal, timeoutMs, port: server.port };
}

/** The server reads its socket on its own turn of the event loop; wait (bounded) until it has. */
async function waitForQueries(server: DnsServer, count: number): Promise<void> {
  for (let i = 0; i < 400 && server.queries.length < count; i++) await sleep(5);
  assert.ok(server.queries.length >= count, `server saw ${server.queries.length} queries, expected ${count}`);
}

// Every test closes what it opened: the probe its sockets, the test its server. Closed handles
// leave the active list on the next loop turn, so this checks after two of them.
afterEach(async () => {
  await nextLoopTurn();
  await nextLoopTurn();
  const sockets = process.getActiveResourcesInfo().filter((r) => /UDP|TCP/i.test(r));
  assert.deepEqual(sockets, [], 'sockets left open');
});

test('answered: A records of the name, over UDP, one query sent', async () => {
  await withServer({ mode: 'answer' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.equal(r.outcome, 'answered');
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual([...r.answers].sort(), ['198.18.1.10', '198.18.1.11']);
    assert.equal(r.transport, 'udp');
    assert.equal(r.name, HUB);
    assert.equal(r.type, 'A');
    assert.equal(typeof r.rttMs, 'number');
    assert.equal(r.detail, undefined);
    assert.equal(server.queries.length, 1);
    assert.deepEqual(
      { ...server.queries[0], id: 0, remotePort: 0 },
      { transport: 'udp', id: 0, name: HUB, type: 'A', remoteAddress: '127.0.0.1', remotePort: 0 },
    );
  });
});

test('the query is a recursive IN question with a non-zero id', async () => {
  let seen: DecodedPacket | undefined;
  const handler = (query: DecodedPacket) => {
    seen = query;
    return [answerFromRecords(query, RECORDS)];
  };
  await withServer({ handler }, async (server) => {
    await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
  });
  assert.ok(seen);
  assert.equal(seen.flag_rd, true);
  assert.notEqual(seen.id, 0);
  assert.deepEqual(seen.questions, [{ name: HUB, type: 'A', class: 'IN' }]);
});

test('AAAA answers, and NODATA (known name, no record of that type) is answered with none', async () => {
  await withServer({ mode: 'answer' }, async (server) => {
    const v6 = await queryDns('127.0.0.1', 'v6.lab.test', 'AAAA', ctxFor(server));
    assert.equal(v6.outcome, 'answered');
    assert.deepEqual(v6.answers, ['fd00::10']);
    const nodata = await queryDns('127.0.0.1', HUB, 'AAAA', ctxFor(server));
    assert.equal(nodata.outcome, 'answered');
    assert.equal(nodata.rcode, 'NOERROR');
    assert.deepEqual(nodata.answers, []);
  });
});

test('a reply whose question differs only in letter case and root dot is accepted', async () => {
  const handler = (query: DecodedPacket) => [
    {
      ...answerFromRecords(query, RECORDS),
      questions: [{ name: `${HUB.toUpperCase()}.`, type: 'A' as const, class: 'IN' as const }],
    },
  ];
  await withServer({ handler }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.equal(r.outcome, 'answered');
    assert.equal(r.answers.length, 2);
  });
});

test('nxdomain: unknown name in answer mode, and the nxdomain mode', async () => {
  await withServer({ mode: 'answer' }, async (server) => {
    const r = await queryDns('127.0.0.1', 'missing.azure-devices.net', 'A', ctxFor(server));
    assert.deepEqual([r.outcome, r.rcode, r.answers], ['nxdomain', 'NXDOMAIN', []]);
  });
  await withServer({ mode: 'nxdomain' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.deepEqual([r.outcome, r.rcode, r.answers], ['nxdomain', 'NXDOMAIN', []]);
  });
});

test('refused and servfail', async () => {
  await withServer({ mode: 'refused' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.deepEqual([r.outcome, r.rcode, r.transport], ['refused', 'REFUSED', 'udp']);
    assert.equal(typeof r.rttMs, 'number');
  });
  await withServer({ mode: 'servfail' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.deepEqual([r.outcome, r.rcode], ['servfail', 'SERVFAIL']);
  });
});

test('another rcode is an error that names it', async () => {
  await withServer({ handler: (query) => [replyTo(query, 'NOTIMP')] }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.deepEqual([r.outcome, r.rcode], ['error', 'NOTIMP']);
    assert.match(r.detail ?? '', /NOTIMP/);
  });
});

test('an error reply without a question section is accepted; a NOERROR one is not', async () => {
  await withServer({ handler: (query) => [replyTo(query, 'REFUSED', { questions: [] })] }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.equal(r.outcome, 'refused');
  });
  await withServer(
    { handler: (query) => [{ ...answerFromRecords(query, RECORDS), questions: [] }] },
    async (server) => {
      const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, REJECTED_TIMEOUT_MS));
      assert.equal(r.outcome, 'timeout');
      assert.match(r.detail ?? '', /0 questions/);
    },
  );
});

test('silence: timeout after one retransmit of the same query, no rcode, no rtt', async () => {
  await withServer({ mode: 'silent' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, SHORT_TIMEOUT_MS));
    assert.deepEqual([r.outcome, r.rcode, r.rttMs, r.transport], ['timeout', null, null, 'udp']);
    assert.match(r.detail ?? '', /no valid reply within 300 ms/);
    await waitForQueries(server, 2);
    assert.equal(server.queries.length, 2);
    assert.equal(server.queries[0]?.id, server.queries[1]?.id);
  });
});

test('truncation: the UDP reply has TC, the query is repeated over TCP and answered there', async () => {
  await withServer({ mode: 'truncate' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.equal(r.outcome, 'answered');
    assert.equal(r.transport, 'tcp');
    assert.deepEqual([...r.answers].sort(), ['198.18.1.10', '198.18.1.11']);
    assert.match(r.detail ?? '', /truncated/);
    assert.deepEqual(
      server.queries.map((q) => q.transport),
      ['udp', 'tcp'],
    );
  });
});

test('truncation with a TCP side that never answers: timeout, transport tcp', async () => {
  const handler = (query: DecodedPacket, transport: 'udp' | 'tcp') =>
    transport === 'udp' ? [replyTo(query, 'NOERROR', { flags: 1 << 9 })] : [];
  await withServer({ handler }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, REJECTED_TIMEOUT_MS));
    assert.deepEqual([r.outcome, r.transport, r.rcode], ['timeout', 'tcp', null]);
    assert.match(r.detail ?? '', /truncated.*no valid reply/);
  });
});

test('wrong transaction id: never accepted, so the query times out and says why', async () => {
  await withServer({ mode: 'wrong-id' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, REJECTED_TIMEOUT_MS));
    assert.equal(r.outcome, 'timeout');
    assert.deepEqual(r.answers, []);
    assert.match(r.detail ?? '', /transaction id \d+ instead of \d+/);
    await waitForQueries(server, 2);
  });
});

test('a wrong-id reply followed by the right one: the right one is accepted', async () => {
  await withServer({ mode: 'wrong-id-then-answer' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.equal(r.outcome, 'answered');
    assert.deepEqual([...r.answers].sort(), ['198.18.1.10', '198.18.1.11']);
    assert.equal(server.queries.length, 1);
  });
});

test('garbage: malformed, with the decoder error as detail', async () => {
  await withServer({ mode: 'garbage' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, REJECTED_TIMEOUT_MS));
    assert.deepEqual([r.outcome, r.rcode, r.answers], ['malformed', null, []]);
    assert.match(r.detail ?? '', /Header must be 12 bytes/);
  });
});

test('a name compression pointer to itself: malformed (bad pointer)', async () => {
  const handler = (query: DecodedPacket) => {
    const reply = Buffer.from([0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]);
    reply.writeUInt16BE(query.id ?? 0, 0);
    return [reply];
  };
  await withServer({ handler }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, REJECTED_TIMEOUT_MS));
    assert.equal(r.outcome, 'malformed');
    assert.match(r.detail ?? '', /bad pointer/);
  });
});

test('garbage followed by a valid reply: the valid reply wins', async () => {
  await withServer({ handler: (query) => [randomBytes(7), answerFromRecords(query, RECORDS)] }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.equal(r.outcome, 'answered');
  });
});

test('replies that decode but do not answer our question are ignored', async () => {
  const variants: Record<string, (query: DecodedPacket) => Packet> = {
    'another name': (q) => ({
      ...answerFromRecords(q, RECORDS),
      questions: [{ name: 'evil.example', type: 'A', class: 'IN' }],
    }),
    'another type': (q) => ({
      ...answerFromRecords(q, RECORDS),
      questions: [{ name: HUB, type: 'AAAA', class: 'IN' }],
    }),
    'another class': (q) => ({ ...answerFromRecords(q, RECORDS), questions: [{ name: HUB, type: 'A', class: 'CH' }] }),
    'two questions': (q) => ({
      ...answerFromRecords(q, RECORDS),
      questions: [
        { name: HUB, type: 'A', class: 'IN' },
        { name: HUB, type: 'A', class: 'IN' },
      ],
    }),
    'a query, not a response': (q) => ({ ...answerFromRecords(q, RECORDS), type: 'query' }),
  };
  // In parallel, each with its own server: every one of them has to wait for its timeout.
  await Promise.all(
    Object.entries(variants).map(([label, make]) =>
      withServer({ handler: (query) => [make(query)] }, async (server) => {
        const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, REJECTED_TIMEOUT_MS));
        assert.equal(r.outcome, 'timeout', label);
        assert.deepEqual(r.answers, [], label);
        assert.match(r.detail ?? '', /ignored \d non-matching repl/, label);
      }),
    ),
  );
});

test('a closed UDP port on loopback: the kernel reports port unreachable, so error ECONNREFUSED', async () => {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const r = await queryDns('127.0.0.1', HUB, 'A', {
    signal: new AbortController().signal,
    timeoutMs: ANSWER_TIMEOUT_MS,
    port,
  });
  assert.deepEqual([r.outcome, r.rcode, r.rttMs], ['error', null, null]);
  assert.match(r.detail ?? '', /^ECONNREFUSED/);
});

test('abort while waiting: stops at once with timeout, without the retransmit', { timeout: 10_000 }, async () => {
  const controller = new AbortController();
  await withServer({ mode: 'silent', onQuery: () => controller.abort() }, async (server) => {
    // The probe's own timeout is far beyond the test's: only the abort can end it in time.
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, 60_000, controller.signal));
    assert.equal(r.outcome, 'timeout');
    assert.match(r.detail ?? '', /aborted/);
    assert.equal(server.queries.length, 1);
  });
});

test('abort during the TCP retry: timeout, transport tcp', { timeout: 10_000 }, async () => {
  const controller = new AbortController();
  const handler = (query: DecodedPacket, transport: 'udp' | 'tcp') =>
    transport === 'udp' ? [replyTo(query, 'NOERROR', { flags: 1 << 9 })] : [];
  const onQuery = (q: { transport: string }) => {
    if (q.transport === 'tcp') controller.abort();
  };
  await withServer({ handler, onQuery }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, 60_000, controller.signal));
    assert.deepEqual([r.outcome, r.transport], ['timeout', 'tcp']);
    assert.match(r.detail ?? '', /aborted/);
  });
});

test('an already aborted signal sends nothing', async () => {
  await withServer({ mode: 'answer' }, async (server) => {
    const r = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server, SHORT_TIMEOUT_MS, AbortSignal.abort()));
    assert.equal(r.outcome, 'timeout');
    // A later query's datagram cannot overtake an earlier one on loopback: if the aborted call had
    // sent anything, the server would have seen two queries by the time this one is answered.
    const later = await queryDns('127.0.0.1', HUB, 'A', ctxFor(server));
    assert.equal(later.outcome, 'answered');
    assert.equal(server.queries.length, 1);
  });
});

test('a server that is not an IP address is an error, not a throw', async () => {
  const r = await queryDns('dns.lab.test', HUB, 'A', {
    signal: new AbortController().signal,
    timeoutMs: SHORT_TIMEOUT_MS,
  });
  assert.equal(r.outcome, 'error');
  assert.match(r.detail ?? '', /not an IP address/);
});

test('IPv6 loopback: udp6 answer and TCP after truncation', async (t) => {
  // Only a machine without ::1 skips: any other failure to start is a failure of the test.
  const server = await startDnsServer({ host: '::1', mode: 'truncate', records: RECORDS }).catch((err: unknown) => {
    if (['EADDRNOTAVAIL', 'EAFNOSUPPORT'].includes(errorCode(err) ?? '')) return null;
    throw err;
  });
  if (server === null) return skipOrFail(t, 'no IPv6 loopback (::1) on this machine');
  try {
    const r = await queryDns('::1', HUB, 'A', ctxFor(server));
    assert.deepEqual([r.outcome, r.transport], ['answered', 'tcp']);
    assert.deepEqual([...r.answers].sort(), ['198.18.1.10', '198.18.1.11']);
    assert.equal(server.queries[0]?.remoteAddress, '::1');
  } finally {
    await server.close();
  }
});

test(
  'the standalone server (as the lab runs it): READY <port>, answers, logs queries, exits 0 on SIGTERM',
  { timeout: 20_000 },
  async () => {
    const script = fileURLToPath(new URL('../support/dns-server.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        script,
        '--listen',
        '127.0.0.1:0',
        '--mode',
        'answer',
        '--record',
        `${HUB}=198.18.1.10`,
        '--log-queries',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    try {
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
      });
      while (!/^READY \d+$/m.test(stdout) && child.exitCode === null) await sleep(20);
      const port = Number(/^READY (\d+)$/m.exec(stdout)?.[1]);
      assert.ok(port > 0, `no READY line in ${JSON.stringify(stdout)}`);

      const r = await queryDns('127.0.0.1', HUB, 'A', {
        signal: new AbortController().signal,
        timeoutMs: ANSWER_TIMEOUT_MS,
        port,
      });
      assert.deepEqual([r.outcome, r.answers], ['answered', ['198.18.1.10']]);
      for (let i = 0; i < 100 && !stdout.includes('QUERY'); i++) await sleep(20);
      assert.match(stdout, new RegExp(`^QUERY udp ${HUB} A$`, 'm'));

      child.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      assert.deepEqual([code, signal], [0, null]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  },
);
