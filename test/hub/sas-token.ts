/**
 * Module SAS tokens as IoT Hub checks them on CONNECT:
 * `SharedAccessSignature sr={urlenc(hub/devices/d/modules/m)}&sig={urlenc(b64 HMAC)}&se={epoch s}`,
 * where the HMAC-SHA256 is keyed with the module's key and covers `sr + "\n" + se` (sr still encoded).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SasRefusal = 'malformed-token' | 'wrong-resource' | 'expired-token' | 'bad-signature';

export interface SasCheck {
  ok: boolean;
  reason?: SasRefusal;
  /** Expiry from `se`, when it parsed; kept for assertions about token renewal (not secret). */
  expiresAt?: Date;
}

/** HMAC-SHA256 with a base64 key over `data`, base64 encoded: what the workload `sign` call returns. */
export function hmacBase64(keyBase64: string, data: Buffer | string): string {
  return createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(data).digest('base64');
}

export const moduleResource = (hubHostName: string, deviceId: string, moduleId: string): string =>
  `${hubHostName}/devices/${deviceId}/modules/${moduleId}`;

/** Builds a token the way the SDK does; used by tests to forge good and bad tokens. */
export function makeModuleSasToken(resource: string, keyBase64: string, expiresAtEpochSeconds: number): string {
  const sr = encodeURIComponent(resource);
  const sig = encodeURIComponent(hmacBase64(keyBase64, `${sr}\n${expiresAtEpochSeconds}`));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expiresAtEpochSeconds}`;
}

function parseToken(token: string): Map<string, string> | undefined {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return fields;
}

export function checkModuleSasToken(token: string, resource: string, keyBase64: string, now = Date.now()): SasCheck {
  const fields = parseToken(token);
  const sr = fields?.get('sr');
  const sig = fields?.get('sig');
  const se = fields?.get('se');
  if (!sr || !sig || !se || !/^\d+$/.test(se)) return { ok: false, reason: 'malformed-token' };
  const expiresAt = new Date(Number(se) * 1000);
  let decodedSr: string;
  let decodedSig: Buffer;
  try {
    decodedSr = decodeURIComponent(sr);
    decodedSig = Buffer.from(decodeURIComponent(sig), 'base64');
  } catch {
    return { ok: false, reason: 'malformed-token', expiresAt };
  }
  // The SDK escapes a few more characters than encodeURIComponent (!'()*), so compare decoded.
  if (decodedSr !== resource) return { ok: false, reason: 'wrong-resource', expiresAt };
  if (expiresAt.getTime() <= now) return { ok: false, reason: 'expired-token', expiresAt };
  const expected = Buffer.from(hmacBase64(keyBase64, `${sr}\n${se}`), 'base64');
  const good = expected.length === decodedSig.length && timingSafeEqual(expected, decodedSig);
  return good ? { ok: true, expiresAt } : { ok: false, reason: 'bad-signature', expiresAt };
}
