import { Redis } from 'ioredis';
import { deleteIndices, ELASTICSEARCH_URL, REDIS_URL, uniquePrefix } from '../../test/support/services.js';
import { describeApiStoreContract } from '../api-contract.test-suite.js';
import { createElasticsearchApiStores } from './api-stores.js';
import { createElasticsearchStores } from './index.js';

describeApiStoreContract('elasticsearch', async () => {
  const prefix = uniquePrefix('api-store');
  const stores = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix });
  await stores.incidents.init();
  const notifications = { redisUrl: REDIS_URL, prefix };
  const api = createElasticsearchApiStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix, notifications });
  await api.init();
  const second = createElasticsearchApiStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix, notifications });
  return {
    ...api,
    incidents: stores.incidents,
    second,
    async dispose() {
      await second.close();
      await api.close();
      await stores.close();
      await deleteIndices(prefix);
      // Pub/sub leaves no keys, but check nothing else was written under the prefix.
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
});
