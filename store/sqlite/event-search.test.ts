import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventSearch } from '../../core/ports.js';
import { makeEvent } from '../contract.test-suite.js';
import { createSqliteStores, type SqliteStores } from './index.js';

// Pages of address searches on both sides of event-store.ts' SORTED_PAGE_MAX (5,000 matches): below it the
// page comes sorted from the address entries, above it from walking `(ts, id)` newest first. Both must give
// the newest matches in order, checked against the events as written. Written in batches of 500 with an
// address step every 1,200 events: 6,000 rows' entries in four steps, the last 1,000 rows past the mark.
const start = Date.parse('2025-03-01T00:00:00Z');
const written = Array.from({ length: 7000 }, (_, i) => {
  // Over ~6 hours, not in time order, so that row ids and times disagree; equal times tie on the id.
  const at = start + ((i * 7919) % 7000) * 3000 + (i % 3 === 0 ? 0 : 1);
  const ip = i % 5 === 0 ? `198.51.100.${i % 200}` : `203.0.113.${i % 250}`;
  return makeEvent(`e${String(i).padStart(5, '0')}`, new Date(at).toISOString(), i % 2 ? 'a' : 'b', {
    source: { ip },
    message: `${i % 7 === 0 ? 'alpha' : 'gamma'} ${i % 3 === 0 ? 'beta' : 'delta'} line ${i}`,
  });
});

let stores: SqliteStores;
beforeAll(async () => {
  stores = createSqliteStores({ path: ':memory:', addressStep: 1200 });
  for (let i = 0; i < written.length; i += 500) {
    expect((await stores.events.index(written.slice(i, i + 500))).indexed).toBe(500);
  }
});
afterAll(() => stores.close());

type Matches = (ip: string, agency: string, message: string) => boolean;

function expected(search: EventSearch, matches: Matches) {
  const from = Number(search.time?.from ?? 0);
  const to = Number(search.time?.to ?? Number.POSITIVE_INFINITY);
  const all = written
    .filter((event) => {
      const at = Date.parse(event['@timestamp'] as string);
      const ip = (event.source as { ip: string }).ip;
      return at >= from && at < to && matches(ip, event.agency.id, event.message as string);
    })
    .sort((a, b) =>
      a['@timestamp'] === b['@timestamp']
        ? b.event.id.localeCompare(a.event.id)
        : (b['@timestamp'] as string).localeCompare(a['@timestamp'] as string),
    );
  return { total: all.length, ids: all.map((event) => event.event.id) };
}

/** The first two pages of 40 and their totals, and the count, against the events as written. */
async function twoPages(search: EventSearch, matches: Matches): Promise<void> {
  const want = expected(search, matches);
  expect(want.total).toBeGreaterThan(80);
  const first = await stores.events.search({ ...search, limit: 40 });
  expect(first.total).toBe(want.total);
  expect(first.events.map((event) => event.event.id)).toEqual(want.ids.slice(0, 40));
  const second = await stores.events.search({ ...search, limit: 40, after: first.next });
  expect(second.total).toBe(want.total);
  expect(second.events.map((event) => event.event.id)).toEqual(want.ids.slice(40, 80));
  expect(await stores.events.count(search)).toBe(want.total);
}

