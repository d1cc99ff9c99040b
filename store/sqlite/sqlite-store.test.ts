import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreContract } from '../contract.test-suite.js';
import { createSqliteStores } from './index.js';

for (const writerThread of [false, true]) {
  describeStoreContract(writerThread ? 'sqlite (writer thread)' : 'sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siem-store-'));
    const stores = createSqliteStores({ path: join(dir, 'data', 'siem-lite.db'), writerThread });
    return {
      events: stores.events,
      incidents: stores.incidents,
      async dispose() {
        await stores.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
