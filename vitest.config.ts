import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      '{core,ingest,rules,correlator,store,api,dashboards,bin,bench,tools}/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', 'dist/**', 'conformance/**'],
    // Generous: integration suites share a 2-core machine with Elasticsearch; a slow run must not read as a failure.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // Integration suites share one Elasticsearch node and one Redis; two forks keep the 2-core machine responsive.
    pool: 'forks',
    maxWorkers: 2,
  },
});
