/**
 * A batch of events as the writer inserts it (writer.ts EventRows): the shape check, the hot columns, the
 * document's JSON and the full-text terms. Run where the inserts run: inline on the caller's connection, or
 * on the writer thread, which receives the batch as one JSON string (`packEvents`): the calling thread only
 * serialises the events, once, natively, and the thread that has a core to spare does the rest (in serve the
 * main thread, which also parses, matches and correlates, bounds the rate; its share of the store's work
 * was ~24% of its time with the rows made there and structured-cloned across).
 *
 * Through the writer thread the shape check sees each event as its JSON carries it: values JSON has no form
 * for are checked as `JSON.stringify` writes them (NaN and ±Infinity as null, a Date as its ISO text, an
 * undefined array item as null, functions left out), as they are in scale mode, where every event crosses
 * the queue as JSON. Events of the pipeline are JSON data: for them both paths store the same rows.
 */
import type { SecurityEvent } from '../../core/model.js';
import { CAPTURED_FIELDS, prepareEvent } from '../event-document.js';
import { type FieldSpec, KEYWORD_IGNORE_ABOVE } from '../fields.js';
import { textTerms } from '../text-tokens.js';
import { EXTRA_HOT_FIELDS } from './schema.js';
import type { EventRows, SqlValue } from './writer.js';

/** A batch on its way to the writer thread: one string instead of an array of rows to clone. */
export interface PackedEvents {
  /** The events as one JSON array (`JSON.stringify(events)`, less those it cannot write). */
  json: string;
  /** How many events `json` holds (the writer's group commit counts them before parsing). */
  count: number;
  /** The events JSON cannot write (a cycle, a BigInt), dead-lettered here: see toEventRows. */
  deadLetters: SqlValue[][];
}

/** The calling thread's part of a write through the writer thread: the events serialised. */
export function packEvents(events: SecurityEvent[]): PackedEvents {
  try {
    return { json: JSON.stringify(events), count: events.length, deadLetters: [] };
  } catch {
    const writable: SecurityEvent[] = [];
    const deadLetters: SqlValue[][] = [];
    const now = new Date().toISOString();
    for (const event of events) {
      try {
        JSON.stringify(event);
        writable.push(event);
      } catch (error) {
        deadLetters.push(deadLetter(event, notJson(error), now, safeText(event)));
      }
    }
    return { json: JSON.stringify(writable), count: writable.length, deadLetters };
  }
}

/**
 * The writer thread's part: the rows of a packed batch. Each event is parsed from its own span of the JSON,
 * and that span is stored as the document when the shape check changes nothing (most events: no second
 * `JSON.stringify`; see prepareEvent).
 */
export function unpackEvents(packed: PackedEvents): EventRows {
  const batch: EventRows = { rows: [], docs: [], terms: [], deadLetters: packed.deadLetters };
  const { json } = packed;
  const spans = itemSpans(json);
  const deadLetterTime = batchTime();
  for (let i = 0; i < spans.length; i += 2) {
    const text = json.slice(spans[i], spans[i + 1]);
    addEvent(batch, JSON.parse(text) as SecurityEvent, text, deadLetterTime);
  }
  return batch;
}

/** A batch as the writer takes it, from the events themselves (the inline writer). */
export function toEventRows(events: SecurityEvent[]): EventRows {
  const batch: EventRows = { rows: [], docs: [], terms: [], deadLetters: [] };
  const deadLetterTime = batchTime();
  for (const event of events) addEvent(batch, event, undefined, deadLetterTime);
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

/**
 * `json`: the event's own JSON when the caller has it (stored as it is if the check changes nothing);
 * `deadLetterTime`: the batch's (batchTime).
 */
function addEvent(
  batch: EventRows,
  event: SecurityEvent,
  json: string | undefined,
  deadLetterTime: () => string,
): void {
  let prepared: ReturnType<typeof prepareEvent>;
  try {
    prepared = prepareEvent(event, json);
  } catch (error) {
    // Not JSON data (a cycle, a BigInt): what the writer thread's packing refuses too.
    batch.deadLetters.push(deadLetter(event, notJson(error), deadLetterTime(), safeText(event)));
    return;
  }
  if (!prepared.ok) {
    const original = json ?? safeText(event);
    batch.deadLetters.push(deadLetter(event, prepared.reason, deadLetterTime(), original));
    return;
  }
  const { id, sortTime, captured } = prepared.event;
  const row: SqlValue[] = new Array(3 + HOT_COLUMNS.length);
  row[0] = id;
  row[1] = sortTime;
  row[2] = String(captured[AGENCY_SLOT]);
  for (let i = 0; i < HOT_COLUMNS.length; i++) {
    const column = HOT_COLUMNS[i]!;
    row[3 + i] = columnValue(captured[column.slot], column.field);
  }
  batch.rows.push(row);
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
      // The shape check let only addresses through. Text here, 16 bytes in the writer (writer.ts).
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Where each item of a JSON array written by `JSON.stringify` begins and ends (`[start, end, start, end,
 * ...]`): its commas at the top level, outside strings (no whitespace to skip in that output). Strings are
 * skipped with `indexOf`, so the characters read one by one are only those between strings.
 */
export function itemSpans(json: string): number[] {
  const spans: number[] = [];
  let depth = 0;
  let start = 1;
  for (let i = 1; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) i = closingQuote(json, i);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) {
        // The array's own `]`.
        if (i > start) spans.push(start, i);
        break;
      }
      depth--;
    } else if (c === COMMA && depth === 0) {
      spans.push(start, i);
      start = i + 1;
    }
  }
  return spans;
}

/** The index of the quote closing the string opened at `open`: one not escaped by an odd run of backslashes. */
function closingQuote(json: string, open: number): number {
  let quote = open;
  for (;;) {
    quote = json.indexOf('"', quote + 1);
    let backslashes = 0;
    while (json.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
}
