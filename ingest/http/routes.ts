import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AgencyDirectory } from '../../core/agencies.js';
import { UNKNOWN_AGENCY } from '../../core/agencies.js';
import { eventIdOf, newBatchId } from '../../core/identity.js';
import type { RawRecord } from '../../core/model.js';
import type { RecordQueue } from '../../core/ports.js';
import { IngestAccounting } from '../accounting.js';
import { formatPeer } from '../listeners/listener.js';
import { nextRecordSeq } from '../sequence.js';
import { BodyError, decodeBody, eventDocuments } from './body.js';
import { bulkResponse, parseBulk } from './bulk.js';
import {
  type ApiKeyVerifier,
  type IngestPrincipal,
  IngestTokens,
  tokenFromAuthorization,
} from './ingest-tokens.js';

export interface IngestHttpOptions {
  queue: RecordQueue;
  agencies: AgencyDirectory;
  /** API keys with the `ingest` role (one agency each) are accepted beside agencies.yaml tokens. */
  verifyApiKey?: ApiKeyVerifier;
  /** Listener id in records and counters (default `http`). */
  listenerId?: string;
  /** Largest request body as sent (default 10 MiB) and once decompressed (default 64 MiB). */
  maxBodyBytes?: number;
  maxDecodedBytes?: number;
  /** Records per queued batch (config `ingest.batch_max_records`). */
  batchMaxRecords?: number;
  accounting?: IngestAccounting;
}

declare module 'fastify' {
  interface FastifyRequest {
    ingestPrincipal?: IngestPrincipal;
  }
}

const ErrorReply = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
  required: ['error', 'message'],
} as const;
const RETRY_AFTER_SECONDS = '1';
/** What Elasticsearch clients see at `GET /es/`: they check the major version before using `_bulk`. */
const ES_INFO = {
  name: 'siem-lite',
  cluster_name: 'siem-lite',
  version: {
    number: '8.11.0',
    build_flavor: 'default',
    lucene_version: '9.8.0',
    minimum_wire_compatibility_version: '7.17.0',
    minimum_index_compatibility_version: '7.0.0',
  },
  tagline: 'You Know, for Search',
};

/**
 * HTTP ingest for agents and shippers, as a fastify plugin the API registers:
 * - `POST /ingest/v1/events`: a JSON array, one object, or NDJSON; gzip/deflate allowed; 202 once queued.
 * - `POST /_bulk`, `POST /:index/_bulk` and the same under `/es/` (with `GET /es/` version info) so that
 *   Fluent Bit, Vector, Logstash and Beats can use their Elasticsearch output unchanged; the answer has
 *   Elasticsearch's per-item shape.
 * Senders authenticate with their agency's ingest token (or an API key with the ingest role), which sets
 * the agency of every record. When the queue is saturated the answer is 429 with `Retry-After` (shippers
 * retry it); a queue failure is 503. Every document is counted: received, queued or rejected with a reason.
 */
