import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** One dependency `/readyz` checks: resolves when healthy, rejects (with a reason) when not. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

const READY_TIMEOUT_MS = 2000;

/** Liveness (`/healthz`), readiness (`/readyz`: dependencies reachable) and Prometheus metrics (`/metrics`). */
export async function healthRoutes(
  app: FastifyInstance,
  options: { mode: string; version: string; readiness: ReadinessCheck[]; metrics: Registry[] },
): Promise<void> {
  app.get(
    '/healthz',
    {
      config: { public: true, rateLimit: false },
      schema: {
        tags: ['operations'],
        summary: 'Liveness probe',
        response: {
          200: T.Object(
            { status: T.Literal('ok'), mode: T.String(), version: T.String() },
            { examples: [{ status: 'ok', mode: 'scale', version: '0.1.0' }] },
          ),
        },
      },
    },
    async () => ({ status: 'ok' as const, mode: options.mode, version: options.version }),
  );

  const Check = T.Object({
    name: T.String(),
    ok: T.Boolean(),
    ms: T.Integer(),
    error: T.Optional(T.String()),
  });
  app.get(
    '/readyz',
    {
      config: { public: true, rateLimit: false },
      schema: {
        tags: ['operations'],
        summary: 'Readiness probe: stores, Redis and queues reachable and moving',
        response: {
          200: T.Object(
            { status: T.Literal('ready'), checks: T.Array(Check) },
            {
              examples: [
                {
                  status: 'ready',
                  checks: [
                    { name: 'incident store', ok: true, ms: 3 },
                    { name: 'event store', ok: true, ms: 4 },
                    { name: 'redis', ok: true, ms: 1 },
                    { name: 'queue', ok: true, ms: 2 },
                  ],
                },
              ],
            },
          ),
          503: T.Object({ status: T.Literal('not_ready'), checks: T.Array(Check) }),
        },
      },
    },
    async (_request, reply) => {
      const checks = await Promise.all(
        options.readiness.map(async ({ name, check }) => {
          const started = performance.now();
          try {
            await withTimeout(check(), READY_TIMEOUT_MS);
            return { name, ok: true, ms: Math.round(performance.now() - started) };
          } catch (error) {
            return {
              name,
              ok: false,
              ms: Math.round(performance.now() - started),
              error: error instanceof Error ? error.message : String(error),
            };
          }
        }),
      );
      const ready = checks.every((check) => check.ok);
      void reply.status(ready ? 200 : 503);
      return { status: ready ? ('ready' as const) : ('not_ready' as const), checks };
    },
  );

  app.get(
    '/metrics',
    {
      config: { roles: ['admin', 'ioc'], rateLimit: false },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        description:
          'Ingest counters per listener and agency, queue depth and age, parse failures, rule hits, stage latencies.',
        produces: ['text/plain'],
        response: {
          200: T.String({
            examples: [
              '# HELP siem_queue_depth Record batches waiting or in flight between ingest and the workers\n# TYPE siem_queue_depth gauge\nsiem_queue_depth 3\n',
            ],
          }),
        },
      },
    },
    async (_request, reply) => {
      const texts = await Promise.all(options.metrics.map((registry) => registry.metrics()));
      void reply.type('text/plain; version=0.0.4; charset=utf-8');
      return texts.join('\n');
    },
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
