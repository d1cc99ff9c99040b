/**
 * `key=value` lists as devices write them: FortiGate (`key=value key="quoted value"`), iptables/nftables
 * (`KEY=VALUE` and bare flags such as `SYN DF`), auditd (`key=value key="quoted" msg='nested list'`).
 * Values end at the separator unless quoted; quotes are removed; a quoted value keeps separators.
 * With `escapes` (FortiGate), a backslash before the quote or another backslash inside a quoted value is an
 * escape (`msg="a \"b\" c"` is `a "b" c`): otherwise a value holding a quote — a URL, a user agent, a user
 * name an attacker chose — would end early and let its rest pose as other fields (`srcip=...`).
 * Bare words (no `=`) are returned under `flags` when asked for. A repeated key keeps its first value.
 * Never throws; bounded by the input.
 */
export interface KeyValueOptions {
  /** Separator between pairs (default space). */
  separator?: number;
  /** Collect bare words (`SYN`, `DF`) instead of dropping them. */
  flags?: string[];
  /** Collect the keys whose values were quoted (auditd: an unquoted value may be hex-encoded). */
  quoted?: Set<string>;
  /** Backslash escapes `\"`, `\'` and `\\` inside quoted values. */
  escapes?: boolean;
}

const BACKSLASH = 92;

/**
 * Where the quoted value starting at `from` ends (the index of its closing quote, or -1), with backslash
 * escapes of the quote and of the backslash honoured.
 */
function closingQuote(text: string, from: number, quote: number): number {
  const close = text.indexOf(quote === 34 ? '"' : "'", from);
  const backslash = text.indexOf('\\', from);
  // Nearly every value: no backslash before the first quote, so that quote closes it.
  if (backslash < 0 || (close >= 0 && backslash > close)) return close;
  for (let i = backslash; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) return i;
    if (c === BACKSLASH) {
      const next = text.charCodeAt(i + 1);
      if (next === quote || next === BACKSLASH) i++;
    }
  }
  return -1;
}

