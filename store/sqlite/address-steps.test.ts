import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../core/model.js';
import type { EventSearch } from '../../core/ports.js';
import { makeEvent } from '../contract.test-suite.js';
import { planSearch } from '../search-plan.js';
import { toWhere } from './event-store.js';
import { createSqliteStores, type SqliteStores } from './index.js';

// The address entries move to `event_addresses` in steps (schema.ts ADDRESS_TABLE); the rows past the mark
// are read from `event_rows`. Every answer must be the events' as written whichever side of the mark a row
// is on: checked after each batch, with a step every 700 events and batches of 250, so the mark moves
// every third batch and the tail holds 0 to 749 rows.
const start = Date.parse('2025-03-01T20:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'siem-address-steps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function events(count: number, prefix: string, offset = 0): SecurityEvent[] {
  return Array.from({ length: count }, (_, n) => {
    const i = n + offset;
    // Over ~10 hours across midnight, not in time order; one in 9 without a source address.
    const at = start + ((i * 7919) % 3000) * 12_000 + (i % 4);
    const fields = i % 9 === 0 ? {} : { source: { ip: `10.0.${i % 3}.${(i * 13) % 40}` } };
    return makeEvent(`${prefix}${String(i).padStart(5, '0')}`, new Date(at).toISOString(), 'a', fields);
  });
}

const ipOf = (event: SecurityEvent) => (event.source as { ip?: string } | undefined)?.ip;
const ipNumber = (ip: string) => ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
const at = (event: SecurityEvent) => Date.parse(event['@timestamp'] as string);

const ranges = [
  { from: start, to: start + 36_000_000 },
  { from: start + 3_600_000, to: start + 14_400_000 },
  { from: start + 17_000_000, to: start + 17_500_000 },
];
const queries: [string, (ip: string | undefined) => boolean][] = [
  ['source.ip:10.0.1.13', (ip) => ip === '10.0.1.13'],
  ['source.ip:10.0.2.0/24', (ip) => ip?.startsWith('10.0.2.') === true],
  [
    'source.ip:10.0.0.26 or source.ip:10.0.1.0/25',
    (ip) => ip === '10.0.0.26' || ip?.startsWith('10.0.1.') === true,
  ],
  ['not source.ip:10.0.0.0/24', (ip) => ip?.startsWith('10.0.0.') !== true],
];

/** Searches (first page and total), counts and the per-address tiles against `written`. */
async function checkAnswers(stores: SqliteStores, written: SecurityEvent[]): Promise<void> {
  for (const range of ranges) {
    const inRange = written.filter((event) => at(event) >= range.from && at(event) < range.to);
    for (const [query, matches] of queries) {
      const search: EventSearch = { time: range, query, limit: 25 };
      const want = inRange
        .filter((event) => matches(ipOf(event)))
        .sort((a, b) => at(b) - at(a) || b.event.id.localeCompare(a.event.id));
      const page = await stores.events.search(search);
      expect(page.total, `${query} ${range.from}`).toBe(want.length);
      expect(page.events.map((event) => event.event.id)).toEqual(
        want.slice(0, 25).map((event) => event.event.id),
      );
    }
    const perIp = new Map<string, { last: number; count: number }>();
    for (const event of inRange) {
      const ip = ipOf(event);
      if (ip === undefined) continue;
      const seen = perIp.get(ip) ?? { last: 0, count: 0 };
      perIp.set(ip, { last: Math.max(seen.last, at(event)), count: seen.count + 1 });
    }
    const byIp = [...perIp].sort((a, b) => ipNumber(a[0]) - ipNumber(b[0]));
    expect(await stores.events.lastSeenBy!({ time: range }, 'source.ip')).toEqual(
      byIp
        .slice(0, 100)
        .map(([key, seen]) => ({ key, lastSeen: new Date(seen.last).toISOString(), count: seen.count })),
    );
    expect(await stores.events.distinctCount!({ time: range }, 'source.ip')).toBe(perIp.size);
    const top = [...byIp].sort((a, b) => b[1].count - a[1].count).slice(0, 5);
    const counted = await stores.events.topValues!({ time: range }, 'source.ip', 5);
    expect(counted.buckets.map((bucket) => bucket.count)).toEqual(top.map(([, seen]) => seen.count));
    for (const bucket of counted.buckets) expect(perIp.get(String(bucket.key))?.count).toBe(bucket.count);
    const total = [...perIp.values()].reduce((sum, seen) => sum + seen.count, 0);
    expect(counted.other).toBe(total - top.reduce((sum, [, seen]) => sum + seen.count, 0));
  }
}

/** The address mark and the entries in `event_addresses`, read from the file. */
function entries(path: string): { mark: number; moved: number; rowsAtOrBelowMark: number; rows: number } {
  const db = new BetterSqlite3(path, { readonly: true });
  const mark = db.prepare("SELECT rid FROM store_marks WHERE name = 'addresses'").pluck().get() as number;
  const moved = db.prepare('SELECT count(*) FROM event_addresses').pluck().get() as number;
  const rowsAtOrBelowMark = db
    .prepare('SELECT count(*) FROM event_rows WHERE rid <= ? AND source_ip IS NOT NULL')
    .pluck()
    .get(mark) as number;
  const rows = db.prepare('SELECT count(*) FROM event_rows').pluck().get() as number;
  db.close();
  return { mark, moved, rowsAtOrBelowMark, rows };
}

describe('sqlite address entries written in steps', () => {
  it('answers as the events were written before and after each step, on both sides of the mark', async () => {
    const path = join(dir, 'steps.db');
    const stores = createSqliteStores({ path, addressStep: 700 });
    const all = events(3000, 'e');
    const written: SecurityEvent[] = [];
    const marks = new Set<number>();
    for (let i = 0; i < all.length; i += 250) {
      written.push(...all.slice(i, i + 250));
      expect((await stores.events.index(all.slice(i, i + 250))).indexed).toBe(250);
      const state = entries(path);
      expect(state.moved).toBe(state.rowsAtOrBelowMark);
      expect(state.rows - state.mark).toBeLessThan(700 + 250);
      marks.add(state.mark);
      await checkAnswers(stores, written);
    }
    // Four steps (750, 1500, 2250, 3000) and the mark before the first.
    expect([...marks]).toEqual([0, 750, 1500, 2250, 3000]);
    await stores.close();

    // Reopened, on the writer thread: the mark was kept; more rows past it, then a step over them.
    const reopened = createSqliteStores({ path, writerThread: true, addressStep: 700 });
    const more = events(500, 'f', 5);
    written.push(...more);
    expect((await reopened.events.index(more)).indexed).toBe(500);
    expect(entries(path).mark).toBe(3000);
    await checkAnswers(reopened, written);
    const last = events(250, 'g', 11);
    written.push(...last);
    expect((await reopened.events.index(last)).indexed).toBe(250);
    expect(entries(path).mark).toBe(3750);
    await checkAnswers(reopened, written);
    await reopened.close();
  });

  it('answers agency-scoped address searches from the entries, each with its agency, as written', async () => {
    // Agency `a` holds 10,500 events, `b` 60, on both sides of a step: address leaves alone (one, a CIDR, an
    // `or` and an `and` of them) are answered from the entries with their agency when the scope holds
    // 10,000 rows or more in the range (`a`, and `a` with `b`, over the whole range), and from the scope's
    // rows otherwise; under a `not` or beside another field the rows are read.
    const stores = createSqliteStores({ path: join(dir, 'scoped.db'), addressStep: 700 });
    const many = events(10_500, 's');
    const few = events(60, 't', 3).map((event) => ({ ...event, agency: { id: 'b' } }));
    const written = [...many, ...few];
    for (let i = 0; i < written.length; i += 400) await stores.events.index(written.slice(i, i + 400));
    const cases: [string[], string, (ip: string | undefined) => boolean][] = [
      [['b'], 'source.ip:10.0.0.0/8', (ip) => ip !== undefined],
      [['b'], 'source.ip:10.0.2.0/24', (ip) => ip?.startsWith('10.0.2.') === true],
      [['a'], 'source.ip:10.0.1.13', (ip) => ip === '10.0.1.13'],
      [['a', 'b'], 'source.ip:10.0.2.0/24', (ip) => ip?.startsWith('10.0.2.') === true],
      [
        ['b'],
        'source.ip:10.0.1.13 or source.ip:10.0.2.0/24',
        (ip) => ip === '10.0.1.13' || ip?.startsWith('10.0.2.') === true,
      ],
      [
        ['a', 'b'],
        'source.ip:10.0.0.0/16 and (source.ip:10.0.2.0/24 or source.ip:10.0.1.13)',
        (ip) => ip === '10.0.1.13' || ip?.startsWith('10.0.2.') === true,
      ],
      [['b'], 'not source.ip:10.0.2.0/24', (ip) => ip?.startsWith('10.0.2.') !== true],
      [
        ['a'],
        'source.ip:10.0.1.0/24 and not source.ip:10.0.1.13',
        (ip) => ip?.startsWith('10.0.1.') === true && ip !== '10.0.1.13',
      ],
    ];
    for (const range of ranges) {
      for (const [agencies, query, matches] of cases) {
        const want = written
          .filter((event) => agencies.includes((event.agency as { id: string }).id))
          .filter((event) => at(event) >= range.from && at(event) < range.to && matches(ipOf(event)))
          .sort((x, y) => at(y) - at(x) || y.event.id.localeCompare(x.event.id));
        const page = await stores.events.search({ time: range, query, agencies, limit: 25 });
        const label = `${agencies} ${query} ${range.from}`;
        expect(page.total, label).toBe(want.length);
        expect(
          page.events.map((event) => event.event.id),
          label,
        ).toEqual(want.slice(0, 25).map((event) => event.event.id));
        expect(await stores.events.count({ time: range, query, agencies }), label).toBe(want.length);
      }
    }
    await stores.close();
    // Named agencies are read from the entries' agency index (a probe per step and agency); else from the key.
    const db = new BetterSqlite3(join(dir, 'scoped.db'), { readonly: true });
    const plan = (agencies?: string[]) => {
      const search = { query: 'source.ip:10.0.2.0/24', ...(agencies ? { agencies } : {}) };
      const entries = toWhere(planSearch(search), db).entriesAlone!;
      return (db.prepare(`EXPLAIN QUERY PLAN ${entries.sql}`).all(entries.params) as { detail: string }[])
        .map((row) => row.detail)
        .join(' | ');
    };
    expect(plan(['a', 'b'])).toContain(
      'USING COVERING INDEX event_addresses_agency (step=? AND agency=? AND source_ip>? AND source_ip<?)',
    );
    expect(plan()).toContain('SEARCH a USING PRIMARY KEY (step=? AND source_ip>? AND source_ip<?)');
    db.close();
  });

  it('retention deletes the address entries with the rows, and rows written after it are found', async () => {
    const path = join(dir, 'retention.db');
    const stores = createSqliteStores({ path, addressStep: 700 });
    // The last event written is the oldest: retention deletes the highest row id, which SQLite then gives
    // again to the next row; the mark must not hide it.
    const all = events(2000, 'r');
    const oldest = makeEvent('r-oldest', '2025-03-01T19:00:00.000Z', 'a', { source: { ip: '10.0.1.13' } });
    // A first step wholly before the cutoff: retention drops it once its entries are gone.
    const early = Array.from({ length: 800 }, (_, i) =>
      makeEvent(`d${i}`, new Date(start + i * 1000).toISOString(), 'a', { source: { ip: '10.0.0.5' } }),
    );
    await stores.events.index(early);
    await stores.events.index([...all, oldest]);
    expect(entries(path).mark).toBe(2801);
    const result = await stores.events.deleteBefore!('2025-03-02T00:00:00.000Z');
    const cutoff = Date.parse('2025-03-02T00:00:00.000Z');
    const kept = all.filter((event) => at(event) >= cutoff);
    expect(result.events).toBe(early.length + all.length + 1 - kept.length);
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM event_addresses WHERE ts < '2025-03-02'").pluck().get()).toBe(0);
    // The step of the 2,001 rows spans both days: kept, with the later day's entries.
    expect(db.prepare("SELECT count(*) FROM address_steps WHERE last_ts < '2025-03-02'").pluck().get()).toBe(
      0,
    );
    expect(db.prepare('SELECT count(*) FROM address_steps').pluck().get()).toBe(1);
    db.close();
    const state = entries(path);
    expect(state.moved).toBe(state.rowsAtOrBelowMark);
    expect(state.mark).toBeLessThan(2801);
    const later = events(300, 'n', 17);
    expect((await stores.events.index(later)).indexed).toBe(300);
    const afterState = entries(path);
    expect(afterState.moved).toBe(afterState.rowsAtOrBelowMark);
    await checkAnswers(stores, [...kept, ...later]);
    await stores.close();
  });
});
