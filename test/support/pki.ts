/**
 * A throw-away PKI for tests, made with the openssl CLI (one of the lab's packages):
 * a CA and server certificates chained to it. Node has no certificate-generation API,
 * and committing long-lived keys would let them expire under us.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Ca {
  /** PEM of the CA certificate (what a client trusts). */
  cert: string;
  key: string;
  /** A file holding `cert`, for --ca-file. */
  certFile: string;
  dir: string;
  /** Subject common name, as a client would see it as the issuer. */
  name: string;
}

export interface ServerCert {
  cert: string;
  key: string;
  /** Leaf + CA, as a server should present it. */
  chain: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates a CA in a fresh temp folder. Call `removeCa` (or rm the dir) when done. */
export function createCa(name = 'eflow-netdiag Test Root CA'): Ca {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-pki-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '30',
      '-subj',
      `/CN=${name}/O=eflow-netdiag tests`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return {
    cert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    key: readFileSync(join(dir, 'ca.key'), 'utf8'),
    certFile: join(dir, 'ca.crt'),
    dir,
    name,
  };
}

let serial = 0;

/** Issues a server certificate for the given DNS names / IP addresses, signed by `ca`. */
export function issueServerCert(ca: Ca, names: string[]): ServerCert {
  const id = `srv${process.pid}-${++serial}`;
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(
    join(ca.dir, `${id}.ext`),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
  );
  openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${id}.key`,
      '-out',
      `${id}.csr`,
      '-subj',
      `/CN=${names[0] ?? 'localhost'}`,
    ],
    ca.dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${id}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${id}.crt`,
      '-days',
      '30',
      '-extfile',
      `${id}.ext`,
    ],
    ca.dir,
  );
  const cert = readFileSync(join(ca.dir, `${id}.crt`), 'utf8');
  return { cert, key: readFileSync(join(ca.dir, `${id}.key`), 'utf8'), chain: cert + ca.cert };
}

export function removeCa(ca: Ca): void {
  rmSync(ca.dir, { recursive: true, force: true });
}
