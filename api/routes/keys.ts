/** API keys for admins: create (the key text is shown once), list, revoke. Every change is audited. */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Auditor } from '../audit.js';
import { ADMIN_ONLY, principalOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { type ApiKeyService, KeyPolicyError, ROLES, type Role } from '../keys.js';
import { AgencyId, READ_ERRORS, WRITE_ERRORS } from '../schemas.js';

const KeyInfo = T.Object(
  {
    id: T.String(),
    name: T.String(),
    role: T.Union(ROLES.map((role) => T.Literal(role))),
    agencies: T.Array(T.String()),
    createdAt: T.String(),
    createdBy: T.Optional(T.String()),
    revokedAt: T.Optional(T.String()),
  },
  {
    $id: 'ApiKey',
    examples: [
      {
        id: '3f9a1c0b7d2e',
        name: 'an.nguyen (Sở TT&TT)',
        role: 'agency_analyst',
        agencies: ['so-tttt'],
        createdAt: '2025-03-01T08:00:00.000Z',
        createdBy: 'admin',
      },
    ],
  },
);

export { KeyInfo as ApiKeySchema };

export async function keyRoutes(
  app: FastifyInstance,
  options: { keys: ApiKeyService; auditor: Auditor; knownAgency?: (id: string) => boolean },
): Promise<void> {
  const { keys, auditor } = options;
  const config = { roles: ADMIN_ONLY };

  // Any valid key may ask who it is: the console shows the signed-in name and filters "assigned to me".
  app.get(
    '/api/me',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['admin'],
        summary: 'The caller: its key’s id, name, role and agency scope (any role)',
        response: {
          200: T.Object(
            {
              keyId: T.String(),
              name: T.String(),
              role: T.Union(ROLES.map((role) => T.Literal(role))),
              agencies: T.Union([T.Array(T.String()), T.Null()], {
                description: 'the agencies it may see; null = every agency (province-wide)',
              }),
            },
            {
              examples: [
                {
                  keyId: '3f9a1c0b7d2e',
                  name: 'an.nguyen (Sở TT&TT)',
                  role: 'agency_analyst',
                  agencies: ['so-tttt'],
                },
              ],
            },
          ),
          ...READ_ERRORS,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        keyId: principal.keyId,
        name: principal.name,
        role: principal.role,
        agencies: principal.agencies ?? null,
      };
    },
  );

  app.get(
    '/api/keys',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'List API keys (never their text)',
        response: { 200: T.Object({ keys: T.Array(T.Ref('ApiKey')) }), ...READ_ERRORS },
      },
    },
    async () => ({ keys: await keys.list() }),
  );

  app.post<{ Body: { name: string; role: Role; agencies?: string[] } }>(
    '/api/keys',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Create an API key; its text is in this answer only',
        description:
          '`agency_analyst` keys need at least one agency, `ingest` keys exactly one, `admin` keys none; `analyst` and `ioc` keys without agencies are province-wide.',
        body: T.Object(
          {
            name: T.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f]+$' }),
            role: T.Union(ROLES.map((role) => T.Literal(role))),
            agencies: T.Optional(T.Array(AgencyId, { maxItems: 100 })),
          },
          {
            additionalProperties: false,
            examples: [{ name: 'Sở TT&TT analyst', role: 'agency_analyst', agencies: ['so-tttt'] }],
          },
        ),
        response: { 201: T.Object({ key: T.String(), info: T.Ref('ApiKey') }), ...WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      const { name, role, agencies = [] } = request.body;
      const unknown = options.knownAgency ? agencies.filter((agency) => !options.knownAgency!(agency)) : [];
      if (unknown.length > 0) throw new ApiError(422, 'unknown_agency', `no agency ${unknown.join(', ')}`);
      let created: Awaited<ReturnType<ApiKeyService['create']>>;
      try {
        created = await keys.create({ name, role, agencies, createdBy: request.principal!.name });
      } catch (error) {
        if (error instanceof KeyPolicyError) throw new ApiError(422, 'invalid_key_policy', error.message);
        throw error;
      }
      await auditor.record(request, {
        action: 'key.create',
        targetType: 'api_key',
        targetId: created.info.id,
        after: created.info,
      });
      void reply.status(201);
      return created;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/keys/:id',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Revoke an API key (every API process refuses it within seconds)',
        params: T.Object({ id: T.String({ pattern: '^[0-9a-f]{12}$' }) }),
        response: { 200: T.Ref('ApiKey'), ...WRITE_ERRORS },
      },
    },
    async (request) => {
      const before = await keys.get(request.params.id);
      if (!before) throw new ApiError(404, 'not_found', `no key ${request.params.id}`);
      if (before.revokedAt)
        throw new ApiError(409, 'conflict', `key ${request.params.id} is already revoked`, before);
      if (before.id === request.principal!.keyId) {
        throw new ApiError(422, 'invalid_request', 'you cannot revoke the key you are using');
      }
      const after = await keys.revoke(request.params.id);
      if (!after) throw new ApiError(409, 'conflict', `key ${request.params.id} was revoked meanwhile`);
      await auditor.record(request, {
        action: 'key.revoke',
        targetType: 'api_key',
        targetId: after.id,
        before,
        after,
      });
      return after;
    },
  );
}
