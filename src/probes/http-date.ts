/**
 * The HTTP `Date` header (RFC 9110 §5.6.7) and the clock offset it gives (CONTRACT 7.4).
 *
 * A recipient must accept three forms: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, what every
 * current server sends), and the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
 * (`Sun Nov  6 08:49:37 1994`) forms. Parsed by hand, strictly: Date.parse accepts far more (and
 * differs between engines), and a wrong date here would become a wrong CLOCK_SKEW.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const IMF = /^([A-Z][a-z]{2}), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850 = /^([A-Z][a-z]{5,8}), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^([A-Z][a-z]{2}) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function build(
  dayName: string,
  names: readonly string[],
  day: string,
  month: string,
  year: number,
  hh: string,
  mm: string,
  ss: string,
): Date | null {
  const mon = MONTHS.indexOf(month);
  const weekday = names.indexOf(dayName);
  if (mon === -1 || weekday === -1) return null;
  const d = Number(day.trim());
  const [h, m, s] = [Number(hh), Number(mm), Number(ss)];
  // 60 is a leap second (the grammar allows it); it is read as :59 so Date does not roll over.
  if (h > 23 || m > 59 || s > 60 || d < 1) return null;
  const ms = Date.UTC(year, mon, d, h, m, Math.min(s, 59));
  const date = new Date(ms);
  // Date.UTC rolls 31 Feb into March: a date that does not round-trip is not a date.
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mon || date.getUTCFullYear() !== year) return null;
  // The day name is redundant, and a mismatch means the text was made up or garbled.
  if (date.getUTCDay() !== weekday) return null;
  return date;
}

/**
 * The instant of an HTTP-date, or null for anything else (never throws). `now` is only used for
 * the two-digit year of RFC 850: per RFC 9110, a year more than 50 years in the future is read as
 * the most recent past year with the same last two digits.
 */
export function parseHttpDate(text: string | null | undefined, now: Date = new Date()): Date | null {
  if (typeof text !== 'string') return null;
  const value = text.trim();
  let m = IMF.exec(value);
  if (m) return build(m[1]!, SHORT_DAYS, m[2]!, m[3]!, Number(m[4]), m[5]!, m[6]!, m[7]!);
  m = RFC850.exec(value);
  if (m) {
    const yy = Number(m[4]);
    const thisYear = now.getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return build(m[1]!, LONG_DAYS, m[2]!, m[3]!, year, m[5]!, m[6]!, m[7]!);
  }
  m = ASCTIME.exec(value);
  if (m) return build(m[1]!, SHORT_DAYS, m[3]!, m[2]!, Number(m[7]), m[4]!, m[5]!, m[6]!);
  return null;
}

export interface ClockOffset {
  /** Local clock minus the server's; negative: this machine is behind. */
  offsetMs: number;
  /** How far the true offset may be from offsetMs: half the round trip plus half a second. */
  uncertaintyMs: number;
}

/**
 * The local clock's offset from a server's `Date`, from one request: `sentAt` is the local wall
 * clock when the request left, `receivedAt` when the answer's first byte came back (both ms since
 * the epoch, the local clock). The server stamped its Date somewhere in between, so the local
 * time at that moment is taken as the midpoint: half the round trip is the correction.
 *
 * The Date header has one-second resolution and servers truncate (12:00:00.900 is sent as
 * 12:00:00), so the server's clock was, on average, half a second past the stamp: 500 ms is added
 * to the server time, and the answer is good to ±(rtt/2 + 500 ms). That is far inside CLOCK_SKEW's
 * 30 s threshold; the point is not to be biased.
 */
export function clockOffset(serverDate: Date, sentAt: number, receivedAt: number): ClockOffset | null {
  const server = serverDate.getTime();
  if (!Number.isFinite(server) || !Number.isFinite(sentAt) || !Number.isFinite(receivedAt) || receivedAt < sentAt)
    return null;
  const localMid = (sentAt + receivedAt) / 2;
  return {
    offsetMs: Math.round(localMid - (server + 500)),
    uncertaintyMs: Math.round((receivedAt - sentAt) / 2 + 500),
  };
}
