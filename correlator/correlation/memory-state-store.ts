/**
 * Embedded mode's correlation state store: the records of state-store.ts in a Map, recent groups as objects
 * and idle ones packed.
 */
import type { GroupState, WindowHit } from './group-window.js';
import {
  type CorrelationStateStore,
  decodeFiring,
  decodeState,
  type EncodedFiring,
  encodeFiring,
  encodeState,
  flatten,
  type GroupWrite,
  type StoredGroup,
} from './state-store.js';

/*
 * The memory store's packed form (never sent to Redis, so it may differ from state-store.ts's record): one flat
 * JSON array `[newest, agencies, hits, firings?]`, the hits laid out flat, five values each: newest − time,
 * rule, key, the agency's index in `agencies`, and the value or 0. For e2e's firewall hits that is ~43 bytes
 * a retained hit against ~61 in that record (whose times are 13 digits and agencies repeated per hit).
 * A group holding a chained hit (refs, first) or a time that is not an integer keeps that record,
 * marked by a leading `J`.
 */
type PackedState = [number, string[], (number | string)[], EncodedFiring[]?];

/** The packed text of a group's state (memory store only; `unpackState` reads it back exactly). */
export function packState(state: GroupState): string {
  const { newest } = state;
  const agencies: string[] = [];
  const flat: (number | string)[] = [];
  let exact = Number.isSafeInteger(newest);
  for (const hit of state.hits) {
    if (hit.refs || hit.first !== undefined || !Number.isSafeInteger(hit.time)) {
      exact = false;
      break;
    }
    let agency = agencies.indexOf(hit.agency);
    if (agency < 0) agency = agencies.push(hit.agency) - 1;
    flat.push(newest - hit.time, hit.rule, hit.key, agency, hit.value ?? 0);
  }
  const packed: PackedState = [newest, agencies, flat];
  if (state.firings.length > 0) packed.push(state.firings.map(encodeFiring));
  return flatten(exact ? JSON.stringify(packed) : `J${encodeState(state)}`);
}

export function unpackState(text: string): GroupState {
  if (text.charCodeAt(0) === 74 /* J */) return decodeState(text.slice(1));
  const [newest, agencies, flat, firings] = JSON.parse(text) as PackedState;
  const hits: WindowHit[] = new Array<WindowHit>(flat.length / 5);
  for (let i = 0, h = 0; i < flat.length; i += 5, h++) {
    const time = newest - (flat[i] as number);
    const rule = flat[i + 1] as number;
    const key = flat[i + 2] as string;
    const agency = agencies[flat[i + 3] as number]!;
    const value = flat[i + 4];
    // The literals of correlate.ts's hits: one shape each, with or without a value.
    hits[h] = typeof value === 'string' ? { time, rule, key, agency, value } : { time, rule, key, agency };
  }
  return { newest, hits, firings: firings ? firings.map(decodeFiring) : [] };
}

/**
 * A group left unwritten this long is kept packed (`packState`) until a batch touches it again. One second:
 * a group written by consecutive batches (a flood from one address) stays objects, while e2e's groups, a
 * hit every ~20 s each at full rate, spend their idle time packed (10 s left half of them as objects).
 */
export const PACK_AFTER_MS = 1_000;
/** Expired groups are dropped by a walk over all groups at most this often. */
const SWEEP_EVERY_MS = 5_000;

interface MemoryGroup {
  version: number;
  /** The state as the last write left it; undefined once packed. */
  state: GroupState | undefined;
  /** The packed state (`packState`) of a group not written for `packAfterMs`. */
  packed: string | undefined;
  writtenAt: number;
  expiresAt: number;
}

