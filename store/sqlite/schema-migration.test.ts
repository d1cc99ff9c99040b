import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStores, type SqliteStores } from './index.js';
import { SCHEMA_VERSION } from './schema.js';

const dir = mkdtempSync(join(tmpdir(), 'siem-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A file of layout `version` named `name`: written at the current layout (by `write`, when given, through a
 * store with `addressStep`), then taken back: `undo` puts back what that layout had, and the file gets that
 * layout's version number. Returns its path.
 */
async function fileAtVersion(
  version: number,
  name: string,
  undo: (db: BetterSqlite3.Database) => void,
  options: { write?: (stores: SqliteStores) => Promise<unknown>; addressStep?: number } = {},
): Promise<string> {
  const path = join(dir, name);
  const stores = createSqliteStores(
    options.addressStep === undefined ? { path } : { path, addressStep: options.addressStep },
  );
  await options.write?.(stores);
  await stores.close();
  const db = new BetterSqlite3(path);
  undo(db);
  db.pragma(`user_version = ${version}`);
  db.close();
  return path;
}

/** A file as the first layout wrote it: one `events` table holding the document, one index per hot column. */
function writeFirstLayout(path: string): void {
  const db = new BetterSqlite3(path);
  db.exec(`CREATE TABLE events (
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts TEXT NOT NULL, agency TEXT NOT NULL,
    event_action TEXT, event_outcome TEXT, event_dataset TEXT, host_hostname TEXT, source_ip BLOB,
    destination_ip BLOB, user_name TEXT, doc TEXT NOT NULL)`);
  db.exec('CREATE INDEX events_ts ON events (ts, id)');
  db.exec('CREATE INDEX events_agency_ts ON events (agency, ts)');
  db.exec('CREATE INDEX events_user_name_ts ON events (user_name, ts)');
  db.exec(`CREATE VIRTUAL TABLE events_fts USING fts5(
    terms, content='', contentless_delete=1, tokenize="ascii tokenchars '_:.'',;'")`);
  const doc = {
    '@timestamp': '2025-03-01T10:00:00.000Z',
    message: 'Failed password for root',
    event: { id: 'old-1', ingested: '2025-03-01T10:00:00.000Z', original: 'x' },
    agency: { id: 'ag-old' },
    user: { name: 'root' },
  };
  db.prepare(
    `INSERT INTO events (rid, id, ts, agency, user_name, doc)
     VALUES (7, 'old-1', '2025-03-01T10:00:00.000000000Z', 'ag-old', 'root', ?)`,
  ).run(JSON.stringify(doc));
  db.prepare('INSERT INTO events_fts (rowid, terms) VALUES (7, ?)').run('failed password for root');
  db.close();
}

describe('sqlite store layout', () => {
  it('moves a first-layout file to the split layout, keeping events searchable', async () => {
    const path = join(dir, 'old.db');
    writeFirstLayout(path);
    const stores = createSqliteStores({ path });
    await stores.events.init();
    const byWord = await stores.events.search({ query: '"failed password" and user.name:root' });
    expect(byWord.events.map((event) => event.event.id)).toEqual(['old-1']);
    await stores.events.index([
      {
        '@timestamp': '2025-03-02T10:00:00.000Z',
        message: 'Failed password for admin',
        event: { id: 'new-1', ingested: '2025-03-02T10:00:00.000Z', original: 'y' },
        agency: { id: 'ag-old' },
      },
    ]);
    expect((await stores.events.search({ query: 'failed' })).total).toBe(2);
    expect(await stores.events.deleteBefore!('2025-03-02T00:00:00Z')).toEqual({
      days: ['2025-03-01'],
      events: 1,
    });
    await stores.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
      .pluck()
      .all();
    expect(indexes).not.toContain('events_user_name_ts');
    // The view keeps `events.doc` readable for the rules' SQL backend.
    expect(db.prepare("SELECT json_extract(doc, '$.event.id') FROM events").pluck().all()).toEqual(['new-1']);
    db.close();
  });

  it('moves incidents of a version 3 file to the rowid table with its columns, keeping versions', async () => {
    const path = join(dir, 'v3.db');
    const v3 = new BetterSqlite3(path);
    v3.exec(`CREATE TABLE incidents (
      id TEXT PRIMARY KEY, version INTEGER NOT NULL, agency TEXT NOT NULL, status TEXT NOT NULL,
      rule_id TEXT NOT NULL, last_seen TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`);
    v3.exec('CREATE INDEX incidents_last_seen ON incidents (last_seen, id)');
    v3.exec(`CREATE INDEX incidents_api_severity ON incidents (json_extract(doc, '$.severity'), last_seen)`);
    const incident = {
      id: 'inc-1',
      title: 'Brute force on gw-1',
      severity: 'high',
      status: 'acknowledged',
      agency: 'ag-old',
      assignee: 'an.nguyen',
      ruleId: 'r-1',
      ruleTitle: 'Brute force',
      tactics: ['credential_access'],
      techniques: [],
      dedupKey: 'k',
      groupBy: {},
      firstSeen: '2025-03-01T11:00:00+01:00',
      lastSeen: '2025-03-01T10:30:00.000Z',
      detectionCount: 3,
      evidenceEventIds: [],
      appliedBatches: [],
      tags: [],
      createdAt: '2025-03-01T10:00:01.000Z',
      updatedAt: '2025-03-01T10:40:00.000Z',
      timeline: [],
      acknowledgedAt: '2025-03-01T10:05:01.000Z',
      timeToAcknowledgeMs: 300_000,
    };
    v3.prepare(
      `INSERT INTO incidents VALUES ('inc-1', 4, 'ag-old', 'acknowledged', 'r-1', '2025-03-01T10:30:00.000000000Z', ?)`,
    ).run(JSON.stringify(incident));
    v3.pragma('user_version = 3');
    v3.close();

    const stores = createSqliteStores({ path });
    const found = await stores.incidents.get('inc-1');
    expect(found).toEqual({ value: incident, version: '4' });
    expect(await stores.incidents.update({ ...found!.value, status: 'resolved' }, '4')).toBe('ok');
    await stores.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'incidents'").pluck().get()).not.toMatch(
      /WITHOUT ROWID/,
    );
    expect(
      db
        .prepare(
          `SELECT version, status, severity, first_seen, created_at, assignee, tta_ms, ttr_ms, tactics
           FROM incidents`,
        )
        .all(),
    ).toEqual([
      {
        version: 5,
        status: 'resolved',
        severity: 'high',
        first_seen: '2025-03-01T10:00:00.000000000Z',
        created_at: '2025-03-01T10:00:01.000Z',
        assignee: 'an.nguyen',
        tta_ms: 300_000,
        ttr_ms: null,
        tactics: '["credential_access"]',
      },
    ]);
    // The API's old expression indexes went with the old table.
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'incidents_api_%'").all()).toEqual([]);
    db.close();
  });

  it('adds the single-status index to a version 4 file, and a one-status list reads it in order', async () => {
    const path = await fileAtVersion(4, 'v4.db', (v4) => v4.exec('DROP INDEX incidents_status_seen'));
    await createSqliteStores({ path }).close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT rowid, id, last_seen FROM incidents WHERE status IN ('resolved')
         ORDER BY last_seen DESC, id DESC LIMIT 51`,
      )
      .all()
      .map((row) => (row as { detail: string }).detail)
      .join(' | ');
    expect(plan).toContain('incidents_status_seen');
    expect(plan).not.toContain('TEMP B-TREE');
    db.close();
  });

  it('adds event.kind to a version 5 file, filled from the documents, and searches and the view read it', async () => {
    const base = { ingested: '2025-03-01T10:00:00.000Z', original: 'x' };
    const write = async (stores: SqliteStores) => {
      await stores.events.index([
        {
          '@timestamp': '2025-03-01T10:00:00.000Z',
          message: 'garbage',
          tags: ['_parse_failure'],
          event: { ...base, id: 'v5-failed', kind: 'pipeline_error' },
          agency: { id: 'ag-a' },
        },
        {
          '@timestamp': '2025-03-01T10:00:01.000Z',
          message: 'Accepted password for root',
          event: { ...base, id: 'v5-ok', kind: 'event' },
          agency: { id: 'ag-a' },
        },
        {
          '@timestamp': '2025-03-01T10:00:02.000Z',
          message: 'no kind',
          event: { ...base, id: 'v5-none' },
          agency: { id: 'ag-b' },
        },
      ]);
    };
    // Back to layout 5: the column and the view as they were before event.kind was hot.
    const path = await fileAtVersion(
      5,
      'v5.db',
      (v5) =>
        v5.exec(`DROP VIEW events;
          DROP INDEX events_event_kind_ts;
          ALTER TABLE event_rows DROP COLUMN event_kind;
          CREATE VIEW events AS SELECT r.rid AS rid, r.id AS id, r.ts AS ts, r.agency AS agency, d.doc AS doc
            FROM event_rows AS r JOIN event_docs AS d ON d.rid = r.rid`),
      { write },
    );

    const reopened = createSqliteStores({ path });
    await reopened.events.init();
    const failures = await reopened.events.topValues!(
      {
        time: { from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z' },
        filters: { 'event.kind': 'pipeline_error' },
      },
      'agency.id',
    );
    expect(failures.buckets).toEqual([{ key: 'ag-a', count: 1 }]);
    await reopened.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare('SELECT id, event_kind FROM events ORDER BY id').all()).toEqual([
      { id: 'v5-failed', event_kind: 'pipeline_error' },
      { id: 'v5-none', event_kind: null },
      { id: 'v5-ok', event_kind: 'event' },
    ]);
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT agency, count(*) FROM event_rows
         WHERE ts >= ? AND ts < ? AND event_kind = ? GROUP BY agency`,
      )
      .all('2025-03-01', '2025-03-02', 'pipeline_error')
      .map((row) => (row as { detail: string }).detail)
      .join(' | ');
    expect(plan).toContain('events_event_kind_ts');
    db.close();
  });

  it('adds the url.path and http.response.status_code columns to a version 12 file, filled from the documents', async () => {
    const base = { ingested: '2025-03-01T10:00:00.000Z', original: 'x' };
    const web = (id: string, second: number, fields: Record<string, unknown>) => ({
      '@timestamp': `2025-03-01T10:00:0${second}.000Z`,
      message: 'GET',
      event: { ...base, id },
      agency: { id: 'ag-a' },
      ...fields,
    });
    const write = (stores: SqliteStores) =>
      stores.events.index([
        web('w-wp', 1, { url: { path: '/wp-login.php' }, http: { response: { status_code: 404 } } }),
        web('w-ok', 2, { url: { path: '/index.html' }, http: { response: { status_code: 200 } } }),
        web('w-none', 3, {}),
        // Past ignore_above: stored, not indexed (no column value); the code as text, stored as a number.
        web('w-long', 4, {
          url: { path: `/${'L'.repeat(1100)}` },
          http: { response: { status_code: '302' } },
        }),
      ]);
    // Back to layout 12: the two columns not there yet.
    const path = await fileAtVersion(
      12,
      'v12.db',
      (v12) =>
        v12.exec(`DROP VIEW events;
          ALTER TABLE event_rows DROP COLUMN url_path;
          ALTER TABLE event_rows DROP COLUMN http_response_status_code;
          CREATE VIEW events AS SELECT r.*, d.doc AS doc FROM event_rows AS r JOIN event_docs AS d ON d.rid = r.rid`),
      { write },
    );

    const reopened = createSqliteStores({ path });
    const ids = async (query: string) =>
      (await reopened.events.search({ query })).events.map((event) => event.event?.id);
    expect(await ids('url.path:/wp* and not http.response.status_code:200')).toEqual(['w-wp']);
    expect(await ids('http.response.status_code >= 300')).toEqual(['w-long', 'w-wp']);
    expect(await ids('not url.path:*')).toEqual(['w-long', 'w-none']);
    await reopened.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(
      db.prepare('SELECT id, url_path, http_response_status_code FROM events ORDER BY id').all(),
    ).toEqual([
      { id: 'w-long', url_path: null, http_response_status_code: 302 },
      { id: 'w-none', url_path: null, http_response_status_code: null },
      { id: 'w-ok', url_path: '/index.html', http_response_status_code: 200 },
      { id: 'w-wp', url_path: '/wp-login.php', http_response_status_code: 404 },
    ]);
    db.close();
  });

  // 6: the address index `(source_ip, ts)`; 7 and 8: keyed on the hour. Either is dropped and the entries
  // moved to `event_addresses` when the file opens.
  it.each([
    [6, 'CREATE INDEX events_source_ip_ts ON event_rows (source_ip, ts)'],
    [8, 'CREATE INDEX events_hour_source_ip ON event_rows (substr(ts, 1, 13), source_ip, ts)'],
  ])(
    'moves the address index of a version %i file to the address table, and address searches read it',
    async (version, index) => {
      const base = { ingested: '2025-03-01T10:00:00.000Z', original: 'x' };
      const times = ['2025-03-01T10:59:59.999Z', '2025-03-01T11:00:00.000Z', '2025-03-02T23:30:00.000Z'];
      const write = (stores: SqliteStores) =>
        stores.events.index(
          times.map((time, n) => ({
            '@timestamp': time,
            message: `event ${n}`,
            event: { ...base, id: `v6-${n}` },
            agency: { id: 'ag-a' },
            source: { ip: n === 1 ? '10.0.0.9' : '10.0.0.7' },
          })),
        );
      // Back to that layout: the address index as it was, no address table.
      const path = await fileAtVersion(
        version,
        `v${version}-addresses.db`,
        (old) => {
          for (const table of ['event_addresses', 'address_steps', 'store_marks'])
            old.exec(`DROP TABLE ${table}`);
          old.exec(index);
        },
        { write },
      );

      // A step of two rows: the three rows' entries move as two steps, searched together.
      const reopened = createSqliteStores({ path, addressStep: 2 });
      await reopened.events.init();
      const ids = async (query: string, time?: { from: string; to: string }) =>
        (await reopened.events.search({ query, ...(time ? { time } : {}) })).events.map(
          (event) => event.event?.id,
        );
      expect(await ids('source.ip:10.0.0.7')).toEqual(['v6-2', 'v6-0']);
      expect(
        await ids('source.ip:10.0.0.0/24', {
          from: '2025-03-01T10:59:59.999Z',
          to: '2025-03-01T11:00:00.001Z',
        }),
      ).toEqual(['v6-1', 'v6-0']);
      expect(
        await ids('source.ip:10.0.0.7', { from: '2025-03-01T11:00:00Z', to: '2025-03-03T00:00:00Z' }),
      ).toEqual(['v6-2']);
      expect(
        await reopened.events.lastSeenBy!(
          { time: { from: '2025-03-01T00:00:00Z', to: '2025-03-03T00:00:00Z' } },
          'source.ip',
        ),
      ).toEqual([
        { key: '10.0.0.7', lastSeen: '2025-03-02T23:30:00.000Z', count: 2 },
        { key: '10.0.0.9', lastSeen: '2025-03-01T11:00:00.000Z', count: 1 },
      ]);
      await reopened.close();
      const db = new BetterSqlite3(path, { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const indexes = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event_rows'")
        .pluck()
        .all();
      expect(indexes).not.toContain('events_hour_source_ip');
      expect(indexes).not.toContain('events_source_ip_ts');
      // Every row's entry moved, the mark at the last row: nothing left to read from the rows.
      expect(db.prepare('SELECT count(*) FROM event_addresses').pluck().get()).toBe(3);
      expect(db.prepare('SELECT step, first_ts, last_ts FROM address_steps ORDER BY step').all()).toEqual([
        { step: 1, first_ts: '2025-03-01T10:59:59.999000000Z', last_ts: '2025-03-01T11:00:00.000000000Z' },
        { step: 2, first_ts: '2025-03-02T23:30:00.000000000Z', last_ts: '2025-03-02T23:30:00.000000000Z' },
      ]);
      expect(db.prepare("SELECT rid FROM store_marks WHERE name = 'addresses'").pluck().get()).toBe(3);
      db.close();
    },
  );

  it('indexes the address steps of a version 9 file, read by address searches and by retention', async () => {
    const base = { ingested: '2025-03-01T10:00:00.000Z', original: 'x' };
    // Steps of two rows: six events written a day at a time, three steps.
    const write = async (stores: SqliteStores) => {
      for (const day of [1, 2, 3]) {
        await stores.events.index(
          [0, 1].map((hour) => ({
            '@timestamp': `2025-03-0${day}T1${hour}:00:00.000Z`,
            message: `event ${day} ${hour}`,
            event: { ...base, id: `v9-${day * 2 + hour - 2}` },
            agency: { id: 'ag-a' },
            source: { ip: '10.0.0.7' },
          })),
        );
      }
    };
    // Back to layout 9: the steps without their indexes.
    const path = await fileAtVersion(
      9,
      'v9.db',
      (v9) => v9.exec('DROP INDEX address_steps_last; DROP INDEX address_steps_first'),
      { write, addressStep: 2 },
    );

    const reopened = createSqliteStores({ path, addressStep: 2 });
    const ids = async () =>
      (
        await reopened.events.search({
          query: 'source.ip:10.0.0.7',
          time: { from: '2025-03-02T00:00:00Z', to: '2025-03-04T00:00:00Z' },
        })
      ).events.map((event) => event.event?.id);
    expect(await ids()).toEqual(['v9-5', 'v9-4', 'v9-3', 'v9-2']);
    expect(await reopened.events.deleteBefore!('2025-03-03T00:00:00Z')).toEqual({
      days: ['2025-03-01', '2025-03-02'],
      events: 4,
    });
    expect(await ids()).toEqual(['v9-5', 'v9-4']);
    await reopened.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    // The emptied steps dropped, their entries gone with the rows.
    expect(db.prepare('SELECT step FROM address_steps').pluck().all()).toEqual([3]);
    expect(db.prepare('SELECT count(*) FROM event_addresses').pluck().get()).toBe(2);
    const plan = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all('2025-03-02', '2025-03-03')
        .map((row) => (row as { detail: string }).detail)
        .join(' | ');
    // Each side of a span from its index, covering: the table itself is not read.
    expect(
      plan(
        'SELECT step FROM address_steps INDEXED BY address_steps_last WHERE last_ts >= ? AND first_ts < ?',
      ),
    ).toContain('USING COVERING INDEX address_steps_last (last_ts>?)');
    expect(
      plan(
        'SELECT step FROM address_steps INDEXED BY address_steps_first WHERE first_ts <= ? AND last_ts >= ?',
      ),
    ).toContain('USING COVERING INDEX address_steps_first (first_ts<?)');
    db.close();
  });

  it('moves the address entries of a version 10 file again, with their agency, for scoped searches', async () => {
    const base = { ingested: '2025-03-01T10:00:00.000Z', original: 'x' };
    const write = (stores: SqliteStores) =>
      stores.events.index(
        ['ag-a', 'ag-b', 'ag-a', 'ag-b', 'ag-a'].map((agency, n) => ({
          '@timestamp': `2025-03-01T1${n}:00:00.000Z`,
          message: `event ${n}`,
          event: { ...base, id: `v10-${n}` },
          agency: { id: agency },
          source: { ip: `10.0.0.${n}` },
        })),
      );
    // Back to layout 10: the entries without their agency.
    const path = await fileAtVersion(
      10,
      'v10.db',
      (v10) =>
        v10.exec(`CREATE TABLE old_addresses (step INTEGER NOT NULL, source_ip BLOB NOT NULL, ts TEXT NOT NULL,
            rid INTEGER NOT NULL, PRIMARY KEY (step, source_ip, ts, rid)) WITHOUT ROWID;
          INSERT INTO old_addresses SELECT step, source_ip, ts, rid FROM event_addresses;
          DROP TABLE event_addresses;
          ALTER TABLE old_addresses RENAME TO event_addresses`),
      { write, addressStep: 2 },
    );

    const reopened = createSqliteStores({ path, addressStep: 2 });
    const page = await reopened.events.search({
      query: 'source.ip:10.0.0.0/24',
      agencies: ['ag-b'],
      time: { from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z' },
    });
    expect(page.events.map((event) => event.event?.id)).toEqual(['v10-3', 'v10-1']);
    expect(page.total).toBe(2);
    await reopened.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare('SELECT rid, agency FROM event_addresses ORDER BY rid').all()).toEqual([
      { rid: 1, agency: 'ag-a' },
      { rid: 2, agency: 'ag-b' },
      { rid: 3, agency: 'ag-a' },
      { rid: 4, agency: 'ag-b' },
      { rid: 5, agency: 'ag-a' },
    ]);
    // Moved in steps of two rows again, the mark at the last row.
    expect(db.prepare('SELECT count(*) FROM address_steps').pluck().get()).toBe(3);
    expect(db.prepare("SELECT rid FROM store_marks WHERE name = 'addresses'").pluck().get()).toBe(5);
    db.close();
  });

  it('keys the detections of a version 7 file by time and id, keeping them and their dedup', async () => {
    const detection = (id: string, timestamp: string) => ({
      id,
      ruleId: 'rule-a',
      ruleTitle: 'A',
      level: 'high' as const,
      tags: [],
      eventIds: [`event-${id}`],
      groupBy: {},
      agency: 'ag-a',
      timestamp,
      batchId: 'b-1',
    });
    const old = detection('det-old', '2025-03-01T10:00:00.000Z');
    // Back to layout 7: detections keyed by id alone, one already stored.
    const path = await fileAtVersion(7, 'v7.db', (v7) => {
      v7.exec(`DROP TABLE detections;
        CREATE TABLE detections (id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, agency TEXT NOT NULL,
          ts TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX detections_rule ON detections (rule_id, ts)`);
      v7.prepare('INSERT INTO detections VALUES (?, ?, ?, ?, ?)').run(
        old.id,
        old.ruleId,
        old.agency,
        '2025-03-01T10:00:00.000000000Z',
        JSON.stringify(old),
      );
    });

    const reopened = createSqliteStores({ path });
    await reopened.incidents.addDetections([old, detection('det-new', '2025-03-01T11:00:00.000Z')]);
    const listed = await reopened.incidents.listDetections!({ agencies: ['ag-a'] });
    expect(listed.map((stored) => stored.id)).toEqual(['det-new', 'det-old']);
    await reopened.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const key = db
      .prepare("SELECT name FROM pragma_table_info('detections') WHERE pk > 0 ORDER BY pk")
      .pluck()
      .all();
    expect(key).toEqual(['ts', 'id']);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'detections_rule'").pluck().get()).toBe(
      'detections_rule',
    );
    db.close();
  });

  it('opens a new file at the current layout', async () => {
    const path = join(dir, 'new.db');
    const stores = createSqliteStores({ path });
    await stores.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('page_size', { simple: true })).toBe(16384);
    db.close();
  });
});
