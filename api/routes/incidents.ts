/**
 * Incident reads for triage: the filtered, sorted, paged list; one incident with its evidence, detection
 * chain and related incidents; MTTA/MTTR statistics; CSV/JSON export. Every read is agency-scoped on the
 * server; another agency's incident is "not found".
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Detection, Incident, IncidentStatus, SecurityEvent, Severity } from '../../core/model.js';
import type {
  EventStore,
  IncidentQueries,
  IncidentQuery,
  IncidentSortField,
  IncidentStore,
} from '../../core/ports.js';
import { agencyScope } from '../auth.js';
import { ApiError } from '../errors.js';
import { AgencyId, Id, page, READ_ERRORS, SeveritySchema, StatusSchema, Time } from '../schemas.js';
import { incidentsCsv } from '../triage/export.js';
import type { IncidentTriage } from '../triage/incident-service.js';

const SORT_FIELDS: IncidentSortField[] = [
  'lastSeen',
  'firstSeen',
  'createdAt',
  'updatedAt',
  'severity',
  'detectionCount',
];

export const IncidentFilters = {
  status: T.Optional(T.Array(StatusSchema, { description: 'repeat for several', maxItems: 5 })),
  severity: T.Optional(T.Array(SeveritySchema, { maxItems: 4 })),
  agency: T.Optional(
    T.Array(AgencyId, { maxItems: 100, description: 'narrows the caller’s scope; never widens it' }),
  ),
  rule: T.Optional(T.String({ maxLength: 200, description: 'rule id' })),
  assignee: T.Optional(T.String({ maxLength: 200 })),
  unassigned: T.Optional(T.Boolean({ description: 'only incidents with no assignee' })),
  tactic: T.Optional(T.String({ maxLength: 100, examples: ['credential_access'] })),
  technique: T.Optional(T.String({ maxLength: 20, examples: ['T1110'] })),
  tag: T.Optional(T.String({ maxLength: 200 })),
  q: T.Optional(
    T.String({ maxLength: 500, description: 'words of the title (a phrase), or an incident id' }),
  ),
  from: T.Optional(Time('active at or after: last seen ≥ from')),
  to: T.Optional(Time('active before: first seen < to')),
};

const ListQuery = T.Object(
  {
    ...IncidentFilters,
    sort: T.Union(
      SORT_FIELDS.map((field) => T.Literal(field)),
      { default: 'lastSeen' },
    ),
    order: T.Union([T.Literal('desc'), T.Literal('asc')], { default: 'desc' }),
    limit: T.Integer({ minimum: 1, maximum: 1000, default: 50 }),
    after: T.Optional(T.String({ maxLength: 2000, description: 'cursor from the previous page (`next`)' })),
  },
  { additionalProperties: false },
);

export interface IncidentFilterParams {
  status?: IncidentStatus[];
  severity?: Severity[];
  agency?: string[];
  rule?: string;
  assignee?: string;
  unassigned?: boolean;
  tactic?: string;
  technique?: string;
  tag?: string;
  q?: string;
  from?: string;
  to?: string;
}

interface ListParams extends IncidentFilterParams {
  sort: IncidentSortField;
  order: 'asc' | 'desc';
  limit: number;
  after?: string;
}

/** The store query for the caller: its filters, always inside its agency scope. */
export function incidentQueryOf(request: FastifyRequest, params: IncidentFilterParams): IncidentQuery {
  if (params.assignee !== undefined && params.unassigned) {
    throw new ApiError(400, 'invalid_request', 'use either assignee or unassigned, not both');
  }
  const agencies = agencyScope(request, params.agency);
  return {
    ...(agencies ? { agencies } : {}),
    ...(params.status ? { status: params.status } : {}),
    ...(params.severity ? { severity: params.severity } : {}),
    ...(params.rule ? { ruleId: params.rule } : {}),
    ...(params.unassigned ? { assignee: null } : params.assignee ? { assignee: params.assignee } : {}),
    ...(params.tactic ? { tactic: params.tactic } : {}),
    ...(params.technique ? { technique: params.technique } : {}),
    ...(params.tag ? { tag: params.tag } : {}),
    ...(params.q ? { text: params.q } : {}),
    ...(params.from || params.to
      ? { time: { ...(params.from ? { from: params.from } : {}), ...(params.to ? { to: params.to } : {}) } }
      : {}),
  };
}

const IncidentBrief = T.Object({
  id: T.String(),
  title: T.String(),
  severity: SeveritySchema,
  status: StatusSchema,
  agency: T.String(),
  lastSeen: T.String(),
  shared: T.Record(T.String(), T.String(), {
    description: 'the group-by values it shares with this incident',
  }),
});

const Detail = T.Object({
  incident: T.Ref('Incident'),
  version: T.String({ description: 'send it back with PATCH (optimistic concurrency)' }),
  evidence: T.Array(T.Ref('Event'), { description: 'the evidence events (most recent 100)' }),
  detections: T.Array(T.Ref('Detection'), {
    description:
      'the detection chain: this rule’s detections for the same entity, and other rules’ detections of the same events',
  }),
  related: T.Array(IncidentBrief, { description: 'incidents sharing a host, IP or user within a day' }),
});

export const RELATED_WINDOW_MS = 24 * 3_600_000;
const ENTITY_FIELDS = ['source.ip', 'destination.ip', 'host.name', 'host.ip', 'user.name', 'client.ip'];

