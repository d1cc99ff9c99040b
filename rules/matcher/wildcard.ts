/**
 * Sigma wildcard patterns as string predicates, without regular expressions: the common shapes
 * (exact, prefix, suffix, substring) are one native string call, and the general case is a greedy
 * segment match (leftmost `indexOf` per `*`-separated segment), which is linear-ish and cannot backtrack
 * catastrophically the way a `.*`-heavy regex can.
 */
import type { PatternPart } from '../model.js';

export type StringPredicate = (value: string) => boolean;

/** A `*`-free piece of the pattern; `?` positions match any one character. */
interface Segment {
  text: string;
  /** Indices of `?` in `text` (where `text` holds a placeholder), or null when there are none. */
  any: number[] | null;
}

export function compilePattern(parts: PatternPart[], lowerCase: boolean): StringPredicate {
  const norm = (s: string) => (lowerCase ? s.toLowerCase() : s);
  const isStar = (p: PatternPart | undefined) =>
    p !== undefined && typeof p !== 'string' && p.wildcard === '*';
  const hasQuestion = parts.some((p) => typeof p !== 'string' && p.wildcard === '?');
  if (!hasQuestion) {
    const literals = parts.filter((p): p is string => typeof p === 'string').map(norm);
    const starCount = parts.length - literals.length;
    if (starCount === 0) {
      const text = literals[0] ?? '';
      return (v) => v === text;
    }
    if (literals.length === 0) return () => true;
    if (literals.length === 1) {
      const text = literals[0]!;
      const leading = isStar(parts[0]);
      const trailing = isStar(parts[parts.length - 1]);
      if (leading && trailing) return (v) => v.includes(text);
      if (trailing) return (v) => v.startsWith(text);
      if (leading) return (v) => v.endsWith(text);
    }
  }
  return compileGeneral(parts, norm);
}

function compileGeneral(parts: PatternPart[], norm: (s: string) => string): StringPredicate {
  // Split at `*` into segments; literal text and `?` join into one segment.
  const segments: Segment[] = [];
  let text = '';
  let any: number[] = [];
  const flush = () => {
    segments.push({ text, any: any.length > 0 ? any : null });
    text = '';
    any = [];
  };
  for (const part of parts) {
    if (typeof part === 'string') text += norm(part);
    else if (part.wildcard === '?') {
      any.push(text.length);
      text += '?';
    } else flush();
  }
  flush();
  // segments.length - 1 is the number of stars.
  if (segments.length === 1) {
    const only = segments[0]!;
    return (v) => v.length === only.text.length && segmentAt(v, 0, only);
  }
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1).filter((s) => s.text.length > 0);
  const minLength = first.text.length + last.text.length + middle.reduce((n, s) => n + s.text.length, 0);
  return (v) => {
    if (v.length < minLength) return false;
    if (!segmentAt(v, 0, first)) return false;
    let position = first.text.length;
    const end = v.length - last.text.length;
    for (const segment of middle) {
      const found = findSegment(v, position, segment);
      if (found < 0) return false;
      position = found + segment.text.length;
    }
    return position <= end && segmentAt(v, end, last);
  };
}

function segmentAt(value: string, position: number, segment: Segment): boolean {
  if (segment.any === null) return value.startsWith(segment.text, position);
  const { text, any } = segment;
  if (position + text.length > value.length) return false;
  let next = 0;
  for (let i = 0; i < text.length; i++) {
    if (any[next] === i) {
      next++;
      continue;
    }
    if (value.charCodeAt(position + i) !== text.charCodeAt(i)) return false;
  }
  return true;
}

function findSegment(value: string, from: number, segment: Segment): number {
  if (segment.any === null) return value.indexOf(segment.text, from);
  const last = value.length - segment.text.length;
  for (let p = from; p <= last; p++) if (segmentAt(value, p, segment)) return p;
  return -1;
}
