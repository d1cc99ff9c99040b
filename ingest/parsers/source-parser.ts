import type { EcsEvent } from '../ecs.js';
import type { SyslogEnvelope } from '../envelope/envelope.js';

/**
 * What a source parser concluded about one message:
 * - `parsed`: recognised; ECS fields were set.
 * - `unrecognised`: from this source but a message shape the parser does not know; the event keeps its
 *   generic fields (this is normal: sshd writes many lines nobody needs to classify).
 * - `invalid`: the message claims a format (JSON, CEF, ...) and breaks it; the event is tagged
 *   `_parse_failure` with `reason` in `error.message`.
 */
export type ParseOutcome =
  | { status: 'parsed' }
  | { status: 'unrecognised' }
  | { status: 'invalid'; reason: string };

export const PARSED: ParseOutcome = { status: 'parsed' };
export const UNRECOGNISED: ParseOutcome = { status: 'unrecognised' };
export function invalid(reason: string): ParseOutcome {
  return { status: 'invalid', reason };
}

/** Where a message came from, for parsers that read times without a zone. */
export interface ParseContext {
  /** IANA zone of the source (the agency's, else the configured default). */
  timezone: string;
  receivedAt: number;
}

/** One source (a daemon, a device family, a format): reads the message and fills ECS fields in `event`. */
export interface SourceParser {
  /** Stable id, also usable as a listener's `parser` option (e.g. `sshd`, `fortigate`). */
  id: string;
  /** Program names (syslog APP-NAME / tag, lower case) this parser owns. */
  programs?: readonly string[];
  /** Cheap content test for messages whose program says nothing (devices without a tag). */
  sniff?(message: string): boolean;
  /**
   * Fills `event` from `message` (the envelope's message part). Sets `event.module`/`event.dataset` even
   * when unrecognised. Must not throw on any input; the normaliser still guards against it.
   */
  parse(message: string, event: EcsEvent, envelope: SyslogEnvelope, context?: ParseContext): ParseOutcome;
}
