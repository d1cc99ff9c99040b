import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../core/model.js';
import { prepareEvent, toSortTime } from './event-document.js';

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
    expect(prepared.ok && prepared.event.document).toMatchObject({
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
});
