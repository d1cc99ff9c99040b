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
