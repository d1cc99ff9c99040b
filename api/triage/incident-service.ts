/**
 * Incident triage with agency isolation, optimistic concurrency, audit and change notices. Every read goes
 * through `read`, which answers 404 for another agency's incident (its existence is not disclosed);
 * every write carries the version the analyst read and is audited with its before/after state.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Logger } from '../../core/logger.js';
import type { Incident, IncidentNote, Versioned } from '../../core/model.js';
import type { ChangeFeed, IncidentChange, IncidentStore } from '../../core/ports.js';
import type { Auditor } from '../audit.js';
import { mayAccess, principalOf } from '../auth.js';
import { ApiError } from '../errors.js';
import {
  applyChanges,
  type IncidentChanges,
  mergeIncidents,
  TransitionError,
  triageView,
} from './transitions.js';

export const MAX_NOTES = 1000;
/** Re-read-and-apply attempts for writes that do not carry a version (notes, bulk). */
const MAX_ATTEMPTS = 8;

export type BulkOutcome = 'updated' | 'unchanged' | 'not_found' | 'invalid_transition' | 'conflict';

export class IncidentTriage {
  constructor(
    private readonly incidents: IncidentStore,
    private readonly auditor: Auditor,
    private readonly logger: Logger,
    private readonly feed?: ChangeFeed,
  ) {}

  /** The incident if the caller may see it; 404 otherwise. */
  async read(request: FastifyRequest, id: string): Promise<Versioned<Incident>> {
    const found = await this.incidents.get(id);
    if (!found || !mayAccess(request, found.value.agency)) {
      throw new ApiError(404, 'not_found', `no incident ${id}`);
    }
    return found;
  }

  /** PATCH: applies the changes to the version the analyst read; 409 with the current state if it moved. */
  async update(
    request: FastifyRequest,
    id: string,
    version: string,
    changes: IncidentChanges,
  ): Promise<Versioned<Incident>> {
    const current = await this.read(request, id);
    if (current.version !== version) throw conflict(current);
    const next = this.apply(current.value, changes, request);
    if (next === current.value) return current;
    if ((await this.incidents.update(next, version)) === 'conflict') {
      throw conflict(await this.read(request, id));
    }
    await this.auditor.record(request, {
      action: 'incident.update',
      targetType: 'incident',
      targetId: id,
      agency: next.agency,
      before: triageView(current.value),
      after: triageView(next),
    });
    // Read back: the answer and the change notice carry the stored state with its version.
    const updated = await this.read(request, id);
    await this.publish(kindOf(current.value, next), updated, request);
    return updated;
  }

