/**
 * A tiny independent prober the harness runs inside a lab namespace (`ip netns exec NS node ...`)
 * to check the lab itself, without trusting the code under test: one DNS query over UDP, one TCP
 * connect, or one TLS handshake, each with its own timeout. Takes a JSON array of probes as its
 * only argument, runs them concurrently and prints a JSON array of results in the same order.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import packet from 'dns-packet';
import { runFieldProbe } from './field-probe-kinds.js';
import type { FieldProbe, FieldProbeResult } from './field-probe-kinds.js';

export type NsProbe =
  | { kind: 'dns'; server: string; name: string; type: 'A' | 'AAAA'; timeoutMs: number }
  | { kind: 'tcp'; host: string; port: number; timeoutMs: number }
  | { kind: 'tls'; host: string; port: number; servername: string; caFile: string; timeoutMs: number }
  | FieldProbe;

export type NsProbeResult =
  | { kind: 'dns'; outcome: 'answered'; rcode: string; answers: string[] }
  | { kind: 'tcp'; outcome: 'connected' }
  | { kind: 'tls'; outcome: 'handshake'; authorized: boolean; authorizationError: string | null; issuer: string | null }
  | { kind: NsProbe['kind']; outcome: 'timeout' }
  | { kind: NsProbe['kind']; outcome: 'error'; code: string }
  | FieldProbeResult;

// The low four bits of the header flags (RFC 1035 4.1.1); @types/dns-packet does not expose rcode.
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

function dnsProbe(p: Extract<NsProbe, { kind: 'dns' }>): Promise<NsProbeResult> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const id = Math.floor(Math.random() * 65535);
    const timer = setTimeout(() => finish({ kind: 'dns', outcome: 'timeout' }), p.timeoutMs);
    function finish(result: NsProbeResult): void {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    }
    socket.on('error', (err) => finish({ kind: 'dns', outcome: 'error', code: errorCode(err) }));
    socket.on('message', (msg) => {
      const answer = packet.decode(msg);
      if (answer.id !== id) return;
      const answers = (answer.answers ?? []).flatMap((a) =>
        (a.type === 'A' || a.type === 'AAAA') && typeof a.data === 'string' ? [a.data] : [],
      );
      finish({ kind: 'dns', outcome: 'answered', rcode: RCODES[(answer.flags ?? 0) & 0xf] ?? 'UNKNOWN', answers });
    });
    const query = packet.encode({
      type: 'query',
      id,
      flags: packet.RECURSION_DESIRED,
      questions: [{ type: p.type, name: p.name }],
    });
    socket.send(query, 53, p.server);
  });
}

function tcpProbe(p: Extract<NsProbe, { kind: 'tcp' }>): Promise<NsProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: p.host, port: p.port });
    const timer = setTimeout(() => finish({ kind: 'tcp', outcome: 'timeout' }), p.timeoutMs);
    function finish(result: NsProbeResult): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on('connect', () => finish({ kind: 'tcp', outcome: 'connected' }));
    socket.on('error', (err) => finish({ kind: 'tcp', outcome: 'error', code: errorCode(err) }));
  });
}

function tlsProbe(p: Extract<NsProbe, { kind: 'tls' }>): Promise<NsProbeResult> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: p.host,
      port: p.port,
      servername: p.servername,
      ca: readFileSync(p.caFile, 'utf8'),
      // Judge trust ourselves so an untrusted chain is an observation, not a failed handshake.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => finish({ kind: 'tls', outcome: 'timeout' }), p.timeoutMs);
    function finish(result: NsProbeResult): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on('secureConnect', () => {
      const error = socket.authorizationError;
      const issuer = socket.getPeerCertificate().issuer?.CN;
      finish({
        kind: 'tls',
        outcome: 'handshake',
        authorized: socket.authorized,
        authorizationError: error === null || error === undefined ? null : String(error),
        issuer: Array.isArray(issuer) ? issuer.join(', ') : (issuer ?? null),
      });
    });
    socket.on('error', (err) => finish({ kind: 'tls', outcome: 'error', code: errorCode(err) }));
  });
}

function run(p: NsProbe): Promise<NsProbeResult> {
  switch (p.kind) {
    case 'dns':
      return dnsProbe(p);
    case 'tcp':
      return tcpProbe(p);
    case 'tls':
      return tlsProbe(p);
    case 'exchange':
    case 'proxy-connect':
    case 'lookup':
      return runFieldProbe(p);
  }
}

const probes = JSON.parse(process.argv[2] ?? '[]') as NsProbe[];
const results = await Promise.all(probes.map(run));
// Exit once written: a lookup that timed out may still hold a resolver thread.
process.stdout.write(`${JSON.stringify(results)}\n`, () => process.exit(0));
