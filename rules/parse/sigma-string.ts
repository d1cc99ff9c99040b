/**
 * Sigma strings: `*` and `?` are wildcards; a backslash escapes only `*`, `?` and itself, and is a literal
 * backslash before anything else (so `C:\Temp\*` is the literal `C:\Temp*`, as the specification says).
 */
import type { PatternPart } from '../model.js';

export function parseSigmaString(text: string): PatternPart[] {
  const parts: PatternPart[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        literal += next;
        i++;
      } else {
        literal += '\\';
      }
    } else if (ch === '*' || ch === '?') {
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ wildcard: ch });
    } else {
      literal += ch;
    }
  }
  if (literal) parts.push(literal);
  return mergeLiterals(parts);
}

/** Joins adjacent literal parts and collapses `**` to `*`, so backends see a canonical pattern. */
export function mergeLiterals(parts: PatternPart[]): PatternPart[] {
  const out: PatternPart[] = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (typeof part === 'string') {
      if (part === '') continue;
      if (typeof last === 'string') out[out.length - 1] = last + part;
      else out.push(part);
    } else if (
      part.wildcard === '*' &&
      last !== undefined &&
      typeof last !== 'string' &&
      last.wildcard === '*'
    ) {
      // `**` is the same as `*`.
    } else {
      out.push(part);
    }
  }
  return out;
}

export function hasWildcards(parts: PatternPart[]): boolean {
  return parts.some((p) => typeof p !== 'string');
}

/** The text of a pattern without wildcards (callers check `hasWildcards` first). */
export function literalText(parts: PatternPart[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : p.wildcard)).join('');
}

/** Renders a pattern back as a Sigma string (escaping literal `*`, `?` and `\`), for messages and explanations. */
export function formatSigmaString(parts: PatternPart[]): string {
  return parts
    .map((p) => (typeof p === 'string' ? p.replace(/[\\*?]/g, (c) => `\\${c}`) : p.wildcard))
    .join('');
}

export const STAR: PatternPart = { wildcard: '*' };

export function startsWithStar(parts: PatternPart[]): boolean {
  const first = parts[0];
  return first !== undefined && typeof first !== 'string' && first.wildcard === '*';
}

export function endsWithStar(parts: PatternPart[]): boolean {
  const last = parts[parts.length - 1];
  return last !== undefined && typeof last !== 'string' && last.wildcard === '*';
}
