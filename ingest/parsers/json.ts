import { addTag, type EcsEvent } from '../ecs.js';
import { invalid, PARSED, type ParseContext, type ParseOutcome, type SourceParser } from './source-parser.js';
import { isWindowsEvent, mapWindowsEvent } from './windows.js';

/**
 * JSON documents from agents and shippers (HTTP ingest, or JSON in a syslog message). Windows events in
 * any of their three shapes go to the Windows mapping; anything else is merged as ECS: dotted keys are
 * expanded, ECS field sets are taken as they are, `event.id`/`event.original`/`event.ingested` and
 * `agency` stay ours (a sender cannot choose its identity or agency), and non-ECS keys go under `json`.
 */
export const jsonParser: SourceParser = {
  id: 'json',
  sniff: (message) => message.charCodeAt(0) === 123 /* { */,
  parse: parseJson,
};

/** ECS top-level field sets accepted from a sender as they are. */
const ECS_FIELD_SETS = new Set([
  'agent',
  'client',
  'cloud',
  'container',
  'destination',
  'dll',
  'dns',
  'ecs',
  'email',
  'error',
  'file',
  'group',
  'host',
  'http',
  'labels',
  'network',
  'observer',
  'orchestrator',
  'organization',
  'package',
  'process',
  'registry',
  'related',
  'rule',
  'server',
  'service',
  'source',
  'threat',
  'tls',
  'url',
  'user',
  'user_agent',
  'vulnerability',
  'winlog',
  'powershell',
  'sysmon',
  'data_stream',
]);
const OURS = new Set(['id', 'original', 'ingested']);

function parseJson(
  message: string,
  event: EcsEvent,
  _envelope: unknown,
  context?: ParseContext,
): ParseOutcome {
  event.event.module = 'json';
  event.event.dataset = 'json.log';
  let doc: unknown;
  try {
    doc = JSON.parse(message);
  } catch (error) {
    return invalid(`invalid JSON: ${(error as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return invalid('JSON document is not an object');
  const object = expandDottedKeys(doc as Record<string, unknown>);
  if (isWindowsEvent(object)) return mapWindowsEvent(object, event, context?.timezone ?? 'UTC');
  mergeEcs(object, event);
  return PARSED;
}

/** Merges an ECS-shaped document into `event` (see `jsonParser`). Also used for Winlogbeat documents. */
export function mergeEcs(doc: Record<string, unknown>, event: EcsEvent): void {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key === '__proto__') continue; // kept in event.original; never assigned as a prototype
    if (key === '@timestamp') {
      const time =
        typeof value === 'string' || typeof value === 'number' ? new Date(value).getTime() : Number.NaN;
      if (Number.isFinite(time)) event['@timestamp'] = new Date(time).toISOString();
    } else if (key === 'message') {
      if (typeof value === 'string') event.message = value;
      else extra[key] = value;
    } else if (key === 'event' && isObject(value)) {
      for (const [name, field] of Object.entries(value)) {
        if (!OURS.has(name) && name !== '__proto__') event.event[name] = field;
      }
      if (typeof value.original === 'string' && value.original !== event.event.original) {
        extra.event_original = value.original; // the sender's own original, kept beside ours
      }
    } else if (key === 'tags' && Array.isArray(value)) {
      for (const tag of value) if (typeof tag === 'string') addTag(event, tag);
    } else if (key === 'log' && isObject(value)) {
      event.log = { ...(value as object), ...event.log };
    } else if ((key === 'log' || key === 'msg') && typeof value === 'string' && doc.message === undefined) {
      event.message = value; // Fluent Bit / Docker `log`, pino/bunyan `msg`
    } else if (key === 'agency') {
      // Attribution is made at the edge from the token, certificate or address, never by the sender.
    } else if (ECS_FIELD_SETS.has(key) && isObject(value)) {
      event[key] = key in event && isObject(event[key]) ? { ...(event[key] as object), ...value } : value;
    } else {
      extra[key] = value;
    }
  }
  if (Object.keys(extra).length > 0) event.json = extra;
  if (!event.event.kind) event.event.kind = 'event';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `{"source.ip": "1.2.3.4"}` → `{source: {ip: "1.2.3.4"}}` (shippers often flatten). Nested objects too. */
export function expandDottedKeys(doc: Record<string, unknown>): Record<string, unknown> {
  let dotted = false;
  for (const key of Object.keys(doc)) {
    if (key.includes('.') && key !== '@timestamp') {
      dotted = true;
      break;
    }
  }
  if (!dotted) return doc;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    // `__proto__` alone would set the copy's prototype (its fields then readable through it); the caller
    // drops that key anyway (kept in event.original). As a segment it is kept whole, never walked.
    if (key === '__proto__') continue;
    const path = key.split('.');
    if (
      path.some(
        (part) => part === '' || part === '__proto__' || part === 'constructor' || part === 'prototype',
      )
    ) {
      out[key] = value;
      continue;
    }
    let target = out;
    for (let i = 0; i < path.length - 1; i++) {
      const existing = target[path[i]!];
      if (!isObject(existing)) target[path[i]!] = {};
      target = target[path[i]!] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    target[last] =
      isObject(value) && isObject(target[last]) ? { ...(target[last] as object), ...value } : value;
  }
  return out;
}
