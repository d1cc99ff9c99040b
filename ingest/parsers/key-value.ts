/**
 * `key=value` lists as devices write them: FortiGate (`key=value key="quoted value"`), iptables/nftables
 * (`KEY=VALUE` and bare flags such as `SYN DF`), auditd (`key=value key="quoted" msg='nested list'`).
 * Values end at the separator unless quoted; quotes are removed; a quoted value keeps separators.
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
      const close = text.indexOf(quote === 34 ? '"' : "'", i + 1);
      if (close < 0) {
        if (!Object.hasOwn(out, key)) out[key] = text.slice(i + 1);
        break;
      }
      if (!Object.hasOwn(out, key)) {
        out[key] = text.slice(i + 1, close);
        options.quoted?.add(key);
      }
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
 * The keys a parser reads, indexed by length and first character so that a key in the text is recognised
 * with `startsWith` and no substring: keys nobody reads cost no allocation at all.
 */
export class KeySelector {
  /** Candidates by `length * 128 + first char` (keys up to 63 characters, ASCII first char). */
  private readonly byShape: (string[] | undefined)[] = new Array(64 * 128).fill(undefined);

  constructor(keys: Iterable<string>) {
    for (const key of keys) {
      if (key.length === 0 || key.length >= 64 || key.charCodeAt(0) >= 128) {
        throw new Error(`key selector: unsupported key "${key}"`);
      }
      const shape = key.length * 128 + key.charCodeAt(0);
      const list = this.byShape[shape];
      if (list) {
        if (!list.includes(key)) list.push(key);
      } else {
        this.byShape[shape] = [key];
      }
    }
  }

  /** The selected key written at text[start, end), or undefined. */
  match(text: string, start: number, end: number): string | undefined {
    const length = end - start;
    const first = text.charCodeAt(start);
    if (length >= 64 || !(first < 128)) return undefined;
    const candidates = this.byShape[length * 128 + first];
    if (candidates === undefined) return undefined;
    for (let i = 0; i < candidates.length; i++) {
      const key = candidates[i]!;
      if (text.startsWith(key, start)) return key;
    }
    return undefined;
  }
}

/**
 * `key=value` pairs like `parseKeyValues`, keeping only the keys of `selector` (FortiGate logs carry ~40
 * pairs of which the mapping reads a subset). Same quoting rules; the first occurrence of a key wins.
 */
export function parseSelectedKeyValues(
  text: string,
  start: number,
  selector: KeySelector,
): Record<string, string> {
  const out: Record<string, string> = {};
  const length = text.length;
  let i = start;
  // Scans with native indexOf: device key=value lists have no bare words, so a key runs to the next `=`
  // (a stray word just makes an unknown key that the selector skips).
  while (i < length) {
    while (text.charCodeAt(i) === 32) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = selector.match(text, i, eq);
    const quote = text.charCodeAt(eq + 1);
    let valueStart: number;
    let valueEnd: number;
    if (quote === 34 || quote === 39) {
      valueStart = eq + 2;
      const close = text.indexOf(quote === 34 ? '"' : "'", valueStart);
      valueEnd = close < 0 ? length : close;
      i = valueEnd + 1;
    } else {
      valueStart = eq + 1;
      const space = text.indexOf(' ', valueStart);
      valueEnd = space < 0 ? length : space;
      i = valueEnd;
    }
    if (key !== undefined && out[key] === undefined) out[key] = text.slice(valueStart, valueEnd);
  }
  return out;
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
