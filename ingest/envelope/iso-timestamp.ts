import { zonedTimeToEpoch } from './zoned-time.js';

/** An RFC 3339 / ISO 8601 timestamp read from a header. */
export interface ParsedTimestamp {
  epoch: number;
  /** Fraction digits beyond milliseconds. */
  subMillis?: string;
  /** No offset was written: the time was read in the given zone. */
  zoneAssumed: boolean;
}

function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1; // also NaN past the end
    value = value * 10 + c;
  }
  return value;
}

/**
 * Parses `YYYY-MM-DDThh:mm:ss[.f{1,9}][Z|±hh:mm|±hhmm]` occupying exactly `text[start, end)`. Without an
 * offset the wall time is read in `zone`. Returns `undefined` for anything else, including impossible
 * dates (month 13, 30 February, hour 24).
 */
export function parseIsoTimestamp(
  text: string,
  start: number,
  end: number,
  zone: string,
): ParsedTimestamp | undefined {
  if (end - start < 19) return undefined;
  const year = digits(text, start, 4);
  const month = digits(text, start + 5, 2);
  const day = digits(text, start + 8, 2);
  const hour = digits(text, start + 11, 2);
  const minute = digits(text, start + 14, 2);
  const second = digits(text, start + 17, 2);
  const sep = text.charCodeAt(start + 10);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    text.charCodeAt(start + 4) !== 45 ||
    text.charCodeAt(start + 7) !== 45 ||
    (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32) ||
    text.charCodeAt(start + 13) !== 58 ||
    text.charCodeAt(start + 16) !== 58 ||
    day > daysInMonth(year, month)
  ) {
    return undefined;
  }
  let i = start + 19;
  let millis = 0;
  let subMillis: string | undefined;
  if (text.charCodeAt(i) === 46 /* . */ || text.charCodeAt(i) === 44 /* , */) {
    const fracStart = ++i;
    while (i < end && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    const fracLength = i - fracStart;
    if (fracLength === 0 || fracLength > 9) return undefined;
    const padded =
      fracLength >= 3 ? text.slice(fracStart, fracStart + 3) : text.slice(fracStart, i).padEnd(3, '0');
    millis = Number(padded);
    if (fracLength > 3) subMillis = text.slice(fracStart + 3, i);
  }
  // A leap second (:60) is kept as the last millisecond of the minute, as Date cannot represent it.
  const sec = second === 60 ? 59 : second;
  if (second === 60) millis = 999;
  if (i === end) {
    const epoch = zonedTimeToEpoch(zone, year, month, day, hour, minute, sec, millis);
    return subMillis === undefined ? { epoch, zoneAssumed: true } : { epoch, subMillis, zoneAssumed: true };
  }
  const c = text.charCodeAt(i);
  let offsetMinutes: number;
  if ((c === 90 /* Z */ || c === 122) && i + 1 === end) {
    offsetMinutes = 0;
  } else if (c === 43 /* + */ || c === 45 /* - */) {
    const oh = digits(text, i + 1, 2);
    let om: number;
    if (end - i === 6 && text.charCodeAt(i + 3) === 58) om = digits(text, i + 4, 2);
    else if (end - i === 5) om = digits(text, i + 3, 2);
    else if (end - i === 3) om = 0;
    else return undefined;
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMinutes = (c === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return undefined;
  }
  const epoch = Date.UTC(year, month - 1, day, hour, minute, sec, millis) - offsetMinutes * 60_000;
  return subMillis === undefined ? { epoch, zoneAssumed: false } : { epoch, subMillis, zoneAssumed: false };
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
