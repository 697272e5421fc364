/**
 * The certificate modes of the field hub (LAB.md "The field matrix", CONTRACT 7.3), made on demand
 * for one lab and one host name, each written as a PEM chain and key in the lab's temp dir:
 *   trusted        leaf for the name ← lab CA (what `--ca-file` names)
 *   inspection     leaf for the name ← another CA, as a TLS-inspecting proxy presents
 *   wrong-name     a valid lab-CA leaf for another name (a captive portal, a stale /etc/hosts)
 *   root-missing   leaf ← "Microsoft Azure RSA TLS Issuing CA 03" ← "DigiCert Global Root G2": a chain
 *                  that looks genuine, whose (lab-made) root is not in the lab CA file
 *   not-yet-valid  lab-CA leaf whose notBefore is tomorrow
 *   expired        lab-CA leaf whose notAfter was yesterday
 *   large-chain    leaf (with padding names) ← three intermediates ← lab CA, over LARGE_CHAIN_MIN_BYTES
 *                  of DER, to exceed a small path MTU in the server's first flight
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createIntermediateCa,
  createRootCa,
  issueServerCert,
  issueServerCertWithOptions,
  removeCa,
} from '../support/pki.js';
import type { Ca, ServerCert } from '../support/pki.js';

export const CERT_MODES = [
  'trusted',
  'inspection',
  'wrong-name',
  'root-missing',
  'not-yet-valid',
  'expired',
  'large-chain',
] as const;
export type CertMode = (typeof CERT_MODES)[number];

/** The name on the wrong-name certificate. */
export const WRONG_CERT_NAME = 'portal.contoso-guest.net';
/** The subjects of the genuine-looking chain (the names IoT Hub's chain carries since the G2 migration). */
export const GENUINE_ROOT_SUBJECT = '/C=US/O=DigiCert Inc/OU=www.digicert.com/CN=DigiCert Global Root G2';
export const GENUINE_INTERMEDIATE_SUBJECT = '/C=US/O=Microsoft Corporation/CN=Microsoft Azure RSA TLS Issuing CA 03';
export const GENUINE_ROOT_NAME = 'DigiCert Global Root G2';
export const GENUINE_INTERMEDIATE_NAME = 'Microsoft Azure RSA TLS Issuing CA 03';
/** The large chain's DER size is at least this (several full-size packets). */
export const LARGE_CHAIN_MIN_BYTES = 6144;
const LARGE_CHAIN_PADDING_NAMES = 180;

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export interface FieldCerts {
  /** The chain and key files for `mode` and `host`, made the first time they are asked for. */
  files(mode: CertMode, host: string): CertFiles;
  /** The lab-made "DigiCert Global Root G2" (PEM file): a trust store holding it trusts root-missing. */
  genuineRootFile(): string;
  /** Removes every CA folder it made (the cert files live in the lab dir, removed with it). */
  remove(): void;
}

const DAY_MS = 86_400_000;
/** Modes whose leaf is signed by a root directly (issueServerCert's chain would add the root). */
const ROOT_SIGNED: ReadonlySet<CertMode> = new Set(['trusted', 'inspection', 'wrong-name']);

export function fieldCerts(labCa: Ca, inspectionCa: Ca, dir: string): FieldCerts {
  const made = new Map<string, CertFiles>();
  const ownCas: Ca[] = [];
  let genuine: { root: Ca; intermediate: Ca } | null = null;
  let largeIntermediate: Ca | null = null;

  function genuineChain(): { root: Ca; intermediate: Ca } {
    if (genuine === null) {
      const root = createRootCa(GENUINE_ROOT_SUBJECT);
      ownCas.push(root);
      const intermediate = createIntermediateCa(root, GENUINE_INTERMEDIATE_SUBJECT);
      ownCas.push(intermediate);
      genuine = { root, intermediate };
    }
    return genuine;
  }

  function largeChainIssuer(): Ca {
    if (largeIntermediate === null) {
      let issuer: Ca = labCa;
      for (const n of [1, 2, 3]) {
        issuer = createIntermediateCa(issuer, `/C=US/O=eflow-netdiag lab/CN=eflow-netdiag Lab Intermediate CA ${n}`);
        ownCas.push(issuer);
      }
      largeIntermediate = issuer;
    }
    return largeIntermediate;
  }

  function issue(mode: CertMode, host: string): ServerCert {
    const now = Date.now();
    switch (mode) {
      case 'trusted':
        return issueServerCert(labCa, [host]);
      case 'inspection':
        return issueServerCert(inspectionCa, [host]);
      case 'wrong-name':
        return issueServerCert(labCa, [WRONG_CERT_NAME, `www.${WRONG_CERT_NAME}`]);
      case 'root-missing':
        return issueServerCertWithOptions(genuineChain().intermediate, [host]);
      case 'not-yet-valid':
        return issueServerCertWithOptions(labCa, [host], {
          notBefore: new Date(now + DAY_MS),
          notAfter: new Date(now + 31 * DAY_MS),
        });
      case 'expired':
        return issueServerCertWithOptions(labCa, [host], {
          notBefore: new Date(now - 31 * DAY_MS),
          notAfter: new Date(now - DAY_MS),
        });
      case 'large-chain': {
        const padding = Array.from({ length: LARGE_CHAIN_PADDING_NAMES }, (_, i) => `pad-${i}.${host}`);
        return issueServerCertWithOptions(largeChainIssuer(), [host, ...padding]);
      }
    }
  }

  return {
    files(mode, host) {
      const key = `${mode} ${host}`;
      const existing = made.get(key);
      if (existing !== undefined) return existing;
      const cert = issue(mode, host);
      const base = join(dir, `cert-${mode}-${host}`);
      const files = { certFile: `${base}.crt`, keyFile: `${base}.key` };
      // As a real server does, the root is never sent: a lab-CA leaf goes alone, the others with
      // their intermediates. That also keeps the ordinary first flight under a small path MTU.
      writeFileSync(files.certFile, ROOT_SIGNED.has(mode) ? cert.cert : cert.chain);
      writeFileSync(files.keyFile, cert.key, { mode: 0o600 });
      made.set(key, files);
      return files;
    },
    genuineRootFile() {
      return genuineChain().root.certFile;
    },
    remove() {
      for (const ca of ownCas.splice(0)) removeCa(ca);
    },
  };
}
