/**
 * The writer thread makes a batch's rows from the events' JSON (packEvents on the calling thread,
 * unpackEvents on the thread): for JSON data they must be the rows the inline writer makes from the events
 * themselves, documents byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../core/model.js';
import { makeEvent } from '../contract.test-suite.js';
import { itemSpans, packEvents, toEventRows, unpackEvents } from './event-rows.js';
import type { EventRows } from './writer.js';

/** The rows with each dead letter's time left out (each side reads the clock). */
function comparable(batch: EventRows) {
  return { ...batch, deadLetters: batch.deadLetters.map((row) => row.slice(1)) };
}

const awkwardText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('"', '\\', '\\"', '"\\\\"', '},{', '],[', ',', '{"a":1}', '\u2028', '\ud800', 'Đăng nhập'),
);

describe('the writer thread’s rows from packed events', () => {
  it('are the inline writer’s rows for any JSON data, changed by the shape check or not', () => {
    const scalar = fc.oneof(
      awkwardText,
      fc.constantFrom('203.0.113.5', '2001:db8::1', '22', '2025-03-01T10:00:00.123Z'),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        scalar,
        tie('object'),
        fc.array(tie('value'), { maxLength: 3 }),
      ),
      object: fc.dictionary(fc.oneof(awkwardText, fc.constantFrom('a.b', '0', '__proto__')), tie('value'), {
        maxKeys: 4,
      }),
    }));
    const known = fc.record(
      {
        source: fc.record({ ip: fc.constantFrom('203.0.113.5', '2001:db8::1', 'not-an-ip'), port: scalar }),
        'user.name': scalar,
        message: fc.oneof(awkwardText, fc.array(awkwardText, { maxLength: 3 })),
        tags: fc.array(awkwardText, { maxLength: 3 }),
        host: fc.record({ hostname: scalar }),
      },
      { requiredKeys: [] },
    );
    const event = fc
      .tuple(fc.string({ maxLength: 8 }), known, fc.dictionary(awkwardText, value, { maxKeys: 3 }))
      .map(([id, fields, other]) =>
        makeEvent(`id-${id}`, '2025-03-01T10:00:00Z', 'ag', { ...other, ...fields }),
      );
    const notAnEvent = fc.constantFrom(null, 7, 'text', [1, 2]) as unknown as fc.Arbitrary<SecurityEvent>;
    fc.assert(
      fc.property(fc.array(fc.oneof(event, event, event, notAnEvent), { maxLength: 6 }), (events) => {
        const packed = packEvents(events);
        expect(itemSpans(packed.json).length).toBe(2 * events.length);
        expect(comparable(unpackEvents(packed))).toEqual(comparable(toEventRows(events)));
      }),
      { numRuns: 400 },
    );
  });

  it('finds the items of a JSON array past strings holding quotes, backslashes, commas and brackets', () => {
    const json = JSON.stringify([{ a: '"],[{' }, 'x\\', ['\\"', ','], null, 12, { b: { c: [] } }]);
    const spans = itemSpans(json);
    const items = [];
    for (let i = 0; i < spans.length; i += 2) items.push(JSON.parse(json.slice(spans[i], spans[i + 1])));
    expect(items).toEqual([{ a: '"],[{' }, 'x\\', ['\\"', ','], null, 12, { b: { c: [] } }]);
    expect(itemSpans('[]')).toEqual([]);
  });

  it('dead-letters what JSON cannot write, on both paths, and writes the rest', () => {
    const cyclic = makeEvent('cyclic', '2025-03-01T10:00:00Z', 'ag') as SecurityEvent & { self?: unknown };
    cyclic.self = cyclic;
    const big = makeEvent('big', '2025-03-01T10:00:00Z', 'ag', { vendor: { count: 10n } });
    const fine = makeEvent('fine', '2025-03-01T10:00:00Z', 'ag');
    for (const batch of [unpackEvents(packEvents([cyclic, fine, big])), toEventRows([cyclic, fine, big])]) {
      expect(batch.rows.map((row) => row[0])).toEqual(['fine']);
      expect(batch.deadLetters.map((row) => [row[1], row[3]])).toEqual([
        ['cyclic', expect.stringMatching(/^event is not JSON data: /)],
        ['big', expect.stringMatching(/^event is not JSON data: .*BigInt/)],
      ]);
    }
  });
});
