/**
 * Hunting: a detection rule run over a time range of stored history, through the store's own backend (the
 * rules' Elasticsearch query DSL in scale mode, their SQL condition embedded). A hunt is a job: the range is
 * cut into slices searched newest first, so the job reports progress, a count per slice and the newest
 * matching events while it runs. Jobs live in a shared job store (Redis in scale mode, so any API process
 * answers for them; memory embedded) for an hour. The caller's agency scope is fixed at the start.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import type { SecurityEvent } from '../../core/model.js';
import type { EventStore, RuleCondition } from '../../core/ports.js';
import { compileToElasticsearch, compileToSql, type DetectionRule } from '../../rules/index.js';
import { principalOf } from '../auth.js';
import { ApiError } from '../errors.js';
import type { RuleCatalog } from './catalog.js';

export type HuntState = 'running' | 'done' | 'failed' | 'cancelled';

export interface HuntJob {
  id: string;
  ruleId: string;
  ruleTitle: string;
  state: HuntState;
  /** Share of the range searched, 0 to 1. */
  progress: number;
  from: string;
  to: string;
  /** The agencies searched (the caller's scope); absent = every agency. */
  agencies?: string[];
  createdBy: string;
  createdAt: string;
  finishedAt?: string;
  /** Events matched so far. */
  matched: number;
  /** Matches per slice, oldest first (a histogram of the hunt). */
  slices: { from: string; to: string; count: number | null }[];
  /** The newest matching events, newest first, at most `limit`. */
  events: SecurityEvent[];
  limit: number;
  error?: string;
}

/** Where jobs are kept between the process running one and the callers polling it. */
export interface HuntJobStore {
  put(job: HuntJob): Promise<void>;
  get(id: string): Promise<HuntJob | null>;
}

const JOB_TTL_MS = 3_600_000;
const SLICES = 24;
/** Hunts running at once in one process: each holds a store connection busy. */
const MAX_RUNNING = 2;

export class MemoryHuntJobStore implements HuntJobStore {
  readonly #jobs = new Map<string, { job: HuntJob; at: number }>();

  async put(job: HuntJob): Promise<void> {
    const now = Date.now();
    for (const [id, entry] of this.#jobs) if (now - entry.at > JOB_TTL_MS) this.#jobs.delete(id);
    this.#jobs.set(job.id, { job: structuredClone(job), at: now });
  }

  async get(id: string): Promise<HuntJob | null> {
    const entry = this.#jobs.get(id);
    return entry && Date.now() - entry.at <= JOB_TTL_MS ? structuredClone(entry.job) : null;
  }
}

export class RedisHuntJobStore implements HuntJobStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async put(job: HuntJob): Promise<void> {
    await this.redis.set(`${this.prefix}:hunt:${job.id}`, JSON.stringify(job), 'PX', JOB_TTL_MS);
  }

  async get(id: string): Promise<HuntJob | null> {
    const text = await this.redis.get(`${this.prefix}:hunt:${id}`);
    return text ? (JSON.parse(text) as HuntJob) : null;
  }
}

export interface HuntRequest {
  from: string;
  to: string;
  agencies?: string[];
  limit: number;
}

export class Hunts {
  #running = 0;
  readonly #cancelled = new Set<string>();

  constructor(
    private readonly events: EventStore,
    private readonly catalog: RuleCatalog,
    private readonly jobs: HuntJobStore,
    private readonly mode: 'embedded' | 'scale',
    private readonly logger: Logger,
  ) {}

