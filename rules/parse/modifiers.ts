/**
 * One detection item — `field|mod|mod: value(s)` — to a SearchExpr. Modifiers apply left to right as in
 * pySigma: string transformations (windash, utf16*, base64*, contains…) rewrite the value, type modifiers
 * (re, cidr, lt…, exists, fieldref) turn it into another kind of test, and `all`, `neq`, `cased` are flags.
 */
import ipaddr from 'ipaddr.js';
import type { CompareOp, PatternPart, SearchExpr, TimePart, ValueTest } from '../model.js';
import { validateRegex } from '../regex.js';
import { RuleError, type YamlPath } from './rule-error.js';
import {
  endsWithStar,
  hasWildcards,
  literalText,
  mergeLiterals,
  parseSigmaString,
  STAR,
  startsWithStar,
} from './sigma-string.js';

const POSITION = new Set(['contains', 'startswith', 'endswith']);
const COMPARE = new Set<string>(['lt', 'lte', 'gt', 'gte']);
const TIME_PARTS = new Set<string>(['minute', 'hour', 'day', 'week', 'month', 'year']);
const UTF16 = new Set(['utf16le', 'utf16be', 'utf16', 'wide']);
const REGEX_FLAGS = new Set(['i', 'm', 's', 'ignorecase', 'multiline', 'dotall']);
const FLAG_LETTER: Record<string, string> = { ignorecase: 'i', multiline: 'm', dotall: 's' };
export const KNOWN_MODIFIERS = new Set([
  ...POSITION,
  ...COMPARE,
  ...TIME_PARTS,
  ...UTF16,
  ...REGEX_FLAGS,
  'all',
  'neq',
  'cased',
  'windash',
  'base64',
  'base64offset',
  're',
  'cidr',
  'exists',
  'fieldref',
  'expand',
]);

/** A value while modifiers are applied to it. */
type Work =
  | { t: 'str'; raw: string; variants: PatternPart[][]; touched: boolean; expand: boolean }
  | { t: 'bytes'; variants: Buffer[] }
  | { t: 'num'; n: number }
  | { t: 'bool'; b: boolean }
  | { t: 'null' }
  | { t: 'final'; tests: ValueTest[] };

/** At most this many variants per value (windash over many dashes multiplies). */
const MAX_VARIANTS = 256;

export function parseFieldItem(key: string, rawValue: unknown, path: YamlPath): SearchExpr {
  const [fieldName = '', ...modifiers] = key.split('|');
  const field = fieldName === '' ? null : fieldName;
  for (const m of modifiers) {
    if (!KNOWN_MODIFIERS.has(m)) throw new RuleError(`unknown modifier '${m}' in '${key}'`, path);
  }
  const all = modifiers.includes('all');
  const neq = modifiers.includes('neq');
  const cased = modifiers.includes('cased');
  const chain = modifiers.filter((m) => m !== 'all' && m !== 'neq' && m !== 'cased');
  const values = Array.isArray(rawValue) ? rawValue : [rawValue];
  if (values.length === 0) throw new RuleError(`'${key}' has an empty list of values`, path);
  if (all && values.length < 2 && field !== null) {
    // Legal but pointless; pySigma accepts it too.
  }
  const perValue: SearchExpr[] = values.map((value, index) => {
    const valuePath = Array.isArray(rawValue) ? [...path, index] : path;
    const tests = applyChain(key, field, chain, value, cased, valuePath);
    const items: SearchExpr[] = tests.map((test) => ({ type: 'test', field, value: test }));
    return items.length === 1 ? items[0]! : { type: 'or', items };
  });
  let expr: SearchExpr = perValue.length === 1 ? perValue[0]! : { type: all ? 'and' : 'or', items: perValue };
  if (neq) expr = { type: 'not', item: expr };
  return expr;
}

