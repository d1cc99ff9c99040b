/**
 * Hunts: `POST /api/rules/{id}/hunt` starts a job over a time range of history (within the caller's agency
 * scope) and answers 202 with its id; `GET /api/hunts/{id}` reports progress, counts per slice and the newest
 * matches; `DELETE /api/hunts/{id}` stops it. A job is visible to callers whose scope covers the job's.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { agencyScope, principalOf, TRIAGE_ROLES } from '../auth.js';
import { ApiError } from '../errors.js';
import type { HuntJob, Hunts } from '../rules/hunts.js';
import { AgencyId, Id, READ_ERRORS, Time, WRITE_ERRORS } from '../schemas.js';

const MAX_RANGE_MS = 400 * 86_400_000;

const jobFields = {
  id: T.String(),
  ruleId: T.String(),
  ruleTitle: T.String(),
  kind: T.Union([T.Literal('detection'), T.Literal('correlation')], {
    description: 'a detection rule counts matching events; a correlation counts its firings',
  }),
  state: T.Union([T.Literal('running'), T.Literal('done'), T.Literal('failed'), T.Literal('cancelled')]),
  progress: T.Number({ minimum: 0, maximum: 1, description: 'share of the range searched' }),
  from: T.String({ format: 'date-time' }),
  to: T.String({ format: 'date-time' }),
  agencies: T.Optional(T.Array(T.String(), { description: 'the agencies searched; absent = all' })),
  createdBy: T.String(),
  createdAt: T.String({ format: 'date-time' }),
  finishedAt: T.Optional(T.String({ format: 'date-time' })),
  matched: T.Integer({ description: 'events matched so far (a correlation: firings)' }),
  slices: T.Array(T.Object({ from: T.String(), to: T.String(), count: T.Union([T.Integer(), T.Null()]) }), {
    description: 'matches per slice of the range, oldest first (null: not searched yet)',
  }),
  limit: T.Integer(),
  error: T.Optional(T.String()),
};

const HuntAccepted = T.Object(jobFields, {
  examples: [
    {
      id: '0f6c2b1e-3d4a-4b5c-8d9e-0a1b2c3d4e5f',
      ruleId: '8777fb77-a27d-45a0-9f0a-2a8dc9f15429',
      ruleTitle: 'SSH Failed Password',
      kind: 'detection',
      state: 'running',
      progress: 0,
      from: '2025-02-22T00:00:00.000Z',
      to: '2025-03-01T00:00:00.000Z',
      agencies: ['so-tttt'],
      createdBy: 'an.nguyen',
      createdAt: '2025-03-01T08:00:00.000Z',
      matched: 0,
      slices: [{ from: '2025-02-22T00:00:00.000Z', to: '2025-02-22T07:00:00.000Z', count: null }],
      limit: 100,
    },
  ],
});
export const HuntJobSchema = T.Object(
  {
    ...jobFields,
    events: T.Array(T.Ref('Event'), {
      description: 'the newest matches, newest first (a correlation: none)',
    }),
    firings: T.Optional(
      T.Array(
        T.Object({
          time: T.String({ format: 'date-time', description: 'event time of the hit that completed it' }),
          groupBy: T.Record(T.String(), T.String()),
          value: T.Number({ description: 'the count, distinct count or metric that met the condition' }),
          eventIds: T.Array(T.String(), { description: 'the events that built it (at most 100)' }),
        }),
        { description: 'a correlation hunt: its newest firings, newest first, at most `limit`' },
      ),
    ),
  },
  {
    $id: 'HuntJob',
    examples: [
      {
        id: '0f6c2b1e-3d4a-4b5c-8d9e-0a1b2c3d4e5f',
        ruleId: '8777fb77-a27d-45a0-9f0a-2a8dc9f15429',
        ruleTitle: 'SSH Failed Password',
        kind: 'detection',
        state: 'done',
        progress: 1,
        from: '2025-02-22T00:00:00.000Z',
        to: '2025-03-01T00:00:00.000Z',
        agencies: ['so-tttt'],
        createdBy: 'an.nguyen',
        createdAt: '2025-03-01T08:00:00.000Z',
        finishedAt: '2025-03-01T08:00:02.000Z',
        matched: 57,
        slices: [{ from: '2025-02-22T00:00:00.000Z', to: '2025-02-22T07:00:00.000Z', count: 0 }],
        limit: 100,
        events: [],
      },
    ],
  },
);

/** The caller may see a job when its own scope covers every agency the job searched. */
function mayView(request: FastifyRequest, job: HuntJob): boolean {
  const allowed = request.principal?.agencies;
  if (!allowed) return true;
  return job.agencies?.every((agency) => allowed.includes(agency)) ?? false;
}

