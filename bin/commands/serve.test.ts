import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { maxPendingBatches } from './serve.js';

// What the bound is made of and why each default: serve.ts; its memory: docs/benchmarks.md, issue 6.
describe('maxPendingBatches', () => {
  it('holds fewer batches in serve when embedded than in Redis when scaled', () => {
    expect(maxPendingBatches(loadConfig({ env: {} }).config)).toBe(50);
    expect(maxPendingBatches(loadConfig({ env: { SIEM_MODE: 'scale' } }).config)).toBe(200);
  });

  it('takes queue.max_pending_batches when it is set, in either mode', () => {
    const env = { SIEM_QUEUE__MAX_PENDING_BATCHES: '120' };
    expect(maxPendingBatches(loadConfig({ env }).config)).toBe(120);
    expect(maxPendingBatches(loadConfig({ env: { ...env, SIEM_MODE: 'scale' } }).config)).toBe(120);
  });
});
