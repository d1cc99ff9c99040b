/**
 * Notification throttling shared by every worker: the first change for a key in a window is sent, the rest
 * are counted, and the next message sent for that key says how many were held back. Redis (SET NX PX and a
 * counter) in scale mode, so a storm spread over many workers is still one message; a Map when embedded.
 */
import { Redis } from 'ioredis';

export interface Throttle {
  /** `send` for the first call per key and window; otherwise counts the call as suppressed. */
  take(key: string, windowMs: number): Promise<{ send: boolean; suppressed: number }>;
  close(): Promise<void>;
}

export class MemoryThrottle implements Throttle {
  private readonly windows = new Map<string, { until: number; suppressed: number; carried: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, windowMs: number): Promise<{ send: boolean; suppressed: number }> {
    const now = this.now();
    if (this.windows.size > 10_000) {
      for (const [k, w] of this.windows) if (w.until <= now && w.suppressed === 0) this.windows.delete(k);
    }
    const window = this.windows.get(key);
    if (window && window.until > now) {
      window.suppressed++;
      return { send: false, suppressed: 0 };
    }
    const carried = window?.suppressed ?? 0;
    this.windows.set(key, { until: now + windowMs, suppressed: 0, carried });
    return { send: true, suppressed: carried };
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}

export class RedisThrottle implements Throttle {
  private readonly redis: Redis;
  private readonly ownsConnection: boolean;

  constructor(private readonly options: { redisUrl?: string; redis?: Redis; prefix: string }) {
    this.ownsConnection = !options.redis;
    this.redis = options.redis ?? new Redis(options.redisUrl!, { maxRetriesPerRequest: null });
  }

  async take(key: string, windowMs: number): Promise<{ send: boolean; suppressed: number }> {
    const gate = `${this.options.prefix}:notify:${key}`;
    const counter = `${gate}:suppressed`;
    const won = await this.redis.set(gate, '1', 'PX', Math.ceil(windowMs), 'NX');
    if (won === 'OK') {
      // What the previous window held back, reported with this message.
      const suppressed = await this.redis.getdel(counter);
      return { send: true, suppressed: Number(suppressed ?? 0) };
    }
    await this.redis
      .multi()
      .incr(counter)
      .pexpire(counter, Math.ceil(windowMs) * 4)
      .exec();
    return { send: false, suppressed: 0 };
  }

  async close(): Promise<void> {
    if (this.ownsConnection) this.redis.disconnect();
  }
}
