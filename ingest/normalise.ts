import type { Counter } from 'prom-client';
import { type AgencyDirectory, UNKNOWN_AGENCY } from '../core/agencies.js';
import { eventIdOf } from '../core/identity.js';
import type { RawRecord, SecurityEvent } from '../core/model.js';
import { type IngestCounters, ingestCounters } from './accounting.js';
import { addTag, type EcsEvent } from './ecs.js';
import { FACILITY_NAMES, newEnvelope, SEVERITY_NAMES, type SyslogEnvelope } from './envelope/envelope.js';
import { parseSyslog } from './envelope/parse-syslog.js';
import { isKnownTimezone } from './envelope/zoned-time.js';
import { epochOfIso, isoOf } from './iso.js';
import { defaultParserRegistry, type ParserRegistry } from './parsers/registry.js';
import type { ParseOutcome } from './parsers/source-parser.js';

export { isoOf } from './iso.js';

export interface NormaliserOptions {
  agencies: AgencyDirectory;
  /** IANA zone for times without an offset when the agency sets none (config `ingest.default_timezone`). */
  defaultTimezone: string;
  /** An event time further than this from the receive time is tagged `_clock_skew` (kept as is). */
  clockSkewMs?: number;
  parsers?: ParserRegistry;
  /** Where `parsed` / `parse_failures` are counted; the module registry's counters by default. */
  counters?: IngestCounters;
}

export const DEFAULT_CLOCK_SKEW_MS = 15 * 60_000;
const PEER_CACHE_LIMIT = 10_000;

/** RFC 5424 versions as text (ECS `log.syslog.version` is a keyword); other values through `String`. */
const VERSION_TEXT = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * The normalise stage: RawRecord[] → SecurityEvent[] (ECS). One event per record, always: the envelope is
 * parsed, the agency attributed (edge attribution, else peer address, else `unknown`), the source parser
 * fills the ECS fields it knows, and anything that goes wrong turns into a `_parse_failure` event that
 * still carries `event.original`. Throws only for bad options (unknown time zone), never for a record.
 */
