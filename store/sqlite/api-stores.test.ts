import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeApiStoreContract } from '../api-contract.test-suite.js';
import { createSqliteApiStores } from './api-stores.js';
import { createSqliteStores } from './index.js';

/**
 * The source inventory is the event store's (index.ts `sources`, what `siem-lite serve` writes through; the
 * API's connection records in api/inventory.test.ts): through its writer inline, or (`writerThread`) on a
 * thread of its own, as serve runs it.
 */
const openStores = (writerThread: boolean) => async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siem-api-store-'));
  const path = join(dir, 'siem.sqlite');
  const stores = createSqliteStores({ path, writerThread });
  await stores.incidents.init();
  const api = createSqliteApiStores({ path, rulePollMs: 50 });
  await api.init();
  const second = createSqliteApiStores({ path, rulePollMs: 50 });
  await second.init();
  return {
    ...api,
    sources: stores.sources,
    incidents: stores.incidents,
    second,
    async dispose() {
      await second.close();
      await api.close();
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

describeApiStoreContract('sqlite', openStores(false));
describeApiStoreContract('sqlite, writer thread', openStores(true));
