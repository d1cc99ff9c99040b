import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { IncidentStatus } from '../../core/model.js';
import type { IncidentStore } from '../../core/ports.js';
import { agencyScope } from '../auth.js';
import { ApiError } from '../errors.js';
import { AUTH_ERRORS, StatusSchema } from '../schemas.js';

const ListQuery = T.Object(
  {
    status: T.Optional(T.Array(StatusSchema, { description: 'repeat for several' })),
    agency: T.Optional(T.Array(T.String())),
    rule: T.Optional(T.String({ description: 'rule id' })),
    limit: T.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

export async function incidentRoutes(
  app: FastifyInstance,
  options: { incidents: IncidentStore },
): Promise<void> {
  const { incidents } = options;

  app.get<{ Querystring: { status?: IncidentStatus[]; agency?: string[]; rule?: string; limit: number } }>(
    '/api/incidents',
    {
      schema: {
        tags: ['incidents'],
        summary: 'List incidents, most recently seen first',
        querystring: ListQuery,
        response: { 200: T.Object({ incidents: T.Array(T.Ref('Incident')) }), ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const agencies = agencyScope(request, request.query.agency);
      if (agencies && agencies.length === 0) return { incidents: [] };
      const list = await incidents.list({
        ...(agencies ? { agencies } : {}),
        ...(request.query.status ? { status: request.query.status } : {}),
        ...(request.query.rule ? { ruleId: request.query.rule } : {}),
        limit: request.query.limit,
      });
      return { incidents: list };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/incidents/:id',
    {
      schema: {
        tags: ['incidents'],
        summary: 'One incident',
        params: T.Object({ id: T.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: T.Ref('Incident'), 404: T.Ref('Error'), ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const found = await incidents.get(request.params.id);
      const scope = agencyScope(request);
      // Another agency's incident is "not found", not "forbidden": its existence is not disclosed.
      if (!found || (scope && !scope.includes(found.value.agency))) {
        throw new ApiError(404, 'not_found', `no incident ${request.params.id}`);
      }
      return found.value;
    },
  );
}