export async function incidentRoutes(
  app: FastifyInstance,
  options: {
    incidents: IncidentStore;
    queries: IncidentQueries;
    events: EventStore;
    triage: IncidentTriage;
  },
): Promise<void> {
  const { incidents, queries, events, triage } = options;

  app.get<{ Querystring: ListParams }>(
    '/api/incidents',
    {
      schema: {
        tags: ['incidents'],
        summary: 'List incidents: filters, sort, paging',
        description:
          'Most recently seen first by default. Follow `next` for the following page. Each item is the incident’s list fields and its version (`IncidentListItem`); the timeline, notes, evidence and detection ids are in `GET /api/incidents/{id}`, whole incidents in the export.',
        querystring: ListQuery,
        response: { 200: page(T.Ref('IncidentListItem'), 'incidents'), ...READ_ERRORS },
      },
    },
    async (request) => {
      const { sort, order, limit, after } = request.query;
      return queries.list({
        ...incidentQueryOf(request, request.query),
        sort: { field: sort, order },
        limit,
        ...(after ? { after } : {}),
      });
    },
  );

  app.get<{ Querystring: IncidentFilterParams & { format: 'csv' | 'json'; limit: number } }>(
    '/api/incidents/export',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Export incidents as CSV or JSON (same filters as the list)',
        querystring: T.Object(
          {
            ...IncidentFilters,
            format: T.Union([T.Literal('csv'), T.Literal('json')], { default: 'csv' }),
            limit: T.Integer({ minimum: 1, maximum: 50_000, default: 10_000 }),
          },
          { additionalProperties: false },
        ),
        produces: ['text/csv', 'application/json'],
        response: {
          200: T.Union([T.String({ description: 'CSV, one incident per line' }), T.Array(T.Ref('Incident'))]),
          ...READ_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const query = incidentQueryOf(request, request.query);
      const all: Incident[] = [];
      let after: string | undefined;
      while (all.length < request.query.limit) {
        const result = await queries.search({
          ...query,
          limit: Math.min(1000, request.query.limit - all.length),
          ...(after ? { after } : {}),
        });
        all.push(...result.incidents);
        after = result.next;
        if (!after) break;
      }
      const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '');
      if (request.query.format === 'json') {
        void reply.header('content-disposition', `attachment; filename="incidents-${stamp}.json"`);
        return all;
      }
      void reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="incidents-${stamp}.csv"`);
      return incidentsCsv(all);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/incidents/:id',
    {
      schema: {
        tags: ['incidents'],
        summary: 'One incident with its evidence, detection chain, related incidents and timeline',
        params: T.Object({ id: Id('incident id') }),
        response: { 200: Detail, ...READ_ERRORS },
      },
    },
    async (request, reply) => {
      const { value: incident, version } = await triage.read(request, request.params.id);
      const [evidence, detections, related] = await Promise.all([
        evidenceOf(events, incident),
        detectionChain(incidents, incident),
        relatedTo(queries, incident, agencyScope(request)),
      ]);
      void reply.header('etag', `"${version}"`);
      return { incident, version, evidence, detections, related };
    },
  );
}

async function evidenceOf(events: EventStore, incident: Incident): Promise<SecurityEvent[]> {
  const ids = incident.evidenceEventIds.slice(-100);
  if (ids.length === 0) return [];
  const query = `event.id:(${ids.map((id) => JSON.stringify(id)).join(' or ')})`;
  const page = await events.search({ agencies: [incident.agency], query, limit: ids.length });
  return page.events;
}

async function detectionChain(incidents: IncidentStore, incident: Incident): Promise<Detection[]> {
  if (!incidents.listDetections) return [];
  const sameEntity = (detection: Detection) =>
    Object.entries(incident.groupBy).every(([field, value]) => detection.groupBy[field] === value);
  const own = (
    await incidents.listDetections({ agencies: [incident.agency], ruleId: incident.ruleId, limit: 200 })
  )
    .filter(sameEntity)
    .filter((d) => d.timestamp >= incident.firstSeen && d.timestamp <= incident.lastSeen)
    .slice(0, 50);
  // Other rules that fired on the same evidence (for a correlation: the detections that built it).
  const seen = new Set(own.map((detection) => detection.id));
  const others: Detection[] = [];
  for (const eventId of incident.evidenceEventIds.slice(-10)) {
    for (const detection of await incidents.listDetections({
      agencies: [incident.agency],
      eventId,
      limit: 20,
    })) {
      if (!seen.has(detection.id)) {
        seen.add(detection.id);
        others.push(detection);
      }
    }
  }
  return [...own, ...others];
}

async function relatedTo(queries: IncidentQueries, incident: Incident, agencies: string[] | undefined) {
  const entities = Object.entries(incident.groupBy).filter(([field]) => ENTITY_FIELDS.includes(field));
  if (entities.length === 0) return [];
  const from = new Date(Date.parse(incident.firstSeen) - RELATED_WINDOW_MS).toISOString();
  const to = new Date(Date.parse(incident.lastSeen) + RELATED_WINDOW_MS).toISOString();
  // List items carry the group-by values, all this needs: 500 candidates without their timelines.
  const candidates = await queries.list({
    ...(agencies ? { agencies } : {}),
    time: { from, to },
    limit: 500,
  });
  const related = [];
  for (const other of candidates.incidents) {
    if (other.id === incident.id) continue;
    const shared: Record<string, string> = {};
    for (const [, value] of entities) {
      for (const [field, otherValue] of Object.entries(other.groupBy)) {
        if (otherValue === value) shared[field] = value;
      }
    }
    if (Object.keys(shared).length > 0) {
      related.push({
        id: other.id,
        title: other.title,
        severity: other.severity,
        status: other.status,
        agency: other.agency,
        lastSeen: other.lastSeen,
        shared,
      });
    }
    if (related.length >= 20) break;
  }
  return related;
}
