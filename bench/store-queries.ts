/** Query and tile-aggregation timings shared by the two store benchmarks. */
import type { EventStore } from '../core/ports.js';
import { analystSearches, percentile } from './store-fixture.js';

async function time(runs: number, task: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 2; i++) await task();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await task();
    samples.push(performance.now() - start);
  }
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

export async function measureQueries(store: EventStore, to: number, runs = 30): Promise<void> {
  const day = { from: to - 86_400_000, to };
  for (const [name, search] of Object.entries(analystSearches(to))) {
    const page = await store.search(search);
    const { p50, p95 } = await time(runs, () => store.search(search));
    console.log(
      `query   ${name.padEnd(34)} total ${String(page.total).padStart(7)}  p50 ${p50.toFixed(1)} ms  p95 ${p95.toFixed(1)} ms`,
    );
  }
  const tiles: [string, () => Promise<unknown>][] = [
    [
      'events per agency per hour (24h)',
      () => store.histogram!({ time: day }, { interval: '1h', splitBy: { field: 'agency.id', size: 31 } }),
    ],
    ['top 10 source.ip (24h)', () => store.topValues!({ time: day }, 'source.ip', 10)],
    ['distinct source.ip (24h)', () => store.distinctCount!({ time: day }, 'source.ip')],
    [
      'last seen per agency (7d)',
      () => store.lastSeenBy!({ time: { from: to - 7 * 86_400_000, to } }, 'agency.id', 100),
    ],
    [
      'failed logins by hour (24h)',
      () => store.histogram!({ time: day, query: 'event.outcome:failure' }, {}),
    ],
  ];
  for (const [name, task] of tiles) {
    const { p50, p95 } = await time(runs, task);
    console.log(
      `tile    ${name.padEnd(34)}                p50 ${p50.toFixed(1)} ms  p95 ${p95.toFixed(1)} ms`,
    );
  }
}
