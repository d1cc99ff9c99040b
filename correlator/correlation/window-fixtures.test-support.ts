/**
 * The window tests' fixtures (memory store, packed form, Redis record): hits as correlate.ts makes them and
 * states holding them. Named `*.test-support.ts`: not a test file for vitest, and excluded from the build
 * (tsconfig.build.json), so it is not shipped in dist.
 */
import type { Firing, GroupState, WindowHit } from './group-window.js';

export const T = Date.UTC(2026, 10, 26, 2, 0, 0);

/** Hit `i`, 20 s after hit i − 1, with the event id's shape (8 hex digits of the second, then 14 characters). */
export const hit = (i: number, extra: Partial<WindowHit> = {}): WindowHit => ({
  time: T + i * 20_000,
  rule: i % 2,
  key: `${Math.floor((T + i * 20_000) / 1000).toString(16)}AbCdEfGh-_${String(i).padStart(4, '0')}`,
  agency: `agency-${1 + (i % 3)}`,
  ...extra,
});

/** A state holding `hits` and `firings`, its newest time the latest of theirs. */
export const stateOf = (hits: WindowHit[], firings: Firing[] = []): GroupState => ({
  newest: Math.max(...hits.map((h) => h.time), ...firings.map((f) => f.time)),
  hits,
  firings,
});
