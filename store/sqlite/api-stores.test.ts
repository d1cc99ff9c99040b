import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeApiStoreContract } from '../api-contract.test-suite.js';
import { createSqliteApiStores } from './api-stores.js';
import { createSqliteStores } from './index.js';

describeApiStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siem-api-store-'));
  const path = join(dir, 'siem.sqlite');
  const stores = createSqliteStores({ path });
  await stores.incidents.init();
  const api = createSqliteApiStores({ path, rulePollMs: 50 });
  await api.init();
  const second = createSqliteApiStores({ path, rulePollMs: 50 });
  await second.init();
  return {
    ...api,
    incidents: stores.incidents,
    second,
    async dispose() {
      await second.close();
      await api.close();
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
