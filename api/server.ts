import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { AgencyDirectory } from '../core/agencies.js';
import type { Logger } from '../core/logger.js';
import type {
  AuditLog,
  ChangeFeed,
  DeadLetterQueue,
  EventStore,
  IncidentQueries,
  IncidentStore,
  RuleRepository,
  SourceInventory,
  TileReads,
} from '../core/ports.js';
import { type DashboardOptions, dashboardRoutes } from '../dashboards/static.js';
import { BUNDLED_PACK } from '../rules/index.js';
import { Auditor } from './audit.js';
import { registerAuth } from './auth.js';
import { type ErrorBody, registerErrorHandling } from './errors.js';
import { type ApiKeyService, keyIdOf } from './keys.js';
import { AuditEntrySchema, auditRoutes } from './routes/audit.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { eventRoutes } from './routes/events.js';
import { falsePositiveRoutes } from './routes/false-positive.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { HuntJobSchema, huntRoutes } from './routes/hunts.js';
import { incidentActionRoutes } from './routes/incident-actions.js';
import { incidentRoutes } from './routes/incidents.js';
import { inventoryRoutes, SourceSchema } from './routes/inventory.js';
import { ApiKeySchema, keyRoutes } from './routes/keys.js';
import { RuleDetailSchema, RuleSummarySchema, ruleRoutes } from './routes/rules.js';
import { streamRoutes } from './routes/stream.js';
import { TileSchema, tileRoutes } from './routes/tiles.js';
import { RuleCatalog } from './rules/catalog.js';
import { type HuntJobStore, Hunts, MemoryHuntJobStore } from './rules/hunts.js';
import {
  DetectionSchema,
  ErrorSchema,
  EventSchema,
  IncidentListItemSchema,
  IncidentSchema,
} from './schemas.js';
import { TilesService } from './tiles/snapshot.js';
import { IncidentTriage } from './triage/incident-service.js';
import { IncidentStatsSchema } from './triage/stats.js';

