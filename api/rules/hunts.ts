/**
 * Hunting: a detection rule run over a time range of stored history, through the store's own backend (the
 * rules' Elasticsearch query DSL in scale mode, their SQL condition embedded). A hunt is a job: the range is
 * cut into slices searched newest first, so the job reports progress, a count per slice and the newest
 * matching events while it runs. Jobs live in a shared job store (Redis in scale mode, so any API process
 * answers for them; memory embedded) for an hour. The caller's agency scope is fixed at the start.
 *
 * A correlation rule is hunted through the detection rules it rests on (chains followed down): each one is
 * searched by the store's backend, slice by slice oldest first, and the hits go in event-time order through
 * the reference evaluator (rules/correlation/evaluate.ts) — the semantics the correlator's windows share — so
 * the job reports the correlation's firings with their group values and the events that built them. Hits
 * are read in full (a firing may need every one), so a hunt that finds more than MAX_CORRELATION_HITS fails
 * with a clear error instead of holding them all.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import type { SecurityEvent } from '../../core/model.js';
import type { EventStore, RuleCondition } from '../../core/ports.js';
import {
  type CompiledCorrelation,
  CorrelationEvaluator,
  type CorrelationRule,
  compileCorrelations,
  compileToElasticsearch,
  compileToSql,
  type DetectionRule,
} from '../../rules/index.js';
import { principalOf } from '../auth.js';
import { ApiError } from '../errors.js';
import type { RuleCatalog } from './catalog.js';

export type HuntState = 'running' | 'done' | 'failed' | 'cancelled';

/** A correlation's firing found by a hunt. */
export interface HuntFiring {
  /** Event time of the hit that completed it. */
  time: string;
  groupBy: Record<string, string>;
  /** The measured value: a count, a number of distinct values or a metric. */
  value: number;
  /** The events that built it (those of inner firings for a chain), at most MAX_FIRING_EVENTS. */
  eventIds: string[];
}

export interface HuntJob {
  id: string;
  ruleId: string;
  ruleTitle: string;
  /** A detection rule's hunt counts matching events; a correlation's counts its firings. */
  kind: 'detection' | 'correlation';
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
  /** Events matched so far (a correlation: firings). */
  matched: number;
  /** Matches (firings) per slice, oldest first (a histogram of the hunt). */
  slices: { from: string; to: string; count: number | null }[];
  /** The newest matching events, newest first, at most `limit` (a correlation: none, see `firings`). */
  events: SecurityEvent[];
  /** A correlation's newest firings, newest first, at most `limit`. */
  firings?: HuntFiring[];
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
/** Detection hits a correlation hunt reads in all; past it the hunt fails and asks for a narrower range. */
export const MAX_CORRELATION_HITS = 200_000;
const MAX_FIRING_EVENTS = 100;
const PAGE = 1000;

/** What a hunt runs: one detection rule's condition, or a correlation's chain and the detections under it. */
type HuntPlan =
  | { kind: 'detection'; condition: RuleCondition }
  | {
      kind: 'correlation';
      /** The correlation and the correlations it references, in dependency order. */
      chain: CompiledCorrelation[];
      bases: { id: string; condition: RuleCondition }[];
    };

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
    if (!entry.rule || entry.rule.kind === 'filter') {
      throw new ApiError(
        422,
        'not_huntable',
        entry.rule
          ? `${entry.id} is a filter: hunt the rules it applies to`
          : `rule ${entry.id} does not parse: ${entry.problems[0]?.message ?? 'unknown problem'}`,
      );
    }
    const plan: HuntPlan =
      entry.rule.kind === 'detection'
        ? { kind: 'detection', condition: await this.#condition(entry.rule) }
        : await this.#correlationPlan(entry.rule);
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
      kind: plan.kind,
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
      ...(plan.kind === 'correlation' ? { firings: [] } : {}),
      limit: hunt.limit,
    };
    await this.jobs.put(job);
    this.#running++;
    const search = () =>
      plan.kind === 'detection'
        ? this.#searchDetection(job, plan.condition)
        : this.#searchCorrelation(job, plan);
    void this.#execute(job, search).finally(() => {
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

