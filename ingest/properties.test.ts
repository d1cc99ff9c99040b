/**
 * Property-based tests (fast-check): random bytes and mutated valid lines into every parser. Whatever the
 * input: no throw (a caught parser exception would show as `error.message: parser error: ...`), exactly
 * one event per record, `event.original` kept, and the envelope never invents or drops message text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../core/agencies.js';
import type { RawRecord } from '../core/model.js';
import type { EcsEvent } from './ecs.js';
import { parseSyslog } from './envelope/parse-syslog.js';
import { SyslogFramer } from './framing/syslog-framer.js';
import { createNormaliser } from './normalise.js';
import { BUILTIN_PARSERS } from './parsers/registry.js';

const RUNS = 200;
const agencies = AgencyDirectory.fromFile(resolve('fixtures/agencies/hau-giang.yaml'));
const normalise = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' });

/** Every fixture line, the seeds for mutation. */
const FIXTURE_LINES: string[] = (() => {
  const root = resolve('fixtures/logs');
  const lines: string[] = [];
  for (const source of readdirSync(root)) {
    for (const file of readdirSync(join(root, source)).filter((name) => /\.(log|ndjson)$/.test(name))) {
      lines.push(
        ...readFileSync(join(root, source, file), 'utf8')
          .split('\n')
          .filter(Boolean),
      );
    }
  }
  return lines;
})();

/** Random text: arbitrary Unicode, or raw bytes decoded as UTF-8 the way listeners decode them. */
const randomText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
);

/** A fixture line cut, spliced with random text, or with a random range removed. */
const mutatedLine = fc
  .record({
    line: fc.constantFrom(...FIXTURE_LINES),
    at: fc.nat(),
    length: fc.nat({ max: 40 }),
    insert: fc.string({ maxLength: 20 }),
    mode: fc.constantFrom('cut', 'insert', 'delete', 'replace'),
  })
  .map(({ line, at, length, insert, mode }) => {
    const i = at % (line.length + 1);
    switch (mode) {
      case 'cut':
        return line.slice(0, i);
      case 'insert':
        return line.slice(0, i) + insert + line.slice(i);
      case 'delete':
        return line.slice(0, i) + line.slice(i + length);
      default:
        return line.slice(0, i) + insert + line.slice(i + insert.length);
    }
  });

function record(text: string, transport: RawRecord['transport'] = 'udp', parser?: string): RawRecord {
  const raw: RawRecord = {
    text,
    receivedAt: 1718458500000,
    transport,
    peer: '10.93.2.10:514',
    listener: 'p',
    seq: 1,
  };
  if (parser) raw.parser = parser;
  return raw;
}

function expectWellFormed(text: string, events: ReturnType<typeof normalise>): void {
  expect(events).toHaveLength(1);
  const event = events[0]! as EcsEvent;
  expect(event.event.original).toBe(text);
  expect(event.error?.message ?? '').not.toMatch(/^parser error/);
  expect(Number.isFinite(Date.parse(event['@timestamp']))).toBe(true);
  expect(typeof event.event.id).toBe('string');
}

describe('properties', () => {
  it('parseSyslog never throws and its message is always the tail of the input (BOM aside)', () => {
    fc.assert(
      fc.property(fc.oneof(randomText, mutatedLine), (text) => {
        const envelope = parseSyslog(text, { receivedAt: Date.now(), timezone: 'Asia/Ho_Chi_Minh' });
        const message = envelope.message;
        expect(text.endsWith(message) || text.endsWith(`\uFEFF${message}`) || message === text).toBe(true);
        if (envelope.timestamp !== undefined) expect(Number.isFinite(envelope.timestamp)).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('the normaliser turns any syslog or HTTP record into exactly one well-formed event', () => {
    fc.assert(
      fc.property(fc.oneof(randomText, mutatedLine), fc.constantFrom('udp', 'http'), (text, transport) => {
        expectWellFormed(text, normalise([record(text, transport as RawRecord['transport'])]));
      }),
      { numRuns: RUNS * 3 },
    );
  });

  for (const parser of BUILTIN_PARSERS) {
    it(`${parser.id}: forced on random and mutated input, never throws`, () => {
      fc.assert(
        fc.property(fc.oneof(randomText, mutatedLine), (text) => {
          expectWellFormed(text, normalise([record(text, 'udp', parser.id)]));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('the framer survives any byte stream in any chunking and holds at most one message', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        let frames = 0;
        const framer = new SyslogFramer(256, (text) => {
          frames++;
          expect(Buffer.byteLength(text)).toBeLessThanOrEqual(256 * 3); // U+FFFD may replace single bytes
        });
        for (const chunk of chunks) {
          if (framer.push(Buffer.from(chunk))) break;
          expect(framer.bufferedBytes).toBeLessThanOrEqual(256 + 300 + 12);
        }
        framer.end();
        expect(frames).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: RUNS },
    );
  });
});
