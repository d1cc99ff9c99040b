/**
 * SQL functions that give SQLite Elasticsearch's view of a JSON value, installed on every connection that
 * reads events (the store's own, and the read thread's).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { jsonLeafText, registerSigmaSqlFunctions } from '../../rules/backends/sql.js';
import { toSortTime } from '../event-document.js';
import { KEYWORD_IGNORE_ABOVE } from '../fields.js';
import { ipToBytes } from '../ip.js';
import { textTokens } from '../text-tokens.js';

export function registerEventSqlFunctions(db: BetterSqlite3.Database): void {
  db.function('ip16', { deterministic: true }, (value: unknown) =>
    typeof value === 'string' ? ipToBytes(value) : null,
  );
  db.function('sort_time', { deterministic: true }, (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? toSortTime(value) : null,
  );
  // Full-text match of one value of a `.text` sub-field: a phrase of tokens, or a token prefix.
  db.function('text_match', { deterministic: true }, (value: unknown, spec: unknown) => {
    if (typeof value !== 'string' || typeof spec !== 'string') return 0;
    const { tokens, prefix } = JSON.parse(spec) as { tokens: string[]; prefix: boolean };
    return containsPhrase(textTokens(value), tokens, prefix) ? 1 : 0;
  });
  // The text ES indexes for an unmapped leaf (mapped as keyword): numbers and booleans as JSON text.
  db.function('keyword_text', { deterministic: true }, (type: unknown, value: unknown) =>
    type === 'text' && (typeof value !== 'string' || value.length > KEYWORD_IGNORE_ABOVE)
      ? null
      : jsonLeafText(type, value),
  );
  // Hunting: rules compiled by the rules' SQL backend call these (EventSearch.rule).
  registerSigmaSqlFunctions(db);
}

function containsPhrase(haystack: string[], phrase: string[], prefix: boolean): boolean {
  if (prefix) return haystack.some((token) => token.startsWith(phrase[0]!));
  outer: for (let start = 0; start + phrase.length <= haystack.length; start++) {
    for (let k = 0; k < phrase.length; k++) if (haystack[start + k] !== phrase[k]) continue outer;
    return true;
  }
  return false;
}
