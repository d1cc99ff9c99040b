/**
 * RFC 6587 framing for syslog over a stream (TCP, TLS), detected per frame:
 * - octet counting: `MSG-LEN SP SYSLOG-MSG` where MSG-LEN is 1–9 digits and the message starts with `<`;
 * - non-transparent: the message ends at LF, NUL, or CRLF (the CR is removed).
 * A frame longer than the limit is cut at the limit and flagged truncated, the rest of it discarded, so
 * memory per connection stays bounded by the limit. Bytes that can start neither kind of frame (control
 * characters: a TLS handshake or a binary protocol on a syslog port) are garbage: the caller closes the
 * connection. Decoding is UTF-8 with invalid sequences replaced.
 */

const LF = 10;
const CR = 13;
const NUL = 0;
const SP = 32;
const LT = 60;

export type FrameHandler = (text: string, truncated: boolean) => void;

export interface FramingStats {
  octetCounted: number;
  nonTransparent: number;
}

export class SyslogFramer {
  /** Unconsumed bytes from earlier chunks: a partial frame, never more than the limit plus a header. */
  private pending: Buffer | undefined;
  /** Bytes of a truncated octet-counted frame still to discard. */
  private skip = 0;
  /** After cutting an over-long LF-framed message: discard up to the next delimiter. */
  private discardingLine = false;
  readonly stats: FramingStats = { octetCounted: 0, nonTransparent: 0 };
  /**
   * In the bytes `push` is framing: the first NUL at or after where it was last looked for (-1: none
   * there), or NUL_UNKNOWN before the first search. One search serves every line up to that NUL, where a
   * search per line needed a subarray per line (an object allocated per message).
   */
  private nextNul = NUL_UNKNOWN;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly onFrame: FrameHandler,
  ) {}

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** Feeds received bytes. Returns a reason when the stream is garbage (the caller closes it). */
  push(chunk: Buffer): string | undefined {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    this.nextNul = NUL_UNKNOWN;
    const length = data.length;
    const max = this.maxMessageBytes;
    let pos = 0;
    while (pos < length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, length - pos);
        pos += n;
        this.skip -= n;
        continue;
      }
      if (this.discardingLine) {
        const end = this.delimiterFrom(data, pos);
        if (end < 0) return undefined;
        this.discardingLine = false;
        pos = end + 1;
        continue;
      }
      const first = data[pos]!;
      if (first === LF || first === CR || first === NUL) {
        pos++; // empty frames and stray separators between frames
        continue;
      }
      if (first >= 49 && first <= 57) {
        const octet = this.readOctetCount(data, pos);
        if (octet === NEED_MORE) break;
        if (octet !== NOT_OCTET) {
          const { count, start } = octet;
          const take = Math.min(count, max);
          if (length - start < take) break;
          this.stats.octetCounted++;
          this.emit(data, start, start + take, count > max, true);
          pos = start + take;
          if (count > max) this.skip = count - max;
          continue;
        }
      } else if (first < 32 ? first !== 9 : first === 127) {
        return `unexpected byte 0x${first.toString(16).padStart(2, '0')} at a frame start (binary data or TLS on a plain syslog port?)`;
      }
      const end = this.delimiterFrom(data, pos);
      if (end < 0) {
        if (length - pos > max) {
          this.stats.nonTransparent++;
          this.emit(data, pos, pos + max, true, false);
          this.discardingLine = true;
          pos = length;
          continue;
        }
        break;
      }
      this.stats.nonTransparent++;
      if (end - pos > max) this.emit(data, pos, pos + max, true, false);
      else this.emit(data, pos, end, false, false);
      pos = end + 1;
    }
    if (pos < length) this.pending = data.subarray(pos);
    return undefined;
  }

  /** End of stream: a last message without a delimiter still counts (flagged truncated if it was octet-counted). */
  end(): void {
    const data = this.pending;
    this.pending = undefined;
    if (!data || this.discardingLine || this.skip > 0) return;
    let start = 0;
    while (start < data.length && (data[start] === LF || data[start] === CR || data[start] === NUL)) start++;
    if (start >= data.length) return;
    const octet = data[start]! >= 49 && data[start]! <= 57 ? this.readOctetCount(data, start) : NOT_OCTET;
    if (octet !== NOT_OCTET && octet !== NEED_MORE) {
      this.stats.octetCounted++;
      this.emit(data, octet.start, Math.min(data.length, octet.start + this.maxMessageBytes), true, true);
      return;
    }
    this.stats.nonTransparent++;
    const stop = Math.min(data.length, start + this.maxMessageBytes);
    this.emit(data, start, stop, stop < data.length, false);
  }

  private emit(data: Buffer, start: number, end: number, truncated: boolean, octetCounted: boolean): void {
    let stop = end;
    // Trailing CR of CRLF; octet-counted senders sometimes count a trailing LF or NUL too.
    if (octetCounted) while (stop > start && (data[stop - 1] === LF || data[stop - 1] === NUL)) stop--;
    if (stop > start && data[stop - 1] === CR) stop--;
    this.onFrame(data.toString('utf8', start, stop), truncated);
  }

  /** Index of the next LF or NUL at or after `from`, or -1 (`data` is the bytes `push` is framing). */
  private delimiterFrom(data: Buffer, from: number): number {
    const lf = data.indexOf(LF, from);
    // Searched again only once `from` has passed the NUL found (none found: none further on either).
    if (this.nextNul === NUL_UNKNOWN || (this.nextNul >= 0 && this.nextNul < from)) {
      this.nextNul = data.indexOf(NUL, from);
    }
    const nul = this.nextNul;
    return nul >= 0 && (lf < 0 || nul < lf) ? nul : lf;
  }

  /**
   * At `pos` (a digit 1–9): `MSG-LEN SP <`. Returns the count and where the message starts, NEED_MORE when
   * the chunk ends inside the header, NOT_OCTET when this is the start of an LF-framed line instead.
   */
  private readOctetCount(data: Buffer, pos: number): OctetHeader | typeof NEED_MORE | typeof NOT_OCTET {
    let count = 0;
    let i = pos;
    while (i < data.length && i - pos < 10) {
      const c = data[i]!;
      if (c < 48 || c > 57) break;
      count = count * 10 + (c - 48);
      i++;
    }
    if (i >= data.length) return i - pos < 10 ? NEED_MORE : NOT_OCTET;
    if (i - pos > 9 || data[i] !== SP) return NOT_OCTET;
    if (i + 1 >= data.length) return NEED_MORE;
    if (data[i + 1] !== LT) return NOT_OCTET;
    return { count, start: i + 1 };
  }
}

interface OctetHeader {
  count: number;
  start: number;
}
const NEED_MORE = 1;
const NOT_OCTET = 0;
const NUL_UNKNOWN = -2;
