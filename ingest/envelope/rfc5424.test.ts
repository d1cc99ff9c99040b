import { describe, expect, it } from 'vitest';
import { parseSyslog } from './parse-syslog.js';
import { parseRfc5424 } from './rfc5424.js';

const context = { receivedAt: Date.parse('2024-06-01T00:00:00Z'), timezone: 'Asia/Ho_Chi_Minh' };
const BOM = '\uFEFF';

describe('parseRfc5424: the examples of RFC 5424 section 6.5', () => {
  it('example 1: no structured data, BOM before MSG, millisecond UTC time', () => {
    const envelope = parseRfc5424(
      `<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`,
      context,
    );
    expect(envelope).toEqual({
      format: 'rfc5424',
      priority: 34,
      version: 1,
      timestamp: Date.parse('2003-10-11T22:14:15.003Z'),
      hostname: 'mymachine.example.com',
      appName: 'su',
      msgId: 'ID47',
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  it('example 2: microseconds and a negative offset, NILVALUE MSGID', () => {
    const envelope = parseRfc5424(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
      context,
    );
    expect(envelope?.timestamp).toBe(Date.parse('2003-08-24T12:14:15.000Z'));
    expect(envelope?.subMillis).toBe('003');
    expect(envelope?.hostname).toBe('192.0.2.1');
    expect(envelope?.procId).toBe('8710');
    expect(envelope?.msgId).toBeUndefined();
    expect(envelope?.message).toBe("%% It's time to make the do-nuts.");
  });

  it('example 3: one SD-ELEMENT and a message', () => {
    const envelope = parseRfc5424(
      `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ${BOM}An application event log entry...`,
      context,
    );
    expect(envelope?.structuredData).toEqual({
      'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' },
    });
    expect(envelope?.message).toBe('An application event log entry...');
  });

  it('example 4: two SD-ELEMENTs and no message', () => {
    const envelope = parseRfc5424(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
      context,
    );
    expect(envelope?.structuredData).toEqual({
      'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' },
      'examplePriority@32473': { class: 'high' },
    });
    expect(envelope?.message).toBe('');
  });
});

describe('parseRfc5424: the rest of the grammar', () => {
  it('reads NILVALUE in every header field', () => {
    const envelope = parseRfc5424('<14>1 - - - - - - hello', context);
    expect(envelope).toEqual({ format: 'rfc5424', priority: 14, version: 1, message: 'hello' });
  });

  it('undoes the three PARAM-VALUE escapes and keeps any other backslash', () => {
    const envelope = parseRfc5424(
      String.raw`<14>1 2024-01-01T00:00:00Z h a p m [x@1 q="say \"hi\"" b="a\\b" c="[1\]" d="C:\temp"] msg`,
      context,
    );
    expect(envelope?.structuredData).toEqual({
      'x@1': { q: 'say "hi"', b: 'a\\b', c: '[1]', d: 'C:\\temp' },
    });
    expect(envelope?.message).toBe('msg');
  });

  it('keeps `]` and spaces inside a quoted value', () => {
    const envelope = parseRfc5424('<14>1 2024-01-01T00:00:00Z h a p m [x@1 v="a ] b"] tail', context);
    expect(envelope?.structuredData).toEqual({ 'x@1': { v: 'a ] b' } });
    expect(envelope?.message).toBe('tail');
  });

  it('keeps malformed structured data as the message and flags it', () => {
    const envelope = parseRfc5424('<14>1 2024-01-01T00:00:00Z h a p m [x@1 v=unquoted] tail', context);
    expect(envelope?.structuredDataInvalid).toBe(true);
    expect(envelope?.structuredData).toBeUndefined();
    expect(envelope?.message).toBe('[x@1 v=unquoted] tail');
  });

  it('reads offsets east of UTC and fractional seconds of any length up to six digits', () => {
    expect(parseRfc5424('<14>1 2024-01-01T07:00:00.5+07:00 h a p m - x', context)?.timestamp).toBe(
      Date.parse('2024-01-01T00:00:00.500Z'),
    );
    expect(parseRfc5424('<14>1 2024-01-01T07:00:00.123456+07:00 h a p m - x', context)).toMatchObject({
      timestamp: Date.parse('2024-01-01T00:00:00.123Z'),
      subMillis: '456',
    });
  });

  it('rejects what is not RFC 5424 so that the RFC 3164 reader takes it', () => {
    expect(parseRfc5424('<14>Oct 11 22:14:15 host app: x', context)).toBeUndefined();
    expect(parseRfc5424('<14>1 2024-13-01T00:00:00Z h a p m - x', context)).toBeUndefined();
    expect(parseRfc5424('<14>1 2023-02-29T00:00:00Z h a p m - x', context)).toBeUndefined();
    expect(parseRfc5424('<14>01 2024-01-01T00:00:00Z h a p m - x', context)).toBeUndefined();
    expect(parseRfc5424('<14>1 2024-01-01T00:00:00Z h a', context)).toBeUndefined();
  });

  it('reads a time without offset in the configured zone and says so', () => {
    const envelope = parseRfc5424('<14>1 2024-01-01T07:00:00 h a p m - x', context);
    expect(envelope?.timestamp).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(envelope?.zoneAssumed).toBe(true);
  });

  it('is what parseSyslog chooses for a version digit after PRI', () => {
    expect(parseSyslog('<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hi', context).format).toBe('rfc5424');
    expect(parseSyslog('<34>Oct 11 22:14:15 host su: hi', context).format).toBe('rfc3164');
  });
});
