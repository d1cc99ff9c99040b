/**
 * An API over real stores for tests: SQLite in a temporary folder (embedded) or Elasticsearch under a
 * unique prefix (scale), with one key per role and two agencies' worth of data helpers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { AgencyDirectory } from '../../core/agencies.js';
import { createLogger } from '../../core/logger.js';
import type { ChangeFeed, EventStore, IncidentStore } from '../../core/ports.js';
import { createElasticsearchApiStores, createElasticsearchStores } from '../../store/elasticsearch/index.js';
import { type ApiStores, createSqliteApiStores, createSqliteStores } from '../../store/sqlite/index.js';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../../test/support/services.js';
import { ApiKeyService } from '../keys.js';
import { type ApiDependencies, buildApiServer } from '../server.js';

export const AGENCY_A = 'so-tttt';
export const AGENCY_B = 'ubnd-vi-thanh';

export interface Harness {
  app: FastifyInstance;
  events: EventStore;
  incidents: IncidentStore;
  apiStores: ApiStores;
  keys: ApiKeyService;
  key: {
    admin: string;
    analyst: string;
    agencyA: string;
    agencyB: string;
    ioc: string;
    iocA: string;
    ingest: string;
  };
  /** GET/POST/PATCH/DELETE with a key. */
  call(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
    url: string,
    key?: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  refresh(): Promise<void>;
  dispose(): Promise<void>;
}

export async function openHarness(
  mode: 'embedded' | 'scale',
  extra: Partial<ApiDependencies> & { changes?: ChangeFeed } = {},
): Promise<Harness> {
  const logger = createLogger({ level: 'silent' });
  let events: EventStore;
  let incidents: IncidentStore;
  let apiStores: ApiStores;
  let cleanup: () => Promise<void>;
  if (mode === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), 'siem-api-'));
    const path = join(dir, 'siem.sqlite');
    const stores = createSqliteStores({ path, logger });
    events = stores.events;
    incidents = stores.incidents;
    await events.init();
    await incidents.init();
    apiStores = createSqliteApiStores({ path, rulePollMs: 100, readThread: true });
    cleanup = async () => {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const prefix = uniquePrefix('api');
    const stores = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix, logger });
    events = stores.events;
    incidents = stores.incidents;
    await events.init();
    await incidents.init();
    apiStores = createElasticsearchApiStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix });
    cleanup = async () => {
      await stores.close();
      await deleteIndices(prefix);
    };
  }
  await apiStores.init();
  const keys = new ApiKeyService(apiStores.keys, { recheckMs: 200 });
  const make = async (
    name: string,
    role: Parameters<ApiKeyService['create']>[0]['role'],
    agencies?: string[],
  ) => (await keys.create({ name, role, ...(agencies ? { agencies } : {}) })).key;
  const key = {
    admin: await make('admin', 'admin'),
    analyst: await make('province analyst', 'analyst'),
    agencyA: await make('analyst A', 'agency_analyst', [AGENCY_A]),
    agencyB: await make('analyst B', 'agency_analyst', [AGENCY_B]),
    ioc: await make('ioc wall', 'ioc'),
    iocA: await make('ioc A', 'ioc', [AGENCY_A]),
    ingest: await make('ingest A', 'ingest', [AGENCY_A]),
  };
  const agencies = new AgencyDirectory([
    {
      id: AGENCY_A,
      name_vi: 'Sở Thông tin và Truyền thông',
      name_en: 'Department of Information and Communications',
      kind: 'department',
      cidrs: ['10.20.0.0/16'],
    },
    {
      id: AGENCY_B,
      name_vi: 'UBND thành phố Vị Thanh',
      name_en: 'Vi Thanh City People’s Committee',
      kind: 'district',
      cidrs: ['10.30.0.0/16'],
    },
  ]);
  const app = await buildApiServer({
    events,
    incidents,
    incidentQueries: apiStores.incidentQueries,
    keys,
    audit: apiStores.audit,
    rules: apiStores.rules,
    sources: apiStores.sources,
    ...(apiStores.tileReads ? { tileReads: apiStores.tileReads } : {}),
    agencies,
    logger,
    mode,
    version: 'test',
    ...extra,
  });
  await app.ready();
  return {
    app,
    events,
    incidents,
    apiStores,
    keys,
    key,
    call(method, url, callerKey, body, headers = {}) {
      return app.inject({
        method,
        url,
        headers: { ...(callerKey ? { authorization: `Bearer ${callerKey}` } : {}), ...headers },
        ...(body !== undefined ? { payload: body as object } : {}),
      });
    },
    async refresh() {
      await events.refresh();
      await incidents.refresh();
      await apiStores.audit.refresh();
    },
    async dispose() {
      await app.close();
      await apiStores.close();
      await cleanup();
    },
  };
}
