/** Query and tile-aggregation timings shared by the two store benchmarks (data: bench/event-dataset.ts). */
import type { EventSearch, EventStore } from '../core/ports.js';

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Ten of the dataset's agencies (fixtures/agencies/hau-giang.yaml): a third of the events. */
const TEN_AGENCIES = [
  'ban-dan-toc',
  'cong-dvc',
  'cong-ttdt',
  'h-chau-thanh',
  'h-chau-thanh-a',
  'h-long-my',
  'h-phung-hiep',
  'h-vi-thuy',
  'ioc',
  'so-cong-thuong',
];

/** The searches an analyst typically runs: the last day of the data, and one pivot over the whole week. */
export function analystSearches(to: number): Record<string, EventSearch> {
  const day = { from: to - 86_400_000, to };
  const week = { from: to - 7 * 86_400_000, to };
  return {
    'filter + time range + top 50': {
      time: day,
      query: 'event.action:ssh_login and event.outcome:failure and user.name:root',
      limit: 50,
    },
    'agency scope + CIDR + time': {
      agencies: ['so-tttt'],
      time: day,
      query: 'source.ip:203.0.113.0/24',
      limit: 50,
    },
    'full text + time': { time: day, query: '"Failed password" and invalid', limit: 50 },
    'wildcard + not + time': {
      time: day,
      query: 'url.path:/wp* and not http.response.status_code:200',
      limit: 50,
    },
    'IP pivot over 7 days': { time: week, query: 'source.ip:203.0.113.77', limit: 50 },
    'host + word over 7 days': { time: week, query: 'host.hostname:so-tttt-srv1 and invalid', limit: 50 },
    // A district team's ten agencies over a week: the /24 holds ~20% of their events (dense), and an `or` of
    // two addresses (sparse), both read from the address entries with their agency (issue 5).
    'ten agencies + CIDR over 7 days': {
      agencies: TEN_AGENCIES,
      time: week,
      query: 'source.ip:203.0.113.0/24',
      limit: 50,
    },
    'ten agencies + or of addresses, 7 days': {
      agencies: TEN_AGENCIES,
      time: week,
      query: 'source.ip:203.0.113.77 or source.ip:198.51.100.7',
      limit: 50,
    },
  };
}

interface Timing {
  p50: number;
  p95: number;
  /** This process's CPU time per run (user + system): SQLite's own work, steadier than wall time on a shared machine. */
  cpu50: number;
  cpu95: number;
}

async function time(runs: number, task: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < 2; i++) await task();
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await task();
    samples.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    cpuSamples.push((used.user + used.system) / 1000);
  }
  return {
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    cpu50: percentile(cpuSamples, 50),
    cpu95: percentile(cpuSamples, 95),
  };
}

const format = (timing: Timing, cpu: boolean) =>
  `p50 ${timing.p50.toFixed(1)} ms  p95 ${timing.p95.toFixed(1)} ms` +
  (cpu ? `   cpu p50 ${timing.cpu50.toFixed(1)} ms  p95 ${timing.cpu95.toFixed(1)} ms` : '');

/** `cpu`: also print this process's CPU time (meaningful for the embedded store, not for a server). */
export async function measureQueries(store: EventStore, to: number, runs = 30, cpu = false): Promise<void> {
  const day = { from: to - 86_400_000, to };
  for (const [name, search] of Object.entries(analystSearches(to))) {
    const page = await store.search(search);
    const timing = await time(runs, () => store.search(search));
    console.log(`query   ${name.padEnd(34)} total ${String(page.total).padStart(7)}  ${format(timing, cpu)}`);
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
    const timing = await time(runs, task);
    console.log(`tile    ${name.padEnd(34)}                ${format(timing, cpu)}`);
  }
}
