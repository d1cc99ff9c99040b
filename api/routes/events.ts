/**
 * Event search for analysts: the query language (docs/query-language.md) with exact filters, a time range
 * and cursor paging; field top values and a histogram; one event by id. Always inside the caller's agency
 * scope: naming another agency (in `agency`, in `filter` or in the query) only narrows, never widens.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventSearch, EventStore } from '../../core/ports.js';
import { agencyScope } from '../auth.js';
import { ApiError } from '../errors.js';
import { AgencyId, Id, READ_ERRORS, Time } from '../schemas.js';

const Field = T.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z0-9_@.]+$',
  examples: ['source.ip'],
});

const Scope = {
  q: T.Optional(
    T.String({
      maxLength: 8192,
      description:
        'query language, e.g. `event.action:ssh_login and event.outcome:failure and not user.name:root`',
      examples: ['source.ip:10.20.0.0/16 and event.outcome:failure'],
    }),
  ),
  filter: T.Optional(
    T.Array(T.String({ pattern: '^[A-Za-z0-9_@.]+:.*$', maxLength: 2000 }), {
      maxItems: 50,
      description: 'exact match `field:value` on an ECS field; repeat to AND several',
      examples: [['source.ip:203.0.113.5']],
    }),
  ),
  agency: T.Optional(T.Array(AgencyId, { maxItems: 100 })),
  from: T.Optional(Time('inclusive')),
  to: T.Optional(Time('exclusive')),
};

interface ScopeParams {
  q?: string;
  filter?: string[];
  agency?: string[];
  from?: string;
  to?: string;
}

/** The store search for the caller, or `undefined` when its scope is empty (nothing to see). */
function searchOf(request: FastifyRequest, params: ScopeParams): EventSearch | undefined {
  const agencies = agencyScope(request, params.agency);
  if (agencies && agencies.length === 0) return undefined;
  const filters: Record<string, string> = {};
  for (const item of params.filter ?? []) {
    const colon = item.indexOf(':');
    filters[item.slice(0, colon)] = item.slice(colon + 1);
  }
  return {
    ...(agencies ? { agencies } : {}),
    time: { ...(params.from ? { from: params.from } : {}), ...(params.to ? { to: params.to } : {}) },
    filters,
    ...(params.q?.trim() ? { query: params.q } : {}),
  };
}

export async function eventRoutes(app: FastifyInstance, options: { events: EventStore }): Promise<void> {
  const { events } = options;

  app.get<{ Querystring: ScopeParams & { limit: number; after?: string } }>(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Search events, newest first',
        description: 'Query errors answer 400 `invalid_query` with the column in `details`.',
        querystring: T.Object(
          {
            ...Scope,
            limit: T.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            after: T.Optional(T.String({ maxLength: 4000, description: 'cursor from the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object({
            total: T.Integer(),
            events: T.Array(T.Ref('Event')),
            next: T.Optional(T.String()),
          }),
          ...READ_ERRORS,
        },
      },
    },
    async (request) => {
      const search = searchOf(request, request.query);
      if (!search) return { total: 0, events: [] };
      return events.search({
        ...search,
        limit: request.query.limit,
        ...(request.query.after ? { after: request.query.after } : {}),
      });
    },
  );

  app.get<{ Querystring: ScopeParams & { field: string; size: number } }>(
    '/api/events/top',
    {
      schema: {
        tags: ['events'],
        summary: 'Most frequent values of a field among the matching events',
        querystring: T.Object(
          { ...Scope, field: Field, size: T.Integer({ minimum: 1, maximum: 100, default: 10 }) },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object(
            {
              field: T.String(),
              buckets: T.Array(T.Object({ key: T.Union([T.String(), T.Number()]), count: T.Integer() })),
              other: T.Integer({ description: 'events counted for values beyond the top N' }),
            },
            {
              examples: [
                {
                  field: 'user.name',
                  buckets: [
                    { key: 'root', count: 812 },
                    { key: 'admin', count: 301 },
                  ],
                  other: 57,
                },
              ],
            },
          ),
          ...READ_ERRORS,
        },
      },
    },
    async (request) => {
      if (!events.topValues) throw new ApiError(501, 'not_implemented', 'this store has no top values');
      const search = searchOf(request, request.query);
      if (!search) return { field: request.query.field, buckets: [], other: 0 };
      const top = await events.topValues(search, request.query.field, request.query.size);
      return { field: request.query.field, ...top };
    },
  );

  app.get<{ Querystring: ScopeParams & { interval?: string } }>(
    '/api/events/histogram',
    {
      schema: {
        tags: ['events'],
        summary: 'Events per time bucket over the range (from and to are required)',
        querystring: T.Object(
          {
            ...Scope,
            from: Time('inclusive'),
            to: Time('exclusive'),
            interval: T.Optional(T.String({ pattern: '^\\d{1,6}(s|m|h|d)$', examples: ['1h'] })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object(
            {
              interval: T.String(),
              intervalMs: T.Integer(),
              buckets: T.Array(T.Object({ start: T.String(), count: T.Integer() })),
            },
            {
              examples: [
                {
                  interval: '1h',
                  intervalMs: 3600000,
                  buckets: [
                    { start: '2025-03-01T00:00:00.000Z', count: 12 },
                    { start: '2025-03-01T01:00:00.000Z', count: 240 },
                  ],
                },
              ],
            },
          ),
          ...READ_ERRORS,
        },
      },
    },
    async (request) => {
      if (!events.histogram) throw new ApiError(501, 'not_implemented', 'this store has no histogram');
      const search = searchOf(request, request.query);
      if (Date.parse(request.query.from!) >= Date.parse(request.query.to!)) {
        throw new ApiError(400, 'invalid_request', 'from must be before to');
      }
      if (!search) return { interval: request.query.interval ?? '1h', intervalMs: 0, buckets: [] };
      const histogram = await events.histogram(search, {
        ...(request.query.interval ? { interval: request.query.interval } : {}),
      });
      return {
        interval: histogram.interval,
        intervalMs: histogram.intervalMs,
        buckets: histogram.buckets.map(({ start, count }) => ({ start, count })),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'One event by its event.id (with its original line)',
        params: T.Object({ id: Id('event.id') }),
        response: { 200: T.Ref('Event'), ...READ_ERRORS },
      },
    },
    async (request) => {
      const agencies = agencyScope(request);
      const found =
        agencies?.length === 0
          ? undefined
          : (
              await events.search({
                ...(agencies ? { agencies } : {}),
                filters: { 'event.id': request.params.id },
                limit: 1,
              })
            ).events[0];
      if (!found) throw new ApiError(404, 'not_found', `no event ${request.params.id}`);
      return found;
    },
  );
}
