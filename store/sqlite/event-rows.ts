/**
 * A batch of events as the writer inserts it (writer.ts EventRows): the shape check, the hot columns, the
 * document's JSON and the full-text terms, made on the calling thread. Through the writer thread the rows
 * cross by structured clone; making them on the writer thread from one JSON string a batch (94c4fe1) took
 * CPU off the main thread but cost more in all (parsing each event again) and made embedded mode slower
 * end to end (docs/store-sqlite.md, "Where the rows are made").
 */
import type { SecurityEvent } from '../../core/model.js';
import { CAPTURED_FIELDS, prepareEvent } from '../event-document.js';
import { type FieldSpec, KEYWORD_IGNORE_ABOVE } from '../fields.js';
import { textTerms } from '../text-tokens.js';
import { EXTRA_HOT_FIELDS } from './schema.js';
import type { EventRows, SqlValue } from './writer.js';

/** A batch as the writer takes it, from the events themselves. */
export function toEventRows(events: SecurityEvent[]): EventRows {
  const batch: EventRows = { values: [], docs: [], terms: [], deadLetters: [] };
  const deadLetterTime = batchTime();
  for (const event of events) addEvent(batch, event, deadLetterTime);
  return batch;
}

/** The time a batch's dead letters carry: the clock read once, at the first of them (most batches have none). */
function batchTime(): () => string {
  let now: string | undefined;
  return () => {
    now ??= new Date().toISOString();
    return now;
  };
}

/** `deadLetterTime`: the batch's (batchTime). */
function addEvent(batch: EventRows, event: SecurityEvent, deadLetterTime: () => string): void {
  let prepared: ReturnType<typeof prepareEvent>;
  try {
    prepared = prepareEvent(event);
  } catch (error) {
    // Not JSON data (a cycle, a BigInt): JSON.stringify threw. Dead-lettered alone, not failing its batch.
    batch.deadLetters.push(deadLetter(event, notJson(error), deadLetterTime(), safeText(event)));
    return;
  }
  if (!prepared.ok) {
    batch.deadLetters.push(deadLetter(event, prepared.reason, deadLetterTime(), safeText(event)));
    return;
  }
  const { id, sortTime, captured } = prepared.event;
  const { values } = batch;
  values.push(id, sortTime, String(captured[AGENCY_SLOT]));
  for (const column of HOT_COLUMNS) values.push(columnValue(captured[column.slot], column.field));
  batch.docs.push(prepared.event.json);
  batch.terms.push(messageTerms(captured[MESSAGE_SLOT]));
}

/** A dead-letter row: `[at, eventId, agency, reason, errorType, original]` (writer.ts EventRows). */
function deadLetter(event: unknown, reason: string, at: string, original: string): SqlValue[] {
  const source = event as { event?: { id?: unknown }; agency?: { id?: unknown } } | null;
  return [
    at,
    typeof source?.event?.id === 'string' ? source.event.id : null,
    typeof source?.agency?.id === 'string' ? source.agency.id : null,
    reason,
    'shape_check',
    original,
  ];
}

function notJson(error: unknown): string {
  return `event is not JSON data: ${(error as Error)?.message ?? String(error)}`;
}

/** The FTS row for `message`: standard-analyzer tokens separated by spaces (see text-tokens.ts). */
function messageTerms(message: unknown): string {
  if (typeof message === 'string') return textTerms(message);
  if (Array.isArray(message)) {
    return message
      .filter((item): item is string => typeof item === 'string')
      .map(textTerms)
      .join(' ');
  }
  return '';
}

/** The hot columns in insert order, with where prepareEvent hands back their values. */
const HOT_COLUMNS = EXTRA_HOT_FIELDS.map((field) => ({ field, slot: CAPTURED_FIELDS.indexOf(field) }));
const AGENCY_SLOT = CAPTURED_FIELDS.findIndex((field) => field.name === 'agency.id');
const MESSAGE_SLOT = CAPTURED_FIELDS.findIndex((field) => field.name === 'message');

/** The value a hot column holds: what ES would index for the field, or NULL where it indexes nothing. */
function columnValue(value: unknown, field: FieldSpec): SqlValue {
  if (value === undefined || value === null) return null;
  switch (field.type) {
    case 'ip':
      // The shape check let only addresses through. Text here, 16 bytes in the writer: a string crosses to
      // the writer thread far cheaper than a Buffer (structured clone makes an ArrayBuffer per Buffer).
      return typeof value === 'string' ? value : null;
    case 'long':
      return typeof value === 'number' ? value : null;
    default: {
      const text = String(value);
      return text.length > KEYWORD_IGNORE_ABOVE ? null : text;
    }
  }
}

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