export interface ApiDependencies {
  events: EventStore;
  incidents: IncidentStore;
  incidentQueries: IncidentQueries;
  keys: ApiKeyService;
  audit: AuditLog;
  rules?: RuleRepository;
  /** Rule packs on disk (the bundled rules the repository overlays); default: the bundled pack. */
  rulePacks?: string[];
  /** Where hunt jobs live (Redis in scale mode, so any API process answers for them); default: memory. */
  huntJobs?: HuntJobStore;
  /** The source inventory the workers keep (`/api/sources`, `/api/agencies`). */
  sources?: SourceInventory;
  /** Known agencies (key creation checks names against it; tiles list them). */
  agencies?: AgencyDirectory;
  /** Live incident changes (SSE `/api/stream`); published to on every change made through the API. */
  changes?: ChangeFeed;
  deadLetters?: DeadLetterQueue;
  /** Dependencies `/readyz` checks (Elasticsearch, Redis, queue). */
  readiness?: ReadinessCheck[];
  /** Prometheus registries served at `/metrics`. */
  metrics?: import('prom-client').Registry[];
  /** Where the tiles' aggregations run, when not on the stores above (embedded: a read thread). */
  tileReads?: TileReads;
  /** How long a computed tiles snapshot is served before recomputing (default 5 s). */
  tilesTtlMs?: number;
  /** Requests per key (or per address without a key) per minute; default 1200. */
  rateLimitPerMinute?: number;
  /** Shared rate-limit counters (scale mode: every API process counts together), with its key prefix. */
  rateLimitRedis?: { client: import('ioredis').Redis; prefix: string };
  logger: Logger;
  mode: 'embedded' | 'scale';
  version: string;
  /** The web pages (SOC console, IOC wall): where their built files are (default: dist/dashboards/web). */
  dashboards?: DashboardOptions;
  /** Extra route plugins (e.g. HTTP ingest), registered after auth so they share it. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

/** Builds the HTTP API (not listening yet): auth, schemas on every route, OpenAPI at /openapi.json. */
export async function buildApiServer(deps: ApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestIdHeader: 'x-request-id',
    // Query strings: bounded, and a repeated parameter is an array (schemas coerce single values).
    routerOptions: { maxParamLength: 500 },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    // Errors raised before routing (a malformed URL, a bad content type) get the same body as every other.
    frameworkErrors: (error, request, reply) => {
      const body: ErrorBody = {
        error: { code: 'invalid_request', message: error.message, requestId: request.id },
      };
      void (reply as unknown as FastifyReply).status(400).send(body);
    },
  });
  for (const schema of [
    ErrorSchema,
    IncidentSchema,
    IncidentListItemSchema,
    EventSchema,
    DetectionSchema,
    ApiKeySchema,
    AuditEntrySchema,
    IncidentStatsSchema,
    TileSchema,
    RuleSummarySchema,
    RuleDetailSchema,
    HuntJobSchema,
    SourceSchema,
  ]) {
    app.addSchema(schema);
  }
  registerErrorHandling(app);
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });

  await app.register(helmet, {
    // The interactive docs page loads its own scripts and styles; everything else is JSON.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
  });
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute ?? 1200,
    timeWindow: 60_000,
    ...(deps.rateLimitRedis
      ? {
          redis: deps.rateLimitRedis.client,
          nameSpace: `${deps.rateLimitRedis.prefix}:api-rate:`,
          // Redis unreachable: serve rather than refuse everyone (readiness reports the outage).
          skipOnError: true,
        }
      : {}),
    // Per key (its id, never its secret), else per address: one noisy client cannot starve the others.
    keyGenerator: (request) => {
      const header = request.headers.authorization;
      const id = header?.startsWith('Bearer ') ? keyIdOf(header.slice(7).trim()) : undefined;
      return id ? `key:${id}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (request, context) => {
      const body: ErrorBody = {
        error: {
          code: 'rate_limited',
          message: `more than ${context.max} requests in ${context.after}; slow down`,
          requestId: request.id,
        },
      };
      return Object.assign(new Error(body.error.message), { statusCode: 429, body });
    },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'siem-lite API',
        version: deps.version,
        description:
          'Incidents, events, rules and health for the SOC console and the IOC wall. Every route but the probes needs `Authorization: Bearer <key>`; errors are `{error: {code, message, details?, requestId}}`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  app.addHook('onRoute', (route) => {
    // The interactive docs are public pages (they hold no data; calls from them still need a key).
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), public: true };
  });

  registerAuth(app, deps.keys);
  const auditor = new Auditor(deps.audit);
  const triage = new IncidentTriage(deps.incidents, auditor, deps.logger, deps.changes);
  await app.register(healthRoutes, {
    mode: deps.mode,
    version: deps.version,
    readiness: deps.readiness ?? [],
    metrics: deps.metrics ?? [],
  });
  await app.register(incidentRoutes, {
    incidents: deps.incidents,
    queries: deps.incidentQueries,
    events: deps.events,
    triage,
  });
  await app.register(incidentActionRoutes, { triage, queries: deps.incidentQueries });
  await app.register(eventRoutes, { events: deps.events });
  await app.register(keyRoutes, {
    keys: deps.keys,
    auditor,
    ...(deps.agencies ? { knownAgency: (id: string) => deps.agencies!.get(id) !== undefined } : {}),
  });
  await app.register(auditRoutes, { audit: deps.audit });
  const tiles = new TilesService(
    {
      ...(deps.tileReads ?? {
        events: deps.events,
        incidentQueries: deps.incidentQueries,
        ...(deps.sources ? { inventory: deps.sources } : {}),
      }),
      ...(deps.agencies ? { agencies: deps.agencies } : {}),
    },
    deps.tilesTtlMs,
  );
  await app.register(tileRoutes, { tiles });
  if (deps.rules) {
    const catalog = new RuleCatalog({ packs: deps.rulePacks ?? [BUNDLED_PACK], repository: deps.rules });
    await catalog.start();
    app.addHook('onClose', async () => catalog.close());
    await app.register(ruleRoutes, {
      catalog,
      repository: deps.rules,
      queries: deps.incidentQueries,
      auditor,
    });
    await app.register(falsePositiveRoutes, { triage, catalog, repository: deps.rules, auditor });
    const hunts = new Hunts(
      deps.events,
      catalog,
      deps.huntJobs ?? new MemoryHuntJobStore(),
      deps.mode,
      deps.logger,
    );
    await app.register(huntRoutes, { hunts });
  }
  await app.register(inventoryRoutes, {
    ...(deps.agencies ? { agencies: deps.agencies } : {}),
    ...(deps.sources ? { sources: deps.sources } : {}),
  });
  if (deps.changes) await app.register(streamRoutes, { changes: deps.changes });
  if (deps.deadLetters) await app.register(deadLetterRoutes, { deadLetters: deps.deadLetters, auditor });
  // Public static pages under /console/ and /wall/, with their own stricter CSP (dashboards/static.ts).
  await app.register(dashboardRoutes, deps.dashboards ?? {});
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
