import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../../test/support/services.js';
import { describeStoreContract } from '../contract.test-suite.js';
import { createElasticsearchStores } from './index.js';

describeStoreContract('elasticsearch', async () => {
  const prefix = uniquePrefix('store');
  const stores = createElasticsearchStores({
    url: ELASTICSEARCH_URL,
    indexPrefix: prefix,
    retry: { attempts: 5, initialDelayMs: 20, maxDelayMs: 200 },
  });
  return {
    events: stores.events,
    incidents: stores.incidents,
    async dispose() {
      await deleteIndices(prefix);
      await stores.close();
    },
  };
});