  /** The correlation with the correlations it references (followed down) and the detections under them. */
  async #correlationPlan(rule: CorrelationRule): Promise<HuntPlan> {
    const { id } = rule;
    const { pipeline, detections, correlations } = await this.catalog.compiled();
    // A disabled correlation is not in the compiled set, but may be hunted (to see what enabling it would do).
    const all = correlations.some((c) => c.id === id) ? correlations : [...correlations, rule];
    const { compiled } = compileCorrelations(all, detections, pipeline);
    const byId = new Map(compiled.map((c) => [c.info.id, c]));
    if (!byId.has(id)) {
      throw new ApiError(422, 'not_huntable', `correlation ${id} does not compile in the current rule set`);
    }
    const needed = new Set<string>();
    const baseIds = new Set<string>();
    const visit = (correlationId: string) => {
      if (needed.has(correlationId)) return;
      needed.add(correlationId);
      for (const ref of byId.get(correlationId)!.ruleIds) {
        if (byId.has(ref)) visit(ref);
        else baseIds.add(ref);
      }
    };
    visit(id);
    const bases: { id: string; condition: RuleCondition }[] = [];
    for (const rule of detections) {
      if (baseIds.has(rule.id)) bases.push({ id: rule.id, condition: await this.#condition(rule) });
    }
    // compileCorrelations returns dependency order: keep it.
    return { kind: 'correlation', chain: compiled.filter((c) => needed.has(c.info.id)), bases };
  }

  /** Slices oldest first (windows carry over from one slice to the next), hits in event-time order. */
  async #searchCorrelation(
    job: HuntJob,
    plan: Extract<HuntPlan, { kind: 'correlation' }>,
  ): Promise<'done' | 'cancelled'> {
    const scope = job.agencies ? { agencies: job.agencies } : {};
    const evaluator = new CorrelationEvaluator<string>(plan.chain);
    const firings: HuntFiring[] = [];
    let hits = 0;
    for (const [i, slice] of job.slices.entries()) {
      if (await this.#isCancelled(job.id)) return 'cancelled';
      const time = { from: slice.from, to: slice.to };
      const sliceHits: { ruleId: string; event: SecurityEvent; time: number; order: number }[] = [];
      for (const [order, base] of plan.bases.entries()) {
        let after: string | undefined;
        do {
          const page = await this.events.search({
            ...scope,
            time,
            rule: base.condition,
            limit: PAGE,
            ...(after ? { after } : {}),
          });
          for (const event of page.events) {
            sliceHits.push({ ruleId: base.id, event, time: Date.parse(event['@timestamp']), order });
          }
          hits += page.events.length;
          if (hits > MAX_CORRELATION_HITS) {
            throw new Error(
              `more than ${MAX_CORRELATION_HITS} events match the rules under this correlation; hunt a narrower range or agency`,
            );
          }
          after = page.next;
        } while (after);
      }
      // Event time, then the order the rules are referenced in, then the id: one order whatever the store.
      sliceHits.sort(
        (a, b) => a.time - b.time || a.order - b.order || (a.event.event.id < b.event.event.id ? -1 : 1),
      );
      let count = 0;
      for (const hit of sliceHits) {
        for (const fired of evaluator.push({
          ruleId: hit.ruleId,
          event: hit.event,
          time: hit.time,
          ref: hit.event.event.id,
        })) {
          if (fired.rule.id !== job.ruleId) continue;
          count++;
          firings.push({
            time: new Date(fired.time).toISOString(),
            groupBy: fired.groupBy,
            value: fired.value,
            eventIds: fired.refs.slice(-MAX_FIRING_EVENTS),
          });
        }
      }
      slice.count = count;
      job.matched += count;
      job.firings = firings.slice(-job.limit).reverse();
      job.progress = Math.round(((i + 1) / job.slices.length) * 1000) / 1000;
      if (i < job.slices.length - 1) await this.jobs.put(job);
    }
    return 'done';
  }

  async #searchDetection(job: HuntJob, rule: RuleCondition): Promise<'done' | 'cancelled'> {
    const scope = job.agencies ? { agencies: job.agencies } : {};
    // Newest slice first: the events kept are the newest matches.
    for (let i = job.slices.length - 1; i >= 0; i--) {
      if (await this.#isCancelled(job.id)) return 'cancelled';
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
    return 'done';
  }

  /** Runs a search and records how it ended (unless the job was cancelled meanwhile). */
  async #execute(job: HuntJob, search: () => Promise<'done' | 'cancelled'>): Promise<void> {
    try {
      if ((await search()) === 'cancelled') return;
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
