/**
 * Index names, the composable template for the daily event indices and the mappings of the small indices
 * (incidents, dedup pointers, detections, dead letters). Core features only: the dev node has no ILM,
 * data streams or ingest pipelines, so daily indices behind a read alias and template-applied mappings.
 */
import type { estypes } from '@elastic/elasticsearch';
import { EVENT_FIELDS, type FieldSpec, KEYWORD_IGNORE_ABOVE } from '../fields.js';

export interface IndexNames {
  /** Read alias over every daily events index. */
  events: string;
  /** Pattern of the daily indices (template and refresh target). */
  eventsPattern: string;
  eventsTemplate: string;
  incidents: string;
  incidentKeys: string;
  detections: string;
  deadletter: string;
}

export function indexNames(prefix: string): IndexNames {
  return {
    events: `${prefix}-events`,
    eventsPattern: `${prefix}-events-*`,
    eventsTemplate: `${prefix}-events`,
    incidents: `${prefix}-incidents`,
    incidentKeys: `${prefix}-incident-keys`,
    detections: `${prefix}-detections`,
    deadletter: `${prefix}-deadletter`,
  };
}

/** `<prefix>-events-YYYY.MM.DD` for a fixed-width UTC time (`YYYY-MM-DDT...`). */
export function dailyIndex(prefix: string, sortTime: string): string {
  return `${prefix}-events-${sortTime.slice(0, 4)}.${sortTime.slice(5, 7)}.${sortTime.slice(8, 10)}`;
}

function fieldMapping(field: FieldSpec): estypes.MappingProperty {
  switch (field.type) {
    case 'keyword':
      if (field.stored) return { type: 'keyword', index: false, doc_values: false };
      return field.textSubfield
        ? { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE, fields: { text: { type: 'text' } } }
        : { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE };
    case 'text':
      return { type: 'text' };
    case 'ip':
      return { type: 'ip' };
    case 'date':
      return { type: 'date' };
    case 'date_nanos':
      return { type: 'date_nanos' };
    case 'long':
      return { type: 'long' };
    case 'double':
      return { type: 'double' };
    case 'boolean':
      return { type: 'boolean' };
  }
}

/** Nests dotted catalogue names into the `properties` tree the mapping API expects. */
function catalogueProperties(): Record<string, estypes.MappingProperty> {
  const root: Record<string, estypes.MappingProperty> = {};
  for (const field of EVENT_FIELDS) {
    const parts = field.name.split('.');
    let properties = root;
    for (const part of parts.slice(0, -1)) {
      let object = properties[part] as estypes.MappingObjectProperty | undefined;
      if (object === undefined) {
        object = { properties: {} };
        properties[part] = object;
      }
      properties = object.properties!;
    }
    properties[parts[parts.length - 1]!] = fieldMapping(field);
  }
  return root;
}

/** Unmapped leaves become keywords, whatever their JSON type, so exact match means the same in both stores. */
const dynamicTemplates: Record<string, estypes.MappingDynamicTemplate>[] = (
  ['string', 'long', 'double', 'boolean', 'date'] as const
).map((type) => ({
  [`unmapped_${type}_as_keyword`]: {
    match_mapping_type: type,
    mapping: { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE },
  },
}));

export function eventsTemplate(names: IndexNames): estypes.IndicesPutIndexTemplateRequest {
  return {
    name: names.eventsTemplate,
    index_patterns: [names.eventsPattern],
    priority: 200,
    template: {
      settings: {
        number_of_shards: 1,
        // One replica on a cluster, none on a single node (so the dev node stays green).
        auto_expand_replicas: '0-1',
        // Events become searchable within 5 s of being written, not 1 s: every refresh writes a new
        // segment per daily index (later merged), and at 1 s that cost a quarter of the node's indexing
        // CPU (docs/benchmarks.md, Store). Incidents and dedup pointers keep the default: the pipeline reads
        // those by id (real time) and the incident list is what analysts wait on.
        refresh_interval: '5s',
        'mapping.total_fields.limit': 2000,
      },
      aliases: { [names.events]: {} },
      mappings: {
        dynamic: true,
        date_detection: false,
        numeric_detection: false,
        dynamic_templates: dynamicTemplates,
        properties: catalogueProperties(),
      },
    },
    _meta: { managed_by: 'siem-lite', description: 'daily ECS event indices' },
  };
}

const keyword: estypes.MappingProperty = { type: 'keyword' };
const date: estypes.MappingProperty = { type: 'date' };
const notIndexed: estypes.MappingProperty = { type: 'object', enabled: false };

const smallIndexSettings: estypes.IndicesIndexSettings = {
  number_of_shards: 1,
  auto_expand_replicas: '0-1',
};

/**
 * The incidents index is kept sorted as the triage list reads it by default (newest last seen first, then
 * id, the list's tie-break), so Lucene stops collecting a page once it has it instead of visiting every
 * incident (over 100k incidents at load 5–7: the node's `took` 11 → 4 ms a request, and at 200 requests/s
 * the list's p50 10.6 s → 0.84 s; docs/benchmarks.md, issue 7). A static setting: an incidents index
 * created before keeps working, unsorted.
 */
export const incidentsIndexSettings: estypes.IndicesIndexSettings = {
  number_of_shards: 1,
  auto_expand_replicas: '0-1',
  sort: { field: ['lastSeen', 'id'], order: ['desc', 'desc'] },
};

export const incidentsMappings: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: keyword,
    title: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 1024 } } },
    severity: keyword,
    status: keyword,
    agency: keyword,
    assignee: keyword,
    ruleId: keyword,
    ruleTitle: keyword,
    tactics: keyword,
    techniques: keyword,
    dedupKey: keyword,
    groupBy: notIndexed,
    firstSeen: date,
    lastSeen: date,
    detectionCount: { type: 'long' },
    evidenceEventIds: keyword,
    tags: keyword,
    createdAt: date,
    updatedAt: date,
    timeline: notIndexed,
  },
};

export const incidentKeysMappings: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: { dedupKey: keyword, incidentId: keyword, updatedAt: date },
};

export const detectionsMappings: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: keyword,
    ruleId: keyword,
    ruleTitle: keyword,
    level: keyword,
    tags: keyword,
    eventIds: keyword,
    groupBy: notIndexed,
    agency: keyword,
    timestamp: date,
    batchId: keyword,
  },
};

export const deadletterMappings: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    '@timestamp': date,
    event: { properties: { id: keyword } },
    agency: { properties: { id: keyword } },
    index: keyword,
    status: { type: 'long' },
    reason: { type: 'text' },
    error: { properties: { type: keyword } },
    original: { type: 'keyword', index: false, doc_values: false },
  },
};

export { smallIndexSettings };
