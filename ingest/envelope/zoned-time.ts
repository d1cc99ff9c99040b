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
/** Per zone: its offset when it has not changed in decades (most of Asia), else offsets by hour. */
interface ZoneOffsets {
  fixed: number | undefined;
  byHour: Map<number, number>;
}
const zones = new Map<string, ZoneOffsets>();
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

/** Offset of `zone` at `epochMs` straight from ICU. */
function icuOffset(zone: string, epochMs: number): number {
  let year = 0;
  let month = 0;
  let day = 0;
  let h = 0;
  let m = 0;
  let s = 0;
  for (const part of formatterFor(zone).formatToParts(epochMs)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
    else if (part.type === 'day') day = Number(part.value);
    else if (part.type === 'hour') h = Number(part.value);
    else if (part.type === 'minute') m = Number(part.value);
    else if (part.type === 'second') s = Number(part.value);
  }
  return Date.UTC(year, month - 1, day, h, m, s) - epochMs;
}

/**
 * A zone whose offset was the same on 1 January and 1 July of every year 1990–2040 is treated as fixed
 * (Asia/Ho_Chi_Minh has been +07:00 since 1975): no lookup per timestamp at all.
 */
function offsetsOf(zone: string): ZoneOffsets {
  let offsets = zones.get(zone);
  if (!offsets) {
    let fixed: number | undefined = icuOffset(zone, Date.UTC(1990, 0, 1));
    for (let year = 1990; year <= 2040 && fixed !== undefined; year++) {
      if (
        icuOffset(zone, Date.UTC(year, 0, 1)) !== fixed ||
        icuOffset(zone, Date.UTC(year, 6, 1)) !== fixed
      ) {
        fixed = undefined;
      }
    }
    offsets = { fixed, byHour: new Map() };
    zones.set(zone, offsets);
  }
  return offsets;
}

/** Offset of `zone` from UTC at instant `epochMs`, in ms (Asia/Ho_Chi_Minh → +25 200 000). */
export function zoneOffsetAt(zone: string, epochMs: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const offsets = offsetsOf(zone);
  if (offsets.fixed !== undefined) return offsets.fixed;
  const hour = Math.floor(epochMs / HOUR_MS);
  const cached = offsets.byHour.get(hour);
  if (cached !== undefined) return cached;
  const offset = icuOffset(zone, hour * HOUR_MS);
  if (offsets.byHour.size >= OFFSET_CACHE_LIMIT) offsets.byHour.clear();
  offsets.byHour.set(hour, offset);
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

/** The last year asked for, with the span of instants it covers: a stream asks about the same year. */
let yearMemo = { zone: '', from: 0, to: -1, year: 0 };

/** Calendar year in `zone` at instant `epochMs`. */
export function yearInZone(zone: string, epochMs: number): number {
  const memo = yearMemo;
  if (memo.zone === zone && epochMs >= memo.from && epochMs < memo.to) return memo.year;
  const offset = zoneOffsetAt(zone, epochMs);
  const year = new Date(epochMs + offset).getUTCFullYear();
  // The same local day has the same year; in a zone with offset changes, trust it for one UTC hour only.
  const dayEnd = Math.floor((epochMs + offset) / DAY_MS) * DAY_MS + DAY_MS - offset;
  const dayStart = dayEnd - DAY_MS;
  const hourStart = Math.floor(epochMs / HOUR_MS) * HOUR_MS;
  yearMemo =
    offsetsOf(zone).fixed !== undefined
      ? { zone, from: dayStart, to: dayEnd, year }
      : { zone, from: Math.max(dayStart, hourStart), to: Math.min(dayEnd, hourStart + HOUR_MS), year };
  return year;
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
  const thisYear = candidateEpoch(zone, year, month, day, hour, minute, second, millis);
  if (thisYear <= limit) {
    // Next year's date can only be within reach when this year's is almost a year old (New Year's Eve).
    if (thisYear <= receivedAt - 363 * DAY_MS) {
      const nextYear = candidateEpoch(zone, year + 1, month, day, hour, minute, second, millis);
      if (nextYear <= limit) return nextYear;
    }
    return thisYear;
  }
  const lastYear = candidateEpoch(zone, year - 1, month, day, hour, minute, second, millis);
  if (lastYear <= limit) return lastYear;
  // Feb 29 with no leap year in reach: the most recent leap year.
  let leap = year - 1;
  while (!isLeapYear(leap)) leap--;
  return zonedTimeToEpoch(zone, leap, month, day, hour, minute, second, millis);
}

/** The instant for one candidate year; NaN for 29 February in a common year (never chosen). */
function candidateEpoch(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): number {
  if (month === 2 && day === 29 && !isLeapYear(year)) return Number.NaN;
  return zonedTimeToEpoch(zone, year, month, day, hour, minute, second, millis);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
