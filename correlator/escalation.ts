/**
 * Severity escalation: an entity (a group-by value such as `source.ip=203.0.113.5`) hit by two or more
 * rules — detection or correlation — within the suppression window is worth more than each hit alone, so
 * every open incident of that entity is raised one step (low → medium → high → critical), once.
 *
 * The entity → {incident → rule} registry is shared by all workers (a Redis hash per entity in scale mode,
 * a Map in embedded mode). Recording is a set union, so the final severities do not depend on the order
 * in which workers applied their batches: an incident opened before the second rule arrived is raised when
 * it does.
 */
import { Redis } from 'ioredis';
import { digest } from '../core/identity.js';
import type { Logger } from '../core/logger.js';
import { CLOSED_STATUSES, type Incident, type Severity } from '../core/model.js';
import type { IncidentChange, IncidentStore } from '../core/ports.js';

export interface EntityHit {
  entity: string;
  ruleId: string;
  incidentId: string;
}

export interface EntityRegistry {
  /**
   * Records the hits; returns, per entity recorded, every incident known for it → its rule (one rule may
   * have several incidents on one entity, e.g. one per agency).
   */
  record(hits: EntityHit[], ttlMs: number): Promise<Map<string, Map<string, string>>>;
  close(): Promise<void>;
}

export class MemoryEntityRegistry implements EntityRegistry {
  private readonly entities = new Map<string, { rules: Map<string, string>; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async record(hits: EntityHit[], ttlMs: number): Promise<Map<string, Map<string, string>>> {
    const now = this.now();
    if (this.entities.size > 10_000) {
      for (const [key, entry] of this.entities) if (entry.expiresAt <= now) this.entities.delete(key);
    }
    const result = new Map<string, Map<string, string>>();
    for (const hit of hits) {
      let entry = this.entities.get(hit.entity);
      if (!entry || entry.expiresAt <= now) {
        entry = { rules: new Map(), expiresAt: 0 };
        this.entities.set(hit.entity, entry);
      }
      entry.rules.set(hit.incidentId, hit.ruleId);
      entry.expiresAt = now + ttlMs;
      result.set(hit.entity, entry.rules);
    }
    return result;
  }

  async close(): Promise<void> {
    this.entities.clear();
  }
}

export class RedisEntityRegistry implements EntityRegistry {
  private readonly redis: Redis;
  private readonly ownsConnection: boolean;

  constructor(private readonly options: { redisUrl?: string; redis?: Redis; prefix: string }) {
    this.ownsConnection = !options.redis;
    this.redis = options.redis ?? new Redis(options.redisUrl!, { maxRetriesPerRequest: null });
  }

  async record(hits: EntityHit[], ttlMs: number): Promise<Map<string, Map<string, string>>> {
    const entities = [...new Set(hits.map((h) => h.entity))];
    if (entities.length === 0) return new Map();
    const keyOf = (entity: string) => `${this.options.prefix}:entity:${digest(entity)}`;
    const transaction = this.redis.multi();
    for (const hit of hits) transaction.hset(keyOf(hit.entity), hit.incidentId, hit.ruleId);
    for (const entity of entities) {
      transaction.pexpire(keyOf(entity), Math.ceil(ttlMs));
      transaction.hgetall(keyOf(entity));
    }
    const results = (await transaction.exec()) ?? [];
    const all = results.slice(hits.length);
    const result = new Map<string, Map<string, string>>();
    entities.forEach((entity, i) => {
      const [error, rules] = all[i * 2 + 1]!;
      if (error) throw error;
      result.set(entity, new Map(Object.entries(rules as Record<string, string>)));
    });
    return result;
  }

  async close(): Promise<void> {
    if (this.ownsConnection) this.redis.disconnect();
  }
}

const NEXT: Record<Severity, Severity> = {
  low: 'medium',
  medium: 'high',
  high: 'critical',
  critical: 'critical',
};
const MAX_ATTEMPTS = 20;

export class Escalation {
  /** Incidents known to be escalated already (bounded): no store read for them on every later batch. */
  private readonly settled = new Set<string>();

  constructor(
    private readonly store: IncidentStore,
    private readonly registry: EntityRegistry,
    private readonly options: { windowMs: number; logger: Logger },
  ) {}

  /** Records the incidents' entities and raises every open incident of an entity hit by 2+ rules. */
  async apply(incidents: Incident[]): Promise<IncidentChange[]> {
    const hits: EntityHit[] = [];
    for (const incident of incidents) {
      if (CLOSED_STATUSES.includes(incident.status)) continue;
      for (const [field, value] of Object.entries(incident.groupBy)) {
        hits.push({ entity: `${field}=${value}`, ruleId: incident.ruleId, incidentId: incident.id });
      }
    }
    if (hits.length === 0) return [];
    const known = await this.registry.record(hits, this.options.windowMs);
    const toRaise = new Map<string, { entity: string; rules: string[] }>();
    for (const [entity, incidentsToRules] of known) {
      const rules = [...new Set(incidentsToRules.values())].sort();
      if (rules.length < 2) continue;
      for (const incidentId of incidentsToRules.keys()) {
        if (!toRaise.has(incidentId) && !this.settled.has(incidentId))
          toRaise.set(incidentId, { entity, rules });
      }
    }
    const changes: IncidentChange[] = [];
    for (const [id, reason] of toRaise) {
      const raised = await this.raise(id, reason);
      if (raised) changes.push({ kind: 'updated', incident: raised, actor: 'system', at: raised.updatedAt });
    }
    return changes;
  }

  private remember(id: string): void {
    if (this.settled.size >= 50_000) this.settled.clear();
    this.settled.add(id);
  }

  private async raise(
    id: string,
    reason: { entity: string; rules: string[] },
  ): Promise<Incident | undefined> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.store.get(id);
      // Not written yet (its writer is mid-create): it is raised when its own batch records it.
      if (!current) return undefined;
      const incident = current.value;
      if (incident.escalation) {
        this.remember(id);
        return undefined;
      }
      if (CLOSED_STATUSES.includes(incident.status)) return undefined;
      const at = new Date().toISOString();
      const raised: Incident = {
        ...incident,
        severity: NEXT[incident.severity],
        escalation: { at, entity: reason.entity, rules: reason.rules, from: incident.severity },
        updatedAt: at,
        timeline: [
          ...incident.timeline,
          {
            at,
            actor: 'system',
            action: 'escalated',
            detail: { from: incident.severity, to: NEXT[incident.severity], ...reason },
          },
        ],
      };
      if ((await this.store.update(raised, current.version)) === 'ok') {
        this.remember(id);
        this.options.logger.info({ incident: id, ...reason }, 'incident escalated');
        return raised;
      }
    }
    throw new Error(`escalating incident ${id}: gave up after ${MAX_ATTEMPTS} conflicts`);
  }
}
