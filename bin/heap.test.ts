import { describe, expect, it } from 'vitest';
import { boundHeapGrowth } from './heap.js';

// The factor's effect on the heap is measured, not unit-tested (V8's collection timing varies run to run):
// docs/benchmarks.md, issue 6, "Memory at full rate".
describe('boundHeapGrowth', () => {
  it('leaves a factor given on the node command line alone', () => {
    expect(boundHeapGrowth(['--heap-growing-percent=100'])).toBe(false);
    expect(boundHeapGrowth(['--heap_growing_percent', '20'])).toBe(false);
  });

  it('sets it otherwise', () => {
    expect(boundHeapGrowth(['--enable-source-maps'])).toBe(true);
  });
});
