import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../core/logger.js';
import type { EventStore, IncidentStore } from '../core/ports.js';
import { registerAuth } from './auth.js';
import { registerErrorHandling } from './errors.js';
import type { ApiKeyStore } from './keys.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { incidentRoutes } from './routes/incidents.js';
import { ErrorSchema, EventSchema, IncidentSchema } from './schemas.js';

export interface ApiDependencies {
  events: EventStore;
  incidents: IncidentStore;
  keys: ApiKeyStore;
  logger: Logger;
  mode: 'embedded' | 'scale';
  version: string;
  /** Extra route plugins (e.g. HTTP ingest), registered after auth so they share it. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

/** Builds the HTTP API (not listening yet): auth, schemas on every route, OpenAPI at /openapi.json. */
export async function buildApiServer(deps: ApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  });
  app.addSchema(ErrorSchema);
  app.addSchema(IncidentSchema);
  app.addSchema(EventSchema);
  registerErrorHandling(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'siem-lite API',
        version: deps.version,
        description: 'Incidents, events and health for the SOC console and the IOC wall.',
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
  await app.register(healthRoutes, { mode: deps.mode, version: deps.version });
  await app.register(incidentRoutes, { incidents: deps.incidents });
  await app.register(eventRoutes, { events: deps.events });
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