  /** Compiles the rule for this store and starts the job; answers at once with its first state. */
  async start(request: FastifyRequest, ruleId: string, hunt: HuntRequest): Promise<HuntJob> {
    const entry = await this.catalog.get(ruleId);
    if (!entry) throw new ApiError(404, 'not_found', `no rule ${ruleId}`);
    if (entry.rule?.kind !== 'detection') {
      throw new ApiError(
        422,
        'not_huntable',
        entry.rule
          ? `only detection rules can be hunted; ${entry.id} is a ${entry.rule.kind} (hunt the rules it refers to)`
          : `rule ${entry.id} does not parse: ${entry.problems[0]?.message ?? 'unknown problem'}`,
      );
    }
    const condition = await this.#condition(entry.rule);
    if (this.#running >= MAX_RUNNING) {
      throw new ApiError(429, 'too_many_hunts', `${MAX_RUNNING} hunts are running; retry when one finishes`);
    }
    const fromMs = Date.parse(hunt.from);
    const toMs = Date.parse(hunt.to);
    const width = Math.max(1, Math.ceil((toMs - fromMs) / SLICES));
    const slices: HuntJob['slices'] = [];
    for (let start = fromMs; start < toMs; start += width) {
      slices.push({
        from: new Date(start).toISOString(),
        to: new Date(Math.min(toMs, start + width)).toISOString(),
        count: null,
      });
    }
    const job: HuntJob = {
      id: randomUUID(),
      ruleId: entry.id,
      ruleTitle: entry.rule.title,
      state: 'running',
      progress: 0,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      ...(hunt.agencies ? { agencies: hunt.agencies } : {}),
      createdBy: principalOf(request).name,
      createdAt: new Date().toISOString(),
      matched: 0,
      slices,
      events: [],
      limit: hunt.limit,
    };
    await this.jobs.put(job);
    this.#running++;
    void this.#run(job, condition).finally(() => {
      this.#running--;
    });
    return job;
  }

  async get(id: string): Promise<HuntJob | null> {
    return this.jobs.get(id);
  }

  /** Asks the job to stop after its current slice (the process running it sees the state change). */
  async cancel(job: HuntJob): Promise<HuntJob> {
    if (job.state !== 'running') return job;
    this.#cancelled.add(job.id);
    const cancelled: HuntJob = { ...job, state: 'cancelled', finishedAt: new Date().toISOString() };
    await this.jobs.put(cancelled);
    return cancelled;
  }

  async #condition(rule: DetectionRule): Promise<RuleCondition> {
    const { pipeline, filters } = await this.catalog.compiled();
    const options = { pipeline, filters };
    try {
      // Compiled now for this mode's store, so a rule its backend cannot express is refused up front.
      if (this.mode === 'scale') {
        const query = compileToElasticsearch(rule, options);
        return { elasticsearch: () => query, sql: () => compileToSql(rule, options) };
      }
      const sql = compileToSql(rule, options);
      return { elasticsearch: () => compileToElasticsearch(rule, options), sql: () => sql };
    } catch (error) {
      throw new ApiError(
        422,
        'not_huntable',
        `the ${this.mode === 'scale' ? 'Elasticsearch' : 'SQL'} backend cannot run rule ${rule.id}: ${(error as Error).message}`,
      );
    }
  }

  async #run(job: HuntJob, rule: RuleCondition): Promise<void> {
    const scope = job.agencies ? { agencies: job.agencies } : {};
    try {
      // Newest slice first: the events kept are the newest matches.
      for (let i = job.slices.length - 1; i >= 0; i--) {
        if (await this.#isCancelled(job.id)) return;
        const slice = job.slices[i]!;
        const time = { from: slice.from, to: slice.to };
        const count = await this.events.count({ ...scope, time, rule });
        slice.count = count;
        job.matched += count;
        const room = job.limit - job.events.length;
        if (count > 0 && room > 0) {
          const page = await this.events.search({ ...scope, time, rule, limit: Math.min(room, 1000) });
          job.events.push(...page.events);
        }
        job.progress = Math.round(((job.slices.length - i) / job.slices.length) * 1000) / 1000;
        if (i > 0) await this.jobs.put(job);
      }
      job.state = 'done';
    } catch (error) {
      job.state = 'failed';
      job.error = error instanceof Error ? error.message : String(error);
      this.logger.warn({ hunt: job.id, rule: job.ruleId, err: job.error }, 'hunt failed');
    }
    if (await this.#isCancelled(job.id)) return;
    job.finishedAt = new Date().toISOString();
    await this.jobs.put(job).catch((error: unknown) => {
      this.logger.warn({ hunt: job.id, err: (error as Error).message }, 'could not store the hunt result');
    });
  }

  async #isCancelled(id: string): Promise<boolean> {
    if (this.#cancelled.has(id)) return true;
    // Cancelled through another API process.
    const stored = await this.jobs.get(id).catch(() => null);
    if (stored?.state === 'cancelled') {
      this.#cancelled.add(id);
      return true;
    }
    return false;
  }
}
