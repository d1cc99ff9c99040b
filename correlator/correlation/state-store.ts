/**
 * Where correlation windows live: one record per (correlation rule, group key), written by compare-and-set.
 * Every worker reads a group, applies its batch's hits with the shared state machine (group-window.ts) and
 * writes back only if nobody else wrote in between; otherwise it re-reads and re-applies. Any number of
 * workers thus reach the state one worker would, and the two modes share one implementation of the rules.
 */
import type { Firing, GroupState, WindowHit } from './group-window.js';

export interface StoredGroup {
  /** Incremented by every write; 0 means absent. */
  version: number;
  state: GroupState;
  /** Size of the stored record in bytes (memory accounting). */
  bytes: number;
}

export interface GroupWrite {
  key: string;
  /** The version read (0 when the group was absent). */
  expected: number;
  /** null deletes the group (nothing left in its window). */
  state: GroupState | null;
  /** Wall-clock expiry: timespan + allowed lateness, renewed by every write. */
  ttlMs: number;
}

export interface CorrelationStateStore {
  /** The record's key for a correlation's group (`groupKey`: the JSON array of its group-by values). */
  keyOf(correlationId: string, groupKey: string): string;
  read(keys: string[]): Promise<(StoredGroup | null)[]>;
  /** Compare-and-set, one result per write: false where another worker wrote first. */
  write(writes: GroupWrite[]): Promise<boolean[]>;
  /** Groups held and their bytes (for metrics and the memory benchmark). */
  usage(): Promise<{ groups: number; bytes: number }>;
  close(): Promise<void>;
}

/*
 * Compact JSON: a hit is [time, rule, key, agency, value?, refs?, first?], a firing is
 * [time, value, completedBy, hits, consumed]. Redis holds one such record per active group.
 */
type EncodedHit = [number, number, string, string, (string | null)?, string[]?, number?];
type EncodedFiring = [number, number, string, EncodedHit[], string[]];
type EncodedState = [number, EncodedHit[], EncodedFiring[]];

function encodeHit(hit: WindowHit): EncodedHit {
  const encoded: EncodedHit = [hit.time, hit.rule, hit.key, hit.agency];
  if (hit.value !== undefined || hit.refs) encoded.push(hit.value ?? null);
  if (hit.refs) encoded.push(hit.refs);
  if (hit.refs && hit.first !== undefined) encoded.push(hit.first);
  return encoded;
}

function decodeHit([time, rule, key, agency, value, refs, first]: EncodedHit): WindowHit {
  return {
    time,
    rule,
    key,
    agency,
    ...(value !== undefined && value !== null ? { value } : {}),
    ...(refs ? { refs } : {}),
    ...(first !== undefined ? { first } : {}),
  };
}

export function encodeState(state: GroupState): string {
  const firings = state.firings.map(
    (f: Firing): EncodedFiring => [f.time, f.value, f.completedBy, f.hits.map(encodeHit), f.consumed],
  );
  const encoded: EncodedState = [state.newest, state.hits.map(encodeHit), firings];
  return JSON.stringify(encoded);
}

export function decodeState(text: string): GroupState {
  const [newest, hits, firings] = JSON.parse(text) as EncodedState;
  return {
    newest,
    hits: hits.map(decodeHit),
    firings: firings.map(([time, value, completedBy, firingHits, consumed]) => ({
      time,
      value,
      completedBy,
      hits: firingHits.map(decodeHit),
      consumed,
    })),
  };
}

/** A group left unwritten this long is kept packed (its encoded record) until a batch touches it again. */
export const PACK_AFTER_MS = 10_000;
/** Expiry and packing sweep the groups at most this often (or every `packAfterMs`, if shorter). */
const SWEEP_EVERY_MS = 5_000;

interface MemoryGroup {
  version: number;
  /** The state as the last write left it; undefined once packed. */
  state: GroupState | undefined;
  /** The encoded record (Redis' form) of a group not written for `packAfterMs`. */
  packed: string | undefined;
  writtenAt: number;
  expiresAt: number;
}

/**
 * Embedded mode: the same records in a Map, expired by wall-clock time like Redis keys. A group written
 * recently is kept as objects (the state machine never mutates one it was given), so a busy group costs no
 * encoding per batch; one left alone for `packAfterMs` is packed into its encoded record (~45 bytes a
 * retained hit instead of ~165 as objects) and decoded when a batch touches it again. At full rate most
 * groups are idle between hits (one per source address, a hit every tens of seconds) while their windows
 * hold timespan + allowed lateness of hits: as objects that was ~150 MB of heap after 10 minutes at 4k
 * events/s (docs/benchmarks.md, issue 6). `usage()` reports the encoded size, the figure Redis would hold.
 */
export class MemoryStateStore implements CorrelationStateStore {
  private readonly groups = new Map<string, MemoryGroup>();
  private sweptAt: number;

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
      return { version: group.version, state: group.state ?? decodeState(group.packed!), bytes: 0 };
    });
  }

  async write(writes: GroupWrite[]): Promise<boolean[]> {
    const now = this.now();
    if (now - this.sweptAt >= Math.min(SWEEP_EVERY_MS, this.packAfterMs)) this.sweep(now);
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
      return true;
    });
  }

  async usage(): Promise<{ groups: number; bytes: number }> {
    this.sweep(this.now());
    let bytes = 0;
    for (const group of this.groups.values())
      bytes += Buffer.byteLength(group.packed ?? encodeState(group.state!));
    return { groups: this.groups.size, bytes };
  }

  async close(): Promise<void> {
    this.groups.clear();
  }

  /** Drops expired groups and packs those idle for `packAfterMs`. */
  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [key, group] of this.groups) {
      if (group.expiresAt <= now) this.groups.delete(key);
      else if (group.state && now - group.writtenAt >= this.packAfterMs) {
        group.packed = encodeState(group.state);
        group.state = undefined;
      }
    }
  }
}
