/**
 * Wall-clock times without an offset (RFC 3164, ISO 8601 without a zone) read in an IANA zone, and the
 * RFC 3164 year inference. Offsets come from Intl (the ICU zone data shipped with Node), cached per zone
 * and hour: a live stream asks for the same hour again and again, so ICU is consulted rarely.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * An RFC 3164 timestamp may lie this far in the future of its receive time (sender clock ahead, zone set
 * one off) and still be taken as the current year; beyond it the message is from last year.
 */
export const YEAR_INFERENCE_FUTURE_GRACE_MS = DAY_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();
const OFFSET_CACHE_LIMIT = 4096;

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** True when `zone` is an IANA zone name this runtime knows. */
export function isKnownTimezone(zone: string): boolean {
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `zone` from UTC at instant `epochMs`, in ms (Asia/Ho_Chi_Minh → +25 200 000). */
export function zoneOffsetAt(zone: string, epochMs: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const hour = Math.floor(epochMs / HOUR_MS);
  const key = zone + hour;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const hourStart = hour * HOUR_MS;
  let year = 0;
  let month = 0;
  let day = 0;
  let h = 0;
  let m = 0;
  let s = 0;
  for (const part of formatterFor(zone).formatToParts(hourStart)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
    else if (part.type === 'day') day = Number(part.value);
    else if (part.type === 'hour') h = Number(part.value);
    else if (part.type === 'minute') m = Number(part.value);
    else if (part.type === 'second') s = Number(part.value);
  }
  const offset = Date.UTC(year, month - 1, day, h, m, s) - hourStart;
  if (offsetCache.size >= OFFSET_CACHE_LIMIT) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

/**
 * The instant at which the wall clock in `zone` reads the given time. In a DST overlap this is the first
 * occurrence; a time inside a DST gap (which no clock showed) is read with the offset before the gap.
 */
export function zonedTimeToEpoch(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const first = wall - zoneOffsetAt(zone, wall);
  return wall - zoneOffsetAt(zone, first);
}

/** Calendar year in `zone` at instant `epochMs`. */
export function yearInZone(zone: string, epochMs: number): number {
  return new Date(epochMs + zoneOffsetAt(zone, epochMs)).getUTCFullYear();
}

/**
 * RFC 3164 timestamps have no year. Take the latest of last, this and next year (in the source's zone) that
 * does not put the message more than a day after its receipt: a "Dec 31 23:59:59" line received on
 * 1 January belongs to the old year, a "Jan  1 00:00:02" line received a few seconds before midnight on
 * 31 December (sender clock slightly ahead) to the new one, and old lines replayed from a file land in the
 * past, never months ahead.
 */
export function inferYearEpoch(
  zone: string,
  receivedAt: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): number {
  const year = yearInZone(zone, receivedAt);
  const limit = receivedAt + YEAR_INFERENCE_FUTURE_GRACE_MS;
  for (let candidate = year + 1; candidate >= year - 1; candidate--) {
    // Feb 29 only exists in leap years: skip candidates where it would roll over to March.
    if (month === 2 && day === 29 && !isLeapYear(candidate)) continue;
    const epoch = zonedTimeToEpoch(zone, candidate, month, day, hour, minute, second, millis);
    if (epoch <= limit) return epoch;
  }
  // Feb 29 with no leap year in reach: the most recent leap year.
  let leap = year - 1;
  while (!isLeapYear(leap)) leap--;
  return zonedTimeToEpoch(zone, leap, month, day, hour, minute, second, millis);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
