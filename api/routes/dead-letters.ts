/**
 * Dead letters for admins: record batches that failed every attempt, kept for inspection, then replayed
 * onto the queue or discarded. Admin-only (a batch can hold any agency's records); every action audited.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { DeadLetterQueue } from '../../core/ports.js';
import type { Auditor } from '../audit.js';
import { ADMIN_ONLY } from '../auth.js';
import { ApiError } from '../errors.js';
import { READ_ERRORS, WRITE_ERRORS } from '../schemas.js';

const DeadLetter = T.Object({
  id: T.String(),
  error: T.String(),
  attempts: T.Integer(),
  failedAt: T.String(),
  records: T.Integer({ description: 'records in the batch' }),
  batch: T.Optional(T.Unknown({ description: 'the batch itself (with `full=true`)' })),
});

const IdParams = T.Object({ id: T.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_:.-]+$' }) });

export async function deadLetterRoutes(
  app: FastifyInstance,
  options: { deadLetters: DeadLetterQueue; auditor: Auditor },
): Promise<void> {
  const { deadLetters, auditor } = options;
  const config = { roles: ADMIN_ONLY };

  app.get<{ Querystring: { limit: number; full?: boolean } }>(
    '/api/dead-letters',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Batches that failed every attempt, newest first',
        querystring: T.Object(
          { limit: T.Integer({ minimum: 1, maximum: 500, default: 50 }), full: T.Optional(T.Boolean()) },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object(
            { total: T.Integer(), items: T.Array(DeadLetter) },
            {
              examples: [
                {
                  total: 1,
                  items: [
                    {
                      id: 'b-2025-03-01-0001',
                      error: 'events index refused 500 documents: cluster_block_exception',
                      attempts: 8,
                      failedAt: '2025-03-01T02:10:01.000Z',
                      records: 500,
                    },
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
      const { total, items } = await deadLetters.list(request.query.limit);
      return {
        total,
        items: items.map((item) => ({
          id: item.id,
          error: item.error,
          attempts: item.attempts,
          failedAt: item.failedAt,
          records: item.batch.records.length,
          ...(request.query.full ? { batch: item.batch } : {}),
        })),
      };
    },
  );

  for (const action of ['replay', 'discard'] as const) {
    app.route<{ Params: { id: string } }>({
      method: action === 'replay' ? 'POST' : 'DELETE',
      url: action === 'replay' ? '/api/dead-letters/:id/replay' : '/api/dead-letters/:id',
      config,
      schema: {
        tags: ['admin'],
        summary:
          action === 'replay' ? 'Put the batch back on the queue' : 'Discard the batch after inspection',
        params: IdParams,
        response: {
          200: T.Object(
            { id: T.String(), outcome: T.Literal(action === 'replay' ? 'replayed' : 'discarded') },
            {
              examples: [
                { id: 'b-2025-03-01-0001', outcome: action === 'replay' ? 'replayed' : 'discarded' },
              ],
            },
          ),
          ...WRITE_ERRORS,
        },
      },
      handler: async (request) => {
        const done = await deadLetters[action](request.params.id);
        if (!done) throw new ApiError(404, 'not_found', `no dead letter ${request.params.id}`);
        await auditor.record(request, {
          action: `dead_letter.${action}`,
          targetType: 'dead_letter',
          targetId: request.params.id,
        });
        return { id: request.params.id, outcome: action === 'replay' ? 'replayed' : 'discarded' };
      },
    });
  }
}