function applyChain(
  key: string,
  field: string | null,
  chain: string[],
  value: unknown,
  cased: boolean,
  path: YamlPath,
): ValueTest[] {
  let work = initialWork(value, key, path);
  let position: string | undefined;
  let timePart: TimePart | undefined;
  let sawRegex = false;
  const fail = (why: string): never => {
    throw new RuleError(`'${key}': ${why}`, path);
  };
  for (const m of chain) {
    if (sawRegex && !REGEX_FLAGS.has(m)) fail(`'${m}' cannot follow 're'`);
    if (REGEX_FLAGS.has(m)) {
      if (!sawRegex || work.t !== 'final') return fail(`regex flag '${m}' must follow 're'`);
      const letter = FLAG_LETTER[m] ?? m;
      for (const t of work.tests) if (t.kind === 'regex' && !t.flags.includes(letter)) t.flags += letter;
      continue;
    }
    if (POSITION.has(m)) {
      if (position) fail(`'${m}' after '${position}': only one of contains/startswith/endswith`);
      position = m;
      if (work.t === 'final') {
        const ref = work.tests[0];
        if (ref?.kind !== 'fieldref') fail(`'${m}' cannot modify a ${ref?.kind} test`);
        (ref as { position: string }).position = m;
        continue;
      }
      const str = toStr(work, m, fail);
      str.variants = str.variants.map((parts) => {
        if (m !== 'endswith' && !endsWithStar(parts)) parts = [...parts, STAR];
        if (m !== 'startswith' && !startsWithStar(parts)) parts = [STAR, ...parts];
        return mergeLiterals(parts);
      });
      str.touched = true;
      work = str;
      continue;
    }
    switch (m) {
      case 'windash': {
        const str = toStr(work, m, fail);
        str.variants = str.variants.flatMap(windashVariants);
        if (str.variants.length > MAX_VARIANTS) fail(`windash makes more than ${MAX_VARIANTS} variants`);
        str.touched = true;
        work = str;
        break;
      }
      case 'utf16le':
      case 'wide':
      case 'utf16be':
      case 'utf16': {
        const str = toStr(work, m, fail);
        const texts = str.variants.map((parts) => plainText(parts, m, fail));
        work = { t: 'bytes', variants: texts.map((text) => encodeUtf16(text, m)) };
        break;
      }
      case 'base64':
      case 'base64offset': {
        const bytes =
          work.t === 'bytes'
            ? work.variants
            : toStr(work, m, fail).variants.map((parts) => Buffer.from(plainText(parts, m, fail), 'utf8'));
        const encoded =
          m === 'base64' ? bytes.map((b) => b.toString('base64')) : bytes.flatMap(base64Offsets);
        work = { t: 'str', raw: '', variants: encoded.map((s) => [s]), touched: true, expand: false };
        break;
      }
      case 're': {
        const source = untouchedRaw(work, m, fail);
        const error = validateRegex(source, '');
        if (error) fail(`invalid regular expression: ${error}`);
        work = { t: 'final', tests: [{ kind: 'regex', source, flags: '' }] };
        sawRegex = true;
        break;
      }
      case 'cidr': {
        const cidr = untouchedRaw(work, m, fail);
        work = { t: 'final', tests: [parseCidr(cidr, fail)] };
        break;
      }
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte': {
        const n = numberOf(work, m, fail);
        work = {
          t: 'final',
          tests: [{ kind: 'compare', op: m as CompareOp, value: n, ...timeOf(timePart) }],
        };
        timePart = undefined;
        break;
      }
      case 'minute':
      case 'hour':
      case 'day':
      case 'week':
      case 'month':
      case 'year':
        if (timePart) fail(`'${m}' after '${timePart}'`);
        timePart = m;
        break;
      case 'exists': {
        if (field === null) fail(`'exists' needs a field`);
        if (work.t !== 'bool') fail(`'exists' takes true or false`);
        work = { t: 'final', tests: [{ kind: 'exists', value: (work as { b: boolean }).b }] };
        break;
      }
      case 'fieldref': {
        if (field === null) fail(`'fieldref' needs a field`);
        const other = untouchedRaw(work, m, fail);
        const pos = (position ?? 'exact') as 'exact' | 'startswith' | 'endswith' | 'contains';
        work = { t: 'final', tests: [{ kind: 'fieldref', field: other, position: pos, cased }] };
        break;
      }
      case 'expand': {
        const str = toStr(work, m, fail);
        if (!/%[^%\s]+%/.test(str.raw)) fail(`'expand' needs a %placeholder% in the value`);
        str.expand = true;
        work = str;
        break;
      }
    }
  }
  if (timePart) {
    work = {
      t: 'final',
      tests: [{ kind: 'compare', op: 'eq', value: numberOf(work, timePart, fail), timePart }],
    };
  }
  switch (work.t) {
    case 'bytes':
      return fail('utf16 modifiers must be followed by base64 or base64offset');
    case 'final':
      if (cased && !work.tests.some((t) => t.kind === 'fieldref'))
        fail(`'cased' applies to string values only`);
      return work.tests;
    case 'num':
      if (cased) fail(`'cased' applies to string values only`);
      if (field === null) return [keywordTest(String(work.n), cased)];
      return [{ kind: 'number', value: work.n }];
    case 'bool':
      if (field === null) return [keywordTest(String(work.b), cased)];
      return [{ kind: 'bool', value: work.b }];
    case 'null':
      if (field === null) fail('a keyword cannot be null');
      return [{ kind: 'null' }];
    case 'str': {
      const str = work;
      return str.variants.map((parts) => {
        // Keywords are full-text searches: a keyword matches when it occurs anywhere in the text.
        if (field === null && !position) parts = mergeLiterals([STAR, ...parts, STAR]);
        return { kind: 'string', parts, cased, ...(str.expand ? { expand: true } : {}) };
      });
    }
  }
}

function keywordTest(text: string, cased: boolean): ValueTest {
  return { kind: 'string', parts: [STAR, text, STAR], cased };
}

