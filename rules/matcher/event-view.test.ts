import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileLeafReader, EventView, expandDottedKeys, FieldGroup, FieldTable } from './event-view.js';

describe('EventView.readGroup', () => {
  // Small key set so that paths often exist, and nested arrays, nulls and primitives on the way.
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i');
  const leaf = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 9 }), fc.constantFrom('x', 'Y', ''));
  const { node } = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(key, tie('node'), { maxKeys: 3 }),
    ),
  }));
  // Eight or more names at one level are found by enumerating the object's keys; `constructor` (which the
  // prototype supplies) keeps its level on lookups.
  const fields = ['a', 'b', 'a.b', 'a.c', 'a.b.c', 'b.a.a', 'c.c.c.c', 'd', 'e.a', 'f', 'g.b', 'h', 'i'];
  const names = fc.oneof(
    fc.subarray(fields, { minLength: 1 }),
    fc.constant([...fields, 'constructor', 'a.toString']),
  );

  it('caches what each field reader finds, arrays and absent paths included', () => {
    fc.assert(
      fc.property(node, names, (event, chosen) => {
        const table = new FieldTable();
        table.slot('unrelated');
        const slots = chosen.map((name) => table.slot(name));
        const view = new EventView(event, table);
        view.readGroup(new FieldGroup(table, slots));
        for (const [i, name] of chosen.entries()) {
          const found = compileLeafReader(name)(event);
          const expected = found === undefined ? [] : Array.isArray(found) ? found : [found];
          expect(view.values(slots[i]!)).toEqual(expected);
        }
        // The next event through the same view sees its own values.
        view.reset({ a: { b: 'next' } });
        view.readGroup(new FieldGroup(table, slots));
        if (chosen.includes('a.b')) expect(view.values(table.slot('a.b'))).toEqual(['next']);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('expandDottedKeys', () => {
  it('leaves out __proto__ keys and segments instead of writing into a prototype', () => {
    const input = JSON.parse('{"__proto__.polluted": "yes", "a": {"__proto__": {"x": 1}}, "b.c": 2}');
    const expanded = expandDottedKeys(input) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(expanded).toEqual({ a: {}, b: { c: 2 } });
    expect(Object.getPrototypeOf(expanded.a)).toBe(Object.prototype);
  });
});
