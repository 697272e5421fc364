import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyTwinPatch, mergeTwinPatch, TWIN_LIMITS, twinSectionSize, validateTwinPatch } from './twin-rules.js';
import type { Json, JsonObject } from './twin-rules.js';

/** `{ l0: { l1: … { lN: leaf } } }`: N nested objects below the root (as in the dev guide's "one" … "ten"). */
function nested(levels: number, leaf: Json = 1): JsonObject {
  let value: Json = leaf;
  for (let i = levels; i >= 0; i--) value = { [`l${i}`]: value };
  return value as JsonObject;
}

const ruleOf = (patch: unknown): string | undefined => validateTwinPatch(patch)?.rule;

describe('validateTwinPatch: property names', () => {
  it('accepts ordinary names, including non-ASCII letters', () => {
    assert.equal(
      validateTwinPatch({ status: 'ok', lastCheck: { durationMs: 3 }, größe: 1, 'a-b_c:d': true }),
      undefined,
    );
  });

  for (const [label, key] of [
    ['a dot', 'a.b'],
    ['a dollar', '$version'],
    ['a space', 'a b'],
    ['a hash', 'a#b'],
    ['a tab', 'a\tb'],
    ['a NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['a no-break space', 'a\u00a0b'],
  ] as const) {
    it(`refuses a name with ${label}`, () => {
      const v = validateTwinPatch({ outer: { [key]: 1 } });
      assert.equal(v?.rule, 'key-invalid-char');
      assert.equal(v?.path, `/outer/${key}`);
    });
  }

  it('refuses an empty name', () => assert.equal(ruleOf({ '': 1 }), 'key-empty'));

  it('counts the name limit in UTF-8 bytes (1024)', () => {
    assert.equal(ruleOf({ ['k'.repeat(1024)]: 1 }), undefined);
    assert.equal(ruleOf({ ['k'.repeat(1025)]: 1 }), 'key-too-long');
    assert.equal(ruleOf({ ['é'.repeat(513)]: 1 }), 'key-too-long'); // 1026 bytes, 513 characters
  });
});

describe('validateTwinPatch: values', () => {
  it('counts the string limit in UTF-8 bytes (4096)', () => {
    assert.equal(ruleOf({ s: 'x'.repeat(4096) }), undefined);
    assert.equal(ruleOf({ s: 'x'.repeat(4097) }), 'string-too-long');
    assert.equal(ruleOf({ s: '€'.repeat(1366) }), 'string-too-long'); // 4098 bytes
    assert.equal(ruleOf({ s: 'x'.repeat(5 * 1024) }), 'string-too-long');
  });

  it('checks strings inside arrays too', () => {
    assert.equal(validateTwinPatch({ list: ['ok', 'x'.repeat(5000)] })?.path, '/list/1');
  });

  it('keeps integers within ±2^52', () => {
    assert.equal(
      ruleOf({ n: TWIN_LIMITS.maxSafeInteger, m: TWIN_LIMITS.minSafeInteger, f: 0.000123, g: -98765.4321 }),
      undefined,
    );
    assert.equal(ruleOf({ n: TWIN_LIMITS.maxSafeInteger + 1 }), 'integer-out-of-range');
    assert.equal(ruleOf({ n: TWIN_LIMITS.minSafeInteger - 1 }), 'integer-out-of-range');
  });

  it('refuses null inside arrays but accepts null members (deletions)', () => {
    assert.equal(ruleOf({ gone: null, list: [1, 2] }), undefined);
    assert.equal(ruleOf({ list: [1, null] }), 'null-in-array');
    assert.equal(ruleOf({ list: [[null]] }), 'null-in-array');
  });

  it('refuses non-objects as a patch', () => {
    for (const p of [null, [], 'x', 3]) assert.equal(ruleOf(p), 'not-an-object');
  });

  it('allows 10 nested objects and refuses 11', () => {
    assert.equal(ruleOf(nested(10)), undefined);
    assert.equal(ruleOf(nested(10, {})), 'too-deep');
    assert.equal(ruleOf(nested(11)), 'too-deep');
  });

  it('counts objects inside arrays as one level deeper than the array member', () => {
    assert.equal(ruleOf({ a: [nested(9)] }), undefined);
    assert.equal(ruleOf({ a: [nested(10)] }), 'too-deep');
  });
});

describe('twinSectionSize', () => {
  it('sums key and value sizes: strings in bytes, numbers 8, booleans 4, ignoring $version', () => {
    // "ab"(2)+"xyz"(3) + "n"(1)+8 + "b"(1)+4 + "o"(1)+"k"(1)+"é"(2) + "l"(1)+8+8
    assert.equal(
      twinSectionSize({ ab: 'xyz', n: 42, b: true, o: { k: 'é' }, l: [1, 2], $version: 7, $metadata: { x: 'y' } }),
      5 + 9 + 5 + 4 + 17,
    );
  });
});

describe('mergeTwinPatch', () => {
  it('deletes members set to null, replaces arrays whole and merges objects recursively', () => {
    const target: JsonObject = { keep: 1, gone: 'x', list: [1, 2, 3], obj: { a: 1, b: { c: 2, d: 3 } } };
    const merged = mergeTwinPatch(target, {
      gone: null,
      list: [9],
      obj: { b: { d: null, e: 4 } },
      added: { x: null, y: 1 },
    });
    assert.deepEqual(merged, { keep: 1, list: [9], obj: { a: 1, b: { c: 2, e: 4 } }, added: { y: 1 } });
  });

  it('replaces a scalar with an object and an object with a scalar', () => {
    assert.deepEqual(mergeTwinPatch({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 'flat' }), { a: { x: 1 }, b: 'flat' });
  });

  it('leaves both inputs untouched', () => {
    const target: JsonObject = { a: { b: [1] } };
    const patch: JsonObject = { a: { b: [2], c: 1 } };
    const before = structuredClone({ target, patch });
    const merged = mergeTwinPatch(target, patch);
    assert.deepEqual({ target, patch }, before);
    (patch['a'] as JsonObject)['c'] = 99;
    assert.equal((merged['a'] as JsonObject)['c'], 1);
  });

  it('treats a __proto__ member as data, not as the prototype', () => {
    const merged = mergeTwinPatch({}, JSON.parse('{"__proto__":{"polluted":true}}') as JsonObject);
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.deepEqual(Object.keys(merged), ['__proto__']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

describe('applyTwinPatch', () => {
  it('returns the merged section and its size', () => {
    const outcome = applyTwinPatch({ a: 1, $version: 4 }, { b: 'xy' });
    assert.deepEqual(outcome, { ok: true, merged: { a: 1, b: 'xy' }, size: 1 + 8 + 1 + 2 });
  });

  it('refuses a patch whose JSON exceeds 32 KB even if the merged section would not', () => {
    // Many small members: the JSON (quotes, commas) is far larger than the metered size.
    const patch: JsonObject = {};
    for (let i = 0; i < 3000; i++) patch[`k${i}`] = true;
    assert.ok(JSON.stringify(patch).length > TWIN_LIMITS.maxSectionBytes);
    assert.ok(twinSectionSize(patch) < TWIN_LIMITS.maxSectionBytes);
    const outcome = applyTwinPatch({}, patch);
    assert.equal(outcome.ok ? 'accepted' : outcome.violation.rule, 'patch-too-large');
  });

  it('uses the on-the-wire size of the patch when given', () => {
    const outcome = applyTwinPatch({}, { a: 1 }, 40_000);
    assert.equal(outcome.ok ? 'accepted' : outcome.violation.rule, 'patch-too-large');
  });

  it('refuses a patch that would grow the section beyond 32 KB, counting what is already there', () => {
    const section: JsonObject = {};
    for (let i = 0; i < 8; i++) section[`s${i}`] = 'x'.repeat(4000); // 8 × 4002 = 32016 bytes
    assert.equal(applyTwinPatch(section, { t: 'x'.repeat(800) }).ok, false);
    assert.equal(applyTwinPatch(section, { t: 'x'.repeat(800), s0: null }).ok, true);
  });

  it('reports the first per-value violation before looking at sizes', () => {
    const outcome = applyTwinPatch({}, { 'bad.key': 'x'.repeat(40_000) });
    assert.equal(outcome.ok ? 'accepted' : outcome.violation.rule, 'key-invalid-char');
  });
});