function initialWork(value: unknown, key: string, path: YamlPath): Work {
  if (value === null || value === undefined) return { t: 'null' };
  if (typeof value === 'string') {
    return { t: 'str', raw: value, variants: [parseSigmaString(value)], touched: false, expand: false };
  }
  if (typeof value === 'number') return { t: 'num', n: value };
  if (typeof value === 'boolean') return { t: 'bool', b: value };
  throw new RuleError(
    `'${key}': a value must be a string, number, boolean or null, not ${describe(value)}`,
    path,
  );
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date (quote it)';
  return typeof value === 'object' ? 'a map' : typeof value;
}

type Fail = (why: string) => never;

function toStr(work: Work, m: string, fail: Fail): Extract<Work, { t: 'str' }> {
  switch (work.t) {
    case 'str':
      return work;
    case 'num':
    case 'bool': {
      const raw = String(work.t === 'num' ? work.n : work.b);
      return { t: 'str', raw, variants: [[raw]], touched: false, expand: false };
    }
    case 'null':
      return fail(`'${m}' cannot modify null`);
    case 'bytes':
      return fail(`'${m}' cannot follow a utf16 modifier (only base64/base64offset can)`);
    case 'final':
      return fail(`'${m}' cannot follow '${work.tests[0]?.kind}'`);
  }
}

function untouchedRaw(work: Work, m: string, fail: Fail): string {
  if (work.t === 'num') return String(work.n);
  if (work.t !== 'str') return fail(`'${m}' needs a string value`);
  if (work.touched) return fail(`'${m}' must come first in the modifier chain`);
  return work.raw;
}

function plainText(parts: PatternPart[], m: string, fail: Fail): string {
  if (hasWildcards(parts))
    fail(`'${m}' cannot encode wildcards (escape them or put contains/startswith/endswith after)`);
  return literalText(parts);
}

function numberOf(work: Work, m: string, fail: Fail): number {
  if (work.t === 'num') return work.n;
  if (work.t === 'str' && !work.touched && work.raw.trim() !== '' && Number.isFinite(Number(work.raw))) {
    return Number(work.raw);
  }
  return fail(`'${m}' needs a number`);
}

function timeOf(part: TimePart | undefined): { timePart?: TimePart } {
  return part ? { timePart: part } : {};
}

/** pySigma's windash: a `-` or `/` that starts a word (after a non-word character) may be any of five dashes. */
const WINDASH = ['-', '/', '\u2013', '\u2014', '\u2015'];
function windashVariants(parts: PatternPart[]): PatternPart[][] {
  let results: PatternPart[][] = [[]];
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if (typeof part !== 'string') {
      for (const r of results) r.push(part);
      continue;
    }
    // Split the literal at dash positions that qualify.
    const pieces: (string | null)[] = [];
    let current = '';
    for (let i = 0; i < part.length; i++) {
      const ch = part[i]!;
      const prev = i > 0 ? part[i - 1] : p > 0 ? '' : undefined;
      const next = part[i + 1];
      const prevIsWord = prev !== undefined && prev !== '' && /\w/.test(prev);
      if ((ch === '-' || ch === '/') && !prevIsWord && next !== undefined && /\w/.test(next)) {
        pieces.push(current, null);
        current = '';
      } else {
        current += ch;
      }
    }
    pieces.push(current);
    for (const piece of pieces) {
      if (piece === null) {
        results = results.flatMap((r) => WINDASH.map((dash) => [...r, dash]));
        if (results.length > MAX_VARIANTS) return results;
      } else if (piece) {
        for (const r of results) r.push(piece);
      }
    }
  }
  return results.map(mergeLiterals);
}

function encodeUtf16(text: string, m: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  if (m === 'utf16le' || m === 'wide') return le;
  const be = Buffer.from(le);
  be.swap16();
  if (m === 'utf16be') return be;
  return Buffer.concat([Buffer.from([0xff, 0xfe]), le]); // `utf16`: little-endian with a byte-order mark
}

/**
 * The three base64 renderings of `bytes` at any offset in a longer encoded text (pySigma's base64offset):
 * prefix 0, 1 or 2 bytes, encode, and drop the characters that depend on the unknown neighbours.
 */
function base64Offsets(bytes: Buffer): string[] {
  const starts = [0, 2, 3];
  const ends = [0, -3, -2];
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const encoded = Buffer.concat([Buffer.alloc(i, 0x20), bytes]).toString('base64');
    const end = ends[(bytes.length + i) % 3]!;
    out.push(encoded.slice(starts[i]!, end === 0 ? undefined : end));
  }
  return out;
}

function parseCidr(text: string, fail: Fail): ValueTest {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    return fail(`'${text}' is not a CIDR network`);
  }
  const [address, bits] = parsed;
  const network = ipaddr.parse(
    address.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(text).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(text).toString(),
  );
  if (network.toString() !== address.toString()) {
    fail(`'${text}' has host bits set (the network is ${network.toString()}/${bits})`);
  }
  return { kind: 'cidr', cidr: `${address.toString()}/${bits}`, version: address.kind() === 'ipv4' ? 4 : 6 };
}
