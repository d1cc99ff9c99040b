/**
 * Scale mode's correlation state: one Redis string per active group, `<version>\n<compact JSON>`, with a
 * TTL of timespan + allowed lateness. Writes are compare-and-set in a Lua script (atomic on the server), so
 * workers on any number of machines never lose each other's hits.
 */
import { Redis } from 'ioredis';
import { digest } from '../../core/identity.js';
import {
  type CorrelationStateStore,
  decodeState,
  encodeState,
  type GroupWrite,
  type StoredGroup,
} from './state-store.js';

/** KEYS[1]: group; ARGV: expected version, new state ('' deletes), TTL ms. Returns 1 if written, 0 if stale. */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
local version = 0
if current then
  local newline = string.find(current, '\\n', 1, true)
  version = tonumber(string.sub(current, 1, newline - 1))
end
if version ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('SET', KEYS[1], (version + 1) .. '\\n' .. ARGV[2], 'PX', ARGV[3])
return 1
`;

interface CasRedis extends Redis {
  correlationCas(key: string, expected: number, state: string, ttlMs: number): Promise<number>;
}

export class RedisStateStore implements CorrelationStateStore {
  private readonly redis: CasRedis;
  private readonly ownsConnection: boolean;

  constructor(options: { redisUrl?: string; redis?: Redis; prefix: string }) {
    this.ownsConnection = !options.redis;
    const redis = options.redis ?? new Redis(options.redisUrl!, { maxRetriesPerRequest: null });
    redis.defineCommand('correlationCas', { numberOfKeys: 1, lua: COMPARE_AND_SET });
    this.redis = redis as CasRedis;
    this.keyPrefix = `${options.prefix}:corr:`;
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
      const newline = value.indexOf('\n');
      return {
        version: Number(value.slice(0, newline)),
        state: decodeState(value.slice(newline + 1)),
        bytes: Buffer.byteLength(value),
      };
    });
  }

  async write(writes: GroupWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      correlationCas(key: string, expected: number, state: string, ttlMs: number): unknown;
    };
    for (const write of writes) {
      pipeline.correlationCas(
        this.keyPrefix + write.key,
        write.expected,
        write.state ? encodeState(write.state) : '',
        Math.max(1, Math.ceil(write.ttlMs)),
      );
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, result]) => {
      if (error) throw error;
      return result === 1;
    });
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
