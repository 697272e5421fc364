/**
 * The roots the TLS probes trust: the VM's own CA bundle + `--ca-file`, and nothing else
 * (CONTRACT 7.3). IoT Edge's daemons verify with OpenSSL against the OS store; Node's bundled
 * Mozilla roots would hide a root the VM lacks (the genuine DigiCert chain that aziot-identityd
 * cannot verify), so they never make a chain trusted here. They are kept aside, parsed on demand,
 * only to say whether an unverified chain is a genuine public one (tls-chain.ts).
 *
 * Which bundle: CBL-Mariner's /etc/pki/tls/certs/ca-bundle.crt first. In the module (an Alpine
 * image), the deployment binds the VM's /etc/pki read-only, so the VM's bundle must win over the
 * image's own /etc/ssl/certs; on Debian/Ubuntu (CI, a workstation) there is no /etc/pki and the
 * Debian bundle is the store. With no bundle at all only `--ca-file` is trusted, and that is said:
 * IoT Edge's own TLS would have no roots either.
 * Built once per check and shared by every TLS probe (parsing ~150 roots is the costly part).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { errorCode, errorMessage } from '../util/errors.js';
import { readUtf8, type ReadText } from '../util/files.js';
import type { Trust as TrustForCheck } from './types.js';

/** First existing wins: CBL-Mariner/RHEL (the VM's, bound into the module), Debian/Ubuntu/Alpine, then BSD-style. */
export const SYSTEM_CA_BUNDLES = [
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/ssl/cert.pem',
] as const;

export interface Trust extends TrustForCheck {
  /** The system bundle that was added, or null when none was found. */
  systemBundle: string | null;
  /** How many certificates the ca-file contributed. */
  caFileCertificates: number;
}

/**
 * The context built last, reused while the roots are unchanged: one holder per process (src/deps.ts),
 * passed in, so nothing is cached behind a caller's back.
 */
export interface TrustCache {
  last: { key: string; context: SecureContext; systemBundle: string | null; problems: string[] } | null;
  /** Node's bundled roots, parsed the first time a chain needs them (see publicRoots). */
  publicRoots?: X509Certificate[];
}

/** Node's bundled roots as certificates, parsed once per cache (a few milliseconds, only when needed). */
export function publicRoots(cache: TrustCache): readonly X509Certificate[] {
  if (cache.publicRoots === undefined) {
    const parsed: X509Certificate[] = [];
    for (const pem of rootCertificates) {
      try {
        parsed.push(new X509Certificate(pem));
      } catch {
        // a bundled root Node itself could not parse is no evidence either way
      }
    }
    cache.publicRoots = parsed;
  }
  return cache.publicRoots;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export async function loadTrust(
  caFile: string | null,
  readFile: ReadText = readUtf8,
  cache: TrustCache = { last: null },
): Promise<Trust> {
  const problems: string[] = [];

  let systemBundle: string | null = null;
  let systemPem: string | null = null;
  for (const path of SYSTEM_CA_BUNDLES) {
    try {
      systemPem = await readFile(path);
      systemBundle = path;
      break;
    } catch (error) {
      // A missing candidate is the normal case on every distribution but one; anything else is worth saying.
      if (errorCode(error) !== 'ENOENT')
        problems.push(`could not read the system CA bundle ${path}: ${errorMessage(error)}`);
    }
  }

  const extra: string[] = [];
  if (caFile !== null) {
    try {
      const text = await readFile(caFile);
      const blocks = text.match(PEM_CERT) ?? [];
      let bad = 0;
      for (const block of blocks) {
        try {
          new X509Certificate(block);
          extra.push(block);
        } catch {
          bad++;
        }
      }
      if (blocks.length === 0) {
        problems.push(
          `--ca-file ${caFile} contains no PEM certificate (expected "-----BEGIN CERTIFICATE-----" blocks); it was ` +
            `ignored`,
        );
      } else if (bad > 0) {
        problems.push(
          `--ca-file ${caFile}: ${bad} of ${blocks.length} certificate block(s) could not be parsed and were ignored`,
        );
      }
    } catch (error) {
      problems.push(`could not read --ca-file ${caFile}: ${errorMessage(error)}`);
    }
  }

  // Parsing ~300 roots into an OpenSSL store costs milliseconds and native memory that the module
  // would otherwise pay on every check: the same roots give the same (immutable) context.
  const key = createHash('sha256')
    .update(systemPem ?? '')
    .update('\0')
    .update(extra.join('\n'))
    .digest('hex');
  if (cache.last?.key === key) {
    return {
      secureContext: cache.last.context,
      problems: [...problems, ...cache.last.problems],
      systemBundle: cache.last.systemBundle,
      caFileCertificates: extra.length,
    };
  }
  const before = problems.length;

  if (systemPem === null)
    problems.push(
      `no system CA bundle was found (${SYSTEM_CA_BUNDLES.join(', ')}): only --ca-file is trusted, and IoT Edge's ` +
        `own TLS would have no roots either`,
    );
  let secureContext: SecureContext;
  try {
    // Node adds its bundled roots only when no `ca` is given at all: an empty list is an empty store.
    secureContext = createSecureContext({ ca: systemPem === null ? extra : [systemPem, ...extra] });
  } catch (error) {
    // A corrupt system bundle must not take the whole TLS check down: fall back to what we validated.
    if (systemPem !== null)
      problems.push(`the system CA bundle ${systemBundle} could not be loaded and was ignored: ${errorMessage(error)}`);
    systemBundle = null;
    secureContext = createSecureContext({ ca: extra });
  }
  cache.last = { key, context: secureContext, systemBundle, problems: problems.slice(before) };
  return { secureContext, problems, systemBundle, caFileCertificates: extra.length };
}