describe('sqlite search: address pages below and above 5,000 matches', () => {
  const time = { from: start + 600_000, to: start + 20_700_000 };
  const cases: [string, EventSearch, Matches][] = [
    ['CIDR, above', { time, query: 'source.ip:203.0.113.0/24' }, (ip) => ip.startsWith('203.0.113.')],
    [
      'CIDR and agency, below',
      { time, agencies: ['a'], query: 'source.ip:203.0.113.0/24' },
      (ip, a) => a === 'a' && ip.startsWith('203.0.113.'),
    ],
    [
      'address or CIDR, below',
      { time, query: 'source.ip:203.0.113.7 or source.ip:198.51.100.0/24' },
      (ip) => ip === '203.0.113.7' || ip.startsWith('198.51.100.'),
    ],
    [
      'not a CIDR, below',
      { time, query: 'not source.ip:203.0.113.0/24' },
      (ip) => !ip.startsWith('203.0.113.'),
    ],
  ];
  for (const [name, search, matches] of cases) {
    it(`${name}: the newest matches in order, page after page`, () => twoPages(search, matches));
  }

  // Full-text searches whose page and total may come from one statement (event-store.ts pageWithTotal).
  const texts: [string, EventSearch, Matches][] = [
    ['a word', { time, query: 'alpha' }, (_ip, _a, m) => m.startsWith('alpha')],
    [
      'two words and an agency',
      { time, agencies: ['b'], query: 'alpha beta' },
      (_ip, a, m) => a === 'b' && m.startsWith('alpha beta'),
    ],
    [
      'a word and not another',
      { time, query: 'alpha and not beta' },
      (_ip, _a, m) => m.startsWith('alpha delta'),
    ],
    [
      'a word and a CIDR',
      { time, query: 'beta and source.ip:198.51.100.0/24' },
      (ip, _a, m) => ip.startsWith('198.51.100.') && m.includes(' beta '),
    ],
  ];
  for (const [name, search, matches] of texts) {
    it(`full text, ${name}: the total and the newest matches in order, page after page`, () =>
      twoPages(search, matches));
  }

  it('finds no match as a total of 0', async () => {
    expect(await stores.events.search({ time, query: 'alpha and zeta' })).toEqual({ events: [], total: 0 });
  });

  it('has a case on each side of the threshold', () => {
    const totals = cases.map(([, , matches]) => expected({ time }, matches).total);
    expect(Math.max(...totals)).toBeGreaterThan(5000);
    expect(Math.min(...totals)).toBeLessThanOrEqual(5000);
  });
});

describe('sqlite histogram by agency (grouped by the time prefix, read agency by agency)', () => {
  for (const [interval, span] of [
    ['1h', 3 * 3_600_000],
    ['5m', 3 * 3_600_000],
    ['1s', 1_800_000],
  ] as const) {
    it(`counts every event in its ${interval} bucket, split by agency`, async () => {
      const time = { from: start + 1000, to: start + 1000 + span };
      const histogram = await stores.events.histogram!(
        { time },
        { interval, splitBy: { field: 'agency.id', size: 5 } },
      );
      const want = new Map<number, Map<string, number>>();
      for (const event of written) {
        const at = Date.parse(event['@timestamp'] as string);
        if (at < time.from || at >= time.to) continue;
        const bucket = Math.floor(at / histogram.intervalMs) * histogram.intervalMs;
        const split = want.get(bucket) ?? new Map<string, number>();
        want.set(bucket, split);
        split.set(event.agency.id, (split.get(event.agency.id) ?? 0) + 1);
      }
      expect(histogram.buckets.filter((bucket) => bucket.count > 0).length).toBe(want.size);
      for (const bucket of histogram.buckets) {
        const split = want.get(Date.parse(bucket.start)) ?? new Map<string, number>();
        const expectedSplit = [...split]
          .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
          .map(([key, count]) => ({ key, count }));
        expect(bucket.count).toBe(expectedSplit.reduce((sum, entry) => sum + entry.count, 0));
        expect(bucket.split).toEqual(expectedSplit);
      }
    });
  }
});

describe('sqlite per-address counts over a time range (from the address entries)', () => {
  it('counts, top values and distinct addresses as the events written', async () => {
    const time = { from: start + 1000, to: start + 4 * 3_600_000 + 500 };
    const counts = new Map<string, number>();
    for (const event of written) {
      const at = Date.parse(event['@timestamp'] as string);
      if (at < time.from || at >= time.to) continue;
      const ip = (event.source as { ip: string }).ip;
      counts.set(ip, (counts.get(ip) ?? 0) + 1);
    }
    expect(await stores.events.distinctCount!({ time }, 'source.ip')).toBe(counts.size);
    // Ordered as Elasticsearch orders terms: count, then the key's bytes (an address's 16 bytes here).
    const key = (ip: string) =>
      ip
        .split('.')
        .map((part) => part.padStart(3, '0'))
        .join('.');
    const top = [...counts]
      .sort(([a, x], [b, y]) => y - x || (key(a) < key(b) ? -1 : 1))
      .slice(0, 10)
      .map(([ip, count]) => ({ key: ip, count }));
    const shown = top.reduce((sum, bucket) => sum + bucket.count, 0);
    const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
    expect(await stores.events.topValues!({ time }, 'source.ip', 10)).toEqual({
      buckets: top,
      other: total - shown,
    });
  });
});
