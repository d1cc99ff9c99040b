/**
 * Regular expressions from rules are untrusted: a pattern such as `(a+)+$` takes exponential time in a
 * backtracking engine (V8's included) and would stall a worker. Rule regexes therefore run on RE2's
 * automaton (re2js, a pure-JS port of RE2: linear time in the input, no native build, nothing downloaded
 * at install). RE2 has no lookaround or backreferences; a rule using them is refused with that reason.
 *
 * Sigma `re` semantics (pySigma): an unanchored search, case-sensitive unless the `i` flag is given.
 */
import { RE2JS } from 're2js';

export interface SafeRegex {
  /** True when the pattern occurs anywhere in `input`. Linear in `input.length`. */
  test(input: string): boolean;
}

function flagBits(flags: string): number {
  let bits = 0;
  if (flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) bits |= RE2JS.MULTILINE;
  if (flags.includes('s')) bits |= RE2JS.DOTALL;
  return bits;
}

export function compileRegex(source: string, flags: string): SafeRegex {
  return RE2JS.compile(source, flagBits(flags));
}

/** Why `source` cannot be used (null when it can), in words a rule author can act on. */
export function validateRegex(source: string, flags: string): string | null {
  try {
    RE2JS.compile(source, flagBits(flags));
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/\(\?[=!<]/.test(source))
      return `${message} (lookaround is not supported: RE2 guarantees linear time)`;
    if (/\\[1-9]/.test(source))
      return `${message} (backreferences are not supported: RE2 guarantees linear time)`;
    return message;
  }
}
