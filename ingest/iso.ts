/** ISO 8601 in UTC; `subMillis` digits (microseconds and beyond) are appended rather than lost. */
export function isoOf(epochMs: number, subMillis?: string): string {
  const iso = new Date(epochMs).toISOString();
  return subMillis ? `${iso.slice(0, -1)}${subMillis}Z` : iso;
}