export async function ingestHttpRoutes(app: FastifyInstance, options: IngestHttpOptions): Promise<void> {
  const listener = options.listenerId ?? 'http';
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const maxDecodedBytes = options.maxDecodedBytes ?? 64 * 1024 * 1024;
  const batchMaxRecords = options.batchMaxRecords ?? 500;
  const accounting = options.accounting ?? new IngestAccounting();
  const tokens = new IngestTokens(options.agencies);

  // Bodies are read raw here (this plugin's scope only): decompression and splitting are ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) =>
    done(null, body),
  );

  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = tokenFromAuthorization(request.headers.authorization);
    if (!token) {
      reply.header('www-authenticate', 'Bearer realm="siem-lite ingest"');
      return reply.code(401).send({
        error: 'unauthenticated',
        message:
          'send the agency ingest token as "Authorization: Bearer <token>" (or Basic/ApiKey with the token as password)',
      });
    }
    const agency = tokens.agencyOf(token);
    if (agency) {
      request.ingestPrincipal = { agency, via: 'token' };
      return;
    }
    const key = await options.verifyApiKey?.(token);
    if (key && key.role === 'ingest' && key.agencies?.length === 1) {
      request.ingestPrincipal = { agency: key.agencies[0]!, via: 'api-key' };
      return;
    }
    accounting.rejected(listener, UNKNOWN_AGENCY, 'unauthenticated');
    const message = key ? `role ${key.role} may not ingest; use an ingest token` : 'unknown ingest token';
    return reply.code(key ? 403 : 401).send({ error: key ? 'forbidden' : 'unauthenticated', message });
  }

  async function readBody(request: FastifyRequest): Promise<string> {
    const body = request.body;
    if (!Buffer.isBuffer(body)) return '';
    const decoded = await decodeBody(
      body,
      request.headers['content-encoding'] as string | undefined,
      maxDecodedBytes,
    );
    return decoded.toString('utf8');
  }

  function toRecords(request: FastifyRequest, documents: string[]): RawRecord[] {
    const receivedAt = Date.now();
    const peer = formatPeer(request.socket.remoteAddress, request.socket.remotePort);
    const agency = request.ingestPrincipal!.agency;
    return documents.map((text) => ({
      text,
      receivedAt,
      transport: 'http',
      peer,
      listener,
      agency,
      seq: nextRecordSeq(),
    }));
  }

  /** Queues the records in batches; false when it already answered 429/503. */
  async function enqueue(records: RawRecord[], agency: string, reply: FastifyReply): Promise<boolean> {
    accounting.received(listener, agency, false, records.length);
    if (options.queue.saturated()) {
      accounting.rejected(listener, agency, 'backpressure', records.length);
      reply
        .header('retry-after', RETRY_AFTER_SECONDS)
        .code(429)
        .send({ error: 'too_many_requests', message: 'the queue is saturated: retry later' });
      return false;
    }
    let queued = 0;
    try {
      for (let start = 0; start < records.length; start += batchMaxRecords) {
        const batch = records.slice(start, start + batchMaxRecords);
        await options.queue.enqueue({ id: newBatchId(), records: batch });
        queued += batch.length;
        accounting.queued(listener, agency, batch.length);
      }
      return true;
    } catch (error) {
      reply.log.error({ err: error }, 'HTTP ingest: enqueue failed');
      // Batches already queued stay queued; the answer says how many, so nothing is counted twice.
      accounting.rejected(listener, agency, 'queue_unavailable', records.length - queued);
      reply
        .header('retry-after', RETRY_AFTER_SECONDS)
        .code(503)
        .send({
          error: 'unavailable',
          message: `the queue is unavailable: ${queued} of ${records.length} documents were queued`,
          queued,
        });
      return false;
    }
  }

  function bodyProblem(reply: FastifyReply, agency: string, error: unknown): FastifyReply {
    if (error instanceof BodyError) {
      accounting.rejected(listener, agency, error.statusCode === 413 ? 'too_large' : 'bad_body');
      return reply.code(error.statusCode).send({ error: 'bad_request', message: error.message });
    }
    throw error;
  }

  // Authentication runs on request, before the body is read: an unknown sender cannot make us read 10 MiB.
  // A body over the limit is refused by fastify before our handler: count it here.
  app.addHook('onError', async (request, _reply, error) => {
    if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      accounting.rejected(listener, request.ingestPrincipal?.agency ?? UNKNOWN_AGENCY, 'too_large');
    }
  });

  const routeConfig = { public: true } as const;

  app.post(
    '/ingest/v1/events',
    {
      config: routeConfig,
      bodyLimit: maxBodyBytes,
      onRequest: authenticate,
      schema: {
        summary: 'Send events (JSON array, object or NDJSON; gzip allowed)',
        tags: ['ingest'],
        headers: {
          type: 'object',
          properties: { 'content-type': { type: 'string' }, 'content-encoding': { type: 'string' } },
        },
        response: {
          202: { type: 'object', properties: { accepted: { type: 'integer' } }, required: ['accepted'] },
          400: ErrorReply,
          401: ErrorReply,
          403: ErrorReply,
          413: ErrorReply,
          415: ErrorReply,
          429: ErrorReply,
          503: { type: 'object', properties: { ...ErrorReply.properties, queued: { type: 'integer' } } },
        },
      },
    },
    async (request, reply) => {
      const agency = request.ingestPrincipal!.agency;
      let documents: string[];
      try {
        documents = eventDocuments(await readBody(request), request.headers['content-type']);
      } catch (error) {
        return bodyProblem(reply, agency, error);
      }
      const records = toRecords(request, documents);
      if (!(await enqueue(records, agency, reply))) return reply;
      return reply.code(202).send({ accepted: records.length });
    },
  );

  async function bulk(request: FastifyRequest<{ Params: { index?: string } }>, reply: FastifyReply) {
    const started = Date.now();
    const agency = request.ingestPrincipal!.agency;
    let parsed: ReturnType<typeof parseBulk>;
    try {
      parsed = parseBulk(await readBody(request), request.params.index ?? 'siem-lite');
    } catch (error) {
      return bodyProblem(reply, agency, error);
    }
    const records = toRecords(
      request,
      parsed.documents.map((doc) => doc.source),
    );
    if (parsed.refusals.length > 0)
      accounting.rejected(listener, agency, 'bulk_action', parsed.refusals.length);
    if (records.length > 0 && !(await enqueue(records, agency, reply))) return reply;
    const accepted = parsed.documents.map((doc, i) => ({
      item: doc.item,
      action: doc.action,
      index: doc.index,
      id: doc.id ?? eventIdOf(records[i]!),
    }));
    return reply.code(200).send(bulkResponse(Date.now() - started, accepted, parsed.refusals));
  }

  const bulkSchema = {
    summary: 'Elasticsearch-compatible bulk ingest (index/create actions)',
    tags: ['ingest'],
    params: { type: 'object', properties: { index: { type: 'string', maxLength: 255 } } },
    response: {
      200: {
        type: 'object',
        properties: {
          took: { type: 'integer' },
          errors: { type: 'boolean' },
          items: { type: 'array', items: { type: 'object', additionalProperties: true } },
        },
        required: ['took', 'errors', 'items'],
      },
      400: ErrorReply,
      401: ErrorReply,
      403: ErrorReply,
      413: ErrorReply,
      415: ErrorReply,
      429: ErrorReply,
    },
  };
  for (const path of ['/_bulk', '/:index/_bulk', '/es/_bulk', '/es/:index/_bulk']) {
    app.post<{ Params: { index?: string } }>(
      path,
      { config: routeConfig, bodyLimit: maxBodyBytes, onRequest: authenticate, schema: bulkSchema },
      bulk,
    );
  }
  // Version probes of Elasticsearch clients (Logstash, Beats, Vector check the major version first);
  // fastify answers HEAD from the GET route.
  app.get(
    '/es/',
    { config: routeConfig, onRequest: authenticate, schema: { hide: true } },
    async () => ES_INFO,
  );
  app.get(
    '/es/_license',
    { config: routeConfig, onRequest: authenticate, schema: { hide: true } },
    async () => ({
      license: { status: 'active', type: 'basic', uid: 'siem-lite' },
    }),
  );
}
