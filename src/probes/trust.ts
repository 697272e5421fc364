/**
 * The roots the TLS probes trust. Node verifies against its own bundled Mozilla roots only, but an
 * EFLOW VM's operator adds corporate roots to the OS bundle, and IoT Edge itself trusts that
 * bundle; so we trust Node's roots + the system bundle + `--ca-file`, like the edge runtime would.
 * Built once per check and shared by every TLS probe (parsing ~300 roots is the costly part).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { errorCode, errorMessage } from '../util/errors.js';
import { readUtf8, type ReadText } from '../util/files.js';
import type { Trust as TrustForCheck } from './types.js';

/** First existing wins: Debian/Ubuntu/Alpine, CBL-Mariner/RHEL, then the BSD/macOS-style path. */
export const SYSTEM_CA_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
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
          `--ca-file ${caFile} contains no PEM certificate (expected "-----BEGIN CERTIFICATE-----" blocks); it was ignored`,
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

  const ca = [...rootCertificates, ...extra];
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext({ ca: systemPem === null ? ca : [...ca, systemPem] });
  } catch (error) {
    // A corrupt system bundle must not take the whole TLS check down: fall back to what we validated.
    if (systemPem !== null)
      problems.push(`the system CA bundle ${systemBundle} could not be loaded and was ignored: ${errorMessage(error)}`);
    systemBundle = null;
    secureContext = createSecureContext({ ca });
  }
  cache.last = { key, context: secureContext, systemBundle, problems: problems.slice(before) };
  return { secureContext, problems, systemBundle, caFileCertificates: extra.length };
}
