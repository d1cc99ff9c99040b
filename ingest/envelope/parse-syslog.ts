import { type EnvelopeContext, readPri, type SyslogEnvelope } from './envelope.js';
import { parseRfc3164 } from './rfc3164.js';
import { parseRfc5424 } from './rfc5424.js';

/**
 * Chooses the envelope format per message: `<PRI>` followed by a version digit and a space is RFC 5424;
 * anything else (or a 5424-looking header that does not hold) is read as RFC 3164 with its real-world
 * variants. Never fails.
 */
export function parseSyslog(text: string, context: EnvelopeContext): SyslogEnvelope {
  const pri = readPri(text, 0);
  if (pri) {
    const c = text.charCodeAt(pri.end);
    if (c >= 49 && c <= 57) {
      const rfc5424 = parseRfc5424(text, context);
      if (rfc5424) return rfc5424;
    }
  }
  return parseRfc3164(text, context);
}
