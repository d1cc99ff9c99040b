/**
 * `$."a"."b"`: the SQLite JSON path of a validated dotted field name (letters, digits, `_`, `@`, `-`;
 * never a quote). It is always bound as a parameter, never spliced into SQL.
 */
export function jsonPath(field: string): string {
  return `$.${field
    .split('.')
    .map((part) => `"${part}"`)
    .join('.')}`;
}
