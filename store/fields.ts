/**
 * The event field catalogue: the ECS fields siem-lite knows, with their types. It is the one source for
 * the Elasticsearch mappings, the SQLite hot columns and the query language's field checks, so the three
 * cannot drift apart. Fields not listed here are still stored (ES maps unmapped leaves to `keyword`,
 * SQLite keeps the whole document as JSON) and exact-match filters work on them.
 */

export type FieldType = 'keyword' | 'text' | 'ip' | 'date' | 'date_nanos' | 'long' | 'double' | 'boolean';

export interface FieldSpec {
  name: string;
  type: FieldType;
  /** A keyword field that also has a `<name>.text` analysed sub-field (analysts search words in it). */
  textSubfield?: boolean;
  /**
   * Column of its own in the SQLite events table (a few have an index too: schema.ts INDEXED_HOT_COLUMNS), so
   * that a search tests the narrow row instead of reading the document. Only single-valued ECS fields may be
   * hot: the shape check refuses more than one value in them, in both stores.
   */
  column?: string;
  /** Stored but not searchable (kept for evidence, like `event.original`). */
  stored?: boolean;
}

/** Keyword values longer than this are stored but not indexed (ES `ignore_above`); both stores agree. */
export const KEYWORD_IGNORE_ABOVE = 1024;

