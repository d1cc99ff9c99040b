/**
 * The per-process record sequence (RawRecord.seq): one counter for every listener and the HTTP routes, so
 * two identical lines received in the same millisecond stay two events while re-delivery stays idempotent.
 */
let next = 0;

export function nextRecordSeq(): number {
  return next++;
}