export function createNormaliser(options: NormaliserOptions): (records: RawRecord[]) => SecurityEvent[] {
  const { agencies, defaultTimezone } = options;
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const parsers = options.parsers ?? defaultParserRegistry();
  if (!isKnownTimezone(defaultTimezone)) throw new Error(`unknown time zone "${defaultTimezone}"`);
  for (const agency of agencies.agencies) {
    if (agency.timezone && !isKnownTimezone(agency.timezone))
      throw new Error(`agency ${agency.id}: unknown time zone "${agency.timezone}"`);
  }

  const counters = options.counters ?? ingestCounters();
  /**
   * Outcome counters by listener, agency and dataset (FAILED for parse failures): nested maps, so a
   * lookup hashes strings the records already hold and builds no key. Each counts into `pending` during
   * a batch and is added to prom-client once at its end (prom-client hashes the labels on every `inc`).
   */
  interface Tally {
    counter: Counter.Internal;
    pending: number;
  }
  const FAILED = '\u0000failed';
  let tallies = new Map<string, Map<string, Map<string, Tally>>>();
  let tallyCount = 0;
  function tallyOf(listener: string, agencyId: string, dataset: string): Tally {
    let byAgency = tallies.get(listener);
    if (!byAgency) {
      byAgency = new Map();
      tallies.set(listener, byAgency);
    }
    let byDataset = byAgency.get(agencyId);
    if (!byDataset) {
      byDataset = new Map();
      byAgency.set(agencyId, byDataset);
    }
    let tally = byDataset.get(dataset);
    if (!tally) {
      const counter =
        dataset === FAILED
          ? counters.parseFailures.labels(listener, agencyId)
          : counters.parsed.labels(listener, agencyId, dataset);
      tally = { counter, pending: 0 };
      byDataset.set(dataset, tally);
      tallyCount++;
    }
    return tally;
  }

  function count(records: RawRecord[], events: SecurityEvent[]): void {
    // Bounded: labels come from data (agency ids, datasets); start afresh past 10,000 combinations.
    if (tallyCount > 10_000) {
      tallies = new Map();
      tallyCount = 0;
    }
    const touched: Tally[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const dataset =
        event.tags?.includes('_parse_failure') === true ? FAILED : (event.event.dataset ?? 'generic');
      const tally = tallyOf(records[i]!.listener, event.agency.id, dataset);
      if (tally.pending++ === 0) touched.push(tally);
    }
    for (const tally of touched) {
      tally.counter.inc(tally.pending);
      tally.pending = 0;
    }
  }

  // By the peer as written (`ip:port`: no slicing per record; a device keeps its source port for UDP, a TCP
  // connection its peer string), then by address.
  const agencyByPeer = new Map<string, string>();
  const agencyByAddress = new Map<string, string>();
  function agencyOf(record: RawRecord): string {
    if (record.agency) return record.agency;
    const peer = record.peer;
    if (!peer) return UNKNOWN_AGENCY;
    let id = agencyByPeer.get(peer);
    if (id !== undefined) return id;
    const address = peerAddress(peer);
    id = agencyByAddress.get(address);
    if (id === undefined) {
      id = agencies.byAddress(address)?.id ?? UNKNOWN_AGENCY;
      if (agencyByAddress.size >= PEER_CACHE_LIMIT) agencyByAddress.clear();
      agencyByAddress.set(address, id);
    }
    if (agencyByPeer.size >= PEER_CACHE_LIMIT) agencyByPeer.clear();
    agencyByPeer.set(peer, id);
    return id;
  }

  function normaliseRecord(record: RawRecord): SecurityEvent {
    const agencyId = agencyOf(record);
    const timezone = agencies.get(agencyId)?.timezone ?? defaultTimezone;
    const event = baseEvent(record, agencyId);
    try {
      // HTTP carries JSON documents (no envelope); a plain line posted over HTTP is read as syslog.
      const envelope =
        record.transport === 'http' && record.text.charCodeAt(0) === 123 /* { */
          ? jsonEnvelope(record.text)
          : parseSyslog(record.text, { receivedAt: record.receivedAt, timezone });
      applyEnvelope(event, envelope);
      const forced = record.parser !== undefined ? parsers.get(record.parser) : undefined;
      if (record.parser !== undefined && !forced) addTag(event, '_unknown_parser');
      const parser = forced ?? parsers.choose(envelope.appName, envelope.message);
      if (parser) {
        const context = { timezone, receivedAt: record.receivedAt };
        const outcome: ParseOutcome = parser.parse(envelope.message, event, envelope, context);
        if (outcome.status === 'invalid') markFailure(event, outcome.reason);
        else if (parser.id === 'json' && carriesRawLine(event)) parseEmbeddedLine(event, context);
      }
      checkClockSkew(event, record.receivedAt, clockSkewMs);
      return event;
    } catch (error) {
      // A parser bug must not lose the record: start again from the bare record and flag it.
      const fallback = baseEvent(record, agencyId);
      markFailure(fallback, `parser error: ${(error as Error)?.message ?? String(error)}`);
      return fallback;
    }
  }

  /**
   * Shippers (Fluent Bit tailing a file, Filebeat, Vector) post JSON whose `message`/`log` is the raw line
   * they read. That line goes through the same envelope and source parsers as if it came over syslog, so an
   * sshd line is an sshd event whichever way it arrived; the shipper's other fields stay.
   */
  function parseEmbeddedLine(event: EcsEvent, context: { timezone: string; receivedAt: number }): void {
    const line = event.message!;
    const envelope = parseSyslog(line, context);
    const parser = parsers.choose(envelope.appName, envelope.message);
    if (!parser || parser.id === 'json') return;
    applyEnvelope(event, envelope);
    const outcome = parser.parse(envelope.message, event, envelope, context);
    if (outcome.status === 'invalid') markFailure(event, outcome.reason);
  }

  return (records) => {
    const events = new Array<SecurityEvent>(records.length);
    for (let i = 0; i < records.length; i++) events[i] = normaliseRecord(records[i]!);
    count(records, events);
    return events;
  };
}

/** A JSON document that only wraps a log line: a string message and no classification of its own. */
function carriesRawLine(event: EcsEvent): boolean {
  return (
    typeof event.message === 'string' &&
    event.message.length > 0 &&
    event.message.charCodeAt(0) !== 123 /* { */ &&
    event.event.action === undefined &&
    event.event.category === undefined &&
    event.event.code === undefined
  );
}

function jsonEnvelope(text: string): SyslogEnvelope {
  const envelope = newEnvelope('none');
  envelope.message = text;
  return envelope;
}

