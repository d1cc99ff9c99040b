/**
 * Scale mode's correlation state: one Redis string per active group (the layout: redis-record.ts), with a
 * TTL of timespan + allowed lateness. A batch's writes are one Lua script call (atomic on the server), each
 * a compare-and-set on the group's version, so workers on any number of machines never lose each other's
 * hits. A write computed from a record read sends only the change (the new head, rewritten in place, and
 * the new hits, appended), so neither the worker nor Redis copies the window on every touch; a read
 * transfers the record and decodes its live hits only.
 */
import { Redis } from 'ioredis';
import { digest } from '../../core/identity.js';
import {
  changeOf,
  type DecodedRecord,
  decodeRecord,
  HEAD_BYTES,
  LIVE_DIGITS,
  VERSION_DIGITS,
  versionField,
  wholeRecord,
} from './redis-record.js';
import type { CorrelationStateStore, GroupWrite, StoredGroup } from './state-store.js';

/** Arguments per group in `WRITE_GROUPS`. */
const ARGS_PER_GROUP = 7;

/**
 * KEYS[1]: the version counter; KEYS[2..]: the groups. ARGV, 7 per group: expected version (the head's
 * field, '' for absent), expected length of the record (-1: not checked), TTL ms, live (-2: delete, -1:
 * write whole, n: a change, the first live hit's new offset), the head's newest field, the base and firings
 * lines (whole), the hit lines (appended, or all of them whole).
 * Returns per group the new version, 0 if deleted, -1 if another write came first. The length is that of
 * the record the write was computed from: with the version it refuses a record that only a reset counter
 * could have given the same version (Redis must not evict the counter, so `noeviction` or a `volatile-*`
 * policy), to which a change's offsets would not apply.
 */
const WRITE_GROUPS = `
local results = {}
for i = 2, #KEYS do
  local at = (i - 2) * ${ARGS_PER_GROUP}
  local key = KEYS[i]
  local length = tonumber(ARGV[at + 2])
  local live = tonumber(ARGV[at + 4])
  if redis.call('GETRANGE', key, 0, ${VERSION_DIGITS - 1}) ~= ARGV[at + 1]
    or (length >= 0 and redis.call('STRLEN', key) ~= length) then
    results[i - 1] = -1
  elseif live == -2 then
    redis.call('DEL', key)
    results[i - 1] = 0
  else
    local next = redis.call('INCR', KEYS[1])
    local version = string.format('%0${VERSION_DIGITS}d', next) .. ','
    if live == -1 then
      local body = ARGV[at + 6]
      redis.call('SET', key, version .. string.format('%0${LIVE_DIGITS}d', ${HEAD_BYTES} + #body) .. ',' ..
        ARGV[at + 5] .. '\\n' .. body .. ARGV[at + 7], 'PX', ARGV[at + 3])
    else
      redis.call('SETRANGE', key, 0, version .. string.format('%0${LIVE_DIGITS}d', live) .. ',' .. ARGV[at + 5])
      if ARGV[at + 7] ~= '' then redis.call('APPEND', key, ARGV[at + 7]) end
      redis.call('PEXPIRE', key, ARGV[at + 3])
    end
    results[i - 1] = next
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
    // Not the keys of the layouts before it (`:corr:`, `:window:`): a record of those is not read as this
    // one. Windows open at an upgrade start afresh (docs/architecture.md, "Correlation windows"). The
    // counter is the `:window:` layout's: its versions were never this layout's.
    this.keyPrefix = `${options.prefix}:window-log:`;
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
    const values = await this.redis.mgetBuffer(keys.map((key) => this.keyPrefix + key));
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
      const expected = versionField(write.expected);
      const ttl = Math.max(1, Math.ceil(write.ttlMs));
      if (write.state === null) {
        args.push(expected, -1, ttl, -2, '', '', '');
        continue;
      }
      const previous = write.previous;
      const read =
        previous && previous.version === write.expected && this.decoded.has(previous)
          ? (previous as DecodedRecord)
          : undefined;
      const change = read ? changeOf(read, write.state) : wholeRecord(write.state);
      args.push(
        expected,
        read ? read.bytes.length : -1,
        ttl,
        change.live,
        change.newest,
        change.body,
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