/**
 * Embedded mode: the same records in a Map, expired by wall-clock time like Redis keys. A group written
 * recently is kept as objects (the state machine never mutates one it was given), so a busy group costs no
 * encoding per batch; one left alone for `packAfterMs` is packed (`packState`: ~43 bytes a retained hit
 * instead of ~165 as objects) and decoded when a batch touches it again. At full rate most groups are idle
 * between hits (one per source address, a hit every tens of seconds) while their windows hold timespan +
 * allowed lateness of hits: e2e's firewall mix at 9.4k lines/s held 198 MB of windows after 6 minutes
 * with the Redis record as the packed form and 10 s before packing, 109 MB now (docs/benchmarks.md,
 * issue 6). `usage()` reports the packed size of every group (what an idle group holds).
 */
export class MemoryStateStore implements CorrelationStateStore {
  private readonly groups = new Map<string, MemoryGroup>();
  private sweptAt: number;
  /** The keys written, in write order, with the time of each write; `writtenAt` is the next to look at. */
  private written: string[] = [];
  private writtenTimes: number[] = [];
  private writtenAt = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly packAfterMs = PACK_AFTER_MS,
  ) {
    this.sweptAt = now();
  }

  /** In memory the key's length costs nothing: no digest (a SHA-256 per group per batch). */
  keyOf(correlationId: string, groupKey: string): string {
    return `${correlationId}\u0000${groupKey}`;
  }

  async read(keys: string[]): Promise<(StoredGroup | null)[]> {
    const now = this.now();
    return keys.map((key) => {
      const group = this.groups.get(key);
      if (!group || group.expiresAt <= now) return null;
      // Not unpacked in place: the write that follows replaces the state anyway.
      return { version: group.version, state: group.state ?? unpackState(group.packed!), bytes: 0 };
    });
  }

  async write(writes: GroupWrite[]): Promise<boolean[]> {
    const now = this.now();
    if (now - this.sweptAt >= SWEEP_EVERY_MS) this.sweep(now);
    this.pack(now);
    return writes.map((write) => {
      const current = this.groups.get(write.key);
      const version = current && current.expiresAt > now ? current.version : 0;
      if (version !== write.expected) return false;
      if (write.state === null) this.groups.delete(write.key);
      else
        this.groups.set(write.key, {
          version: version + 1,
          state: write.state,
          packed: undefined,
          writtenAt: now,
          expiresAt: now + write.ttlMs,
        });
      if (write.state !== null) {
        this.written.push(write.key);
        this.writtenTimes.push(now);
      }
      return true;
    });
  }

  async usage(): Promise<{ groups: number; bytes: number }> {
    this.sweep(this.now());
    this.pack(this.now());
    let bytes = 0;
    for (const group of this.groups.values())
      bytes += Buffer.byteLength(group.packed ?? packState(group.state!));
    return { groups: this.groups.size, bytes };
  }

  async close(): Promise<void> {
    this.groups.clear();
    this.written = [];
    this.writtenTimes = [];
    this.writtenAt = 0;
  }

  /** Drops expired groups (a walk over all of them, so every `SWEEP_EVERY_MS` at most). */
  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [key, group] of this.groups) if (group.expiresAt <= now) this.groups.delete(key);
  }

  /**
   * Packs the groups written `packAfterMs` ago and not since, from the queue of writes (oldest first): the
   * work follows the writes, not the groups held (a walk over ~90k groups every second at full rate).
   */
  private pack(now: number): void {
    const { written, writtenTimes } = this;
    let at = this.writtenAt;
    for (; at < written.length && now - writtenTimes[at]! >= this.packAfterMs; at++) {
      const group = this.groups.get(written[at]!);
      // Gone, already packed, or written again since (its later entry stands for it).
      if (!group?.state || group.writtenAt !== writtenTimes[at]) continue;
      group.packed = packState(group.state);
      group.state = undefined;
    }
    this.writtenAt = at;
    if (at > 1024 && at * 2 > written.length) {
      this.written = written.slice(at);
      this.writtenTimes = writtenTimes.slice(at);
      this.writtenAt = 0;
    }
  }
}
