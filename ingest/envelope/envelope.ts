/**
 * The syslog envelope: what the transport header says about a message (priority, time, host, program),
 * separated from the message itself. Parsed by `parseRfc5424` / `parseRfc3164`, chosen by `parseSyslog`.
 */

export type EnvelopeFormat = 'rfc5424' | 'rfc3164' | 'none';

export type StructuredData = Record<string, Record<string, string>>;

export interface SyslogEnvelope {
  format: EnvelopeFormat;
  /** `<PRI>` value (facility * 8 + severity), when present. */
  priority?: number;
  /** RFC 5424 VERSION. */
  version?: number;
  /** Event time, epoch milliseconds, when the header carries one. */
  timestamp?: number;
  /** Digits of a fractional second beyond milliseconds (RFC 5424 allows microseconds), e.g. `"123"`. */
  subMillis?: string;
  /** The header's time carried no zone and was read in the configured one (RFC 3164). */
  zoneAssumed?: boolean;
  hostname?: string;
  appName?: string;
  procId?: string;
  msgId?: string;
  structuredData?: StructuredData;
  /** The structured data was present but malformed (the rest was kept as the message). */
  structuredDataInvalid?: boolean;
  /** The text after the header (RFC 5424 BOM removed). */
  message: string;
}

/**
 * A new envelope with every field present (undefined until known): all envelopes share one object shape,
 * which keeps the property accesses downstream monomorphic and fast.
 */
export function newEnvelope(format: EnvelopeFormat): SyslogEnvelope {
  return {
    format,
    priority: undefined,
    version: undefined,
    timestamp: undefined,
    subMillis: undefined,
    zoneAssumed: undefined,
    hostname: undefined,
    appName: undefined,
    procId: undefined,
    msgId: undefined,
    structuredData: undefined,
    structuredDataInvalid: undefined,
    message: '',
  };
}

/** What the envelope parsers need to know about where a message came from. */
export interface EnvelopeContext {
  /** Receive time, epoch ms: the reference for RFC 3164 year inference. */
  receivedAt: number;
  /** IANA zone for timestamps without an offset. */
  timezone: string;
}

export const FACILITY_NAMES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

export const SEVERITY_NAMES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'informational',
  'debug',
] as const;

/**
 * Reads `<PRI>` at `start`. Returns the priority and the index after `>`, or `undefined` when there is no
 * valid PRI (1–3 digits, value 0–191, no leading zero except `<0>`).
 */
export function readPri(text: string, start: number): { priority: number; end: number } | undefined {
  if (text.charCodeAt(start) !== 60 /* < */) return undefined;
  let value = 0;
  let i = start + 1;
  const limit = Math.min(text.length, start + 5);
  for (; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 62 /* > */) break;
    if (c < 48 || c > 57) return undefined;
    value = value * 10 + (c - 48);
  }
  const digits = i - start - 1;
  if (text.charCodeAt(i) !== 62 || digits === 0 || digits > 3 || value > 191) return undefined;
  if (digits > 1 && text.charCodeAt(start + 1) === 48) return undefined;
  return { priority: value, end: i + 1 };
}
