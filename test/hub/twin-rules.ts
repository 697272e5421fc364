/**
 * IoT Hub's module-twin rules as pure functions, so the emulator can refuse exactly what the cloud
 * refuses and the rules can be unit tested without a broker.
 *
 * Sources: the device-twins dev guide (limits, size formula, patch semantics) and edgeHub's
 * ReportedPropertiesValidator.cs, whose constants are marked "taken from IoTHub".
 * Where edgeHub is laxer than IoT Hub (it does not look inside arrays except for nulls, and only
 * measures the patch JSON, not the merged document) we apply the stricter IoT Hub rule: a patch
 * edgeHub accepts but the hub later refuses is lost silently on a real device, so a test should fail.
 */

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export const TWIN_LIMITS = {
  /** Nested objects below the section root ("one" … "ten" in the dev guide example). */
  maxDepth: 10,
  maxKeyBytes: 1024,
  maxStringBytes: 4096,
  maxSafeInteger: 4503599627370495, // 2^52 - 1
  minSafeInteger: -4503599627370496, // -2^52
  /** Both the patch JSON (edgeHub) and the merged section (IoT Hub formula). */
  maxSectionBytes: 32 * 1024,
} as const;

export type TwinRule =
  | 'not-an-object'
  | 'unsupported-type'
  | 'key-empty'
  | 'key-invalid-char'
  | 'key-too-long'
  | 'too-deep'
  | 'string-too-long'
  | 'integer-out-of-range'
  | 'null-in-array'
  | 'patch-too-large'
  | 'section-too-large';

export interface TwinViolation {
  rule: TwinRule;
  /** JSON-pointer-like location, e.g. `/findings/3/message`; `` for the whole patch. */
  path: string;
  message: string;
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first character IoT Hub forbids in a property name, if any. */
function forbiddenKeyChar(key: string): string | undefined {
  for (const ch of key) {
    // C0, DEL and C1 controls (.NET char.IsControl), the reserved `.`, `$`, `#`, and any whitespace
    // (.NET char.IsWhiteSpace also covers NBSP, U+2028 and the other Unicode spaces \s matches).
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this checks for
    if (/[\u0000-\u001f\u007f-\u009f.$#\s]/u.test(ch)) return ch;
  }
  return undefined;
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code < 0x21 || (code >= 0x7f && code <= 0xa0) ? `U+${code.toString(16).padStart(4, '0')}` : `'${ch}'`;
}

function checkKey(key: string, path: string): TwinViolation | undefined {
  if (key.length === 0) return { rule: 'key-empty', path, message: 'Property name cannot be empty' };
  if (utf8Bytes(key) > TWIN_LIMITS.maxKeyBytes) {
    return {
      rule: 'key-too-long',
      path,
      message: `Length of property name ${key.slice(0, 10)}.. exceeds maximum length of ${TWIN_LIMITS.maxKeyBytes}`,
    };
  }
  const bad = forbiddenKeyChar(key);
  if (bad !== undefined) {
    return {
      rule: 'key-invalid-char',
      path,
      message: `Property name ${JSON.stringify(key)} contains invalid character ${describeChar(bad)}`,
    };
  }
  return undefined;
}

function checkScalar(value: unknown, path: string): TwinViolation | undefined {
  if (typeof value === 'string') {
    const bytes = utf8Bytes(value);
    if (bytes > TWIN_LIMITS.maxStringBytes) {
      return {
        rule: 'string-too-long',
        path,
        message: `Value at ${path} has length ${bytes} that exceeds maximum length of ${TWIN_LIMITS.maxStringBytes}`,
      };
    }
    return undefined;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      return { rule: 'unsupported-type', path, message: `Value at ${path} is not a finite number` };
    }
    // Judged on the parsed number: a JSON literal like 1e20 counts as an integer here, whereas the
    // service would parse it as a float. Modules should not send such values anyway.
    if (Number.isInteger(value) && (value > TWIN_LIMITS.maxSafeInteger || value < TWIN_LIMITS.minSafeInteger)) {
      return {
        rule: 'integer-out-of-range',
        path,
        message: `Property ${path} has an out of bound value. Valid values are between ${TWIN_LIMITS.minSafeInteger} and ${TWIN_LIMITS.maxSafeInteger}`,
      };
    }
    return undefined;
  }
  if (typeof value === 'boolean' || value === null) return undefined;
  return { rule: 'unsupported-type', path, message: `Value at ${path} has an unsupported type (${typeof value})` };
}

/**
 * `depth` is the number of objects enclosing `value` below the section root, so the root's own
 * members are at depth 0 and an object value at depth d opens depth d + 1.
 */
function checkValue(value: unknown, path: string, depth: number): TwinViolation | undefined {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const itemPath = `${path}/${i}`;
      if (item === null) {
        return {
          rule: 'null-in-array',
          path: itemPath,
          message: `Arrays cannot contain 'null' as value (at ${itemPath})`,
        };
      }
      const v = checkValue(item, itemPath, depth);
      if (v) return v;
    }
    return undefined;
  }
  if (isJsonObject(value)) {
    if (depth + 1 > TWIN_LIMITS.maxDepth) {
      return {
        rule: 'too-deep',
        path,
        message: `Nested depth of twin property exceeds ${TWIN_LIMITS.maxDepth} (at ${path})`,
      };
    }
    return checkMembers(value, path, depth + 1);
  }
  return checkScalar(value, path);
}

