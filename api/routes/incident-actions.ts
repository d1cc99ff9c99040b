/**
 * Incident changes: PATCH with the version read (409 with the current state when stale), notes, bulk
 * updates and merges, plus the response-time statistics (MTTA/MTTR) per agency and severity.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { IncidentStatus, Severity } from '../../core/model.js';
import type { IncidentQueries } from '../../core/ports.js';
import { agencyScope } from '../auth.js';
import { ApiError } from '../errors.js';
import { AgencyId, Id, READ_ERRORS, SeveritySchema, StatusSchema, Time, WRITE_ERRORS } from '../schemas.js';
import type { IncidentTriage } from '../triage/incident-service.js';
import { summarizeStats } from '../triage/stats.js';
import type { IncidentChanges } from '../triage/transitions.js';

const Tag = T.String({ minLength: 1, maxLength: 100 });
const Assignee = T.Union([T.String({ minLength: 1, maxLength: 200 }), T.Null()], {
  description: 'a user name, or null to unassign',
});
const Reason = T.String({ maxLength: 2000, description: 'why (kept on the timeline)' });

const ChangeFields = {
  status: T.Optional(StatusSchema),
  assignee: T.Optional(Assignee),
  severity: T.Optional(SeveritySchema),
  reason: T.Optional(Reason),
};

const PatchBody = T.Object(
  {
    version: T.String({
      minLength: 1,
      maxLength: 100,
      description: 'the `version` returned when you read it',
    }),
    ...ChangeFields,
    tags: T.Optional(T.Array(Tag, { maxItems: 50, description: 'replaces the tags' })),
  },
  {
    additionalProperties: false,
    examples: [{ version: '3', status: 'acknowledged', assignee: 'an.nguyen' }],
  },
);

const BulkBody = T.Object(
  {
    ids: T.Array(Id('incident id'), { minItems: 1, maxItems: 500 }),
    changes: T.Object(
      {
        ...ChangeFields,
        addTags: T.Optional(T.Array(Tag, { maxItems: 50 })),
        removeTags: T.Optional(T.Array(Tag, { maxItems: 50 })),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        ids: ['5f1c0e2a9b7d4c11', '77aa01c2d3e4f5a6'],
        changes: { status: 'false_positive', reason: 'scanner' },
      },
    ],
  },
);

const Versioned = T.Object({ incident: T.Ref('Incident'), version: T.String() });

export async function incidentActionRoutes(
  app: FastifyInstance,
  options: { triage: IncidentTriage; queries: IncidentQueries },
): Promise<void> {
  const { triage, queries } = options;

  app.patch<{
    Params: { id: string };
    Body: {
      version: string;
      status?: IncidentStatus;
      assignee?: string | null;
      severity?: Severity;
      tags?: string[];
      reason?: string;
    };
  }>(
    '/api/incidents/:id',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Change status, assignee, severity or tags',
        description:
          'Carries the version read. 409 `conflict` when someone changed it since, with the current incident and version in `details`; 422 `invalid_transition` for a status change the life cycle refuses.',
        params: T.Object({ id: Id('incident id') }),
        body: PatchBody,
        response: { 200: Versioned, ...WRITE_ERRORS },
      },
    },
    async (request) => {
      const { version, ...changes } = request.body;
      const updated = await triage.update(request, request.params.id, version, changes as IncidentChanges);
      return { incident: updated.value, version: updated.version };
    },
  );

  app.post<{ Params: { id: string }; Body: { text: string } }>(
    '/api/incidents/:id/notes',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Add a note',
        params: T.Object({ id: Id('incident id') }),
        body: T.Object(
          { text: T.String({ minLength: 1, maxLength: 10_000 }) },
          { additionalProperties: false, examples: [{ text: 'Blocked 203.0.113.5 at the firewall.' }] },
        ),
        response: {
          201: T.Object(
            { id: T.String(), at: T.String(), author: T.String(), text: T.String() },
            {
              examples: [
                {
                  id: '6b1f0c7e-2a7d-4f3e-9d55-1c0e8f7a2b44',
                  at: '2025-03-01T02:30:00.000Z',
                  author: 'an.nguyen',
                  text: 'Blocked 203.0.113.5 at the firewall.',
                },
              ],
            },
          ),
          ...WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const note = await triage.addNote(request, request.params.id, request.body.text);
      void reply.status(201);
      return note;
    },
  );

  app.post<{ Body: { ids: string[]; changes: IncidentChanges } }>(
    '/api/incidents/bulk',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Apply the same change to many incidents',
        description:
          'Each incident is changed at its latest version; the answer lists an outcome per id (`not_found` for ids outside your scope).',
        body: BulkBody,
        response: {
          200: T.Object(
            {
              results: T.Array(
                T.Object({
                  id: T.String(),
                  outcome: T.Union(
                    ['updated', 'unchanged', 'not_found', 'invalid_transition', 'conflict'].map((o) =>
                      T.Literal(o),
                    ),
                  ),
                  message: T.Optional(T.String()),
                }),
              ),
            },
            {
              examples: [
                {
                  results: [
                    { id: '5f1c0e2a9b7d4c11', outcome: 'updated' },
                    { id: '77aa01c2d3e4f5a6', outcome: 'not_found' },
                  ],
                },
              ],
            },
          ),
          ...WRITE_ERRORS,
        },
      },
    },
    async (request) => ({ results: await triage.bulk(request, request.body.ids, request.body.changes) }),
  );

  app.post<{ Params: { id: string }; Body: { version: string; source: string; sourceVersion: string } }>(
    '/api/incidents/:id/merge',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Merge another incident of the same agency into this one',
        description:
          'The source is closed (resolved) with `mergedInto`; its detections, evidence and notes move here.',
        params: T.Object({ id: Id('target incident id') }),
        body: T.Object(
          {
            version: T.String({ minLength: 1, maxLength: 100 }),
            source: Id('incident to merge into this one'),
            sourceVersion: T.String({ minLength: 1, maxLength: 100 }),
          },
          {
            additionalProperties: false,
            examples: [{ version: '7', source: '77aa01c2d3e4f5a6', sourceVersion: '2' }],
          },
        ),
        response: { 200: T.Object({ target: Versioned, source: Versioned }), ...WRITE_ERRORS },
      },
    },
    async (request) => {
      const { version, source, sourceVersion } = request.body;
      const merged = await triage.merge(request, request.params.id, version, source, sourceVersion);
      return {
        target: { incident: merged.target.value, version: merged.target.version },
        source: { incident: merged.source.value, version: merged.source.version },
      };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; agency?: string[] } }>(
    '/api/incidents/stats',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Open incidents, MTTA and MTTR per agency and severity',
        description: 'Response times of the incidents created in [from, to) (default: the last 30 days).',
        querystring: T.Object(
          {
            from: T.Optional(Time()),
            to: T.Optional(Time()),
            agency: T.Optional(T.Array(AgencyId, { maxItems: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: T.Unsafe({ $ref: 'IncidentStats' }), ...READ_ERRORS },
      },
    },
    async (request) => {
      const to = request.query.to ?? new Date().toISOString();
      const from = request.query.from ?? new Date(Date.parse(to) - 30 * 86_400_000).toISOString();
      if (Date.parse(from) >= Date.parse(to))
        throw new ApiError(400, 'invalid_request', 'from must be before to');
      if (Date.parse(to) - Date.parse(from) > 400 * 86_400_000) {
        throw new ApiError(400, 'invalid_request', 'the range is at most 400 days');
      }
      return summarizeStats(queries, agencyScope(request, request.query.agency), from, to);
    },
  );
}