const catalogue: FieldSpec[] = [
  { name: '@timestamp', type: 'date_nanos', column: 'ts' },
  { name: 'message', type: 'text' },
  { name: 'tags', type: 'keyword' },
  { name: 'agency.id', type: 'keyword', column: 'agency' },

  { name: 'event.id', type: 'keyword', column: 'id' },
  { name: 'event.original', type: 'keyword', stored: true },
  { name: 'event.ingested', type: 'date' },
  { name: 'event.created', type: 'date' },
  { name: 'event.kind', type: 'keyword', column: 'event_kind' },
  { name: 'event.category', type: 'keyword' },
  { name: 'event.type', type: 'keyword' },
  { name: 'event.action', type: 'keyword', column: 'event_action' },
  { name: 'event.outcome', type: 'keyword', column: 'event_outcome' },
  { name: 'event.dataset', type: 'keyword', column: 'event_dataset' },
  { name: 'event.module', type: 'keyword' },
  { name: 'event.code', type: 'keyword' },
  { name: 'event.provider', type: 'keyword' },
  { name: 'event.severity', type: 'long' },
  { name: 'event.duration', type: 'long' },
  { name: 'event.reason', type: 'keyword' },

  { name: 'log.level', type: 'keyword' },
  { name: 'log.logger', type: 'keyword' },
  { name: 'log.syslog.facility.code', type: 'long' },
  { name: 'log.syslog.facility.name', type: 'keyword' },
  { name: 'log.syslog.severity.code', type: 'long' },
  { name: 'log.syslog.severity.name', type: 'keyword' },
  { name: 'log.syslog.priority', type: 'long' },
  { name: 'log.syslog.appname', type: 'keyword' },
  { name: 'log.syslog.hostname', type: 'keyword' },
  { name: 'log.syslog.procid', type: 'keyword' },
  { name: 'log.syslog.msgid', type: 'keyword' },
  { name: 'log.syslog.version', type: 'keyword' },

  { name: 'host.hostname', type: 'keyword', column: 'host_hostname' },
  { name: 'host.name', type: 'keyword' },
  { name: 'host.ip', type: 'ip' },
  { name: 'host.os.type', type: 'keyword' },
  { name: 'host.os.name', type: 'keyword' },

  { name: 'observer.vendor', type: 'keyword' },
  { name: 'observer.product', type: 'keyword' },
  { name: 'observer.type', type: 'keyword' },
  { name: 'observer.name', type: 'keyword' },
  { name: 'observer.hostname', type: 'keyword' },
  { name: 'observer.ip', type: 'ip' },

  { name: 'source.ip', type: 'ip', column: 'source_ip' },
  { name: 'source.port', type: 'long' },
  { name: 'source.address', type: 'keyword' },
  { name: 'source.domain', type: 'keyword' },
  { name: 'source.bytes', type: 'long' },
  { name: 'source.nat.ip', type: 'ip' },
  { name: 'source.geo.country_iso_code', type: 'keyword' },
  { name: 'destination.ip', type: 'ip', column: 'destination_ip' },
  { name: 'destination.port', type: 'long' },
  { name: 'destination.address', type: 'keyword' },
  { name: 'destination.domain', type: 'keyword' },
  { name: 'destination.bytes', type: 'long' },
  { name: 'destination.nat.ip', type: 'ip' },
  { name: 'related.ip', type: 'ip' },
  { name: 'related.user', type: 'keyword' },
  { name: 'related.hosts', type: 'keyword' },

  { name: 'network.transport', type: 'keyword' },
  { name: 'network.protocol', type: 'keyword' },
  { name: 'network.direction', type: 'keyword' },
  { name: 'network.bytes', type: 'long' },

  { name: 'user.name', type: 'keyword', column: 'user_name' },
  { name: 'user.id', type: 'keyword' },
  { name: 'user.domain', type: 'keyword' },
  { name: 'user.target.name', type: 'keyword' },
  { name: 'user.effective.name', type: 'keyword' },

  { name: 'process.name', type: 'keyword' },
  { name: 'process.pid', type: 'long' },
  { name: 'process.executable', type: 'keyword' },
  { name: 'process.command_line', type: 'keyword', textSubfield: true },
  { name: 'process.args', type: 'keyword' },
  { name: 'process.parent.name', type: 'keyword' },
  { name: 'process.parent.pid', type: 'long' },
  { name: 'process.user.name', type: 'keyword' },

  { name: 'file.path', type: 'keyword' },
  { name: 'file.name', type: 'keyword' },

  { name: 'url.original', type: 'keyword', textSubfield: true },
  { name: 'url.path', type: 'keyword', column: 'url_path' },
  { name: 'url.query', type: 'keyword' },
  { name: 'url.domain', type: 'keyword' },
  { name: 'http.request.method', type: 'keyword' },
  { name: 'http.request.referrer', type: 'keyword' },
  { name: 'http.request.bytes', type: 'long' },
  { name: 'http.response.status_code', type: 'long', column: 'http_response_status_code' },
  { name: 'http.response.bytes', type: 'long' },
  { name: 'http.version', type: 'keyword' },
  { name: 'user_agent.original', type: 'keyword', textSubfield: true },

  { name: 'rule.id', type: 'keyword' },
  { name: 'rule.name', type: 'keyword' },
  { name: 'rule.category', type: 'keyword' },
  { name: 'error.message', type: 'keyword' },
];

const byName = new Map(catalogue.map((field) => [field.name, field]));

export const EVENT_FIELDS: readonly FieldSpec[] = catalogue;

/** Catalogue entry for a dotted field name, or undefined for an unmapped field. */
export function fieldSpec(name: string): FieldSpec | undefined {
  return byName.get(name);
}

/** Hot fields: the SQLite columns with their own index, in catalogue order. */
export const HOT_FIELDS: readonly (FieldSpec & { column: string })[] = catalogue.filter(
  (field): field is FieldSpec & { column: string } => field.column !== undefined,
);

/** The value at a dotted path of a nested document (documents are expanded before they are stored). */
export function valueAt(document: unknown, path: string): unknown {
  let current: unknown = document;
  let start = 0;
  while (current !== null && typeof current === 'object' && !Array.isArray(current)) {
    const dot = path.indexOf('.', start);
    const key = dot === -1 ? path.slice(start) : path.slice(start, dot);
    current = (current as Record<string, unknown>)[key];
    if (dot === -1) return current;
    start = dot + 1;
  }
  return undefined;
}
