/**
 * Retention scheduling: every `checkEveryMs`, events older than `eventsDays` whole UTC days are deleted
 * through EventStore.deleteBefore (daily indices in Elasticsearch, rows in SQLite). Deletion is
 * idempotent, so in scale mode every `serve` process may run it; one check never overlaps the next, and a
 * failed check (store down) is logged and simply tried again at the next tick.
 */
import type { Logger } from '../core/logger.js';
import type { EventStore, RetentionResult } from '../core/ports.js';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  /** Whole UTC days of events to keep (config `retention.events_days`). */
  eventsDays: number;
  /** Interval between checks (config `retention.check_every`). */
  checkEveryMs: number;
  logger?: Logger;
  /** The clock, for tests. */
  now?: () => number;
}

export interface RetentionScheduler {
  /** Runs one check now (after any check in progress); resolves with what it deleted, or undefined on failure. */
  runOnce(): Promise<RetentionResult | undefined>;
  /** Stops the schedule and waits for a check in progress. */
  stop(): Promise<void>;
}

/** The cutoff for `eventsDays`: days before the UTC day of (now − eventsDays) are deleted. */
export function retentionCutoff(now: number, eventsDays: number): string {
  return new Date(now - eventsDays * DAY_MS).toISOString();
}

/** Starts checking at once, then every `checkEveryMs`. A store without `deleteBefore` gets no schedule. */
export function startRetention(events: EventStore, options: RetentionOptions): RetentionScheduler {
  if (!Number.isInteger(options.eventsDays) || options.eventsDays < 1) {
    throw new Error(`retention.events_days must be a whole number of days ≥ 1, got ${options.eventsDays}`);
  }
  if (!(options.checkEveryMs >= 1)) throw new Error('retention.check_every must be a positive duration');
  const now = options.now ?? Date.now;
  let inFlight: Promise<RetentionResult | undefined> | undefined;
  let stopped = false;

  const check = async (): Promise<RetentionResult | undefined> => {
    if (events.deleteBefore === undefined) return undefined;
    const cutoff = retentionCutoff(now(), options.eventsDays);
    try {
      const result = await events.deleteBefore(cutoff);
      if (result.days.length > 0) {
        options.logger?.info(
          { cutoff, days: result.days, events: result.events },
          'retention: old events deleted',
        );
      }
      return result;
    } catch (error) {
      options.logger?.warn(
        { err: (error as Error).message, cutoff },
        'retention check failed; retried next time',
      );
      return undefined;
    }
  };
  const start = (): Promise<RetentionResult | undefined> => {
    const current = check().finally(() => {
      if (inFlight === current) inFlight = undefined;
    });
    inFlight = current;
    return current;
  };
  const runOnce = async (): Promise<RetentionResult | undefined> => {
    while (inFlight !== undefined) await inFlight;
    return start();
  };

  void start();
  // A tick during a long check is skipped, not queued: checks never pile up.
  const timer = setInterval(() => {
    if (!stopped && inFlight === undefined) void start();
  }, options.checkEveryMs);
  // Never the reason the process stays alive.
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (inFlight !== undefined) await inFlight;
    },
  };
}
