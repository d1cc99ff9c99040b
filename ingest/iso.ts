/**
 * ISO 8601 in UTC, as `Date#toISOString` writes it, without a Date per call: the date part is cached per
 * UTC day and the time of day is assembled from a two-digit table. Runs twice per event (`@timestamp`,
 * `event.ingested`). `subMillis` digits (microseconds and beyond) are appended rather than lost.
 */
const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : String(n)));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
let cachedDay = Number.NaN;
/** The last conversion, so that reading a time back (clock-skew check) needs no Date.parse. */
let lastEpoch = Number.NaN;
let lastIso = '';
let cachedDate = '';

export function isoOf(epochMs: number, subMillis?: string): string {
  const day = Math.floor(epochMs / DAY_MS);
  // Years outside 0000–9999 need toISOString's extended form.
  if (!(epochMs >= -62167219200000 && epochMs < 253402300800000)) {
    const iso = new Date(epochMs).toISOString();
    return subMillis ? `${iso.slice(0, -1)}${subMillis}Z` : iso;
  }
  if (day !== cachedDay) {
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  let ms = epochMs - day * DAY_MS;
  const hours = Math.floor(ms / 3_600_000);
  ms -= hours * 3_600_000;
  const minutes = Math.floor(ms / 60_000);
  ms -= minutes * 60_000;
  const seconds = Math.floor(ms / 1000);
  const millis = Math.floor(ms - seconds * 1000);
  const iso = `${cachedDate}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}${subMillis ?? ''}Z`;
  lastEpoch = epochMs;
  lastIso = iso;
  return iso;
}

/** Epoch ms of an ISO string: free when it is the one `isoOf` wrote last, else `Date.parse`. */
export function epochOfIso(iso: string): number {
  return iso === lastIso ? lastEpoch : Date.parse(iso);
}
