/**
 * The source inventory's arithmetic, shared by both adapters: the identity of a source and how an
 * observation (one batch's worth, aggregated by the worker) folds into the stored record. Counting slots
 * are fixed and epoch-aligned, so observations from several workers land in the same slot.
 */
import { digest } from '../core/identity.js';
import type { SourceObservation, SourceRecord, SourceSlot } from '../core/ports.js';

/** Width of a counting slot: the rate is measured over the last complete one. */
export const SOURCE_SLOT_MS = 5 * 60_000;
/** Datasets kept per source. */
export const MAX_SOURCE_PARSERS = 10;

export function sourceIdOf(agency: string, host: string, listener: string): string {
  return digest('source', agency, host, listener);
}

function slotStart(time: string): string {
  const ms = Date.parse(time);
  return new Date(Math.floor(ms / SOURCE_SLOT_MS) * SOURCE_SLOT_MS).toISOString();
}

function addTo(slot: SourceSlot, observation: SourceObservation): SourceSlot {
  return {
    start: slot.start,
    events: slot.events + observation.events,
    parseFailures: slot.parseFailures + observation.parseFailures,
  };
}

/** The record after `observation` (a new record when `existing` is undefined). */
export function mergeSource(
  existing: SourceRecord | undefined,
  observation: SourceObservation,
): SourceRecord {
  const slot = slotStart(observation.lastSeen);
  const fresh: SourceSlot = { start: slot, events: 0, parseFailures: 0 };
  if (!existing) {
    return {
      id: sourceIdOf(observation.agency, observation.host, observation.listener),
      agency: observation.agency,
      host: observation.host,
      listener: observation.listener,
      parsers: observation.parsers.slice(0, MAX_SOURCE_PARSERS),
      firstSeen: observation.firstSeen,
      lastSeen: observation.lastSeen,
      events: observation.events,
      parseFailures: observation.parseFailures,
      current: addTo(fresh, observation),
    };
  }
  let current = existing.current;
  let previous = existing.previous;
  if (slot === current.start) current = addTo(current, observation);
  else if (slot > current.start) {
    previous = current;
    current = addTo(fresh, observation);
  } else if (previous && slot === previous.start) previous = addTo(previous, observation);
  // Older than both slots (a late worker): it counts in the totals only.
  const parsers = [...observation.parsers];
  for (const parser of existing.parsers) if (!parsers.includes(parser)) parsers.push(parser);
  return {
    ...existing,
    parsers: parsers.slice(0, MAX_SOURCE_PARSERS),
    firstSeen: earlier(observation.firstSeen, existing.firstSeen),
    lastSeen: later(observation.lastSeen, existing.lastSeen),
    events: existing.events + observation.events,
    parseFailures: existing.parseFailures + observation.parseFailures,
    current,
    ...(previous ? { previous } : {}),
  };
}

/** Observations of the same source folded into one (a record() call writes each source once). */
export function foldObservations(observations: SourceObservation[]): Map<string, SourceObservation> {
  const byId = new Map<string, SourceObservation>();
  for (const observation of observations) {
    const id = sourceIdOf(observation.agency, observation.host, observation.listener);
    const seen = byId.get(id);
    if (!seen) {
      byId.set(id, { ...observation, parsers: [...observation.parsers] });
      continue;
    }
    seen.events += observation.events;
    seen.parseFailures += observation.parseFailures;
    seen.firstSeen = earlier(observation.firstSeen, seen.firstSeen);
    seen.lastSeen = later(observation.lastSeen, seen.lastSeen);
    for (const parser of observation.parsers) if (!seen.parsers.includes(parser)) seen.parsers.push(parser);
  }
  return byId;
}

/** The earlier / later of two ISO 8601 UTC times (same form, so text order is time order). */
function earlier(a: string, b: string): string {
  return a <= b ? a : b;
}
function later(a: string, b: string): string {
  return a >= b ? a : b;
}
