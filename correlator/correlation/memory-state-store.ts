/**
 * Embedded mode's correlation state store: the records of state-store.ts in a Map, recent groups as objects
 * and idle ones packed.
 */
import type { GroupState } from './group-window.js';
import { packState, unpackState } from './packed-state.js';
import type { CorrelationStateStore, GroupWrite, StoredGroup } from './state-store.js';

/**
 * A group left unwritten this long is kept packed (`packState`) until a batch touches it again, and one
 * written again after this long is packed at once. One second: a group written by consecutive batches (a
 * flood from one address) stays objects, while e2e's groups, a hit every ~12–20 s each at full rate, spend
 * their time packed.
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
 * by consecutive batches is kept as objects (the state machine never mutates one it was given), so a busy
 * group costs no encoding per batch; an idle one is packed (packed-state.ts: 22 bytes a retained hit of
 * e2e's mix instead of ~165 as objects) and decoded when a batch touches it again. At full rate most groups
 * are idle between hits (one per source address, a hit every tens of seconds) while their windows hold
 * timespan + allowed lateness of hits (docs/benchmarks.md, issue 6, for the figures). `usage()` reports
 * the packed size of every group (what an idle group holds).
 */
export class MemoryStateStore implements CorrelationStateStore {
  private readonly groups = new Map<string, MemoryGroup>();
  /** Every write takes the next: a version never comes back, not after a group expires (as in Redis). */
  private lastVersion = 0;
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
      return { version: group.version, state: group.state ?? unpackState(group.packed!) };
    });
  }

  async write(writes: GroupWrite[]): Promise<boolean[]> {
    const now = this.now();
    if (now - this.sweptAt >= SWEEP_EVERY_MS) this.sweep(now);
    this.pack(now);
    return writes.map((write) => {
      const current = this.groups.get(write.key);
      const live = current !== undefined && current.expiresAt > now;
      const version = live ? current.version : 0;
      if (version !== write.expected) return false;
      if (write.state === null) {
        this.groups.delete(write.key);
        return true;
      }
      // A group written again after `packAfterMs` or more is one whose hits come that far apart (e2e's:
      // one every ~12–20 s at full rate): packed now, not held as objects for another `packAfterMs` first.
      const idle = live && now - current.writtenAt >= this.packAfterMs;
      const group: MemoryGroup = current ?? {
        version: 0,
        state: undefined,
        packed: undefined,
        writtenAt: now,
        expiresAt: now,
      };
      group.version = ++this.lastVersion;
      group.state = idle ? undefined : write.state;
      group.packed = idle ? packState(write.state) : undefined;
      group.writtenAt = now;
      group.expiresAt = now + write.ttlMs;
      if (!current) this.groups.set(write.key, group);
      if (!idle) {
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
    for (const group of this.groups.values()) bytes += (group.packed ?? packState(group.state!)).length;
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
