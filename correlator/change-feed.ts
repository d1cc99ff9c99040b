/**
 * The ChangeFeed port's two adapters: incident changes fanned out to every process that listens (the API's
 * live stream, webhooks). Scale mode publishes on a Redis channel, so an API process streams what a worker
 * changed; embedded mode is an in-process emitter. Best-effort and live, as the port says.
 */
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { ChangeFeed, IncidentChange } from '../core/ports.js';

type Listener = (change: IncidentChange) => void;

export class MemoryChangeFeed implements ChangeFeed {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(change: IncidentChange): Promise<void> {
    this.emitter.emit('change', change);
  }

  async subscribe(listener: Listener): Promise<() => Promise<void>> {
    this.emitter.on('change', listener);
    return async () => {
      this.emitter.off('change', listener);
    };
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export class RedisChangeFeed implements ChangeFeed {
  private readonly publisher: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Set<Listener>();
  private readonly channel: string;

  constructor(private readonly options: { redisUrl: string; prefix: string; logger: Logger }) {
    this.channel = `${options.prefix}:incident-changes`;
    this.publisher = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  }

  async publish(change: IncidentChange): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify(change));
  }

  async subscribe(listener: Listener): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    if (!this.subscriber) {
      // A subscribed connection can do nothing else: one per process, shared by every listener.
      this.subscriber = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
      this.subscriber.on('message', (_channel: string, message: string) => {
        let change: IncidentChange;
        try {
          change = JSON.parse(message) as IncidentChange;
        } catch {
          this.options.logger.warn('change feed: unparseable message ignored');
          return;
        }
        for (const each of this.listeners) each(change);
      });
      await this.subscriber.subscribe(this.channel);
    }
    return async () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscriber?.disconnect();
    this.publisher.disconnect();
  }
}