function checkMembers(obj: JsonObject, path: string, depth: number): TwinViolation | undefined {
  for (const [key, value] of Object.entries(obj)) {
    const memberPath = `${path}/${key}`;
    const v = checkKey(key, memberPath) ?? checkValue(value, memberPath, depth);
    if (v) return v;
  }
  return undefined;
}

/**
 * Checks a reported (or desired) patch against the per-value rules. Returns the first violation,
 * or undefined when the patch is acceptable. Size limits need the current section: see `applyTwinPatch`.
 */
export function validateTwinPatch(patch: unknown): TwinViolation | undefined {
  if (!isJsonObject(patch)) {
    return { rule: 'not-an-object', path: '', message: 'A twin patch must be a JSON object' };
  }
  return checkMembers(patch, '', 0);
}

/**
 * Size of a twin section as IoT Hub meters it: the sum of key lengths and value lengths, strings in
 * UTF-8 bytes, numbers 8 bytes, booleans 4 bytes. The read-only `$version` / `$metadata` members at
 * the top are excluded, as the dev guide says.
 */
export function twinSectionSize(section: JsonObject): number {
  let size = 0;
  for (const [key, value] of Object.entries(section)) {
    if (key.startsWith('$')) continue;
    size += utf8Bytes(key) + valueSize(value);
  }
  return size;
}

function valueSize(value: Json): number {
  if (value === null) return 0;
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 4;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + valueSize(item), 0);
  return Object.entries(value).reduce((sum, [k, v]) => sum + utf8Bytes(k) + valueSize(v), 0);
}

function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** Plain assignment of a key named `__proto__` (legal in JSON) would change the prototype instead. */
function setMember(obj: JsonObject, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * JSON merge patch (RFC 7386), which is what IoT Hub does with a twin patch: `null` deletes a member,
 * objects merge recursively, anything else (arrays included) replaces the old value whole.
 * Pure: neither argument is modified.
 */
export function mergeTwinPatch(target: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = clone(target);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else if (isJsonObject(value)) {
      const current = Object.hasOwn(result, key) ? result[key] : undefined;
      // Merging into {} also strips nulls nested inside a member that did not exist yet.
      setMember(result, key, mergeTwinPatch(isJsonObject(current) ? current : {}, value));
    } else {
      setMember(result, key, clone(value));
    }
  }
  return result;
}

export type TwinPatchOutcome = { ok: true; merged: JsonObject; size: number } | { ok: false; violation: TwinViolation };

/**
 * Validates `patch` and merges it into `section` (without `$version`), enforcing both size limits:
 * the patch JSON itself (edgeHub) and the merged section (IoT Hub). `patchJsonBytes` is the size of
 * the patch as received on the wire; it defaults to the size of its re-serialisation.
 */
export function applyTwinPatch(section: JsonObject, patch: unknown, patchJsonBytes?: number): TwinPatchOutcome {
  const violation = validateTwinPatch(patch);
  if (violation) return { ok: false, violation };
  const valid = patch as JsonObject;
  const jsonBytes = patchJsonBytes ?? utf8Bytes(JSON.stringify(valid));
  if (jsonBytes > TWIN_LIMITS.maxSectionBytes) {
    return {
      ok: false,
      violation: {
        rule: 'patch-too-large',
        path: '',
        message: `Twin properties size ${jsonBytes} exceeds maximum ${TWIN_LIMITS.maxSectionBytes}`,
      },
    };
  }
  const merged = mergeTwinPatch(stripReadOnly(section), valid);
  const size = twinSectionSize(merged);
  if (size > TWIN_LIMITS.maxSectionBytes) {
    return {
      ok: false,
      violation: {
        rule: 'section-too-large',
        path: '',
        message: `Twin section size ${size} after this patch would exceed maximum ${TWIN_LIMITS.maxSectionBytes}`,
      },
    };
  }
  return { ok: true, merged, size };
}

/** A section without the service-owned `$version` / `$metadata` members. */
export function stripReadOnly(section: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(section).filter(([k]) => !k.startsWith('$')));
}
