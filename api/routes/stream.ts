/**
 * The live stream of incident changes (server-sent events) for the SOC console: every change made by the
 * workers or through the API, filtered to the caller's agency scope on the server, with a heartbeat so
 * proxies keep the connection open. A client that falls behind is disconnected (it reconnects and
 * re-reads the list), so one slow reader cannot hold memory.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Severity } from '../../core/model.js';
import type { ChangeFeed, IncidentChange } from '../../core/ports.js';
import { agencyScope } from '../auth.js';
import { AgencyId, AUTH_ERRORS, SeveritySchema } from '../schemas.js';

export const HEARTBEAT_MS = 15_000;
/** Bytes queued for a client before it is considered stuck and dropped. */
const MAX_BUFFERED = 1024 * 1024;

export async function streamRoutes(
  app: FastifyInstance,
  options: { changes: ChangeFeed; heartbeatMs?: number },
): Promise<void> {
  // Open streams end when the server closes (otherwise close would wait for every console to leave).
  const open = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const close of open) close();
  });
  app.get<{ Querystring: { agency?: string[]; severity?: Severity[] } }>(
    '/api/stream',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['incidents'],
        summary: 'Live incident changes (text/event-stream)',
        description:
          'Each change is an SSE message `event: incident` whose data is `{kind, incident, version, actor, at}` (`version`: the one the incident is stored at, for PATCH; absent when it changed again before the notice went out, a later message then carries it); `: heartbeat` comments every 15 s. Only incidents of the caller’s agencies are sent.',
        querystring: T.Object(
          {
            agency: T.Optional(T.Array(AgencyId, { maxItems: 100 })),
            severity: T.Optional(T.Array(SeveritySchema, { maxItems: 4 })),
          },
          { additionalProperties: false },
        ),
        produces: ['text/event-stream'],
        response: {
          200: T.String({
            description: 'an event stream',
            examples: [
              'event: incident\ndata: {"kind":"opened","incident":{"id":"5f1c0e2a9b7d4c11","agency":"so-tttt"},"version":"1","actor":"system","at":"2025-03-01T02:10:01.000Z"}\n\n: heartbeat\n\n',
            ],
          }),
          ...AUTH_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const agencies = agencyScope(request, request.query.agency);
      const severities = request.query.severity;
      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-content-type-options': 'nosniff',
        'x-request-id': request.id,
        'x-accel-buffering': 'no',
      });
      raw.write(`: connected ${new Date().toISOString()}\n\n`);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        open.delete(close);
        clearInterval(heartbeat);
        void unsubscribe.then((stop) => stop()).catch(() => {});
        raw.end();
      };
      const send = (text: string) => {
        if (closed) return;
        if (raw.writableLength > MAX_BUFFERED) {
          request.log.warn('stream client too slow; disconnected');
          close();
          return;
        }
        raw.write(text);
      };
      const listener = (change: IncidentChange) => {
        const agency = change.incident.agency;
        if (agencies && !agencies.includes(agency)) return;
        if (severities && !severities.includes(change.incident.severity)) return;
        send(`event: incident\nid: ${change.incident.id}@${change.at}\ndata: ${JSON.stringify(change)}\n\n`);
      };
      const unsubscribe = options.changes.subscribe(listener);
      const heartbeat = setInterval(() => send(': heartbeat\n\n'), options.heartbeatMs ?? HEARTBEAT_MS);
      heartbeat.unref();
      open.add(close);
      raw.on('close', close);
      raw.on('error', close);
      try {
        await unsubscribe;
      } catch (error) {
        request.log.error({ err: error }, 'stream: cannot subscribe to incident changes');
        close();
      }
    },
  );
}
