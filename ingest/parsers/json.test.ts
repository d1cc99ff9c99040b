import { describe, expect, it } from 'vitest';
import { expandDottedKeys } from './json.js';

describe('expandDottedKeys (shippers that flatten ECS)', () => {
  it('nests dotted keys and merges them with objects of the same name', () => {
    expect(expandDottedKeys({ 'source.ip': '203.0.113.5', source: { port: 22 }, '@timestamp': 't' })).toEqual(
      {
        source: { ip: '203.0.113.5', port: 22 },
        '@timestamp': 't',
      },
    );
  });

  it('never assigns or walks __proto__: the copy keeps its prototype and Object.prototype stays clean', () => {
    const doc = JSON.parse(
      '{"__proto__": {"Event": {"System": {}}}, "__proto__.polluted": 1, "user.name": "a"}',
    );
    const expanded = expandDottedKeys(doc);
    expect(Object.getPrototypeOf(expanded)).toBe(Object.prototype);
    expect((expanded as { Event?: unknown }).Event).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(expanded['__proto__.polluted']).toBe(1); // kept whole, as data
    expect(expanded.user).toEqual({ name: 'a' });
  });
});
