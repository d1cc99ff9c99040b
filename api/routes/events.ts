import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { EventStore } from '../../core/ports.js';
import { agencyScope } from '../auth.js';
import { ApiError } from '../errors.js';
import { AUTH_ERRORS } from '../schemas.js';

const SearchQuery = T.Object(
  {
    filter: T.Optional(
      T.Array(T.String({ pattern: '^[A-Za-z0-9_@.]+:.*$' }), {
        description: 'exact match `field:value` on an ECS field; repeat to AND several',
        examples: [['source.ip:203.0.113.5']],
      }),
    ),
    agency: T.Optional(T.Array(T.String())),
    from: T.Optional(T.String({ format: 'date-time', description: 'inclusive' })),
    to: T.Optional(T.String({ format: 'date-time', description: 'exclusive' })),
    limit: T.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    after: T.Optional(T.String({ description: 'cursor from the previous page' })),
  },
  { additionalProperties: false },
);

interface SearchParams {
  filter?: string[];
  agency?: string[];
  from?: string;
  to?: string;
  limit: number;
  after?: string;
}

export async function eventRoutes(app: FastifyInstance, options: { events: EventStore }): Promise<void> {
  const { events } = options;

  app.get<{ Querystring: SearchParams }>(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Search events, newest first',
        querystring: SearchQuery,
        response: {
          200: T.Object({
            total: T.Integer(),
            events: T.Array(T.Ref('Event')),
            next: T.Optional(T.String()),
          }),
          ...AUTH_ERRORS,
        },
      },
    },
    async (request) => {
      const { query } = request;
      const agencies = agencyScope(request, query.agency);
      if (agencies && agencies.length === 0) return { total: 0, events: [] };
      const filters: Record<string, string> = {};
      for (const item of query.filter ?? []) {
        const colon = item.indexOf(':');
        const field = item.slice(0, colon);
        if (field === 'agency.id')
          throw new ApiError(400, 'invalid_request', 'use the agency parameter to scope by agency');
        filters[field] = item.slice(colon + 1);
      }
      return events.search({
        ...(agencies ? { agencies } : {}),
        time: { ...(query.from ? { from: query.from } : {}), ...(query.to ? { to: query.to } : {}) },
        filters,
        limit: query.limit,
        ...(query.after ? { after: query.after } : {}),
      });
    },
  );
}
