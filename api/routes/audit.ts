/** The audit log, readable by admins: every mutation with actor, action, target, before/after, request id. */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../core/ports.js';
import { ADMIN_ONLY } from '../auth.js';
import { READ_ERRORS, Time } from '../schemas.js';

const Entry = T.Object(
  {
    id: T.String(),
    at: T.String(),
    actor: T.String(),
    actorKeyId: T.Optional(T.String()),
    action: T.String({ examples: ['incident.update'] }),
    targetType: T.String(),
    targetId: T.String(),
    agency: T.Optional(T.String()),
    before: T.Optional(T.Unknown()),
    after: T.Optional(T.Unknown()),
    requestId: T.Optional(T.String()),
  },
  { $id: 'AuditEntry' },
);

export { Entry as AuditEntrySchema };

interface AuditQuery {
  actor?: string;
  action?: string;
  targetType?: string;
  target?: string;
  from?: string;
  to?: string;
  limit: number;
  after?: string;
}

export async function auditRoutes(app: FastifyInstance, options: { audit: AuditLog }): Promise<void> {
  app.get<{ Querystring: AuditQuery }>(
    '/api/audit',
    {
      config: { roles: ADMIN_ONLY },
      schema: {
        tags: ['admin'],
        summary: 'Read the audit log, newest first',
        querystring: T.Object(
          {
            actor: T.Optional(T.String({ maxLength: 200 })),
            action: T.Optional(T.String({ maxLength: 100 })),
            targetType: T.Optional(T.String({ maxLength: 100 })),
            target: T.Optional(T.String({ maxLength: 200, description: 'target id' })),
            from: T.Optional(Time()),
            to: T.Optional(Time()),
            limit: T.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            after: T.Optional(T.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object({ entries: T.Array(T.Ref('AuditEntry')), next: T.Optional(T.String()) }),
          ...READ_ERRORS,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return options.audit.list({
        ...(q.actor ? { actor: q.actor } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.targetType ? { targetType: q.targetType } : {}),
        ...(q.target ? { targetId: q.target } : {}),
        ...(q.from || q.to
          ? { time: { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) } }
          : {}),
        limit: q.limit,
        ...(q.after ? { after: q.after } : {}),
      });
    },
  );
}
