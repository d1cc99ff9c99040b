/**
 * The IOC wall's tiles (docs/ioc-tiles.md): small, stable, versioned JSON, cheap to poll every few seconds
 * (ETag + Cache-Control; 304 when unchanged). A scoped key sees only its agencies' tiles.
 */
import { createHash } from 'node:crypto';
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mayAccess } from '../auth.js';
import { ApiError } from '../errors.js';
import { AgencyId, READ_ERRORS } from '../schemas.js';
import { TILES_SCHEMA_VERSION, type TilesService } from '../tiles/snapshot.js';

const TILE_ROLES = ['admin', 'analyst', 'agency_analyst', 'ioc'] as const;
export const TILES_SCHEMA = 'siem-lite/ioc-tiles';

const Reason = T.Object({ code: T.String(), vi: T.String(), en: T.String() });
const TileSchema = T.Object(
  {
    agency: T.String(),
    name: T.Object({ vi: T.String(), en: T.String() }),
    status: T.Union([T.Literal('green'), T.Literal('amber'), T.Literal('red')]),
    reasons: T.Array(Reason),
    openIncidents: T.Object({
      critical: T.Integer(),
      high: T.Integer(),
      medium: T.Integer(),
      low: T.Integer(),
      total: T.Integer(),
    }),
    new24h: T.Integer(),
    trend24h: T.Array(T.Integer(), { description: 'new incidents per hour, oldest first' }),
    mttaMs: T.Union([T.Integer(), T.Null()]),
    mttrMs: T.Union([T.Integer(), T.Null()]),
    silentSources: T.Integer(),
    parseFailureRate: T.Number({ minimum: 0, maximum: 1 }),
    eventsPerSecond: T.Number(),
    topTactics: T.Array(T.Object({ tactic: T.String(), count: T.Integer() })),
  },
  {
    $id: 'Tile',
    examples: [
      {
        agency: 'so-tttt',
        name: { vi: 'Sở Thông tin và Truyền thông', en: 'Department of Information and Communications' },
        status: 'amber',
        reasons: [
          {
            code: 'sources_silent',
            vi: '1 nguồn nhật ký im lặng hơn 30 phút',
            en: '1 log source(s) silent for over 30 minutes',
          },
        ],
        openIncidents: { critical: 0, high: 1, medium: 2, low: 0, total: 3 },
        new24h: 4,
        trend24h: [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        mttaMs: 540000,
        mttrMs: 7200000,
        silentSources: 1,
        parseFailureRate: 0.002,
        eventsPerSecond: 12.4,
        topTactics: [{ tactic: 'credential_access', count: 2 }],
      },
    ],
  },
);

export { TileSchema };

const Envelope = {
  schema: T.Literal(TILES_SCHEMA),
  version: T.Literal(TILES_SCHEMA_VERSION),
  generatedAt: T.String({ format: 'date-time' }),
};

const NOT_MODIFIED = { 304: T.Null({ description: 'unchanged since the ETag sent in If-None-Match' }) };

export async function tileRoutes(app: FastifyInstance, options: { tiles: TilesService }): Promise<void> {
  const { tiles } = options;

  app.get(
    '/api/ioc/tiles',
    {
      config: { roles: TILE_ROLES },
      schema: {
        tags: ['ioc'],
        summary: 'Security-health tiles: the province and every agency',
        description:
          'Poll with If-None-Match: 304 while nothing changed. A scoped key gets only its agencies (no province tile).',
        response: {
          200: T.Object({
            ...Envelope,
            province: T.Optional(T.Ref('Tile')),
            agencies: T.Array(T.Ref('Tile')),
          }),
          ...NOT_MODIFIED,
          ...READ_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const snapshot = await tiles.snapshot();
      const scoped = request.principal?.agencies !== undefined;
      const agencies = scoped
        ? snapshot.agencies.filter((tile) => mayAccess(request, tile.agency))
        : snapshot.agencies;
      const content = scoped ? { agencies } : { province: snapshot.province, agencies };
      const etag = scoped ? digest(content) : snapshot.etag;
      if (notModified(request, reply, etag)) return reply.status(304).send();
      return {
        schema: TILES_SCHEMA,
        version: TILES_SCHEMA_VERSION,
        generatedAt: snapshot.generatedAt,
        ...content,
      };
    },
  );

  app.get<{ Params: { agency: string } }>(
    '/api/ioc/tiles/:agency',
    {
      config: { roles: TILE_ROLES },
      schema: {
        tags: ['ioc'],
        summary: 'One agency’s tile (`province` for the province tile)',
        params: T.Object({ agency: AgencyId }),
        response: { 200: T.Object({ ...Envelope, tile: T.Ref('Tile') }), ...NOT_MODIFIED, ...READ_ERRORS },
      },
    },
    async (request, reply) => {
      const { agency } = request.params;
      const snapshot = await tiles.snapshot();
      const scoped = request.principal?.agencies !== undefined;
      const tile =
        agency === 'province'
          ? scoped
            ? undefined
            : snapshot.province
          : mayAccess(request, agency)
            ? snapshot.agencies.find((candidate) => candidate.agency === agency)
            : undefined;
      if (!tile) throw new ApiError(404, 'not_found', `no tile for ${agency}`);
      if (notModified(request, reply, digest(tile))) return reply.status(304).send();
      return { schema: TILES_SCHEMA, version: TILES_SCHEMA_VERSION, generatedAt: snapshot.generatedAt, tile };
    },
  );
}

function digest(content: unknown): string {
  return createHash('sha256').update(JSON.stringify(content)).digest('base64url').slice(0, 27);
}

/** Sets the caching headers; true when the client's copy is current (answer 304). */
function notModified(request: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  const tag = `"${TILES_SCHEMA_VERSION}-${etag}"`;
  void reply
    .header('etag', tag)
    .header('cache-control', 'private, max-age=5, must-revalidate')
    .header('vary', 'Authorization');
  const presented = request.headers['if-none-match'];
  return typeof presented === 'string' && presented.split(',').some((value) => value.trim() === tag);
}
