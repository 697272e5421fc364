import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockOffset, parseHttpDate } from '../../src/probes/http-date.js';

const NOW = new Date('2026-12-02T06:00:00Z');

const VALID: Array<[string, string]> = [
  ['Sun, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // IMF-fixdate
  ['Sunday, 06-Nov-94 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // RFC 850
  ['Sun Nov  6 08:49:37 1994', '1994-11-06T08:49:37.000Z'], // asctime
  ['Wed, 02 Dec 2026 05:59:58 GMT', '2026-12-02T05:59:58.000Z'],
  ['  Wed, 02 Dec 2026 05:59:58 GMT  ', '2026-12-02T05:59:58.000Z'],
  ['Thu, 29 Feb 2024 00:00:00 GMT', '2024-02-29T00:00:00.000Z'], // a leap day
  ['Wed, 31 Dec 2025 23:59:60 GMT', '2025-12-31T23:59:59.000Z'], // a leap second reads as :59
  // RFC 850's two-digit year: more than 50 years ahead means the previous century
  ['Wednesday, 02-Dec-26 06:00:00 GMT', '2026-12-02T06:00:00.000Z'],
  ['Wednesday, 02-Dec-76 06:00:00 GMT', '2076-12-02T06:00:00.000Z'],
  ['Friday, 02-Dec-77 06:00:00 GMT', '1977-12-02T06:00:00.000Z'],
  ['Sat Dec 12 05:59:58 2026', '2026-12-12T05:59:58.000Z'],
];

for (const [text, iso] of VALID) {
  test(`parseHttpDate(${JSON.stringify(text)})`, () => {
    assert.equal(parseHttpDate(text, NOW)?.toISOString(), iso);
  });
}

const INVALID: unknown[] = [
  '',
  'garbage',
  'Mon, 32 Jan 2024 00:00:00 GMT', // no 32nd
  'Fri, 30 Feb 2024 00:00:00 GMT', // no 30 Feb
  'Mon, 29 Feb 2023 00:00:00 GMT', // 2023 is no leap year
  'Mon, 06 Nov 1994 08:49:37 GMT', // it was a Sunday
  'Sun, 06 Nov 1994 24:00:00 GMT',
  'Sun, 06 Nov 1994 08:60:00 GMT',
  'Sun, 06 Nov 1994 08:49:37 UTC', // must be GMT
  'Sun, 06 Nov 1994 08:49:37 +0000',
  'sun, 06 nov 1994 08:49:37 gmt', // case-sensitive, as the grammar is
  'Sun, 6 Nov 1994 08:49:37 GMT', // two-digit day in IMF-fixdate
  'Sun, 06 Foo 1994 08:49:37 GMT',
  '2026-12-02T06:00:00Z', // ISO 8601 is no HTTP-date
  '1733119200',
  'Sun Nov 6 08:49:37 1994', // asctime pads the day with a space
  null,
  undefined,
  42,
];

test('parseHttpDate: anything else is null, never a throw', () => {
  for (const text of INVALID) {
    assert.equal(parseHttpDate(text as string, NOW), null, JSON.stringify(text));
  }
});

test('clockOffset: local minus server, at the midpoint of the round trip, +500 ms for the truncated second', () => {
  const server = new Date('2026-12-02T06:00:00Z');
  const at = server.getTime();
  // Request left at server time +0.1 s, answer at +0.3 s: local midpoint +0.2 s; the server was at +0.5 s on average.
  assert.deepEqual(clockOffset(server, at + 100, at + 300), { offsetMs: -300, uncertaintyMs: 600 });
  // A VM 10 minutes behind.
  const behind = clockOffset(server, at - 600_000, at - 600_000 + 40);
  assert.ok(behind && Math.abs(behind.offsetMs + 600_000) <= behind.uncertaintyMs);
  // A VM 2 minutes ahead.
  const ahead = clockOffset(server, at + 120_000, at + 120_010);
  assert.ok(ahead && Math.abs(ahead.offsetMs - 120_000) <= ahead.uncertaintyMs);
  assert.equal(clockOffset(server, at + 10, at), null, 'an answer before the request is no measurement');
  assert.equal(clockOffset(new Date(Number.NaN), at, at), null);
});
