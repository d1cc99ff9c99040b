/**
 * ISO 8601 in UTC, as `Date#toISOString` writes it, without a Date per call. Runs twice per event
 * (`@timestamp`, `event.ingested`), for times that come in runs of the same second: the text up to the
 * second (`2024-06-15T13:00:00.`) is remembered for the last two seconds seen (the event time and the
 * receive time alternate), so a call usually joins that prefix with the milliseconds and nothing else.
 * A new second is assembled from the date (cached per UTC day) and a two-digit table. `subMillis` digits
 * (microseconds and beyond) are appended rather than lost.
 */
const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : String(n)));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
/** `000Z` … `999Z`: the end of an ISO string without sub-millisecond digits. */
const MILLIS_Z = THREE_DIGITS.map((digits) => `${digits}Z`);
let cachedDay = Number.NaN;
let cachedDate = '';
/** Two remembered seconds (epoch seconds) and their prefixes; `older` is the one replaced next. */
let second0 = Number.NaN;
let prefix0 = '';
let second1 = Number.NaN;
let prefix1 = '';
let older = 0;
/** The last conversion, so that reading a time back (clock-skew check) needs no Date.parse. */
let lastEpoch = Number.NaN;
let lastIso = '';

export function isoOf(epochMs: number, subMillis?: string): string {
  // Years outside 0000–9999 need toISOString's extended form.
  if (!(epochMs >= -62167219200000 && epochMs < 253402300800000)) {
    const iso = new Date(epochMs).toISOString();
    return subMillis ? `${iso.slice(0, -1)}${subMillis}Z` : iso;
  }
  const second = Math.floor(epochMs / 1000);
  const millis = Math.floor(epochMs - second * 1000);
  let prefix: string;
  if (second === second0) {
    prefix = prefix0;
    older = 1;
  } else if (second === second1) {
    prefix = prefix1;
    older = 0;
  } else {
    prefix = secondPrefix(second);
    if (older === 0) {
      second0 = second;
      prefix0 = prefix;
      older = 1;
    } else {
      second1 = second;
      prefix1 = prefix;
      older = 0;
    }
  }
  const iso = subMillis ? `${prefix}${THREE_DIGITS[millis]}${subMillis}Z` : prefix + MILLIS_Z[millis]!;
  lastEpoch = epochMs;
  lastIso = iso;
  return iso;
}

/** `YYYY-MM-DDTHH:MM:SS.` of an epoch second. */
function secondPrefix(second: number): string {
  const day = Math.floor(second / 86_400);
  if (day !== cachedDay) {
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  let s = second - day * 86_400;
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  return `${cachedDate}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[s]}.`;
}

/** Epoch ms of an ISO string: free when it is the one `isoOf` wrote last, else `Date.parse`. */
export function epochOfIso(iso: string): number {
  return iso === lastIso ? lastEpoch : Date.parse(iso);
}
