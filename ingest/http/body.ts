import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** A request body the client got wrong: answered with 4xx and this message. */
export class BodyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Undoes `Content-Encoding: gzip|deflate` with a cap on the inflated size, so a small compressed body
 * cannot expand into gigabytes (a zip bomb is a 413, not an outage).
 */
export async function decodeBody(
  body: Buffer,
  encoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const coding = encoding?.trim().toLowerCase();
  if (!coding || coding === 'identity') return body;
  try {
    if (coding === 'gzip' || coding === 'x-gzip')
      return await gunzipAsync(body, { maxOutputLength: maxBytes });
    if (coding === 'deflate') return await inflateAsync(body, { maxOutputLength: maxBytes });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE')
      throw new BodyError(413, `decompressed body exceeds ${maxBytes} bytes`);
    throw new BodyError(400, `cannot decompress the ${coding} body: ${(error as Error).message}`);
  }
  throw new BodyError(415, `unsupported Content-Encoding ${coding}`);
}

/** Splits NDJSON into its non-empty lines (CRLF tolerated). */
export function ndjsonLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > start) lines.push(text.slice(start, stop));
    start = end + 1;
  }
  return lines;
}

/**
 * The documents of a `POST /ingest/v1/events` body: a JSON array (each element re-serialised), a single
 * JSON object, or NDJSON (each line kept as sent, valid JSON or not: a bad line becomes a parse failure
 * event, it does not fail its neighbours).
 */
export function eventDocuments(text: string, contentType: string | undefined): string[] {
  const trimmed = text.trimStart();
  const ndjson = contentType?.includes('ndjson') || contentType?.includes('jsonlines');
  if (!ndjson && trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new BodyError(400, `body is not a JSON array: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new BodyError(400, 'body is not a JSON array');
    return parsed.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  }
  return ndjsonLines(text);
}
