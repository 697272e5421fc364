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

/** `openssl req` with a new P-256 key in `keyout`: a CSR in `out`, or with `-x509` a self-signed certificate. */
function newKeyRequest(keyout: string, out: string, subject: string, selfSigned = false): string[] {
  return [
    'req',
    ...(selfSigned ? ['-x509'] : []),
    ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', keyout, '-out', out, '-subj', subject],
  ];
}

/** `openssl x509 -req`: the CSR `csr` signed by the CA in `dir` (ca.crt, ca.key) for 30 days, with `ext`. */
function signWithCa(csr: string, out: string, ext: string): string[] {
  return [
    ...['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-out', out, '-days', '30', '-extfile', ext],
  ];
}

let serial = 0;

/** A fresh id for the files of one certificate in a CA's folder. */
function nextId(kind: string): string {
  return `${kind}${process.pid}-${++serial}`;
}

/** The extensions of a TLS server certificate for `names` (DNS names, or IP addresses), written in the CA's folder. */
function writeServerExtensions(ca: Ca, id: string, names: string[]): void {
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(
    join(ca.dir, `${id}.ext`),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
  );
}

/** Creates a CA in a fresh temp folder. Call `removeCa` (or rm the dir) when done. */
export function createCa(name = 'eflow-netdiag Test Root CA'): Ca {
  return createRootCa(`/CN=${name}/O=eflow-netdiag tests`);
}

/** Issues a server certificate for the given DNS names / IP addresses, signed by `ca`. */
export function issueServerCert(ca: Ca, names: string[]): ServerCert {
  const id = nextId('srv');
  writeServerExtensions(ca, id, names);
  openssl(newKeyRequest(`${id}.key`, `${id}.csr`, `/CN=${names[0] ?? 'localhost'}`), ca.dir);
  openssl(signWithCa(`${id}.csr`, `${id}.crt`, `${id}.ext`), ca.dir);
  const cert = readFileSync(join(ca.dir, `${id}.crt`), 'utf8');
  return { cert, key: readFileSync(join(ca.dir, `${id}.key`), 'utf8'), chain: cert + ca.cert };
}

export function removeCa(ca: Ca): void {
  rmSync(ca.dir, { recursive: true, force: true });
}

// --- Field PKI (LAB.md "The field matrix"): intermediates, chosen subjects, chosen validity -----

/** A CA whose certificate is signed by another: `chain` is it plus every intermediate above it. */
export interface IntermediateCa extends Ca {
  issuer: Ca;
  /** This certificate and the intermediates above it, leaf side first, never the root. */
  chain: string;
}

export interface CertOptions {
  /** Validity start; default now (minus a minute, for clock jitter between processes). */
  notBefore?: Date;
  /** Validity end; default 30 days from now. */
  notAfter?: Date;
}

/** A self-signed root with a full distinguished name (`/C=US/O=DigiCert Inc/CN=...`), CN as its name. */
export function createRootCa(subject: string): Ca {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-pki-'));
  openssl(
    [
      ...newKeyRequest('ca.key', 'ca.crt', subject, true),
      ...['-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ],
    dir,
  );
  return {
    cert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    key: readFileSync(join(dir, 'ca.key'), 'utf8'),
    certFile: join(dir, 'ca.crt'),
    dir,
    name: commonName(subject),
  };
}

function commonName(subject: string): string {
  return /\/CN=([^/]+)/.exec(subject)?.[1] ?? subject;
}

function chainAbove(ca: Ca): string {
  return 'chain' in ca && typeof ca.chain === 'string' ? ca.chain : '';
}

/** An intermediate CA under `issuer` (a root or another intermediate), in its own temp folder. */
export function createIntermediateCa(issuer: Ca, subject: string): IntermediateCa {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-pki-'));
  const id = nextId('int');
  writeFileSync(
    join(issuer.dir, `${id}.ext`),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' +
      'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  openssl(newKeyRequest(join(dir, 'ca.key'), `${id}.csr`, subject), issuer.dir);
  openssl(signWithCa(`${id}.csr`, join(dir, 'ca.crt'), `${id}.ext`), issuer.dir);
  const cert = readFileSync(join(dir, 'ca.crt'), 'utf8');
  return {
    cert,
    key: readFileSync(join(dir, 'ca.key'), 'utf8'),
    certFile: join(dir, 'ca.crt'),
    dir,
    name: commonName(subject),
    issuer,
    chain: cert + chainAbove(issuer),
  };
}

/** openssl's validity format for `openssl ca -startdate/-enddate` (GeneralizedTime, UTC). */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/**
 * A server certificate for `names` signed by `ca` with the validity asked for (`openssl ca`, since
 * `openssl x509 -req` of OpenSSL 3.0 cannot set a start date). `chain` is the leaf plus the
 * intermediates above it; the root is left out, as a real server sends it.
 */
export function issueServerCertWithOptions(ca: Ca, names: string[], opts: CertOptions = {}): ServerCert {
  const id = nextId('srv');
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = opts.notAfter ?? new Date(Date.now() + 30 * 86_400_000);
  writeServerExtensions(ca, id, names);
  writeFileSync(join(ca.dir, `${id}.index`), '');
  writeFileSync(join(ca.dir, `${id}.serial`), `${(Date.now() * 1000 + serial).toString(16).padStart(16, '0')}\n`);
  writeFileSync(
    join(ca.dir, `${id}.cnf`),
    [
      '[ca]',
      'default_ca = lab',
      '[lab]',
      `database = ${id}.index`,
      `serial = ${id}.serial`,
      'new_certs_dir = .',
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'email_in_dn = no',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl(newKeyRequest(`${id}.key`, `${id}.csr`, `/CN=${names[0] ?? 'localhost'}`), ca.dir);
  openssl(
    [
      'ca',
      '-batch',
      '-notext',
      '-config',
      `${id}.cnf`,
      '-cert',
      'ca.crt',
      '-keyfile',
      'ca.key',
      '-in',
      `${id}.csr`,
      '-out',
      `${id}.crt`,
      '-startdate',
      asn1Time(notBefore),
      '-enddate',
      asn1Time(notAfter),
      '-extfile',
      `${id}.ext`,
    ],
    ca.dir,
  );
  const cert = readFileSync(join(ca.dir, `${id}.crt`), 'utf8');
  return { cert, key: readFileSync(join(ca.dir, `${id}.key`), 'utf8'), chain: cert + chainAbove(ca) };
}
