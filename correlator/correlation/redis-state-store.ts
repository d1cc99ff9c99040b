/**
 * Scale mode's correlation state: one Redis string per active group (the layout: redis-record.ts), with a
 * TTL of timespan + allowed lateness. A batch's writes are one Lua script call (atomic on the server), each
 * a compare-and-set on the group's version, so workers on any number of machines never lose each other's
 * hits. A write computed from a record read sends only the change (new head, hits dropped from the front,
 * new hits appended), which the script applies to the record it holds: the window is not re-encoded and
 * re-sent on every touch.
 */
import { Redis } from 'ioredis';
import { digest } from '../../core/identity.js';
import {
  changeOf,
  type DecodedRecord,
  decodeRecord,
  type RecordChange,
  wholeRecord,
} from './redis-record.js';
import type { CorrelationStateStore, GroupWrite, StoredGroup } from './state-store.js';

/** Arguments per group in `WRITE_GROUPS`. */
const ARGS_PER_GROUP = 6;

/**
 * KEYS[1]: the version counter; KEYS[2..]: the groups. ARGV, 6 per group: expected version ('0': absent),
 * TTL ms, drop (-2: delete, -1: write the body whole, n: drop n hits from the front of the record held),
 * head line, firings ('k': keep the record's, '=' followed by the new line), hit lines to append.
 * Returns per group the new version, 0 if deleted, -1 if another write came first (or the record held has
 * fewer hits than a change drops, which only a reset counter could cause: Redis must not evict the counter,
 * so `noeviction` or a `volatile-*` policy).
 */
const WRITE_GROUPS = `
local results = {}
for i = 2, #KEYS do
  local at = (i - 2) * ${ARGS_PER_GROUP}
  local key = KEYS[i]
  local current = redis.call('GET', key)
  local version = '0'
  local versionEnd = 0
  if current then
    versionEnd = string.find(current, '\\n', 1, true)
    version = string.sub(current, 1, versionEnd - 1)
  end
  local drop = tonumber(ARGV[at + 3])
  if version ~= ARGV[at + 1] then
    results[i - 1] = -1
  elseif drop == -2 then
    if current then redis.call('DEL', key) end
    results[i - 1] = 0
  else
    local firings = ARGV[at + 5]
    local hits = ARGV[at + 6]
    if drop >= 0 then
      local headEnd = string.find(current, '\\n', versionEnd + 1, true)
      local hitsFrom = string.find(current, '\\n', headEnd + 1, true)
      if firings == 'k' then firings = string.sub(current, headEnd + 1, hitsFrom - 1)
      else firings = string.sub(firings, 2) end
      for _ = 1, drop do
        if not hitsFrom then break end
        hitsFrom = string.find(current, '\\n', hitsFrom + 1, true)
      end
      -- Fewer lines than the change drops: not the record it was computed from (the counter was reset),
      -- so refused like a stale version (the worker re-reads it).
      if not hitsFrom then results[i - 1] = -1 else hits = string.sub(current, hitsFrom + 1) .. hits end
    else
      firings = string.sub(firings, 2)
    end
    if results[i - 1] == nil then
      local next = redis.call('INCR', KEYS[1])
      redis.call('SET', key, string.format('%d', next) .. '\\n' .. ARGV[at + 4] .. '\\n' .. firings .. '\\n' .. hits,
        'PX', ARGV[at + 2])
      results[i - 1] = next
    end
  end
end
return results
`;

interface ScriptedRedis extends Redis {
  correlationWrite(...args: (string | number)[]): Promise<number[]>;
}

export class RedisStateStore implements CorrelationStateStore {
  private readonly redis: ScriptedRedis;
  private readonly ownsConnection: boolean;
  /** The records this store decoded: a write computed from one of them sends the change only. */
  private readonly decoded = new WeakSet<StoredGroup>();
  private readonly versionKey: string;

  constructor(options: { redisUrl?: string; redis?: Redis; prefix: string }) {
    this.ownsConnection = !options.redis;
    const redis = options.redis ?? new Redis(options.redisUrl!, { maxRetriesPerRequest: null });
    redis.defineCommand('correlationWrite', { lua: WRITE_GROUPS });
    this.redis = redis as ScriptedRedis;
    // Not the `:corr:` keys of the whole-record layout before it: a record of that layout is not read as
    // this one, and its versions came from the record itself, so they could meet the counter's. Windows open
    // at an upgrade start afresh (docs/architecture.md, "Correlation windows").
    this.keyPrefix = `${options.prefix}:window:`;
    this.versionKey = `${options.prefix}:window-version`;
  }

  /** Every group key starts with this (the caller's keys are appended). */
  readonly keyPrefix: string;

  /** A digest of the group-by values: a short Redis key whatever the values' length. */
  keyOf(correlationId: string, groupKey: string): string {
    return `${correlationId}:${digest(groupKey)}`;
  }

  async read(keys: string[]): Promise<(StoredGroup | null)[]> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(keys.map((key) => this.keyPrefix + key));
    return values.map((value) => {
      if (value === null) return null;
      const record = decodeRecord(value);
      this.decoded.add(record);
      return record;
    });
  }

  async write(writes: GroupWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    const keys: string[] = [this.versionKey];
    const args: (string | number)[] = [];
    for (const write of writes) {
      keys.push(this.keyPrefix + write.key);
      const ttl = Math.max(1, Math.ceil(write.ttlMs));
      if (write.state === null) {
        args.push(write.expected, ttl, -2, '', 'k', '');
        continue;
      }
      const previous = write.previous;
      const change: RecordChange =
        previous && previous.version === write.expected && this.decoded.has(previous)
          ? changeOf(previous as DecodedRecord, write.state)
          : wholeRecord(write.state);
      args.push(
        write.expected,
        ttl,
        change.drop,
        change.head,
        change.firings === null ? 'k' : `=${change.firings}`,
        change.hits,
      );
    }
    const results = await this.redis.correlationWrite(keys.length, ...keys, ...args);
    return results.map((result) => result >= 0);
  }

  async usage(): Promise<{ groups: number; bytes: number }> {
    let groups = 0;
    let bytes = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.memory('USAGE', key);
      for (const [error, size] of (await pipeline.exec()) ?? []) {
        if (error || size === null) continue;
        groups++;
        bytes += Number(size);
      }
    } while (cursor !== '0');
    return { groups, bytes };
  }

  async close(): Promise<void> {
    if (this.ownsConnection) this.redis.disconnect();
  }
}