export async function huntRoutes(app: FastifyInstance, options: { hunts: Hunts }): Promise<void> {
  const { hunts } = options;
  const find = async (request: FastifyRequest, id: string) => {
    const job = await hunts.get(id);
    if (!job || !mayView(request, job)) throw new ApiError(404, 'not_found', `no hunt ${id}`);
    return job;
  };

  app.post<{
    Params: { id: string };
    Body: { from?: string; to?: string; agency?: string[]; limit: number };
  }>(
    '/api/rules/:id/hunt',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'Hunt: run a detection or correlation rule over a time range of history',
        description:
          'Starts a job (202, `Location: /api/hunts/{id}`) that searches the stored events with the rule compiled by the store’s backend (Elasticsearch query DSL or SQL), within your agency scope. A correlation is hunted through the detection rules under it, their hits going in event-time order through the correlation semantics the workers use; the job lists its firings. Default range: the last 24 hours. 422 `not_huntable` for filters and rules the backend cannot express; 429 `too_many_hunts` when this process runs two already.',
        params: T.Object({ id: Id('rule id') }),
        body: T.Object(
          {
            from: T.Optional(Time('start, inclusive')),
            to: T.Optional(Time('end, exclusive (default now)')),
            agency: T.Optional(T.Array(AgencyId, { maxItems: 100, description: 'narrows your scope' })),
            limit: T.Integer({
              minimum: 0,
              maximum: 1000,
              default: 100,
              description: 'matching events kept',
            }),
          },
          {
            additionalProperties: false,
            examples: [{ from: '2025-02-22T00:00:00Z', to: '2025-03-01T00:00:00Z', limit: 100 }],
          },
        ),
        response: { 202: HuntAccepted, ...WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      principalOf(request);
      const to = request.body.to ?? new Date().toISOString();
      const from = request.body.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
      const span = Date.parse(to) - Date.parse(from);
      if (!(span > 0)) throw new ApiError(400, 'invalid_request', 'from must be before to');
      if (span > MAX_RANGE_MS) throw new ApiError(400, 'invalid_request', 'a hunt covers at most 400 days');
      const agencies = agencyScope(request, request.body.agency);
      const job = await hunts.start(request, request.params.id, {
        from,
        to,
        ...(agencies ? { agencies } : {}),
        limit: request.body.limit,
      });
      void reply.status(202).header('location', `/api/hunts/${job.id}`);
      const { events: _events, ...accepted } = job;
      return accepted;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/hunts/:id',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'A hunt’s progress and results',
        params: T.Object({ id: Id('hunt id') }),
        response: { 200: T.Ref('HuntJob'), ...READ_ERRORS },
      },
    },
    async (request) => find(request, request.params.id),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/hunts/:id',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['rules'],
        summary: 'Stop a running hunt (what it found so far is kept)',
        params: T.Object({ id: Id('hunt id') }),
        response: { 200: HuntAccepted, ...WRITE_ERRORS },
      },
    },
    async (request) => {
      const job = await hunts.cancel(await find(request, request.params.id));
      const { events: _events, ...rest } = job;
      return rest;
    },
  );
}