  async addNote(request: FastifyRequest, id: string, text: string): Promise<IncidentNote> {
    const author = principalOf(request).name;
    const note: IncidentNote = { id: randomUUID(), at: new Date().toISOString(), author, text };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.read(request, id);
      const notes = current.value.notes ?? [];
      if (notes.length >= MAX_NOTES) {
        throw new ApiError(422, 'too_many_notes', `an incident holds at most ${MAX_NOTES} notes`);
      }
      const next: Incident = {
        ...current.value,
        notes: [...notes, note],
        timeline: [
          ...current.value.timeline,
          { at: note.at, actor: author, action: 'noted', detail: { note: note.id } },
        ],
        updatedAt: note.at,
      };
      if ((await this.incidents.update(next, current.version)) === 'ok') {
        await this.auditor.record(request, {
          action: 'incident.note',
          targetType: 'incident',
          targetId: id,
          agency: next.agency,
          after: { note: note.id, text },
        });
        await this.publish('noted', await this.read(request, id), request);
        return note;
      }
    }
    throw new ApiError(409, 'conflict', 'the incident kept changing; try again');
  }

  /** The same changes on many incidents, each applied to its latest version; one outcome per id. */
  async bulk(
    request: FastifyRequest,
    ids: string[],
    changes: IncidentChanges,
  ): Promise<{ id: string; outcome: BulkOutcome; message?: string }[]> {
    const results: { id: string; outcome: BulkOutcome; message?: string }[] = [];
    for (const id of new Set(ids)) {
      results.push(await this.bulkOne(request, id, changes));
    }
    return results;
  }

  private async bulkOne(
    request: FastifyRequest,
    id: string,
    changes: IncidentChanges,
  ): Promise<{ id: string; outcome: BulkOutcome; message?: string }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const found = await this.incidents.get(id);
      if (!found || !mayAccess(request, found.value.agency)) return { id, outcome: 'not_found' };
      let next: Incident;
      try {
        next = this.apply(found.value, changes, request);
      } catch (error) {
        if (error instanceof ApiError) return { id, outcome: 'invalid_transition', message: error.message };
        throw error;
      }
      if (next === found.value) return { id, outcome: 'unchanged' };
      if ((await this.incidents.update(next, found.version)) === 'ok') {
        await this.auditor.record(request, {
          action: 'incident.bulk_update',
          targetType: 'incident',
          targetId: id,
          agency: next.agency,
          before: triageView(found.value),
          after: triageView(next),
        });
        await this.publish(kindOf(found.value, next), await this.read(request, id), request);
        return { id, outcome: 'updated' };
      }
    }
    return { id, outcome: 'conflict' };
  }

  /** Merges `sourceId` into `targetId`; both versions must be the ones the analyst read. */
  async merge(
    request: FastifyRequest,
    targetId: string,
    version: string,
    sourceId: string,
    sourceVersion: string,
  ): Promise<{ target: Versioned<Incident>; source: Versioned<Incident> }> {
    if (targetId === sourceId)
      throw new ApiError(422, 'invalid_merge', 'an incident cannot be merged into itself');
    const target = await this.read(request, targetId);
    const source = await this.read(request, sourceId);
    if (target.version !== version) throw conflict(target);
    if (source.version !== sourceVersion) throw conflict(source);
    if (target.value.agency !== source.value.agency) {
      throw new ApiError(422, 'invalid_merge', 'only incidents of the same agency can be merged');
    }
    if (source.value.mergedInto) {
      throw new ApiError(
        422,
        'invalid_merge',
        `incident ${sourceId} was already merged into ${source.value.mergedInto}`,
      );
    }
    const actor = principalOf(request).name;
    const now = new Date();
    // The source is closed first, with its version: two analysts merging it at once cannot both succeed.
    const merged = mergeIncidents(target.value, source.value, actor, now);
    if ((await this.incidents.update(merged.source, sourceVersion)) === 'conflict') {
      throw conflict(await this.read(request, sourceId));
    }
    // The target absorbs it; if a worker moved the target meanwhile, merge again onto its latest state.
    let current = target;
    for (let attempt = 0; ; attempt++) {
      const next = mergeIncidents(current.value, source.value, actor, now).target;
      if ((await this.incidents.update(next, current.version)) === 'ok') break;
      if (attempt >= MAX_ATTEMPTS) throw new ApiError(409, 'conflict', 'the target incident kept changing');
      current = await this.read(request, targetId);
    }
    await this.auditor.record(
      request,
      {
        action: 'incident.merge',
        targetType: 'incident',
        targetId,
        agency: target.value.agency,
        before: { detectionCount: target.value.detectionCount },
        after: {
          mergedFrom: sourceId,
          detectionCount: target.value.detectionCount + source.value.detectionCount,
        },
      },
      {
        action: 'incident.merged_into',
        targetType: 'incident',
        targetId: sourceId,
        agency: source.value.agency,
        before: triageView(source.value),
        after: triageView(merged.source),
      },
    );
    const result = { target: await this.read(request, targetId), source: await this.read(request, sourceId) };
    await this.publish('merged', result.target, request);
    await this.publish('merged', result.source, request);
    return result;
  }

  private apply(incident: Incident, changes: IncidentChanges, request: FastifyRequest): Incident {
    try {
      return applyChanges(incident, changes, principalOf(request).name, new Date());
    } catch (error) {
      if (error instanceof TransitionError) throw new ApiError(422, 'invalid_transition', error.message);
      throw error;
    }
  }

  /** The notice carries the incident as stored with its version, so a console can PATCH from it. */
  private async publish(
    kind: IncidentChange['kind'],
    { value: incident, version }: Versioned<Incident>,
    request: FastifyRequest,
  ): Promise<void> {
    if (!this.feed) return;
    try {
      await this.feed.publish({
        kind,
        incident,
        version,
        actor: principalOf(request).name,
        at: new Date().toISOString(),
      });
    } catch (error) {
      // Live notices are best-effort: the change is stored and audited; subscribers re-read the store.
      this.logger.warn({ err: error, incident: incident.id }, 'change notice not published');
    }
  }
}

function conflict(current: Versioned<Incident>): ApiError {
  return new ApiError(409, 'conflict', 'the incident changed since you read it; here is its current state', {
    incident: current.value,
    version: current.version,
  });
}

function kindOf(before: Incident, after: Incident): IncidentChange['kind'] {
  if (before.status !== after.status) {
    return after.timeline[after.timeline.length - 1]?.action === 'reopened' ? 'reopened' : 'status_changed';
  }
  if (before.assignee !== after.assignee) return 'assigned';
  return 'updated';
}
