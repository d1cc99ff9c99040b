import { defineConfig } from 'vitest/config';

/** Checks over ../shared/data (Sigma corpus, real log samples): `npm run conformance`, not part of `npm test`. */
export default defineConfig({
  test: {
    include: ['conformance/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
