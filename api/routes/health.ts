import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

/** Liveness: the process is up and serving. Readiness (dependencies reachable) is `/readyz`. */
export async function healthRoutes(
  app: FastifyInstance,
  options: { mode: string; version: string },
): Promise<void> {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Liveness probe',
        response: { 200: T.Object({ status: T.Literal('ok'), mode: T.String(), version: T.String() }) },
      },
    },
    async () => ({ status: 'ok' as const, mode: options.mode, version: options.version }),
  );
}