function baseEvent(record: RawRecord, agencyId: string): EcsEvent {
  const ingested = isoOf(record.receivedAt);
  const event: EcsEvent = {
    '@timestamp': ingested,
    message: record.text,
    event: { id: eventIdOf(record), ingested, original: record.text, kind: 'event' },
    agency: { id: agencyId },
    input: { type: record.transport },
  };
  if (record.peer) event.log = { source: { address: record.peer } };
  if (record.flags && record.flags.length > 0) {
    event.log = { ...event.log, flags: [...record.flags] };
    if (record.flags.includes('truncated')) addTag(event, '_truncated');
  }
  return event;
}

function applyEnvelope(event: EcsEvent, envelope: SyslogEnvelope): void {
  event.message = envelope.message;
  if (envelope.timestamp !== undefined && Number.isFinite(envelope.timestamp)) {
    event['@timestamp'] = isoOf(envelope.timestamp, envelope.subMillis);
  }
  if (envelope.format !== 'none') {
    const syslog: NonNullable<NonNullable<EcsEvent['log']>['syslog']> = {};
    if (envelope.priority !== undefined) {
      const facility = envelope.priority >> 3;
      const severity = envelope.priority & 7;
      syslog.priority = envelope.priority;
      syslog.facility = { code: facility, name: FACILITY_NAMES[facility] ?? String(facility) };
      syslog.severity = { code: severity, name: SEVERITY_NAMES[severity]! };
    }
    // Text, as ECS maps it (keyword): a number here made the stores' shape check copy the event to coerce it.
    if (envelope.version !== undefined)
      syslog.version = VERSION_TEXT[envelope.version] ?? String(envelope.version);
    if (envelope.hostname !== undefined) syslog.hostname = envelope.hostname;
    if (envelope.appName !== undefined) syslog.appname = envelope.appName;
    if (envelope.procId !== undefined) syslog.procid = envelope.procId;
    if (envelope.msgId !== undefined) syslog.msgid = envelope.msgId;
    if (envelope.structuredData !== undefined) syslog.structured_data = envelope.structuredData;
    if (event.log) event.log.syslog = syslog;
    else event.log = { syslog };
  }
  if (envelope.structuredDataInvalid) addTag(event, '_syslog_sd_invalid');
  if (envelope.hostname !== undefined) event.host = { hostname: envelope.hostname };
  if (envelope.appName !== undefined) {
    const process: NonNullable<EcsEvent['process']> = { name: envelope.appName };
    const pid = envelope.procId === undefined ? Number.NaN : integerOf(envelope.procId);
    if (Number.isSafeInteger(pid) && pid >= 0) process.pid = pid;
    event.process = process;
  }
}

/** `Number(text)`, with plain digits (a PID, nearly always) read in place: no string-to-number conversion. */
function integerOf(text: string): number {
  const length = text.length;
  if (length > 0 && length <= 15) {
    let value = 0;
    for (let i = 0; i < length; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (!(digit >= 0 && digit <= 9)) return Number(text);
      value = value * 10 + digit;
    }
    return value;
  }
  return Number(text);
}

function markFailure(event: EcsEvent, reason: string): void {
  event.event.kind = 'pipeline_error';
  event.error = { message: reason, type: 'parse_failure' };
  addTag(event, '_parse_failure');
}

function checkClockSkew(event: EcsEvent, receivedAt: number, thresholdMs: number): void {
  // No early return when `@timestamp` is still `event.ingested`: comparing those two strings (built by
  // concatenation, so not flat) made V8 flatten both, a cost on every event. epochOfIso answers the usual
  // case (the time written last) without parsing, and the receive time is never skewed from itself.
  const time = epochOfIso(event['@timestamp']);
  if (Number.isFinite(time) && Math.abs(time - receivedAt) > thresholdMs) addTag(event, '_clock_skew');
}

/** The address part of a peer written `ip`, `ip:port` or `[ipv6]:port`. */
export function peerAddress(peer: string): string {
  if (peer.charCodeAt(0) === 91 /* [ */) {
    const close = peer.indexOf(']');
    return close < 0 ? peer.slice(1) : peer.slice(1, close);
  }
  const colon = peer.indexOf(':');
  if (colon < 0) return peer;
  return peer.indexOf(':', colon + 1) < 0 ? peer.slice(0, colon) : peer;
}
