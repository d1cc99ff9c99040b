import { describe, expect, it } from 'vitest';
import type { ConditionNode } from '../model.js';
import { parseCondition, selectionsMatching } from './condition.js';

/** Renders a condition tree compactly: and → ∧, or → ∨, not → ¬. */
function show(node: ConditionNode): string {
  switch (node.type) {
    case 'ref':
      return node.name;
    case 'not':
      return `¬${show(node.item)}`;
    case 'of':
      return `${node.quantifier}(${node.pattern})`;
    case 'and':
      return `(${node.items.map(show).join('∧')})`;
    case 'or':
      return `(${node.items.map(show).join('∨')})`;
  }
}

describe('condition parser', () => {
  it('binds not tighter than and, and tighter than or', () => {
    expect(show(parseCondition('a and not b or not c and d', []))).toBe('((a∧¬b)∨(¬c∧d))');
    expect(show(parseCondition('a or b and c', []))).toBe('(a∨(b∧c))');
    expect(show(parseCondition('not a or b', []))).toBe('(¬a∨b)');
  });

  it('honours parentheses and nested not', () => {
    expect(show(parseCondition('(a or b) and not (c or not d)', []))).toBe('((a∨b)∧¬(c∨¬d))');
  });

  it('reads 1 of / any of / all of with patterns and them', () => {
    expect(show(parseCondition('1 of sel* and not all of filter_*', []))).toBe('(one(sel*)∧¬all(filter_*))');
    expect(show(parseCondition('any of them', []))).toBe('one(them)');
    expect(show(parseCondition('ALL OF them', []))).toBe('all(them)');
  });

  it('refuses the obsolete pipe aggregations and near with a pointer to correlation rules', () => {
    expect(() => parseCondition('selection | count(User) by SourceIp > 5', [])).toThrow(/correlation rule/);
    expect(() => parseCondition('selection near other', [])).toThrow(/unexpected text|temporal/);
  });

  it('reports unbalanced and dangling syntax', () => {
    expect(() => parseCondition('(a and b', [])).toThrow(/expected '\)'/);
    expect(() => parseCondition('a and', [])).toThrow(/unexpected end/);
    expect(() => parseCondition('a b', [])).toThrow(/unexpected text at 'b'/);
    expect(() => parseCondition('1 of', [])).toThrow(/needs a name/);
  });

  it('expands them without underscore names, and name patterns', () => {
    const names = ['sel_a', 'sel_b', '_internal', 'filter'];
    expect(selectionsMatching('them', names)).toEqual(['sel_a', 'sel_b', 'filter']);
    expect(selectionsMatching('sel_*', names)).toEqual(['sel_a', 'sel_b']);
    expect(selectionsMatching('_internal', names)).toEqual(['_internal']);
  });
});
