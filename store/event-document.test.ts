import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../core/model.js';
import { CAPTURED_FIELDS, prepareEvent, toSortTime } from './event-document.js';
import { valueAt } from './fields.js';

const digits = (length: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: length, maxLength: length }).map((d) => d.join(''));

describe('toSortTime', () => {
  it('reads canonical UTC times (the fast path) exactly as the general ISO 8601 path does', () => {
    const time = fc
      .tuple(
        fc.constantFrom('19', '20', '21', '22', '23'),
        digits(2),
        digits(2),
        digits(2),
        digits(2),
        digits(2),
        digits(2),
        fc.oneof(digits(3), digits(9)),
      )
      .map(([century, year, month, day, hour, minute, second, fraction]) => {
        return `${century}${year}-${month}-${day}T${hour}:${minute}:${second}.${fraction}Z`;
      });
    fc.assert(
      fc.property(time, (value) => {
        // An explicit +00:00 offset takes the general path: both must agree, valid or not.
        expect(toSortTime(value)).toBe(toSortTime(value.replace('Z', '+00:00')));
      }),
      { numRuns: 5000 },
    );
  });

  it('knows leap days and the date_nanos range', () => {
    expect(toSortTime('2024-02-29T23:59:59.999Z')).toBe('2024-02-29T23:59:59.999000000Z');
    expect(toSortTime('2023-02-29T00:00:00.000Z')).toBeNull();
    expect(toSortTime('2100-02-29T00:00:00.000Z')).toBeNull();
    expect(toSortTime('2000-02-29T00:00:00.000Z')).toBe('2000-02-29T00:00:00.000000000Z');
    expect(toSortTime('2261-12-31T23:59:59.999999999Z')).toBe('2261-12-31T23:59:59.999999999Z');
    expect(toSortTime('2262-01-01T00:00:00.000Z')).toBeNull();
    expect(toSortTime('1969-12-31T23:59:59.999Z')).toBeNull();
  });
});

