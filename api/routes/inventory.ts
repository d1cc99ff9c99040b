/**
 * Agencies and sources: the agency directory (names in Vietnamese and English) and the source inventory
 * the workers keep (agency, host, listener, parsers, first/last seen, rate, parse-failure rate, silent).
 * Scoped callers see their agencies only.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AgencyDirectory } from '../../core/agencies.js';
import type { SourceInventory, SourceRecord } from '../../core/ports.js';
import { SOURCE_SLOT_MS } from '../../store/source-inventory.js';
import { agencyScope, mayAccess, TRIAGE_ROLES } from '../auth.js';
import { AgencyId, READ_ERRORS } from '../schemas.js';
import { THRESHOLDS } from '../tiles/status.js';

const SILENT_MS = THRESHOLDS.silenceMinutes * 60_000;

const Agency = T.Object({
  id: T.String(),
  name: T.Object({ vi: T.String(), en: T.String() }),
  kind: T.String(),
  cidrs: T.Array(T.String()),
  sources: T.Integer({ description: 'sources seen' }),
  silentSources: T.Integer({ description: `sources silent for over ${THRESHOLDS.silenceMinutes} minutes` }),
  lastSeen: T.Union([T.String({ format: 'date-time' }), T.Null()], { description: 'newest record received' }),
});

export const SourceSchema = T.Object(
  {
    id: T.String(),
    agency: T.String(),
    host: T.String({ description: '`host.hostname`, else the sender’s address' }),
    listener: T.String(),
    parsers: T.Array(T.String(), { description: 'datasets parsed from it, most recent first' }),
    firstSeen: T.String({ format: 'date-time' }),
    lastSeen: T.String({ format: 'date-time' }),
    events: T.Integer({ description: 'records received, in total' }),
    parseFailures: T.Integer(),
    eventsPerSecond: T.Number({ description: 'over the last complete 5-minute slot' }),
    parseFailureRate: T.Number({ description: 'failures / records over the last two slots (else in total)' }),
    silent: T.Boolean({ description: `nothing received for over ${THRESHOLDS.silenceMinutes} minutes` }),
  },
  {
    $id: 'Source',
    examples: [
      {
        id: 'Qm9yZ2VzLXNvdXJjZS1pZA',
        agency: 'so-tttt',
        host: 'web01',
        listener: 'syslog-tcp',
        parsers: ['nginx.access', 'system.auth'],
        firstSeen: '2025-02-01T00:00:03.000Z',
        lastSeen: '2025-03-01T09:59:58.000Z',
        events: 1834220,
        parseFailures: 12,
        eventsPerSecond: 4.2,
        parseFailureRate: 0,
        silent: false,
      },
    ],
  },
);

/** The API's view of a stored source at `now`. */
export function sourceView(source: SourceRecord, now: number) {
  const currentStart = Math.floor(now / SOURCE_SLOT_MS) * SOURCE_SLOT_MS;
  const lastComplete = currentStart - SOURCE_SLOT_MS;
  const slotAt = (start: number) =>
    [source.current, source.previous].find((slot) => slot && Date.parse(slot.start) === start);
  const complete = slotAt(lastComplete);
  const recent = [slotAt(currentStart), complete].filter((slot) => slot !== undefined);
  const recentEvents = recent.reduce((sum, slot) => sum + slot.events, 0);
  const recentFailures = recent.reduce((sum, slot) => sum + slot.parseFailures, 0);
  const rate = (failures: number, events: number) =>
    events === 0 ? 0 : Math.round((failures / events) * 10_000) / 10_000;
  return {
    id: source.id,
    agency: source.agency,
    host: source.host,
    listener: source.listener,
    parsers: source.parsers,
    firstSeen: source.firstSeen,
    lastSeen: source.lastSeen,
    events: source.events,
    parseFailures: source.parseFailures,
    eventsPerSecond: Math.round(((complete?.events ?? 0) / (SOURCE_SLOT_MS / 1000)) * 100) / 100,
    parseFailureRate:
      recentEvents > 0 ? rate(recentFailures, recentEvents) : rate(source.parseFailures, source.events),
    silent: now - Date.parse(source.lastSeen) > SILENT_MS,
  };
}

export async function inventoryRoutes(
  app: FastifyInstance,
  options: { agencies?: AgencyDirectory; sources?: SourceInventory },
): Promise<void> {
  const { agencies, sources } = options;

  app.get(
    '/api/agencies',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['agencies'],
        summary: 'The agency directory with each agency’s sources',
        response: {
          200: T.Object(
            { agencies: T.Array(Agency) },
            {
              examples: [
                {
                  agencies: [
                    {
                      id: 'so-tttt',
                      name: {
                        vi: 'Sở Thông tin và Truyền thông',
                        en: 'Department of Information and Communications',
                      },
                      kind: 'department',
                      cidrs: ['10.93.2.0/24'],
                      sources: 14,
                      silentSources: 1,
                      lastSeen: '2025-03-01T09:59:58.000Z',
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
      const now = Date.now();
      const scope = agencyScope(request);
      const seen = sources ? await sources.list(scope ? { agencies: scope } : {}) : [];
      const byAgency = new Map<string, SourceRecord[]>();
      for (const source of seen)
        byAgency.set(source.agency, [...(byAgency.get(source.agency) ?? []), source]);
      return {
        agencies: (agencies?.agencies ?? [])
          .filter((agency) => mayAccess(request, agency.id))
          .map((agency) => {
            const own = byAgency.get(agency.id) ?? [];
            const lastSeen = own.reduce<string | null>(
              (newest, source) => (newest === null || source.lastSeen > newest ? source.lastSeen : newest),
              null,
            );
            return {
              id: agency.id,
              name: { vi: agency.name_vi, en: agency.name_en },
              kind: agency.kind,
              cidrs: agency.cidrs,
              sources: own.length,
              silentSources: own.filter((source) => now - Date.parse(source.lastSeen) > SILENT_MS).length,
              lastSeen,
            };
          }),
      };
    },
  );

  app.get<{ Querystring: { agency?: string[]; silent?: boolean } }>(
    '/api/sources',
    {
      config: { roles: TRIAGE_ROLES },
      schema: {
        tags: ['agencies'],
        summary: 'The source inventory: last seen, rate, parse-failure rate, silent flag',
        description:
          'One source per agency, host and listener, kept by the workers (counted per batch). Records from unattributed senders are under agency `unknown` (province-wide callers only).',
        querystring: T.Object(
          {
            agency: T.Optional(T.Array(AgencyId, { maxItems: 100, description: 'narrows your scope' })),
            silent: T.Optional(T.Boolean({ description: 'only silent (true) or live (false) sources' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object({ total: T.Integer(), sources: T.Array(T.Ref('Source')) }),
          ...READ_ERRORS,
        },
      },
    },
    async (request) => {
      const now = Date.now();
      const scope = agencyScope(request, request.query.agency);
      const listed = sources ? await sources.list(scope ? { agencies: scope } : {}) : [];
      const views = listed
        .map((source) => sourceView(source, now))
        .filter((view) => request.query.silent === undefined || view.silent === request.query.silent);
      return { total: views.length, sources: views };
    },
  );
}
