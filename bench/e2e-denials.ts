/**
 * bench/e2e.ts's firewall denials as the correlate stage receives them (for the benches of the correlation
 * windows alone): 70% of e2e's lines are firewall lines, a third of those `[UFW BLOCK]`, from source
 * 198.18.<i % 250>.<(i >> 8) % 250> (62,500 addresses), destination port from five, each a hit of
 * `firewall_denied_connection`, which feeds the bundled pack's `firewall_deny_burst` (event_count, 5 min)
 * and `firewall_port_scan` (value_count of the port, 1 min).
 */
import type { Detection, SecurityEvent } from '../core/model.js';
import type { RuleMatchOnEvent } from '../correlator/correlation/correlate.js';

export const FIREWALL_DENIED = 'a3b00e31-03c0-4243-bb4f-b62d2b5875ae';
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * An id built as core/identity.ts builds one: the receive second as 8 hex digits, then the first 14
 * characters of a 43-character base64url digest, joined by a template literal (so, like the real ids, a
 * concatenation of a slice, not a flat string).
 */
function eventId(i: number, ms: number): string {
  let digest = '';
  let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  for (let c = 0; c < 43; c++) {
    digest += ID_CHARS[(x ^ (c * 7919)) & 63];
    x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0;
  }
  Number(digest); // flat, as the hash function's output is
  return `${Math.floor(ms / 1000)
    .toString(16)
    .padStart(8, '0')}${digest.slice(0, 14)}`;
}

/**
 * Line `i` of e2e's mix at event time `ms`, as a rule match if it is a denial. `sources` > 0 sends the
 * denials from that many addresses instead of e2e's 62,500 (a flood from few: bench/correlation-memory.ts).
 */
export function denialOfLine(i: number, ms: number, sources = 0): RuleMatchOnEvent | undefined {
  if (i % 10 >= 7 || i % 3 !== 0) return undefined;
  const agency = `agency-${1 + (i % 31)}`;
  const timestamp = new Date(ms).toISOString();
  const event = {
    '@timestamp': timestamp,
    event: { id: eventId(i, ms) },
    source: {
      ip:
        sources > 0
          ? `198.18.${(i % sources) >> 8}.${(i % sources) & 255}`
          : `198.18.${i % 250}.${(i >> 8) % 250}`,
    },
    destination: { port: [22, 80, 443, 3389, 8080][i % 5] },
    agency: { id: agency },
  } as unknown as SecurityEvent;
  const detection = { ruleId: FIREWALL_DENIED, timestamp, agency } as Detection;
  return { detection, event };
}