describe('prepareEvent', () => {
  const base = {
    '@timestamp': '2025-03-01T10:00:00.000Z',
    event: { id: 'e1', ingested: '2025-03-01T10:00:00.000Z', original: 'x' },
    agency: { id: 'a' },
  };

  it('expands dotted keys, merges them with objects and coerces catalogue values', () => {
    const prepared = prepareEvent({
      ...base,
      'source.port': '22',
      source: { ip: '203.0.113.5' },
      'labels.env': 'prod',
      winlog: { 'event_data.LogonType': 3 },
    } as unknown as SecurityEvent);
    expect(prepared.ok && JSON.parse(prepared.event.json)).toMatchObject({
      source: { ip: '203.0.113.5', port: 22 },
      labels: { env: 'prod' },
      winlog: { event_data: { LogonType: 3 } },
    });
  });

  it('refuses what the Elasticsearch mapping would, with the path in the reason', () => {
    const refused = (extra: Record<string, unknown>) => {
      const prepared = prepareEvent({ ...base, ...extra } as unknown as SecurityEvent);
      return prepared.ok ? undefined : prepared.reason;
    };
    expect(refused({ source: 'x' })).toBe('source must be an object, got string');
    expect(refused({ log: { syslog: [1] } })).toBe('log.syslog must be an object, got object');
    expect(refused({ 'source.ip': 'nope' })).toBe('source.ip "nope" is not an IP address');
    expect(refused({ custom: 'u', 'custom.name': 'root' })).toBe('custom holds a value and an object');
    expect(refused({ 'a..b': 1 })).toBe('field name "a..b" is empty or has an empty segment');
    expect(refused({ 'user.name': ['a', 'b'] })).toBe('user.name is single-valued but holds 2 values');
  });

  /** The values handed back beside the JSON are the stored document's (the hot columns read them). */
  const capturesStoredValues = (event: SecurityEvent) => {
    const prepared = prepareEvent(event);
    if (!prepared.ok) return;
    const stored = JSON.parse(prepared.event.json) as unknown;
    CAPTURED_FIELDS.forEach((field, slot) => {
      expect(JSON.stringify(prepared.event.captured[slot])).toBe(JSON.stringify(valueAt(stored, field.name)));
    });
  };

  it("keeps a dotted key's object when its parent comes later as null (the captured value stays the stored one)", () => {
    for (const ip of [null, '192.0.2.1']) {
      const event = { ...base, 'source.ip': ip, source: null } as unknown as SecurityEvent;
      capturesStoredValues(event);
      const prepared = prepareEvent(event);
      expect(prepared.ok && JSON.parse(prepared.event.json).source).toEqual({ ip });
    }
  });

  it('hands back the stored values of the hot fields and message, whatever the document holds', () => {
    const key = fc.oneof(
      fc.constantFrom(
        'source',
        'ip',
        'port',
        'user',
        'name',
        'message',
        'tags',
        'labels',
        'x',
        '__proto__',
        '0',
        '10',
      ),
      fc.string({ maxLength: 6 }),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    );
    const scalar = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom(
        '203.0.113.5',
        '2001:db8::1',
        '22',
        'true',
        '2025-03-01T10:00:00.123Z',
        '\u2028',
        '\ud800',
      ),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        scalar,
        tie('object'),
        fc.array(tie('value'), { maxLength: 3 }),
      ),
      object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    }));
    const catalogueKey = fc.constantFrom(
      'source',
      'source.ip',
      'source.port',
      'user.name',
      'message',
      'tags',
      'event.category',
      'host.hostname',
      'destination.ip',
      'event.action',
      'http.response.status_code',
      'labels',
      'log.syslog',
    );
    fc.assert(
      fc.property(
        fc.dictionary(catalogueKey, value, { maxKeys: 6 }),
        fc.dictionary(key, value, { maxKeys: 3 }),
        (known, other) => {
          capturesStoredValues({ ...other, ...known, ...base } as unknown as SecurityEvent);
          capturesStoredValues({ ...base, ...known, ...other } as unknown as SecurityEvent);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('stores unchanged parts as they are and changed ones as the copy would, never touching the event', () => {
    const shared = { name: 'sshd', args: ['-D'] };
    const nullPrototype = Object.assign(Object.create(null), { a: 1 });
    const event = {
      ...base,
      process: shared,
      log: { syslog: { version: 1, hostname: 'h' } },
      when: new Date('2025-03-01T10:00:00.000Z'),
      custom: { nullPrototype, list: [{ 'x.y': 1 }, 2] },
    } as unknown as SecurityEvent;
    const before = JSON.stringify(event);
    const prepared = prepareEvent(event);
    expect(JSON.stringify(event)).toBe(before);
    expect(event.log).toEqual({ syslog: { version: 1, hostname: 'h' } });
    expect(prepared.ok && JSON.parse(prepared.event.json)).toEqual({
      ...base,
      process: { name: 'sshd', args: ['-D'] },
      log: { syslog: { version: '1', hostname: 'h' } },
      // A Date has no own keys: the copy holds an empty object, as it always did.
      when: {},
      custom: { nullPrototype: { a: 1 }, list: [{ x: { y: 1 } }, 2] },
    });
  });

  it('stores arrays with holes, undefined items or a toJSON as map did, each problem once', () => {
    const holes: unknown[] = ['a'];
    holes[2] = 'b'; // a hole at 1
    const sparse: unknown[] = [{ 'x.y': 1 }];
    sparse[2] = 3;
    const withToJson = Object.assign(['c'], { toJSON: () => 'not this' });
    const changed = [{ 'x.y': 1 }, 2];
    const prepared = prepareEvent({
      ...base,
      tags: holes,
      labels: { list: withToJson },
      custom: { changed, sparse },
    } as unknown as SecurityEvent);
    expect(prepared.ok && JSON.parse(prepared.event.json)).toMatchObject({
      tags: ['a', null, 'b'],
      labels: { list: ['c'] },
      custom: { changed: [{ x: { y: 1 } }, 2], sparse: [{ x: { y: 1 } }, null, 3] },
    });
    expect(changed).toEqual([{ 'x.y': 1 }, 2]);
    const refused = prepareEvent({
      ...base,
      related: { ip: ['bad', undefined] },
      custom: { list: [{ 'a..b': 1 }, undefined] },
    } as unknown as SecurityEvent);
    expect(!refused.ok && refused.reason).toBe(
      'related.ip "bad" is not an IP address; related.ip "undefined" is not an IP address; ' +
        'field name "custom.list.a..b" is empty or has an empty segment',
    );
  });

  it('leaves `__proto__` out and never writes into a prototype, whatever the dotted keys', () => {
    const event = JSON.parse(
      '{"@timestamp":"2025-03-01T10:00:00.000Z","event":{"id":"e1"},"agency":{"id":"a"},' +
        '"__proto__.polluted":"yes","x":{"__proto__":{"y":1},"constructor.name":"c","a.__proto__":{"z":2}}}',
    ) as SecurityEvent;
    const prepared = prepareEvent(event);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(prepared.ok && JSON.parse(prepared.event.json).x).toEqual({ constructor: { name: 'c' } });
    capturesStoredValues(event);
  });

  it('hands back the stored values of a pipeline-shaped document', () => {
    capturesStoredValues({
      ...base,
      '@timestamp': '2025-03-01T17:00:00.5+07:00',
      message: 'Failed password for invalid user "root" from 203.0.113.5 port 22 ssh2\u0000 \ud83d\ude00',
      event: { ...base.event, category: ['authentication'], outcome: 'failure', action: 'ssh_login' },
      source: { ip: '203.0.113.5', port: '22' },
      related: { ip: ['203.0.113.5', { odd: 'x' }, [1, 2]], user: ['root'] },
      user: { name: ['root'] },
      http: { response: { status_code: 200.7 } },
      labels: { empty: [] },
    } as unknown as SecurityEvent);
  });
});