/** The value of an escaped quoted value: `\"` → `"`, `\\` → `\` (other backslashes stay). */
function unescapeQuoted(raw: string, quote: number): string {
  if (!raw.includes('\\')) return raw;
  const q = quote === 34 ? '"' : "'";
  return raw.replace(q === '"' ? /\\(["\\])/g : /\\(['\\])/g, '$1');
}

export function parseKeyValues(
  text: string,
  start = 0,
  options: KeyValueOptions = {},
): Record<string, string> {
  const separator = options.separator ?? 32;
  // No prototype: a key named `__proto__` or `constructor` is data like any other.
  const out: Record<string, string> = Object.create(null);
  const length = text.length;
  let i = start;
  while (i < length) {
    while (i < length && text.charCodeAt(i) === separator) i++;
    if (i >= length) break;
    const keyStart = i;
    while (i < length) {
      const c = text.charCodeAt(i);
      if (c === 61 /* = */ || c === separator) break;
      i++;
    }
    const key = text.slice(keyStart, i);
    if (i >= length || text.charCodeAt(i) !== 61) {
      options.flags?.push(key);
      continue;
    }
    i++; // =
    const quote = text.charCodeAt(i);
    if (quote === 34 /* " */ || quote === 39 /* ' */) {
      const close = options.escapes
        ? closingQuote(text, i + 1, quote)
        : text.indexOf(quote === 34 ? '"' : "'", i + 1);
      const value = text.slice(i + 1, close < 0 ? length : close);
      if (!Object.hasOwn(out, key)) {
        out[key] = options.escapes ? unescapeQuoted(value, quote) : value;
        if (close >= 0) options.quoted?.add(key);
      }
      if (close < 0) break;
      i = close + 1;
    } else {
      const valueStart = i;
      while (i < length && text.charCodeAt(i) !== separator) i++;
      // The first occurrence wins: iptables repeats LEN and ID for the inner protocol header.
      if (!Object.hasOwn(out, key)) out[key] = text.slice(valueStart, i);
    }
  }
  return out;
}

/**
 * A key as the byte scan sees it: its last 12 bytes packed into three 32-bit words (w0 the last four) and
 * its length. For a key of up to 12 bytes that is the whole key, so comparing four numbers is comparing
 * the key; longer keys also compare their leading bytes.
 */
function keyTableIndex(w0: number, w1: number, w2: number, length: number, mask: number): number {
  const hash = Math.imul(w0 ^ Math.imul(w1, 0x9e3779b1) ^ Math.imul(w2 ^ length, 0x85ebca6b), 0xc2b2ae35);
  return (hash ^ (hash >>> 15)) & mask;
}

/**
 * The keys a parser reads, indexed by length and first character so that a key in the text is recognised
 * with `startsWith` and no substring: keys nobody reads cost no allocation at all. Each key has a slot
 * number (`index.<key>`), which is how a `SelectedKeyValues` scan is read.
 */
export class KeySelector<K extends string = string> {
  /** Slot of every key, for `SelectedKeyValues#get` and friends. */
  readonly index: Readonly<Record<K, number>>;
  readonly keys: readonly K[];
  /** Candidate slots by `length * 128 + first char` (keys up to 63 characters, ASCII first char). */
  private readonly byShape: (number[] | undefined)[] = new Array(64 * 128).fill(undefined);
  /**
   * For the byte scan (read by `SelectedKeyValues#scanBytes`): an open-addressed table of `slot + 1`
   * (0: empty) by `keyTableIndex`, and each slot's key as packed words (`w0 w1 w2 length` at `slot * 4`).
   * The scan packs a key's bytes as it looks for the `=`; a key nobody reads (a third of a FortiGate line)
   * is usually rejected by one table read, and a match is exact: no hash stands in for the key.
   */
  readonly table: Int32Array;
  readonly mask: number;
  readonly words: Int32Array;
  /** Every key's bytes one after the other, `keyStart[slot]` to `keyStart[slot + 1]` (keys over 12 bytes). */
  readonly keyBytes: Uint8Array;
  readonly keyStart: Int32Array;

  constructor(keys: Iterable<K>) {
    const unique = [...new Set(keys)];
    const index = {} as Record<K, number>;
    unique.forEach((key, slot) => {
      if (key.length === 0 || key.length >= 64 || key.charCodeAt(0) >= 128) {
        throw new Error(`key selector: unsupported key "${key}"`);
      }
      const shape = key.length * 128 + key.charCodeAt(0);
      const candidates = this.byShape[shape];
      if (candidates) candidates.push(slot);
      else this.byShape[shape] = [slot];
      index[key] = slot;
    });
    this.keys = unique;
    this.index = index;
    let size = 16;
    while (size < unique.length * 4) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    this.words = new Int32Array(unique.length * 4);
    this.keyStart = new Int32Array(unique.length + 1);
    const bytes: number[] = [];
    unique.forEach((key, slot) => {
      this.keyStart[slot] = bytes.length;
      let w0 = 0;
      let w1 = 0;
      let w2 = 0;
      for (let k = 0; k < key.length; k++) {
        // A key with a non-ASCII character never matches a byte scan (its lines are ASCII): 0xff is a byte
        // no ASCII line holds.
        const c = key.charCodeAt(k);
        const b = c < 128 ? c : 0xff;
        bytes.push(b);
        w2 = (w2 << 8) | (w1 >>> 24);
        w1 = (w1 << 8) | (w0 >>> 24);
        w0 = (w0 << 8) | b;
      }
      this.words.set([w0, w1, w2, key.length], slot * 4);
      let p = keyTableIndex(w0, w1, w2, key.length, this.mask);
      while (this.table[p] !== 0) p = (p + 1) & this.mask;
      this.table[p] = slot + 1;
    });
    this.keyStart[unique.length] = bytes.length;
    this.keyBytes = Uint8Array.from(bytes);
  }

  /** The slot of the selected key written at text[start, end), or -1. */
  match(text: string, start: number, end: number): number {
    const length = end - start;
    const first = text.charCodeAt(start);
    if (length >= 64 || !(first < 128)) return -1;
    const candidates = this.byShape[length * 128 + first];
    if (candidates === undefined) return -1;
    for (let i = 0; i < candidates.length; i++) {
      const slot = candidates[i]!;
      if (text.startsWith(this.keys[slot]!, start)) return slot;
    }
    return -1;
  }
}

/**
 * `key=value` pairs like `parseKeyValues`, keeping only the keys of a selector (FortiGate logs carry ~40 pairs
 * of which the mapping reads a subset; netfilter ~20). Same rules: pairs separated by spaces, a bare word (no
 * `=` before the next space) is a word of its own, quoted values, backslash escapes unless `escapes: false`,
 * the first occurrence of a key wins. With a `flags` selector, the bare words it holds are kept in order,
 * repeats included (netfilter's `SYN`, `DF`): `flagCount` and `flag(i)`.
 *
 * A scan records where each selected value lies and makes no string: a value becomes a string only when
 * the mapping asks for it (`get`), numbers are read from the digits (`int`) and comparisons are made in
 * place (`is`). One instance is reused line after line (parsers are synchronous): `scan` forgets the
 * previous line.
 */
/** Lines longer than this are scanned as strings (the scratch buffer stays small). */
const MAX_BYTE_SCAN = 64 * 1024;
const encoder = new TextEncoder();
/** Shared by every scan: scans are synchronous and copy nothing out of it. */
let scratch = new Uint8Array(4096);
/** Counts byte scans, so that an instance knows whether `scratch` still holds its line. */
let scratchGeneration = 0;

export interface SelectedScanOptions<F extends string> {
  /** Backslash escapes `\"`, `\'` and `\\` inside quoted values (default true: FortiGate). */
  escapes?: boolean;
  /** The bare words to collect. */
  flags?: KeySelector<F>;
}

/**
 * The slot of the key at bytes[keyStart, keyStart + keyLength) whose last 12 bytes are packed in w0..w2
 * (see keyTableIndex), or -1.
 */
function selectedSlot(
  selector: KeySelector,
  bytes: Uint8Array,
  keyStart: number,
  keyLength: number,
  w0: number,
  w1: number,
  w2: number,
): number {
  const { table, mask, words } = selector;
  for (let p = keyTableIndex(w0, w1, w2, keyLength, mask); ; p = (p + 1) & mask) {
    const entry = table[p]!;
    if (entry === 0) return -1;
    const candidate = entry - 1;
    const at = candidate * 4;
    if (words[at] !== w0 || words[at + 1] !== w1 || words[at + 2] !== w2 || words[at + 3] !== keyLength) {
      continue;
    }
    if (keyLength > 12 && !leadingBytesMatch(selector, candidate, bytes, keyStart, keyLength)) continue;
    return candidate;
  }
}

/** For a key longer than the 12 bytes packed in its words: whether its leading bytes are the candidate's too. */
function leadingBytesMatch(
  selector: KeySelector,
  candidate: number,
  bytes: Uint8Array,
  keyStart: number,
  keyLength: number,
): boolean {
  const keyBytes = selector.keyBytes;
  const from = selector.keyStart[candidate]!;
  const leading = keyLength - 12;
  let k = 0;
  while (k < leading && keyBytes[from + k] === bytes[keyStart + k]) k++;
  return k === leading;
}

export class SelectedKeyValues<K extends string = string, F extends string = never> {
  private text = '';
  /** Start and end of each slot's value in `text`; start -1 when the key is absent. */
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** The quote of each slot's value when that value holds a backslash escape (0: read it as written). */
  private readonly escaped: Uint8Array;
  /** Whether any slot of this line is escaped (most lines: none, and `escaped` is not even cleared). */
  private anyEscaped = false;
  /** `scratchGeneration` of this line's byte scan (-1: scanned as a string). */
  private generation = -1;

  private readonly escapes: boolean;
  private readonly flagSelector: KeySelector<F> | undefined;
  /** The slots of this line's collected bare words, in order (the first `flagCount`). */
  private flagSlots = new Int32Array(8);
  /** How many bare words of the `flags` selector this line holds. */
  flagCount = 0;

  constructor(
    private readonly selector: KeySelector<K>,
    options: SelectedScanOptions<F> = {},
  ) {
    this.starts = new Int32Array(selector.keys.length).fill(-1);
    this.ends = new Int32Array(selector.keys.length);
    this.escaped = new Uint8Array(selector.keys.length);
    this.escapes = options.escapes ?? true;
    this.flagSelector = options.flags;
  }

  /** The `flags` selector's slot of the i-th collected bare word (i < flagCount). */
  flag(i: number): number {
    return this.flagSlots[i]!;
  }

  private addFlag(slot: number): void {
    if (this.flagCount === this.flagSlots.length) {
      const grown = new Int32Array(this.flagCount * 2);
      grown.set(this.flagSlots);
      this.flagSlots = grown;
    }
    this.flagSlots[this.flagCount++] = slot;
  }

  scan(text: string, start = 0): void {
    this.starts.fill(-1);
    this.flagCount = 0;
    if (this.anyEscaped) {
      this.escaped.fill(0);
      this.anyEscaped = false;
    }
    this.text = text;
    const length = text.length;
    if (length <= MAX_BYTE_SCAN) {
      if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
      const { read, written } = encoder.encodeInto(text, scratch);
      // All ASCII: byte i is character i, so positions found in the bytes slice the string.
      if (read === length && written === length) {
        this.generation = ++scratchGeneration;
        this.scanBytes(scratch, start, length);
        return;
      }
    }
    this.generation = -1;
    this.scanString(text, start);
  }

  /**
   * The scan over bytes. Reading a byte array is several times cheaper than `charCodeAt` on the sliced
   * strings messages are (a line is about 600 characters and 40 pairs), and most device logs are ASCII.
   * Same rules as `scanString`, which is the reference.
   */
  private scanBytes(bytes: Uint8Array, start: number, length: number): void {
    const starts = this.starts;
    const ends = this.ends;
    const selector = this.selector;
    const { table, mask, words } = selector;
    const flags = this.flagSelector;
    const escapes = this.escapes;
    let i = start;
    while (i < length) {
      while (i < length && bytes[i] === 32) i++;
      if (i >= length) break;
      const keyStart = i;
      // The key's last 12 bytes, packed as it is read (see keyTableIndex).
      let w0 = 0;
      let w1 = 0;
      let w2 = 0;
      let b = 0;
      for (; i < length; i++) {
        b = bytes[i]!;
        if (b === 61 || b === 32) break;
        w2 = (w2 << 8) | (w1 >>> 24);
        w1 = (w1 << 8) | (w0 >>> 24);
        w0 = (w0 << 8) | b;
      }
      const keyLength = i - keyStart;
      if (i >= length || b === 32) {
        // A bare word.
        if (flags !== undefined) {
          const flag = selectedSlot(flags, bytes, keyStart, keyLength, w0, w1, w2);
          if (flag >= 0) this.addFlag(flag);
        }
        continue;
      }
      // The key lookup written out (selectedSlot's loop): it runs on every pair of every line.
      let slot = -1;
      for (let p = keyTableIndex(w0, w1, w2, keyLength, mask); ; p = (p + 1) & mask) {
        const entry = table[p]!;
        if (entry === 0) break;
        const candidate = entry - 1;
        const at = candidate * 4;
        if (words[at] !== w0 || words[at + 1] !== w1 || words[at + 2] !== w2 || words[at + 3] !== keyLength) {
          continue;
        }
        if (keyLength > 12 && !leadingBytesMatch(selector, candidate, bytes, keyStart, keyLength)) continue;
        slot = candidate;
        break;
      }
      const quote = i + 1 < length ? bytes[i + 1]! : -1;
      let valueStart: number;
      let valueEnd: number;
      let escapedQuote = 0;
      if (quote === 34 || quote === 39) {
        valueStart = i + 2;
        i = valueStart;
        for (; i < length; i++) {
          const c = bytes[i]!;
          if (c === quote) break;
          // i + 1 < length: the scratch beyond this line holds an earlier line's bytes.
          if (
            c === BACKSLASH &&
            escapes &&
            i + 1 < length &&
            (bytes[i + 1] === quote || bytes[i + 1] === BACKSLASH)
          ) {
            escapedQuote = quote;
            i++;
          }
        }
        valueEnd = i;
        i++;
      } else {
        valueStart = i + 1;
        i = valueStart;
        while (i < length && bytes[i] !== 32) i++;
        valueEnd = i;
      }
      if (slot >= 0 && starts[slot]! < 0) {
        starts[slot] = valueStart;
        ends[slot] = valueEnd;
        if (escapedQuote !== 0) this.markEscaped(slot, escapedQuote);
      }
    }
  }

  private markEscaped(slot: number, quote: number): void {
    this.escaped[slot] = quote;
    this.anyEscaped = true;
  }

  private scanString(text: string, start: number): void {
    const starts = this.starts;
    const ends = this.ends;
    const selector = this.selector;
    const flags = this.flagSelector;
    const length = text.length;
    let i = start;
    // Scans with native indexOf. The next `=` and the next space are looked for again only once passed, so
    // a line of bare words costs one pass, not one per word.
    let eq = -1;
    let space = -1;
    while (i < length) {
      while (text.charCodeAt(i) === 32) i++;
      if (i >= length) break;
      if (eq < i) {
        eq = text.indexOf('=', i);
        if (eq < 0) eq = length;
      }
      if (space < i) {
        space = text.indexOf(' ', i);
        if (space < 0) space = length;
      }
      if (space < eq || eq === length) {
        // A bare word.
        const end = space < eq ? space : length;
        if (flags !== undefined) {
          const flag = flags.match(text, i, end);
          if (flag >= 0) this.addFlag(flag);
        }
        i = end;
        continue;
      }
      const slot = selector.match(text, i, eq);
      const quote = text.charCodeAt(eq + 1);
      let valueStart: number;
      let valueEnd: number;
      let escapedQuote = 0;
      if (quote === 34 || quote === 39) {
        valueStart = eq + 2;
        const close = this.escapes
          ? closingQuote(text, valueStart, quote)
          : text.indexOf(quote === 34 ? '"' : "'", valueStart);
        valueEnd = close < 0 ? length : close;
        if (this.escapes) {
          const backslash = text.indexOf('\\', valueStart);
          if (backslash >= 0 && backslash < valueEnd) escapedQuote = quote;
        }
        i = valueEnd + 1;
      } else {
        valueStart = eq + 1;
        // No space before the `=` (that would be a bare word): the next space ends the value.
        valueEnd = space;
        i = valueEnd;
      }
      if (slot >= 0 && starts[slot]! < 0) {
        starts[slot] = valueStart;
        ends[slot] = valueEnd;
        if (escapedQuote !== 0) this.markEscaped(slot, escapedQuote);
      }
    }
  }

  /** True when the key was present (even with an empty value). */
  has(slot: number): boolean {
    return this.starts[slot]! >= 0;
  }

  /** True when the key was present with a non-empty value (what `if (value)` tests on a string). */
  filled(slot: number): boolean {
    const start = this.starts[slot]!;
    return start >= 0 && this.ends[slot]! > start;
  }

  /** The value, or undefined when the key is absent. */
  get(slot: number): string | undefined {
    const start = this.starts[slot]!;
    if (start < 0) return undefined;
    const raw = this.text.slice(start, this.ends[slot]);
    const quote = this.escaped[slot]!;
    return quote === 0 ? raw : unescapeQuoted(raw, quote);
  }

  /** `get(slot) === value`, without making the string. */
  is(slot: number, value: string): boolean {
    const start = this.starts[slot]!;
    if (start < 0) return false;
    if (this.escaped[slot]! !== 0) return this.get(slot) === value;
    return this.ends[slot]! - start === value.length && this.text.startsWith(value, start);
  }

  /** `toInt(get(slot))`: plain digits are read in place, anything else goes through `toInt`. */
  int(slot: number): number | undefined {
    const start = this.starts[slot]!;
    if (start < 0) return undefined;
    return this.digits(slot) ?? toInt(this.get(slot));
  }

  /** Length of the value, -1 when the key is absent. */
  length(slot: number): number {
    const start = this.starts[slot]!;
    return start < 0 ? -1 : this.ends[slot]! - start;
  }

  /**
   * The value, plain digits only, as an integer with its last `drop` digits cut off: a nanosecond count
   * read as milliseconds exactly, where `Number` would first round 19 digits to a double. Undefined when
   * absent, empty, not all digits, or when more than 15 digits would remain (not always a safe integer).
   */
  digits(slot: number, drop = 0): number | undefined {
    const start = this.starts[slot]!;
    if (start < 0) return undefined;
    const end = this.ends[slot]!;
    const kept = end - drop;
    if (end === start || kept - start > 15) return undefined;
    let value = 0;
    // The bytes while they still hold this line (charCodeAt on a sliced string costs several times more).
    if (this.generation === scratchGeneration) {
      const bytes = scratch;
      for (let i = start; i < end; i++) {
        const digit = bytes[i]! - 48;
        if (!(digit >= 0 && digit <= 9)) return undefined;
        if (i < kept) value = value * 10 + digit;
      }
      return value;
    }
    const text = this.text;
    for (let i = start; i < end; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (!(digit >= 0 && digit <= 9)) return undefined;
      if (i < kept) value = value * 10 + digit;
    }
    return value;
  }
}

/** Integer value of a field, or undefined when absent or not a non-negative integer. */
export function toInt(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** IANA protocol numbers most seen in firewall logs → ECS `network.transport`. */
export function transportName(protocol: string | undefined): string | undefined {
  if (protocol === undefined || protocol === '') return undefined;
  switch (protocol) {
    case '6':
      return 'tcp';
    case '17':
      return 'udp';
    case '1':
      return 'icmp';
    case '58':
      return 'ipv6-icmp';
    case '47':
      return 'gre';
    case '50':
      return 'esp';
    case '51':
      return 'ah';
    case '132':
      return 'sctp';
    case '2':
      return 'igmp';
    default:
      return protocol.toLowerCase();
  }
}
